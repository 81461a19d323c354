/*
 * test_suggest.c
 *    The edit distance (Damerau-Levenshtein, optimal string alignment) and
 *    the "did you mean" candidates: only near ones, only the nearest, at
 *    most three, in the order given, quoted and joined.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "etl/suggest.h"

static void
test_distance(void **state)
{
    (void)state;
    assert_int_equal(etl_edit_distance("", ""), 0);
    assert_int_equal(etl_edit_distance("abc", ""), 3);
    assert_int_equal(etl_edit_distance("", "abc"), 3);
    assert_int_equal(etl_edit_distance("pg_load", "pg_load"), 0);
    assert_int_equal(etl_edit_distance("pg_lod", "pg_load"), 1);             /* insert */
    assert_int_equal(etl_edit_distance("urlls", "urls"), 1);                 /* delete */
    assert_int_equal(etl_edit_distance("max_rejct_ratio", "max_reject_ratio"), 1);
    assert_int_equal(etl_edit_distance("retires", "retries"), 1);           /* swap */
    assert_int_equal(etl_edit_distance("kitten", "sitting"), 3);
    assert_int_equal(etl_edit_distance("ca", "abc"), 3);    /* OSA: no edit of a swapped pair */
    assert_int_equal(etl_edit_distance("Urls", "urls"), 1); /* case counts */
    assert_int_equal(etl_edit_distance("fiscl_aid_funds", "fiscal_aid_funds"), 1);
}

static void
test_near(void **state)
{
    (void)state;
    /* a third of the longer word, at least 1, and less than the shorter one */
    assert_true(etl_suggest_near(1, 3, 4));
    assert_true(etl_suggest_near(2, 6, 7));
    assert_false(etl_suggest_near(3, 6, 7));
    assert_true(etl_suggest_near(5, 15, 16));
    assert_false(etl_suggest_near(1, 1, 1));    /* "a" is not near "b" */
    assert_false(etl_suggest_near(2, 2, 5));
}

/* The suggestion for 'word' among 'cands' (NULL-terminated). */
static size_t
suggest(const char *word, const char *const *cands, char *out, size_t size)
{
    struct etl_suggest s;

    etl_suggest_begin(&s, word);
    for (size_t i = 0; cands[i] != NULL; i++) {
        etl_suggest_add(&s, cands[i]);
    }
    return etl_suggest_end(&s, out, size);
}

static void
test_candidates(void **state)
{
    static const char *const kinds[] = {
        "http_fetch", "parse_csv", "normalize", "validate", "pg_load", "sql", NULL
    };
    static const char *const keys[] = {
        "required", "non_negative", "max_reject_ratio", "min_year", "max_year", NULL
    };
    static const char *const ties[] = { "abcd", "abce", "abcf", "abcg", "abxy", NULL };
    static const char *const spread[] = { "stage", "stages", "stags", NULL };
    char out[256];

    (void)state;
    assert_int_equal(suggest("pg_lod", kinds, out, sizeof(out)), 1);
    assert_string_equal(out, "\"pg_load\"");
    assert_int_equal(suggest("max_rejct_ratio", keys, out, sizeof(out)), 1);
    assert_string_equal(out, "\"max_reject_ratio\"");
    /* a swap is one edit; then two at distance 1, in the order given */
    assert_int_equal(suggest("max_yaer", keys, out, sizeof(out)), 1);
    assert_string_equal(out, "\"max_year\"");
    assert_int_equal(suggest("mix_year", keys, out, sizeof(out)), 2);
    assert_string_equal(out, "\"min_year\" or \"max_year\"");
    /* four at distance 1: three of them */
    assert_int_equal(suggest("abcx", ties, out, sizeof(out)), 3);
    assert_string_equal(out, "\"abcd\", \"abce\" or \"abcf\"");
    /* only the nearest: "stage" and "stags" (1), not "stages" (2) */
    assert_int_equal(suggest("stagz", spread, out, sizeof(out)), 2);
    assert_string_equal(out, "\"stage\" or \"stags\"");
    /* nothing near */
    assert_int_equal(suggest("frobnicate", kinds, out, sizeof(out)), 0);
    assert_string_equal(out, "");
    /* the word itself is no suggestion */
    assert_int_equal(suggest("sql", kinds, out, sizeof(out)), 0);
    /* a short buffer is cut, still a string */
    assert_int_equal(suggest("pg_lod", kinds, out, 4), 1);
    assert_string_equal(out, "\"pg");
}

static void
test_nearer_replaces(void **state)
{
    struct etl_suggest s;
    char out[64];

    (void)state;
    etl_suggest_begin(&s, "validat");
    etl_suggest_add(&s, "valid");       /* 2 */
    etl_suggest_add(&s, NULL);
    etl_suggest_add(&s, "validate");    /* 1: replaces "valid" */
    etl_suggest_add(&s, "validate");    /* given twice: once */
    etl_suggest_add(&s, "invalid");     /* 4: too far */
    assert_int_equal(etl_suggest_end(&s, out, sizeof(out)), 1);
    assert_string_equal(out, "\"validate\"");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_distance),
        cmocka_unit_test(test_near),
        cmocka_unit_test(test_candidates),
        cmocka_unit_test(test_nearer_replaces),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
