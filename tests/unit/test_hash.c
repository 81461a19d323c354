/*
 * test_hash.c
 *    The string hash table: gets and misses, keys that are not
 *    NUL-terminated, case folding, duplicate keys in order across growth,
 *    many keys (collisions in the probe runs), NULL free and allocation
 *    failures.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "etl/hash.h"

#define MANY 5000

static char keys[MANY][16];

/* Put s (NUL-terminated, not copied) under 'val'; the put must succeed. */
static void
put(struct etl_hash *h, const char *s, size_t val)
{
    assert_int_equal(etl_hash_put(h, s, strlen(s), val), 0);
}

/* Whether s is in h, and with which first value. */
static bool
get(const struct etl_hash *h, const char *s, size_t *val)
{
    return etl_hash_get(h, s, strlen(s), val);
}

static void
test_get_and_miss(void **state)
{
    struct etl_hash *h = etl_hash_new(0);
    const char *text = "北京市,天津";
    size_t v = 99;

    (void)state;
    assert_non_null(h);
    assert_int_equal(etl_hash_count(h), 0);
    assert_false(get(h, "x", &v));          /* empty table: no slots yet */
    assert_int_equal(v, 99);
    put(h, "北京", 1);
    put(h, "Beijing", 2);
    put(h, "", 3);
    assert_int_equal(etl_hash_put(h, text + 10, 6, 4), 0);      /* 天津, no NUL */
    assert_int_equal(etl_hash_count(h), 4);
    assert_true(get(h, "北京", &v));
    assert_int_equal(v, 1);
    assert_true(get(h, "Beijing", &v));
    assert_int_equal(v, 2);
    assert_true(get(h, "", &v));
    assert_int_equal(v, 3);
    assert_true(get(h, "天津", &v));
    assert_int_equal(v, 4);
    /* a prefix of a key, a key and more, the key inside a longer text */
    assert_true(etl_hash_get(h, text, 6, &v));
    assert_int_equal(v, 1);
    v = 99;
    assert_false(etl_hash_get(h, text, 9, &v));                 /* 北京市 */
    assert_false(get(h, "北", &v));
    assert_false(get(h, "Beijin", &v));
    assert_false(get(h, "Beijingg", &v));
    /* case-sensitive table */
    assert_false(get(h, "beijing", &v));
    assert_false(get(h, "BEIJING", &v));
    assert_int_equal(v, 99);
    etl_hash_free(h);
}

static void
test_nocase(void **state)
{
    struct etl_hash *h = etl_hash_new(ETL_HASH_NOCASE);
    size_t v = 0;

    (void)state;
    assert_non_null(h);
    put(h, "Inner Mongolia Autonomous Region", 7);
    put(h, "CNY", 8);
    assert_true(get(h, "inner mongolia autonomous region", &v));
    assert_int_equal(v, 7);
    assert_true(get(h, "INNER MONGOLIA AUTONOMOUS REGION", &v));
    assert_true(get(h, "cny", &v));
    assert_int_equal(v, 8);
    /* only ASCII letters fold: '[' is not '{', 'Ä' is not 'ä' */
    put(h, "a[b", 9);
    assert_false(get(h, "a{b", &v));
    assert_false(get(h, "A{B", &v));
    assert_true(get(h, "A[B", &v));
    put(h, "\xC3\x84", 10);
    assert_false(get(h, "\xC3\xA4", &v));
    assert_false(get(h, "cnz", &v));
    etl_hash_free(h);
}

