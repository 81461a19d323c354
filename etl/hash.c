/*
 * hash.c
 *    The string-keyed hash table: open addressing, linear probing, at most
 *    a quarter full, values in the order they were put.  See hash.h.
 *
 *    Order of duplicates: a put goes to the first empty slot after its home
 *    slot, so the values of one key lie in one probe run in the order they
 *    were put.  Growing re-puts the slots in that same order by starting
 *    the pass just after an empty slot (one always exists), so that a probe
 *    run wrapping round the end of the array is not split.
 */
#include "hash.h"

#include <stdlib.h>
#include <string.h>


struct hash_slot {
    const char *key;            /* NULL: empty; the caller's bytes */
    uint32_t len;
    uint32_t hash;
    size_t val;
};

struct etl_hash {
    struct hash_slot *slots;
    size_t cap;                 /* a power of two, or 0 */
    size_t n;
    unsigned flags;
};

static int fail_countdown;      /* etl_hash_fail_alloc */

/* calloc, or NULL when the test countdown says so. */
static void *
hash_calloc(size_t n, size_t size)
{
    if (fail_countdown > 0 && --fail_countdown == 0) {
        return NULL;
    }
    return calloc(n, size);
}

void
etl_hash_fail_alloc(int n)
{
    fail_countdown = n;
}

/* ASCII lower case; other bytes unchanged. */
static unsigned char
lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

/* Eight bytes with the ASCII capitals among them made small (SWAR). */
static uint64_t
lower8(uint64_t w)
{
    uint64_t low7 = w & 0x7F7F7F7F7F7F7F7Full;
    uint64_t above_z = low7 + 0x2525252525252525ull;  /* 0x80 set: byte > 'Z' */
    uint64_t from_a = low7 + 0x3F3F3F3F3F3F3F3Full;   /* 0x80 set: byte >= 'A' */
    uint64_t upper = ~w & (from_a ^ above_z) & 0x8080808080808080ull;

    return w | (upper >> 2);
}

/*
 * The hash of a key, ASCII letters folded to lower case (for both kinds of
 * table: keys equal either way hash alike; see hash.h): eight bytes at a time (multiply
 * and xor-shift), then murmur3's 64-bit finalizer, whose low bits the table
 * uses.  About 1 ns per 8 bytes.
 */
uint32_t
etl_hash_key(const char *s, size_t len)
{
    uint64_t h = 0x9E3779B97F4A7C15ull ^ len, w;
    size_t i = 0;

    for (; i + 8 <= len; i += 8) {
        memcpy(&w, s + i, 8);
        h = (h ^ lower8(w)) * 0xFF51AFD7ED558CCDull;
        h ^= h >> 29;
    }
    if (i < len) {
        /* the last 1..7 bytes, without a call to memcpy */
        w = 0;
        for (size_t j = 0; i + j < len; j++) {
            w |= (uint64_t)(unsigned char)s[i + j] << (8 * j);
        }
        h = (h ^ lower8(w)) * 0xFF51AFD7ED558CCDull;
        h ^= h >> 29;
    }
    h ^= h >> 33;
    h *= 0xC4CEB9FE1A85EC53ull;
    h ^= h >> 33;
    return (uint32_t)h;
}

/* Whether a slot holds this key (ASCII case-insensitive with NOCASE). */
static bool
slot_eq(const struct etl_hash *h, const struct hash_slot *sl, const char *key, size_t len,
        uint32_t hash)
{
    if (sl->hash != hash || sl->len != len) {
        return false;
    }
    if (memcmp(sl->key, key, len) == 0) {
        return true;            /* the usual case: same bytes */
    }
    if (!(h->flags & ETL_HASH_NOCASE)) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (lower((unsigned char)sl->key[i]) != lower((unsigned char)key[i])) {
            return false;
        }
    }
    return true;
}

/* Store a slot in a table known to have room (linear probing). */
static void
slot_put(struct etl_hash *h, const struct hash_slot *sl)
{
    size_t mask = h->cap - 1, i = sl->hash & mask;

    while (h->slots[i].key != NULL) {
        i = (i + 1) & mask;
    }
    h->slots[i] = *sl;
    h->n++;
}

/* Double the slots (or make the first ones), keeping the order of each
 * probe run (see the file header).  -1 when out of memory, table unchanged. */
static int
grow(struct etl_hash *h)
{
    struct etl_hash old = *h;
    size_t cap = old.cap == 0 ? ETL_HASH_MIN_SLOTS : old.cap * 2, start = 0;

    if (cap > SIZE_MAX / sizeof(*h->slots) ||
        (h->slots = hash_calloc(cap, sizeof(*h->slots))) == NULL) {
        h->slots = old.slots;
        return -1;
    }
    h->cap = cap;
    h->n = 0;
    while (start < old.cap && old.slots[start].key != NULL) {
        start++;
    }
    for (size_t k = 1; k <= old.cap; k++) {
        const struct hash_slot *sl = &old.slots[(start + k) & (old.cap - 1)];

        if (sl->key != NULL) {
            slot_put(h, sl);
        }
    }
    free(old.slots);
    return 0;
}

struct etl_hash *
etl_hash_new(unsigned flags)
{
    struct etl_hash *h = hash_calloc(1, sizeof(*h));

    if (h != NULL) {
        h->flags = flags;
    }
    return h;
}

void
etl_hash_free(struct etl_hash *h)
{
    if (h == NULL) {
        return;
    }
    free(h->slots);
    free(h);
}

int
etl_hash_put(struct etl_hash *h, const char *key, size_t len, size_t val)
{
    struct hash_slot sl;

    if (len > UINT32_MAX) {
        return -1;
    }
    if (4 * (h->n + 1) > h->cap && grow(h) < 0) {
        return -1;
    }
    sl.key = key;
    sl.len = (uint32_t)len;
    sl.hash = etl_hash_key(key, len);
    sl.val = val;
    slot_put(h, &sl);
    return 0;
}

void
etl_hash_find(struct etl_hash_iter *it, const struct etl_hash *h, const char *key, size_t len)
{
    it->h = h;
    it->key = key;
    it->len = len;
    it->hash = etl_hash_key(key, len);
    it->i = h->cap == 0 ? 0 : (it->hash & (h->cap - 1));
}

bool
etl_hash_next(struct etl_hash_iter *it, size_t *val)
{
    const struct etl_hash *h = it->h;

    if (h->cap == 0) {
        return false;
    }
    while (h->slots[it->i].key != NULL) {
        const struct hash_slot *sl = &h->slots[it->i];

        it->i = (it->i + 1) & (h->cap - 1);
        if (slot_eq(h, sl, it->key, it->len, it->hash)) {
            *val = sl->val;
            return true;
        }
    }
    return false;
}

bool
etl_hash_get(const struct etl_hash *h, const char *key, size_t len, size_t *val)
{
    struct etl_hash_iter it;

    etl_hash_find(&it, h, key, len);
    return etl_hash_next(&it, val);
}

size_t
etl_hash_count(const struct etl_hash *h)
{
    return h->n;
}
