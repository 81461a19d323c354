/*
 * num.h
 *    Value texts of indicator files ("926.3万", "500多万", "1,005.4",
 *    "９２６．３", "八万", "约12%") parsed into exact decimals, without
 *    floating point.  The result is decimal text in base units after the
 *    multipliers 万 亿 万亿 (and 百 千 after Arabic digits), plus the
 *    qualifier and whatever unit word follows the number ("元", "人次"), which
 *    the caller looks up in the catalog (catalog.h) and applies with
 *    etl_num_shift().
 *
 *    Next door: period.c parses the period column, catalog.c knows the unit
 *    words, stages/normalize.c puts them together.
 */
#ifndef ETL_NUM_H
#define ETL_NUM_H

#include <stdbool.h>
#include <stddef.h>

#include "etl/err.h"
#include "row.h"

/* Digits kept while parsing; a longer number cannot fit ETL_VALUE_MAX anyway. */
#define ETL_NUM_DIGITS 96

struct etl_num {
    char value[ETL_VALUE_MAX];  /* normalized decimal; "" when missing */
    enum etl_qualifier qualifier;   /* EXACT, LOWER, APPROX or MISSING */
    int mult;                   /* power of ten of the multipliers applied */
    const char *unit;           /* unit word, points into the parsed text */
    size_t unit_len;            /* 0 when no unit word followed the number */
};

/*
 * Parse a value text.  Accepts surrounding white space (ASCII, U+3000), an
 * optional prefix qualifier (约 大约 近 将近 接近 -> approximate; 逾 超过 超
 * -> lower bound), a sign (+ - － − ＋), ASCII or full-width digits with
 * thousands separators (, ，) and a decimal point (. ．), or a small Chinese
 * numeral (八万, 三百, 十二, 一万二千); then multipliers and infix qualifiers
 * (万 亿 多 余, "1万多亿" = 10^12 lower bound); then a unit word; then a
 * suffix qualifier (以上 多 余 -> lower bound, 左右 -> approximate).
 * Missing markers (blank, -, —, ——, –, －, …, ……, ..., NA, N/A) give
 * qualifier ETL_Q_MISSING and value "".
 *
 * 'out->unit' points into 'text' and lives as long as it does.  Returns 0,
 * or -1 with ETL_E_DATA: 'invalid number "..."', 'value "..." does not fit
 * 63 characters', or a named cause: 'exponent notation is not accepted:
 * "1e3"', 'hexadecimal notation is not accepted: "0x10"', 'fractions are not
 * accepted: "1/2"', 'more than one decimal point: "1.2.3"', 'misplaced
 * thousands separator: "1,00,0"', 'more than one sign: "--5"'.  O(length of
 * text); no allocation.
 */
int etl_num_parse(const char *text, struct etl_num *out, struct etl_err *err) ETL_MUSTCHECK;

/*
 * Multiply the normalized decimal 'value' (NUL-terminated, in a buffer of
 * 'size' bytes) by 10^pow10 in place, keeping it normalized ("78.6" shifted
 * by 8 is "7860000000", "5" by -2 is "0.05").  "" (missing) stays "".
 * Returns 0, or -1 with ETL_E_DATA when the result does not fit 'size'
 * (the value is then unchanged).
 */
int etl_num_shift(char *value, size_t size, int pow10, struct etl_err *err) ETL_MUSTCHECK;

/* Sign of a normalized decimal: -1, 0 (zero or missing) or 1. */
int etl_num_sign(const char *value);

/*
 * A plain decimal as written in a configuration file ("0", "-2.5",
 * "10000000000000", "1e13", "1.5E-3", "+7") into normalized decimal text in
 * 'out' (size 'size'), the form etl_num_parse() gives: no exponent, no
 * leading or trailing zeros ("1e13" -> "10000000000000").  No separators,
 * units or Chinese.  Returns 0, -1 if the text is not such a number, -2 if
 * it is one but does not fit 'size' (no error struct: callers name the key).
 */
int etl_num_decimal(const char *text, char *out, size_t size) ETL_MUSTCHECK;

/*
 * Compare two normalized decimals (etl_num_parse, etl_num_decimal) exactly:
 * <0, 0 or >0 as a is below, equal to or above b.  Neither may be "" (a
 * missing value).  O(length); no floating point, so 12000000000000.5 is
 * above 12000000000000 however many digits they have.
 */
int etl_num_cmp(const char *a, const char *b);

#endif