static void
test_duplicates(void **state)
{
    struct etl_hash *h = etl_hash_new(ETL_HASH_NOCASE);
    struct etl_hash_iter it;
    size_t v, n = 0;

    (void)state;
    assert_non_null(h);
    put(h, "铜仁", 10);
    put(h, "Tongren", 20);
    put(h, "铜仁", 11);
    put(h, "tongren", 21);
    put(h, "铜仁", 12);
    assert_int_equal(etl_hash_count(h), 5);
    assert_true(get(h, "铜仁", &v));
    assert_int_equal(v, 10);                /* the first put */
    etl_hash_find(&it, h, "铜仁", strlen("铜仁"));
    while (etl_hash_next(&it, &v)) {
        assert_int_equal(v, 10 + n);
        n++;
    }
    assert_int_equal(n, 3);
    assert_false(etl_hash_next(&it, &v));   /* stays at the end */
    n = 0;
    etl_hash_find(&it, h, "TONGREN", 7);
    while (etl_hash_next(&it, &v)) {
        assert_int_equal(v, 20 + n);
        n++;
    }
    assert_int_equal(n, 2);
    etl_hash_find(&it, h, "铜", strlen("铜"));
    assert_false(etl_hash_next(&it, &v));
    etl_hash_free(h);
}

static void
test_growth_keeps_everything(void **state)
{
    struct etl_hash *h = etl_hash_new(0);
    size_t v;

    (void)state;
    assert_non_null(h);
    for (size_t i = 0; i < MANY; i++) {
        snprintf(keys[i], sizeof(keys[i]), "k%zu", i);
        put(h, keys[i], i);
        if ((i & (i + 1)) == 0) {
            /* after each doubling point, everything put so far is there */
            for (size_t j = 0; j <= i; j++) {
                assert_true(get(h, keys[j], &v));
                assert_int_equal(v, j);
            }
        }
    }
    assert_int_equal(etl_hash_count(h), MANY);
    for (size_t i = 0; i < MANY; i++) {
        char miss[16];

        assert_true(get(h, keys[i], &v));
        assert_int_equal(v, i);
        snprintf(miss, sizeof(miss), "m%zu", i);
        assert_false(get(h, miss, &v));
    }
    etl_hash_free(h);
}

static void
test_duplicates_in_order_across_growth(void **state)
{
    struct etl_hash *h = etl_hash_new(0);
    struct etl_hash_iter it;
    size_t v;

    (void)state;
    assert_non_null(h);
    /* 500 keys put 4 times each, interleaved, through 6 doublings: probe
     * runs of many lengths, some wrapping round the end of the slots */
    for (size_t i = 0; i < 500; i++) {
        snprintf(keys[i], sizeof(keys[i]), "dup-%zu", i);
    }
    for (size_t round = 0; round < 4; round++) {
        for (size_t i = 0; i < 500; i++) {
            put(h, keys[i], i * 10 + round);
        }
    }
    assert_int_equal(etl_hash_count(h), 2000);
    for (size_t i = 0; i < 500; i++) {
        size_t n = 0;

        etl_hash_find(&it, h, keys[i], strlen(keys[i]));
        while (etl_hash_next(&it, &v)) {
            assert_int_equal(v, i * 10 + n);
            n++;
        }
        assert_int_equal(n, 4);
    }
    etl_hash_free(h);
    /* pairs put one after the other: a pair whose first lands in the last
     * slot has its second in slot 0, a run that wraps */
    h = etl_hash_new(0);
    assert_non_null(h);
    for (size_t i = 0; i < MANY; i++) {
        snprintf(keys[i], sizeof(keys[i]), "p%zu", i);
        put(h, keys[i], 2 * i);
        put(h, keys[i], 2 * i + 1);
    }
    for (size_t i = 0; i < MANY; i++) {
        etl_hash_find(&it, h, keys[i], strlen(keys[i]));
        assert_true(etl_hash_next(&it, &v));
        assert_int_equal(v, 2 * i);
        assert_true(etl_hash_next(&it, &v));
        assert_int_equal(v, 2 * i + 1);
        assert_false(etl_hash_next(&it, &v));
    }
    etl_hash_free(h);
}

