/*
 * hash.h
 *    A string-keyed hash table: keys are byte strings of a given length
 *    (need not be NUL-terminated), values are numbers (an index into an
 *    array the caller owns, as the catalog's tables are).  The model is
 *    redis src/dict.c, smaller: open addressing with linear probing, kept at
 *    most a quarter full, so a lookup that misses stops at an empty slot
 *    after a probe or two; no deletion.
 *
 *    Keys are not copied: a key must stay valid, unchanged, as long as the
 *    table.  That is what lets the catalog look names up without
 *    allocating.  A key may be put several times (铜仁 names 铜仁地区 until
 *    2011 and 铜仁市 after): etl_hash_get gives the first value put under it,
 *    etl_hash_find / etl_hash_next walk all of them in the order they were
 *    put.
 *
 *    A table is not locked: many threads may read one that nobody writes.
 *    Next door: catalog.c, its main user.
 */
#ifndef ETL_HASH_H
#define ETL_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct etl_hash;

/* Flags of etl_hash_new. */
#define ETL_HASH_NOCASE 0x1u    /* ASCII letters compare case-insensitively
                                   (Beijing, BEIJING); other bytes exactly */

/*
 * An empty table; 'flags' is 0 or ETL_HASH_NOCASE.  No slots are allocated
 * until the first put.  NULL when out of memory.  Free with etl_hash_free.
 */
struct etl_hash *etl_hash_new(unsigned flags) ETL_MUSTCHECK;

/* Free the table (NULL is fine); the keys belong to the caller. */
void etl_hash_free(struct etl_hash *h);

/*
 * Put 'val' under 'key' ('len' bytes, not copied).  An existing key is not
 * replaced: the new value is added after the others.  0, or -1 when out of
 * memory (growing the table failed; the table is unchanged) or when 'len'
 * is 4 GiB or more.  Amortised O(1): the table doubles when a quarter full,
 * which costs O(count) once in a while.  Hashing reads the key 8 bytes at
 * a time, about 1 ns per 8 bytes.
 */
int etl_hash_put(struct etl_hash *h, const char *key, size_t len, size_t val) ETL_MUSTCHECK;

/*
 * The first value put under 'key' into *val; false (and *val unchanged)
 * when there is none.  O(1) expected, no allocation.
 */
bool etl_hash_get(const struct etl_hash *h, const char *key, size_t len, size_t *val);

/* The number of puts so far (duplicates count). */
size_t etl_hash_count(const struct etl_hash *h);

/* Walking the values of one key; on the caller's stack, fields private. */
struct etl_hash_iter {
    const struct etl_hash *h;
    const char *key;
    size_t len;
    uint32_t hash;
    size_t i;
};

/*
 * Start walking the values of 'key' (which must outlive the walk); the
 * table must not be written until the walk ends.  No allocation.
 */
void etl_hash_find(struct etl_hash_iter *it, const struct etl_hash *h, const char *key,
                   size_t len);

/* The next value of the walk into *val; false at the end.  O(probe run). */
bool etl_hash_next(struct etl_hash_iter *it, size_t *val);

/*
 * The hash the tables use for a key: ASCII letters folded to lower case,
 * so that it serves both kinds of table.  A table of 2^k slots looks a key
 * up first in slot (hash & (2^k - 1)); the smallest table has
 * ETL_HASH_MIN_SLOTS.
 */
uint32_t etl_hash_key(const char *key, size_t len);
#define ETL_HASH_MIN_SLOTS 64

/*
 * For tests only: make the n-th allocation of this module from now fail
 * (1 = the next one); 0 turns it off.  Not thread-safe.
 */
void etl_hash_fail_alloc(int n);

#endif
