/*
 * test_page.c
 *    The status page's pieces that need no database: HTML escaping (the
 *    five special characters, UTF-8 kept, broken UTF-8 and controls
 *    replaced), the hint chosen for each kind of failed file, the short
 *    number format, and the SVG chart on fixed series (points and labels
 *    present, no NaN, one point, negative and zero values, a NULL value,
 *    no value at all).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "etl/page.h"

/* etl_page_escape of s, compared with 'want'. */
static void
expect_escape(const char *s, const char *want)
{
    struct etl_buf b;
    struct etl_err err;

    etl_err_clear(&err);
    etl_buf_init(&b, 1 << 16);
    assert_int_equal(etl_page_escape(&b, s, &err), 0);
    assert_string_equal(b.data != NULL ? b.data : "", want);
    etl_buf_free(&b);
}

static void
test_escape(void **state)
{
    (void)state;
    expect_escape("", "");
    expect_escape(NULL, "");
    expect_escape("plain text", "plain text");
    expect_escape("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;");
    expect_escape("a & b && c", "a &amp; b &amp;&amp; c");
    expect_escape("\"double\" 'single'", "&quot;double&quot; &#39;single&#39;");
    expect_escape("&amp;", "&amp;amp;");               /* escaped again: not decoded */
    expect_escape("http://h/x.csv?year=2021&kind=<all>",
                  "http://h/x.csv?year=2021&amp;kind=&lt;all&gt;");
    /* UTF-8 passes as is: Chinese, ×, …, an emoji (4 bytes) */
    expect_escape("内蒙古自治区", "内蒙古自治区");
    expect_escape("unknown region \"火星\"", "unknown region &quot;火星&quot;");
    expect_escape("about 10000× too small: unit?", "about 10000× too small: unit?");
    expect_escape("“…” \xF0\x9F\x98\x80", "“…” \xF0\x9F\x98\x80");
    expect_escape("tab\tline\nCR\r", "tab\tline\nCR\r");
}

