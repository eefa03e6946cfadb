/* SPDX-License-Identifier: MIT */
/*
 * fuzz_input.h - what the libFuzzer targets of native/fuzz share: the reader
 * of the input bytes and the CHECK() that aborts with a message (libFuzzer
 * reports the abort as a crash with its input). Private to native/fuzz.
 *
 * Define FUZZ_NAME (the target's name, a string literal) before including.
 */
#ifndef PADATA_FUZZ_INPUT_H
#define PADATA_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef FUZZ_NAME
#error "define FUZZ_NAME before including fuzz_input.h"
#endif

/* struct fuzz_input - the bytes of one input not read yet. */
struct fuzz_input {
	const uint8_t *p;
	size_t n;
};

/* fuzz_byte - the next byte of @in; 0 once the input is used up. */
static inline uint8_t fuzz_byte(struct fuzz_input *in)
{
	if (in->n == 0)
		return 0;
	in->n--;
	return *in->p++;
}

/* CHECK - abort with "<FUZZ_NAME>: check failed: <cond>: <message>" unless @cond. */
#define CHECK(cond, ...)                                                          \
	do {                                                                      \
		if (!(cond)) {                                                    \
			fprintf(stderr, FUZZ_NAME ": check failed: %s: ", #cond); \
			fprintf(stderr, __VA_ARGS__);                             \
			fputc('\n', stderr);                                      \
			abort();                                                  \
		}                                                                 \
	} while (0)

#endif /* PADATA_FUZZ_INPUT_H */
