/* SPDX-License-Identifier: MIT */
/* workload_kern.c - the per-item work of the real workloads; see workload_kern.h. */
#define _GNU_SOURCE
#include "workload_kern.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef WB_HAVE_OPENSSL
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>
#endif
#ifdef WB_HAVE_ZLIB
#include <zlib.h>
#endif

static inline uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

uint64_t wk_hash_words(uint64_t seed, const uint8_t *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ mix64(seed), w;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0x100000001b3ULL;
	}
	if (i < len) {
		w = 0;
		memcpy(&w, p + i, len - i);
		h = (h ^ w) * 0x100000001b3ULL;
	}
	return mix64(h ^ len);
}

/*
 * Per-thread state: created on a thread's first item, linked into one list so
 * that wk_free_thread_state() can free it (padata's workers outlive every run).
 */
struct wk_thread {
	struct wk_thread *next;
#ifdef WB_HAVE_OPENSSL
	EVP_CIPHER_CTX *aes;
#endif
#ifdef WB_HAVE_ZLIB
	z_stream zs;
	bool zs_ready;
	int zs_level;
#endif
};

static pthread_mutex_t threads_lock = PTHREAD_MUTEX_INITIALIZER;
static struct wk_thread *threads_list;
static __thread struct wk_thread *self;

static __attribute__((unused)) struct wk_thread *thread_state(void)
{
	struct wk_thread *t = self;

	if (t)
		return t;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	pthread_mutex_lock(&threads_lock);
	t->next = threads_list;
	threads_list = t;
	pthread_mutex_unlock(&threads_lock);
	self = t;
	return t;
}

/* ---- aes-gcm ------------------------------------------------------------ */

#ifdef WB_HAVE_OPENSSL
static const uint8_t aes_key[16] = { 0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6,
				     0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c };
static pthread_once_t cipher_once = PTHREAD_ONCE_INIT;
static EVP_CIPHER *cipher_fetched;
static const EVP_CIPHER *cipher;

static void cipher_fetch(void)
{
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
	/* Fetched once: an init naming a cipher per packet would fetch (and lock) each time. */
	cipher_fetched = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL);
	cipher = cipher_fetched;
#else
	cipher = EVP_aes_128_gcm();
#endif
}

static size_t aes_plain_offset(const struct wk_aes *a, uint64_t i)
{
	/* Spread over the pool so consecutive packets do not share cache lines. */
	return (size_t)((i * 4099u * 64u) % (a->plain_len - a->size));
}

static EVP_CIPHER_CTX *aes_ctx(void)
{
	struct wk_thread *t = thread_state();

	if (t == NULL)
		return NULL;
	if (t->aes == NULL) {
		EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();

		if (c == NULL)
			return NULL;
		/* Keyed once per thread; each packet sets only its IV. */
		if (EVP_EncryptInit_ex(c, cipher, NULL, aes_key, NULL) != 1) {
			EVP_CIPHER_CTX_free(c);
			return NULL;
		}
		t->aes = c;
	}
	return t->aes;
}
#endif

int wk_aes_setup(struct wk_aes *a, size_t size, uint64_t n, char *why, size_t why_len)
{
	memset(a, 0, sizeof(*a));
#ifdef WB_HAVE_OPENSSL
	uint64_t x = 0x9e3779b97f4a7c15ULL;

	pthread_once(&cipher_once, cipher_fetch);
	if (cipher == NULL) {
		snprintf(why, why_len, "EVP_CIPHER_fetch(AES-128-GCM) failed");
		return -1;
	}
	a->size = size;
	a->n = n;
	a->plain_len = (size_t)4 << 20;
	a->plain = malloc(a->plain_len);
	if (a->plain == NULL) {
		snprintf(why, why_len, "out of memory");
		return -1;
	}
	for (size_t i = 0; i + 8 <= a->plain_len; i += 8) {
		uint64_t v = mix64(x += 0x9e3779b97f4a7c15ULL);

		memcpy(a->plain + i, &v, 8);
	}
	return 0;
#else
	(void)size;
	(void)n;
	snprintf(why, why_len, "OpenSSL (libcrypto) was not found when bench/c was built "
		 "(apt-get install libssl-dev, then rebuild)");
	return -1;
#endif
}

