/*
 * test_text.c
 *    Blanks, trimming, full-width folding and cutting at a character
 *    boundary, with broken and look-alike UTF-8.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "etl/text.h"

/* etl_text_trim of s; the result compared with 'want'. */
static void
expect_trim(const char *s, const char *want)
{
    const char *b = s, *e = s + strlen(s);

    etl_text_trim(&b, &e);
    assert_int_equal((int)(e - b), (int)strlen(want));
    assert_memory_equal(b, want, strlen(want));
}

static void
test_blank(void **state)
{
    const char *s;

    (void)state;
    assert_int_equal(etl_text_blank(" x", " x" + 2), 1);
    assert_int_equal(etl_text_blank("\tx", "\tx" + 2), 1);
    assert_int_equal(etl_text_blank("\r", "\r" + 1), 1);
    assert_int_equal(etl_text_blank("\n", "\n" + 1), 1);
    s = "\xC2\xA0x";
    assert_int_equal(etl_text_blank(s, s + 3), 2);
    s = "\xE3\x80\x80x";
    assert_int_equal(etl_text_blank(s, s + 4), 3);
    /* not blanks */
    assert_int_equal(etl_text_blank("x", "x" + 1), 0);
    assert_int_equal(etl_text_blank("\v", "\v" + 1), 0);
    assert_int_equal(etl_text_blank("\f", "\f" + 1), 0);
    s = "\xE3\x80\x81";                 /* 、 shares two bytes with U+3000 */
    assert_int_equal(etl_text_blank(s, s + 3), 0);
    s = "\xC2\xA1";                     /* ¡ */
    assert_int_equal(etl_text_blank(s, s + 2), 0);
    /* cut by the end of the range: not read past it */
    s = "\xE3\x80\x80";
    assert_int_equal(etl_text_blank(s, s + 2), 0);
    assert_int_equal(etl_text_blank(s, s), 0);
    s = "\xC2\xA0";
    assert_int_equal(etl_text_blank(s, s + 1), 0);
}

static void
test_blank_before(void **state)
{
    const char *s;

    (void)state;
    s = "x ";
    assert_int_equal(etl_text_blank_before(s, s + 2), 1);
    s = "x\xC2\xA0";
    assert_int_equal(etl_text_blank_before(s, s + 3), 2);
    s = "x\xE3\x80\x80";
    assert_int_equal(etl_text_blank_before(s, s + 4), 3);
    s = "\x80\x80";                     /* the tail of U+3000 alone */
    assert_int_equal(etl_text_blank_before(s, s + 2), 0);
    s = "x\xE3\x80\x81";
    assert_int_equal(etl_text_blank_before(s, s + 4), 0);
    s = "\xA0";
    assert_int_equal(etl_text_blank_before(s, s + 1), 0);
    assert_int_equal(etl_text_blank_before(s, s), 0);
}

static void
test_trim(void **state)
{
    (void)state;
    expect_trim("  北京 \t", "北京");
    expect_trim("\xE3\x80\x80" "北京" "\xE3\x80\x80\r\n", "北京");
    expect_trim("\xC2\xA0" "12" "\xC2\xA0", "12");
    expect_trim(" a b ", "a b");
    expect_trim("", "");
    expect_trim(" \t\r\n\xE3\x80\x80\xC2\xA0", "");
    expect_trim("\v1\v", "\v1\v");
    /* a character ending in 80 80 or A0 is not a blank */
    expect_trim("\xE3\x80\x81", "\xE3\x80\x81");
    expect_trim("x\xE4\xB8\xA0", "x\xE4\xB8\xA0");   /* 丠 ends in A0 */
    /* truncated sequences are kept */
    expect_trim(" \xE3\x80", "\xE3\x80");
    expect_trim("\x80\x80 ", "\x80\x80");
}

static void
test_fold(void **state)
{
    size_t len;
    const char *s;

    (void)state;
    assert_int_equal(etl_text_fold("a", "a" + 1, &len), 'a');
    assert_int_equal(len, 1);
    s = "\xEF\xBC\x81";                 /* ！ U+FF01 */
    assert_int_equal(etl_text_fold(s, s + 3, &len), '!');
    assert_int_equal(len, 3);
    s = "\xEF\xBC\x90";                 /* ０ */
    assert_int_equal(etl_text_fold(s, s + 3, &len), '0');
    s = "\xEF\xBC\xA1";                 /* Ａ */
    assert_int_equal(etl_text_fold(s, s + 3, &len), 'A');
    s = "\xEF\xBC\xBF";                 /* ＿ U+FF3F, last of EF BC */
    assert_int_equal(etl_text_fold(s, s + 3, &len), '_');
    s = "\xEF\xBD\x80";                 /* ｀ U+FF40, first of EF BD */
    assert_int_equal(etl_text_fold(s, s + 3, &len), '`');
    s = "\xEF\xBD\x9E";                 /* ～ U+FF5E */
    assert_int_equal(etl_text_fold(s, s + 3, &len), '~');
    s = "\xE3\x80\x80";
    assert_int_equal(etl_text_fold(s, s + 3, &len), ' ');
    assert_int_equal(len, 3);
}

