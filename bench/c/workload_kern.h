/* SPDX-License-Identifier: MIT */
/*
 * workload_kern.h - the work of the real workloads (bench/c/workload_bench.c),
 * shared by every contender, C and C++ (oneTBB), so each runs the very same
 * code per item:
 *
 *  - aes-gcm: seal packet i (a slice of a pseudo-random plaintext pool) with
 *    AES-128-GCM through OpenSSL EVP, IV = salt || i. One EVP_CIPHER_CTX per
 *    thread, keyed once with a cipher fetched once; per packet only the IV is
 *    set (EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, iv)): with OpenSSL 3 an
 *    init that names the cipher does an implicit fetch that takes a lock all
 *    threads share.
 *  - deflate: block i (128 KiB) of an input held in memory as raw deflate,
 *    primed with the 32 KiB before it (as pigz does), ended with
 *    Z_SYNC_FLUSH (the last with Z_FINISH), so the blocks concatenate, after
 *    a gzip header and before a trailer built with crc32_combine(), into ONE
 *    gzip stream. One z_stream per thread, reset per block.
 *
 * Per-thread state lives in thread-local storage and is freed by
 * wk_free_thread_state() at exit (it lives as long as the padata workers).
 * Every function is safe to call from any thread at once unless it says
 * otherwise.
 */
#ifndef WORKLOAD_KERN_H
#define WORKLOAD_KERN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- digests ------------------------------------------------------------ */

/**
 * wk_hash_words - 64-bit hash of @len bytes at @p (read as 8-byte words, the
 * tail zero-padded), seeded with @seed. Not cryptographic: a check digest.
 */
uint64_t wk_hash_words(uint64_t seed, const uint8_t *p, size_t len);

/** struct wk_digest - an order-independent fold of per-item hashes (order is checked apart). */
struct wk_digest {
	uint64_t sum;
	uint64_t xor_;
	uint64_t count;
};

static inline void wk_digest_add(struct wk_digest *d, uint64_t h)
{
	d->sum += h;
	d->xor_ ^= h;
	d->count++;
}

/* ---- aes-gcm ------------------------------------------------------------ */

#define WK_GCM_TAG 16

/**
 * struct wk_aes - the packets of one aes-gcm run: @n packets of @size bytes,
 * packet i read from @plain at wk_aes_plain_offset(). Read-only once set up.
 */
struct wk_aes {
	size_t size;
	uint64_t n;
	uint8_t *plain;
	size_t plain_len;
};

/**
 * wk_aes_setup - fetch AES-128-GCM once (process-wide) and fill @a.
 * Return: 0; -1 with a reason in @why when OpenSSL is not built in or fails.
 */
int wk_aes_setup(struct wk_aes *a, size_t size, uint64_t n, char *why, size_t why_len);

/** wk_aes_teardown - free what wk_aes_setup() allocated. */
void wk_aes_teardown(struct wk_aes *a);

/**
 * wk_aes_seal - seal packet @i into @out (@a->size bytes of ciphertext, then
 * the 16-byte tag) with this thread's context. *@hash gets the packet's check
 * hash: with @full every byte of ciphertext and tag, else the tag and the first
 * and last 8 bytes (cheap enough for a serial stage; the tag depends on every
 * ciphertext byte). Return: 0, -1 when an EVP call failed.
 */
int wk_aes_seal(const struct wk_aes *a, uint64_t i, uint8_t *out, bool full, uint64_t *hash);

/* ---- deflate ------------------------------------------------------------ */

#define WK_BLOCK (128u * 1024u)
#define WK_DICT (32u * 1024u)

/** struct wk_deflate - the input of one deflate run, in blocks of WK_BLOCK bytes. */
struct wk_deflate {
	const uint8_t *in;
	size_t len;
	uint64_t nblocks;
	int level;
	size_t bound; /* most bytes one block can compress to */
};

/** wk_deflate_setup - fill @d. Return: 0; -1 with @why when zlib is not built in. */
int wk_deflate_setup(struct wk_deflate *d, const uint8_t *in, size_t len, int level, char *why,
		     size_t why_len);

/**
 * wk_deflate_block - compress block @i into @out (room for @d->bound bytes)
 * with this thread's z_stream. *@out_len gets the compressed length, *@crc the
 * crc32 of the input block. Return: 0; -1 on a zlib error.
 */
int wk_deflate_block(const struct wk_deflate *d, uint64_t i, uint8_t *out, size_t *out_len,
		     uint32_t *crc);

/** wk_block_len - input bytes of block @i. */
static inline size_t wk_block_len(const struct wk_deflate *d, uint64_t i)
{
	size_t start = (size_t)i * WK_BLOCK;

	return d->len - start < WK_BLOCK ? d->len - start : WK_BLOCK;
}

/**
 * struct wk_gz - a gzip stream assembled in order, in memory: the header,
 * the blocks as they come, then the trailer. One thread at a time.
 */
struct wk_gz {
	uint8_t *buf;
	size_t cap, len;
	uint32_t crc;
	uint64_t in_len;
	uint64_t blocks;
};

/** wk_gz_init - room for the stream of @d. Return: 0; -1 (ENOMEM). */
int wk_gz_init(struct wk_gz *g, const struct wk_deflate *d);
void wk_gz_free(struct wk_gz *g);
/** wk_gz_begin - start a new stream (the 10-byte header). */
void wk_gz_begin(struct wk_gz *g);
/** wk_gz_add - append one compressed block of @in_len input bytes with crc32 @crc. */
void wk_gz_add(struct wk_gz *g, const uint8_t *out, size_t out_len, uint32_t crc, size_t in_len);
/** wk_gz_end - append the trailer (crc32, length mod 2^32). */
void wk_gz_end(struct wk_gz *g);

/**
 * wk_gunzip_equals - inflate the gzip stream @gz (@gz_len bytes) with zlib and
 * compare it with @want. Return: 0 when equal; -1 with @why otherwise.
 */
int wk_gunzip_equals(const uint8_t *gz, size_t gz_len, const uint8_t *want, size_t want_len,
		     char *why, size_t why_len);

/** wk_free_thread_state - free every thread's EVP and zlib state; no kernel may run. */
void wk_free_thread_state(void);

#ifdef __cplusplus
}
#endif

#endif /* WORKLOAD_KERN_H */