void wk_aes_teardown(struct wk_aes *a)
{
	free(a->plain);
	memset(a, 0, sizeof(*a));
}

int wk_aes_seal(const struct wk_aes *a, uint64_t i, uint8_t *out, bool full, uint64_t *hash)
{
#ifdef WB_HAVE_OPENSSL
	EVP_CIPHER_CTX *c = aes_ctx();
	uint8_t iv[12] = { 0xca, 0xfe, 0xba, 0xbe };
	uint8_t *tag = out + a->size;
	int len = 0, fin = 0;

	if (c == NULL)
		return -1;
	memcpy(iv + 4, &i, 8);
	if (EVP_EncryptInit_ex(c, NULL, NULL, NULL, iv) != 1 ||
	    EVP_EncryptUpdate(c, out, &len, a->plain + aes_plain_offset(a, i), (int)a->size) != 1 ||
	    EVP_EncryptFinal_ex(c, out + len, &fin) != 1 || (size_t)(len + fin) != a->size ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, WK_GCM_TAG, tag) != 1)
		return -1;
	if (full) {
		*hash = wk_hash_words(i, out, a->size + WK_GCM_TAG);
	} else {
		uint8_t edge[WK_GCM_TAG + 16];

		memcpy(edge, tag, WK_GCM_TAG);
		memcpy(edge + WK_GCM_TAG, out, 8);
		memcpy(edge + WK_GCM_TAG + 8, out + a->size - 8, 8);
		*hash = wk_hash_words(i, edge, sizeof(edge));
	}
	return 0;
#else
	(void)a;
	(void)i;
	(void)out;
	(void)full;
	(void)hash;
	return -1;
#endif
}

/* ---- deflate ------------------------------------------------------------ */