static void
test_fold_lookalikes(void **state)
{
    size_t len;
    const char *s;

    (void)state;
    s = "\xEF\xBC\x80";                 /* U+FF00, before the range */
    assert_int_equal(etl_text_fold(s, s + 3, &len), -1);
    assert_int_equal(len, 3);
    s = "\xEF\xBD\x9F";                 /* ｟ U+FF5F, after it */
    assert_int_equal(etl_text_fold(s, s + 3, &len), -1);
    assert_int_equal(len, 3);
    s = "\xEF\xBE\x81";                 /* half-width katakana, EF BE */
    assert_int_equal(etl_text_fold(s, s + 3, &len), -1);
    s = "\xE3\x80\x81";                 /* 、 */
    assert_int_equal(etl_text_fold(s, s + 3, &len), -1);
    assert_int_equal(len, 3);
    s = "\xE4\xB8\xAD";                 /* 中 */
    assert_int_equal(etl_text_fold(s, s + 3, &len), -1);
    assert_int_equal(len, 3);
    s = "\xF0\x9F\x98\x80";             /* a four-byte character */
    assert_int_equal(etl_text_fold(s, s + 4, &len), -1);
    assert_int_equal(len, 4);
    s = "\xC2\xA0";
    assert_int_equal(etl_text_fold(s, s + 2, &len), -1);
    assert_int_equal(len, 2);
}

static void
test_fold_broken(void **state)
{
    size_t len;
    const char *s;

    (void)state;
    assert_int_equal(etl_text_fold("", "", &len), -1);
    assert_int_equal(len, 0);
    s = "\xEF\xBC\x81";                 /* ！ cut by the end of the range */
    assert_int_equal(etl_text_fold(s, s + 2, &len), -1);
    assert_int_equal(len, 1);
    assert_int_equal(etl_text_fold(s, s + 1, &len), -1);
    assert_int_equal(len, 1);
    s = "\x81";                         /* a stray continuation byte */
    assert_int_equal(etl_text_fold(s, s + 1, &len), -1);
    assert_int_equal(len, 1);
    s = "\xEF" "AB";                    /* a lead byte without its tail */
    assert_int_equal(etl_text_fold(s, s + 3, &len), -1);
    assert_int_equal(len, 1);
    s = "\xEF\xBC" "!";
    assert_int_equal(etl_text_fold(s, s + 3, &len), -1);
    assert_int_equal(len, 1);
    s = "\xFF\xBC\x81";                 /* not a lead byte */
    assert_int_equal(etl_text_fold(s, s + 3, &len), -1);
    assert_int_equal(len, 1);
}

static void
test_cut(void **state)
{
    const char *s = "ab\xE4\xB8\xAD" "cd";      /* ab中cd */

    (void)state;
    assert_int_equal(etl_text_cut(s, 7, 10), 7);
    assert_int_equal(etl_text_cut(s, 7, 7), 7);
    assert_int_equal(etl_text_cut(s, 7, 6), 6);
    assert_int_equal(etl_text_cut(s, 7, 5), 5);
    assert_int_equal(etl_text_cut(s, 7, 4), 2);
    assert_int_equal(etl_text_cut(s, 7, 3), 2);
    assert_int_equal(etl_text_cut(s, 7, 2), 2);
    assert_int_equal(etl_text_cut(s, 7, 0), 0);
    s = "\xE4\xB8\xAD\xE6\x96\x87";             /* 中文 */
    assert_int_equal(etl_text_cut(s, 6, 4), 3);
    assert_int_equal(etl_text_cut(s, 6, 2), 0);
    s = "\xF0\x9F\x98\x80" "x";
    assert_int_equal(etl_text_cut(s, 5, 3), 0);
    assert_int_equal(etl_text_cut(s, 5, 4), 4);
    /* a run of continuation bytes: at most three steps back */
    s = "a\x80\x80\x80\x80\x80";
    assert_int_equal(etl_text_cut(s, 6, 5), 2);
}

static void
test_unfinished(void **state)
{
    const char *s = "ab\xE4\xB8\xAD";

    (void)state;
    assert_int_equal(etl_text_unfinished(s, 5), 0);
    assert_int_equal(etl_text_unfinished(s, 4), 2);
    assert_int_equal(etl_text_unfinished(s, 3), 1);
    assert_int_equal(etl_text_unfinished(s, 2), 0);
    assert_int_equal(etl_text_unfinished(s, 0), 0);
    s = "\xF0\x9F\x98";
    assert_int_equal(etl_text_unfinished(s, 3), 3);
    s = "\xC2";
    assert_int_equal(etl_text_unfinished(s, 1), 1);
    s = "\xC2\xA0";
    assert_int_equal(etl_text_unfinished(s, 2), 0);
    /* stray continuation bytes are not an unfinished character */
    s = "\x80\x80";
    assert_int_equal(etl_text_unfinished(s, 2), 0);
    s = "a\x80\x80\x80\x80";
    assert_int_equal(etl_text_unfinished(s, 5), 0);
}

/* Hexadecimal digits, both cases; anything else is -1. */
static void
test_hexval(void **state)
{
    (void)state;
    assert_int_equal(etl_text_hexval('0'), 0);
    assert_int_equal(etl_text_hexval('9'), 9);
    assert_int_equal(etl_text_hexval('a'), 10);
    assert_int_equal(etl_text_hexval('F'), 15);
    assert_int_equal(etl_text_hexval('g'), -1);
    assert_int_equal(etl_text_hexval('/'), -1);
    assert_int_equal(etl_text_hexval('\0'), -1);
    assert_int_equal(etl_text_hexval((char)0xe4), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hexval),
        cmocka_unit_test(test_blank),
        cmocka_unit_test(test_blank_before),
        cmocka_unit_test(test_trim),
        cmocka_unit_test(test_fold),
        cmocka_unit_test(test_fold_lookalikes),
        cmocka_unit_test(test_fold_broken),
        cmocka_unit_test(test_cut),
        cmocka_unit_test(test_unfinished),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
