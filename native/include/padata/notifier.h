/* SPDX-License-Identifier: MIT */
/*
 * padata/notifier.h - notifier blocks with the kernel's names.
 *
 * Reached through <linux/padata.h> (or <linux/notifier.h>).
 */
#ifndef PADATA_NOTIFIER_H
#define PADATA_NOTIFIER_H

#include "export.h"

PADATA_BEGIN_DECLS

struct notifier_block;

typedef int (*notifier_fn_t)(struct notifier_block *nb, unsigned long action, void *data);

/**
 * struct notifier_block - one callback on a notifier chain.
 * @notifier_call: called with the chain's action and data.
 * @next: private link, owned by the chain while registered.
 * @priority: higher runs earlier; equal priorities run in registration order.
 */
struct notifier_block {
	notifier_fn_t notifier_call;
	struct notifier_block *next;
	int priority;
};

#define NOTIFY_DONE      0x0000 /* don't care */
#define NOTIFY_OK        0x0001 /* suits me */
#define NOTIFY_STOP_MASK 0x8000 /* don't call further */
#define NOTIFY_BAD       (NOTIFY_STOP_MASK | 0x0002)
#define NOTIFY_STOP      (NOTIFY_OK | NOTIFY_STOP_MASK)

PADATA_END_DECLS

#endif /* PADATA_NOTIFIER_H */