static void
test_escape_broken(void **state)
{
    (void)state;
    /* a lone continuation byte, a cut sequence, an invalid lead byte */
    expect_escape("a\x80z", "a\xEF\xBF\xBDz");
    expect_escape("\xE5\x86", "\xEF\xBF\xBD\xEF\xBF\xBD");     /* 内 cut: two bytes, two marks */
    expect_escape("\xE5\x86<", "\xEF\xBF\xBD\xEF\xBF\xBD&lt;");
    expect_escape("\xFF", "\xEF\xBF\xBD");
    /* overlong '<' (C0 BC), a surrogate (ED A0 80), beyond U+10FFFF (F4 90 ..) */
    expect_escape("\xC0\xBC", "\xEF\xBF\xBD\xEF\xBF\xBD");
    expect_escape("\xED\xA0\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    expect_escape("\xF4\x90\x80\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    /* controls: C0 (not tab, LF, CR), DEL and C1 become U+FFFD */
    expect_escape("a\x01" "b\x1B" "c\x7F", "a\xEF\xBF\xBD" "b\xEF\xBF\xBD" "c\xEF\xBF\xBD");
    expect_escape("\xC2\x85x\xC2\xA0", "\xEF\xBF\xBDx\xC2\xA0");   /* NEL out, NBSP kept */
}

/* The buffer's maximum reached: an error, not a cut text claimed whole. */
static void
test_escape_too_long(void **state)
{
    struct etl_buf b;
    struct etl_err err;

    (void)state;
    etl_err_clear(&err);
    etl_buf_init(&b, 8);
    assert_int_equal(etl_page_escape(&b, "<<<", &err), -1);
    assert_int_equal(err.code, ETL_E_DATA);
    etl_buf_free(&b);
}

/* The hint for an error contains 'word'. */
static void
expect_hint(const char *error, const char *word)
{
    const char *h = etl_page_hint(error);

    assert_non_null(h);
    if (strstr(h, word) == NULL) {
        fail_msg("hint for \"%s\" is \"%s\", without \"%s\"", error, h, word);
    }
}

static void
test_hint(void **state)
{
    (void)state;
    expect_hint("GET http://h/gone.csv: HTTP 404 Not Found", "check the URL");
    expect_hint("GET http://h/x.csv: HTTP 403 Forbidden", "check the URL");
    expect_hint("GET http://h/x.csv: HTTP 503 Service Unavailable", "try again later");
    expect_hint("GET http://h/x.csv: HTTP 429 Too Many Requests", "try again later");
    expect_hint("GET http://127.0.0.1:9/a.csv: Failed to connect to 127.0.0.1 port 9 after "
                "0 ms: Couldn't connect to server", "host name");
    expect_hint("GET http://h/x.csv: the file is an HTML page, not a data file", "web page");
    expect_hint("reject ratio 0.50 above max_reject_ratio 0.30 (5 of 10 rows)",
                "ewc-etl unmatched");
    expect_hint("values of investment_in_place look about 100000000× too small for their "
                "periods and regions (1 figures): unit?", "unit line");
    expect_hint("values of x look about 1000× too large for their periods and regions "
                "(3 figures): unit?", "unit line");
    expect_hint("national 10 of x 2021-01-01..2022-01-01 differs from the sum of 2 province "
                "rows, 12 (reconcile: fail)", "ledger.reconcile");
    expect_hint("the total row at line 3 was read as region 110000, but the table's rows are "
                "those of region 000000: set total_region for this source", "total_region");
    expect_hint("COPY observation: canceling statement due to statement timeout "
                "(SQLSTATE 57014; context: COPY observation, line 2: \"x\")", "SQLSTATE");
    expect_hint("not loaded: the run was stopped by a signal", "run again");
    expect_hint("not loaded: b-2021.csv: GET http://h/b-2021.csv: HTTP 404 Not Found",
                "another file");
    expect_hint("GET http://h/x.csv: body larger than max_bytes (10 bytes)", "max_bytes");
    expect_hint("http://h/x.csv: not in the spool", "--offline");
    expect_hint("not a gzip stream", "compression");
    expect_hint("", "ewc-etl status");
    expect_hint(NULL, "ewc-etl status");
    expect_hint("something nobody foresaw", "ewc-etl status");
}

static void
test_number(void **state)
{
    char s[32];

    (void)state;
    etl_page_number(0, s, sizeof(s));
    assert_string_equal(s, "0");
    etl_page_number(-0.0, s, sizeof(s));
    assert_string_equal(s, "0");
    etl_page_number(5, s, sizeof(s));
    assert_string_equal(s, "5");
    etl_page_number(0.25, s, sizeof(s));
    assert_string_equal(s, "0.25");
    etl_page_number(999, s, sizeof(s));
    assert_string_equal(s, "999");
    etl_page_number(2193, s, sizeof(s));
    assert_string_equal(s, "2.19 k");
    etl_page_number(999999, s, sizeof(s));
    assert_string_equal(s, "1 M");                   /* not "1e+03 k" */
    etl_page_number(-1250000, s, sizeof(s));
    assert_string_equal(s, "-1.25 M");
    etl_page_number(81300000000.0, s, sizeof(s));
    assert_string_equal(s, "81.3 bn");
    etl_page_number(NAN, s, sizeof(s));
    assert_string_equal(s, "?");
    etl_page_number(INFINITY, s, sizeof(s));
    assert_string_equal(s, "?");
}

/* The chart of a series, as a new string (free it). */
static char *
chart_of(const char *title, const char *unit, size_t n, const char *const *labels,
         const double *values, const bool *present)
{
    struct etl_page_series s = { .title = title, .unit = unit, .n = n, .labels = labels,
                                 .values = values, .present = present };
    struct etl_buf b;
    struct etl_err err;

    etl_err_clear(&err);
    etl_buf_init(&b, 1 << 20);
    assert_int_equal(etl_page_chart(&b, &s, &err), 0);
    return etl_buf_take(&b);
}

/* How many times 'needle' occurs in 'hay'. */
static int
count_of(const char *hay, const char *needle)
{
    int n = 0;

    for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle)) {
        n++;
    }
    return n;
}

/* What every chart must be: one svg element, no NaN or infinity. */
static void
assert_sane(const char *svg)
{
    assert_int_equal(strncmp(svg, "<svg ", 5), 0);
    assert_int_equal(count_of(svg, "<svg "), 1);
    assert_int_equal(count_of(svg, "</svg>"), 1);
    assert_null(strstr(svg, "nan"));
    assert_null(strstr(svg, "NaN"));
    assert_null(strstr(svg, "inf"));
    assert_null(strstr(svg, "<script"));
}

static void
test_chart_series(void **state)
{
    static const char *const labels[] = { "2019", "2020", "2021", "2022" };
    static const double values[] = { 1500, 1800, 2193, 2500 };
    char *svg;

    (void)state;
    svg = chart_of("enterprises_guided, year", "enterprise", 4, labels, values, NULL);
    assert_sane(svg);
    assert_non_null(strstr(svg, "aria-label=\"enterprises_guided, year\""));
    assert_int_equal(count_of(svg, "<rect class=\"bar\""), 4);
    for (int i = 0; i < 4; i++) {
        char want[64];

        snprintf(want, sizeof(want), ">%s</text>", labels[i]);
        assert_non_null(strstr(svg, want));                 /* period labels */
    }
    assert_non_null(strstr(svg, "<title>2021: 2193 enterprise</title>"));
    assert_non_null(strstr(svg, ">2.19 k</text>"));          /* its value label */
    assert_non_null(strstr(svg, ">enterprise</text>"));      /* the unit */
    assert_non_null(strstr(svg, "text-anchor=\"end\">0</text>"));    /* axis from zero */
    assert_non_null(strstr(svg, "text-anchor=\"end\">3 k</text>"));  /* to a tick above */
    free(svg);
}