static void
test_wrapped_run_keeps_order(void **state)
{
    struct etl_hash *h = etl_hash_new(0);
    struct etl_hash_iter it;
    char last[16];
    size_t v, k = 0;

    (void)state;
    assert_non_null(h);
    /* a key whose home is the last of the first 64 slots: its second value
     * goes to slot 0, and growing must not put it first */
    do {
        snprintf(last, sizeof(last), "w%zu", k++);
    } while ((etl_hash_key(last, strlen(last)) & (ETL_HASH_MIN_SLOTS - 1)) !=
             ETL_HASH_MIN_SLOTS - 1);
    put(h, last, 1);
    put(h, last, 2);
    for (size_t i = 0; i < ETL_HASH_MIN_SLOTS / 4; i++) {
        snprintf(keys[i], sizeof(keys[i]), "k%zu", i);
        put(h, keys[i], 100 + i);               /* the 15th grows the table */
    }
    etl_hash_find(&it, h, last, strlen(last));
    assert_true(etl_hash_next(&it, &v));
    assert_int_equal(v, 1);
    assert_true(etl_hash_next(&it, &v));
    assert_int_equal(v, 2);
    assert_false(etl_hash_next(&it, &v));
    for (size_t i = 0; i < ETL_HASH_MIN_SLOTS / 4; i++) {
        assert_true(get(h, keys[i], &v));
        assert_int_equal(v, 100 + i);
    }
    etl_hash_free(h);
}

static void
test_hash_key(void **state)
{
    (void)state;
    /* case folded, length and every byte count, stable */
    assert_int_equal(etl_hash_key("Beijing", 7), etl_hash_key("BEIJING", 7));
    assert_int_not_equal(etl_hash_key("Beijing", 7), etl_hash_key("Beijin", 6));
    assert_int_not_equal(etl_hash_key("", 0), etl_hash_key("\0", 1));
    assert_int_not_equal(etl_hash_key("abcdefgh1", 9), etl_hash_key("abcdefgh2", 9));
    assert_int_not_equal(etl_hash_key("1bcdefghi", 9), etl_hash_key("2bcdefghi", 9));
    assert_int_equal(etl_hash_key("abcdefghijklmnopq", 17),
                     etl_hash_key("ABCDEFGHIJKLMNOPQ", 17));
    /* '@' and '[' sit next to the capitals and are not folded */
    assert_int_not_equal(etl_hash_key("@[", 2), etl_hash_key("`{", 2));
}

static void
test_free_null(void **state)
{
    (void)state;
    etl_hash_free(NULL);
}

static void
test_out_of_memory(void **state)
{
    struct etl_hash *h;
    size_t v;

    (void)state;
    etl_hash_fail_alloc(1);
    assert_null(etl_hash_new(0));
    h = etl_hash_new(0);
    assert_non_null(h);
    /* the first put allocates the slots */
    etl_hash_fail_alloc(1);
    assert_int_equal(etl_hash_put(h, "a", 1, 1), -1);
    assert_int_equal(etl_hash_count(h), 0);
    assert_false(get(h, "a", &v));
    for (size_t i = 0; i < 16; i++) {
        snprintf(keys[i], sizeof(keys[i]), "k%zu", i);
        put(h, keys[i], i);
    }
    /* the 17th fills a quarter of 64 slots: growing fails, nothing lost */
    etl_hash_fail_alloc(1);
    assert_int_equal(etl_hash_put(h, "x", 1, 99), -1);
    assert_int_equal(etl_hash_count(h), 16);
    assert_false(get(h, "x", &v));
    for (size_t i = 0; i < 16; i++) {
        assert_true(get(h, keys[i], &v));
        assert_int_equal(v, i);
    }
    /* and the next try works */
    put(h, "x", 99);
    assert_true(get(h, "x", &v));
    assert_int_equal(v, 99);
    assert_int_equal(etl_hash_count(h), 17);
    etl_hash_fail_alloc(0);
#if SIZE_MAX > UINT32_MAX
    /* a key of 4 GiB is refused before it is read */
    assert_int_equal(etl_hash_put(h, "x", (size_t)UINT32_MAX + 1, 5), -1);
    assert_int_equal(etl_hash_count(h), 17);
#endif
    etl_hash_free(h);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_and_miss),
        cmocka_unit_test(test_nocase),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_growth_keeps_everything),
        cmocka_unit_test(test_duplicates_in_order_across_growth),
        cmocka_unit_test(test_wrapped_run_keeps_order),
        cmocka_unit_test(test_hash_key),
        cmocka_unit_test(test_free_null),
        cmocka_unit_test(test_out_of_memory),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
