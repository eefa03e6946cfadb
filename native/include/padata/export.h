/* SPDX-License-Identifier: MIT */
/*
 * padata/export.h - symbol visibility and C++ linkage for libpadata.
 *
 * Reached through <linux/padata.h>; not meant to be included on its own.
 * The library is built with -fvisibility=hidden: only what carries
 * PADATA_API is exported from libpadata.so.
 */
#ifndef PADATA_EXPORT_H
#define PADATA_EXPORT_H

#if defined(PADATA_STATIC_DEFINE)
#define PADATA_API
#elif defined(__GNUC__)
#define PADATA_API __attribute__((visibility("default")))
#else
#define PADATA_API
#endif

#ifdef __cplusplus
#define PADATA_BEGIN_DECLS extern "C" {
#define PADATA_END_DECLS }
#else
#define PADATA_BEGIN_DECLS
#define PADATA_END_DECLS
#endif

#endif /* PADATA_EXPORT_H */