static void
test_chart_one_point(void **state)
{
    static const char *const labels[] = { "2022 H1" };
    static const double values[] = { 1127 };
    char *svg;

    (void)state;
    svg = chart_of("x, half", "enterprise", 1, labels, values, NULL);
    assert_sane(svg);
    assert_int_equal(count_of(svg, "<rect class=\"bar\""), 1);
    assert_non_null(strstr(svg, ">2022 H1</text>"));
    assert_non_null(strstr(svg, "<title>2022 H1: 1127 enterprise</title>"));
    free(svg);
}

static void
test_chart_negative_zero(void **state)
{
    static const char *const labels[] = { "2020", "2021", "2022" };
    static const double values[] = { -12.5, 0, 30 };
    static const double zeros[] = { 0, 0 };
    char *svg;

    (void)state;
    svg = chart_of("growth, year", "pct", 3, labels, values, NULL);
    assert_sane(svg);
    assert_int_equal(count_of(svg, "<rect class=\"bar neg\""), 1);
    assert_int_equal(count_of(svg, "<rect class=\"bar\""), 2);   /* zero: a hairline */
    assert_non_null(strstr(svg, ">-12.5</text>"));
    assert_non_null(strstr(svg, "<line class=\"zero\""));
    assert_non_null(strstr(svg, "text-anchor=\"end\">-20</text>"));  /* axis below zero */
    free(svg);
    /* all zero: a unit range, not a division by zero */
    svg = chart_of("zero, year", "pct", 2, labels, zeros, NULL);
    assert_sane(svg);
    assert_int_equal(count_of(svg, "<rect class=\"bar\""), 2);
    free(svg);
}

static void
test_chart_null(void **state)
{
    static const char *const labels[] = { "2020", "2021", "2022" };
    static const double values[] = { 10, 999, 20 };
    static const double odd[] = { NAN, INFINITY, 5 };
    static const bool present[] = { true, false, true };
    static const bool none[] = { false, false, false };
    char *svg;

    (void)state;
    svg = chart_of("x, year", "park", 3, labels, values, present);
    assert_sane(svg);
    assert_int_equal(count_of(svg, "<rect class=\"bar\""), 2);
    assert_non_null(strstr(svg, "<title>2021: no figure</title>"));
    assert_null(strstr(svg, "999"));                 /* a NULL's value is not drawn */
    assert_non_null(strstr(svg, ">2021</text>"));     /* its label is */
    free(svg);
    /* non-finite values are gaps too */
    svg = chart_of("x, year", "park", 3, labels, odd, NULL);
    assert_sane(svg);
    assert_int_equal(count_of(svg, "<rect class=\"bar\""), 1);
    assert_int_equal(count_of(svg, ": no figure</title>"), 2);
    free(svg);
    /* nothing at all: a frame that says so, the labels still there */
    svg = chart_of("x, year", "park", 3, labels, values, none);
    assert_sane(svg);
    assert_int_equal(count_of(svg, "<rect class=\"bar"), 0);
    assert_non_null(strstr(svg, ">no figure</text>"));
    assert_non_null(strstr(svg, ">2022</text>"));
    free(svg);
    svg = chart_of("empty", NULL, 0, NULL, NULL, NULL);
    assert_sane(svg);
    free(svg);
}

/* Many points: labels tilted, no value labels; texts escaped. */
static void
test_chart_many_escaped(void **state)
{
    enum { N = 40 };
    const char *labels[N];
    double values[N];
    char names[N][16];
    char *svg;

    (void)state;
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof(names[i]), "%d Q%d", 2015 + i / 4, 1 + i % 4);
        labels[i] = names[i];
        values[i] = 1e9 * (i + 1);
    }
    labels[3] = "<Q&A>";
    svg = chart_of("a<b & \"c\", quarter", "CNY (元)", N, labels, values, NULL);
    assert_sane(svg);
    assert_int_equal(count_of(svg, "<rect class=\"bar\""), N);
    assert_int_equal(count_of(svg, "rotate(-45"), N);
    assert_int_equal(count_of(svg, "class=\"val\""), 0);
    assert_non_null(strstr(svg, "&lt;Q&amp;A&gt;"));
    assert_null(strstr(svg, "<Q&A>"));
    assert_non_null(strstr(svg, "aria-label=\"a&lt;b &amp; &quot;c&quot;, quarter\""));
    assert_non_null(strstr(svg, ">CNY (元)</text>"));
    assert_non_null(strstr(svg, " bn</text>"));
    free(svg);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_escape_broken),
        cmocka_unit_test(test_escape_too_long),
        cmocka_unit_test(test_hint),
        cmocka_unit_test(test_number),
        cmocka_unit_test(test_chart_series),
        cmocka_unit_test(test_chart_one_point),
        cmocka_unit_test(test_chart_negative_zero),
        cmocka_unit_test(test_chart_null),
        cmocka_unit_test(test_chart_many_escaped),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
