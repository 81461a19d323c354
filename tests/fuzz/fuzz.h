/*
 * fuzz.h
 *    What the libFuzzer targets of tests/fuzz/ share: input split into
 *    pieces derived from the input itself (so that a finding replays the
 *    same way), a hash of what a reader pushes on (to compare a whole feed
 *    with a split one), and the check that stops a run on a broken
 *    invariant.  Header only: each target is one C file.
 */
#ifndef ETL_FUZZ_H
#define ETL_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A broken invariant is a finding: report it and abort (libFuzzer saves it). */
#define FUZZ_CHECK(cond)                                                        \
    do {                                                                        \
        if (!(cond)) {                                                          \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__,    \
                    #cond);                                                     \
            abort();                                                            \
        }                                                                       \
    } while (0)

/* FNV-1a, 64 bits: the fingerprint of a reader's output. */
#define FUZZ_HASH_INIT UINT64_C(14695981039346656037)

static inline uint64_t
fuzz_hash(uint64_t h, const void *p, size_t n)
{
    const unsigned char *u = p;

    for (size_t i = 0; i < n; i++) {
        h = (h ^ u[i]) * UINT64_C(1099511628211);
    }
    return h;
}

/*
 * Piece sizes of a feed, from a seed drawn from the input: xorshift64, and
 * a largest piece of 1, 2, 7, 64 or 4096 bytes chosen by the seed.
 */
struct fuzz_split {
    uint64_t state;
    size_t max;
};

static inline void
fuzz_split_init(struct fuzz_split *s, const uint8_t *data, size_t size)
{
    static const size_t maxes[] = { 1, 2, 7, 64, 4096 };

    s->state = fuzz_hash(FUZZ_HASH_INIT, data, size) | 1;
    s->max = maxes[s->state % (sizeof(maxes) / sizeof(maxes[0]))];
}

/* The next piece: 1 to s->max bytes, at most 'left'. */
static inline size_t
fuzz_split_next(struct fuzz_split *s, size_t left)
{
    size_t k;

    s->state ^= s->state << 13;
    s->state ^= s->state >> 7;
    s->state ^= s->state << 17;
    k = 1 + (size_t)(s->state % s->max);
    return k < left ? k : left;
}

/* A NUL-terminated copy of the input (malloc'd; NULL on no memory). */
static inline char *
fuzz_string(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);

    if (s != NULL) {
        memcpy(s, data, size);
        s[size] = '\0';
    }
    return s;
}

#endif