int wk_deflate_setup(struct wk_deflate *d, const uint8_t *in, size_t len, int level, char *why,
		     size_t why_len)
{
	memset(d, 0, sizeof(*d));
#ifdef WB_HAVE_ZLIB
	z_stream zs;

	if (len == 0) {
		snprintf(why, why_len, "empty input");
		return -1;
	}
	memset(&zs, 0, sizeof(zs));
	if (deflateInit2(&zs, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		snprintf(why, why_len, "deflateInit2(level %d) failed", level);
		return -1;
	}
	/* deflateBound() is for Z_FINISH; a sync flush adds an empty stored block (5 bytes). */
	d->bound = deflateBound(&zs, WK_BLOCK) + 64;
	deflateEnd(&zs);
	d->in = in;
	d->len = len;
	d->nblocks = (len + WK_BLOCK - 1) / WK_BLOCK;
	d->level = level;
	return 0;
#else
	(void)in;
	(void)len;
	(void)level;
	snprintf(why, why_len, "zlib was not found when bench/c was built "
		 "(apt-get install zlib1g-dev, then rebuild)");
	return -1;
#endif
}

int wk_deflate_block(const struct wk_deflate *d, uint64_t i, uint8_t *out, size_t *out_len,
		     uint32_t *crc)
{
#ifdef WB_HAVE_ZLIB
	struct wk_thread *t = thread_state();
	size_t start = (size_t)i * WK_BLOCK, blen = wk_block_len(d, i);
	bool last = i + 1 == d->nblocks;
	z_stream *zs;
	int rc;

	if (t == NULL)
		return -1;
	zs = &t->zs;
	if (t->zs_ready && t->zs_level != d->level) {
		deflateEnd(zs);
		t->zs_ready = false;
	}
	if (!t->zs_ready) {
		memset(zs, 0, sizeof(*zs));
		if (deflateInit2(zs, d->level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
			return -1;
		t->zs_ready = true;
		t->zs_level = d->level;
	} else if (deflateReset(zs) != Z_OK) {
		return -1;
	}
	if (start > 0) {
		size_t dict = start < WK_DICT ? start : WK_DICT;

		if (deflateSetDictionary(zs, d->in + start - dict, (uInt)dict) != Z_OK)
			return -1;
	}
	zs->next_in = (Bytef *)(uintptr_t)(d->in + start);
	zs->avail_in = (uInt)blen;
	zs->next_out = out;
	zs->avail_out = (uInt)d->bound;
	rc = deflate(zs, last ? Z_FINISH : Z_SYNC_FLUSH);
	if (last ? rc != Z_STREAM_END : rc != Z_OK || zs->avail_in != 0 || zs->avail_out == 0)
		return -1;
	*out_len = d->bound - zs->avail_out;
	*crc = (uint32_t)crc32(0L, d->in + start, (uInt)blen);
	return 0;
#else
	(void)d;
	(void)i;
	(void)out;
	(void)out_len;
	(void)crc;
	return -1;
#endif
}

int wk_gz_init(struct wk_gz *g, const struct wk_deflate *d)
{
	memset(g, 0, sizeof(*g));
	g->cap = 18 + (size_t)d->nblocks * d->bound;
	g->buf = malloc(g->cap);
	if (g->buf == NULL) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

void wk_gz_free(struct wk_gz *g)
{
	free(g->buf);
	memset(g, 0, sizeof(*g));
}

void wk_gz_begin(struct wk_gz *g)
{
	/* gzip, deflate, no flags, mtime 0, no extra flags, OS Unix. */
	static const uint8_t hdr[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3 };

	memcpy(g->buf, hdr, sizeof(hdr));
	g->len = sizeof(hdr);
	g->crc = 0;
	g->in_len = 0;
	g->blocks = 0;
}

void wk_gz_add(struct wk_gz *g, const uint8_t *out, size_t out_len, uint32_t crc, size_t in_len)
{
	memcpy(g->buf + g->len, out, out_len);
	g->len += out_len;
#ifdef WB_HAVE_ZLIB
	g->crc = (uint32_t)crc32_combine(g->crc, crc, (z_off_t)in_len);
#else
	(void)crc;
#endif
	g->in_len += in_len;
	g->blocks++;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

void wk_gz_end(struct wk_gz *g)
{
	put_le32(g->buf + g->len, g->crc);
	put_le32(g->buf + g->len + 4, (uint32_t)g->in_len);
	g->len += 8;
}

int wk_gunzip_equals(const uint8_t *gz, size_t gz_len, const uint8_t *want, size_t want_len,
		     char *why, size_t why_len)
{
#ifdef WB_HAVE_ZLIB
	uint8_t buf[1 << 16];
	z_stream zs;
	size_t at = 0;
	int rc;

	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, 16 + 15) != Z_OK) {
		snprintf(why, why_len, "inflateInit2 failed");
		return -1;
	}
	zs.next_in = (Bytef *)(uintptr_t)gz;
	zs.avail_in = (uInt)gz_len;
	do {
		size_t got;

		zs.next_out = buf;
		zs.avail_out = sizeof(buf);
		rc = inflate(&zs, Z_NO_FLUSH);
		if (rc != Z_OK && rc != Z_STREAM_END) {
			snprintf(why, why_len, "inflate: %s at output byte %zu", zs.msg ? zs.msg : "error",
				 at);
			inflateEnd(&zs);
			return -1;
		}
		got = sizeof(buf) - zs.avail_out;
		if (at + got > want_len || memcmp(buf, want + at, got) != 0) {
			snprintf(why, why_len, "decompressed bytes differ from the input near byte %zu", at);
			inflateEnd(&zs);
			return -1;
		}
		at += got;
	} while (rc != Z_STREAM_END);
	inflateEnd(&zs);
	if (at != want_len || zs.avail_in != 0) {
		snprintf(why, why_len, "decompressed %zu bytes of %zu, %u bytes of the stream left over",
			 at, want_len, zs.avail_in);
		return -1;
	}
	return 0;
#else
	(void)gz;
	(void)gz_len;
	(void)want;
	(void)want_len;
	snprintf(why, why_len, "zlib not built in");
	return -1;
#endif
}

void wk_free_thread_state(void)
{
	pthread_mutex_lock(&threads_lock);
	while (threads_list) {
		struct wk_thread *t = threads_list;

		threads_list = t->next;
#ifdef WB_HAVE_OPENSSL
		EVP_CIPHER_CTX_free(t->aes);
#endif
#ifdef WB_HAVE_ZLIB
		if (t->zs_ready)
			deflateEnd(&t->zs);
#endif
		free(t);
	}
	pthread_mutex_unlock(&threads_lock);
#ifdef WB_HAVE_OPENSSL
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
	EVP_CIPHER_free(cipher_fetched);
	cipher_fetched = NULL;
	cipher = NULL;
#endif
#endif
}
