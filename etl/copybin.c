/*
 * copybin.c
 *    PostgreSQL binary COPY fields into an etl_buf; see copybin.h.  Each
 *    piece is built in a small array on the stack and appended with one
 *    etl_buf_add, so that a failure leaves the buffer unchanged.  The
 *    numeric encoding follows the server's set_var_from_str and
 *    make_result (src/backend/utils/adt/numeric.c): decimal digits grouped
 *    in fours from the point, zero groups stripped at both ends.
 */
#include "copybin.h"

#include <string.h>

#include "date.h"
#include "text.h"

/* Bytes of the value quoted in an error message. */
#define COPYBIN_QUOTE_MAX 60

/* numeric's sign words (numeric.c NUMERIC_POS, NUMERIC_NEG). */
#define COPYBIN_NUMERIC_POS 0x0000
#define COPYBIN_NUMERIC_NEG 0x4000

/* Base-10000 digits of the longest numeric text: its digits, plus up to
 * three zeros of padding on either side of the point. */
#define COPYBIN_NDIGITS_MAX ((ETL_COPYBIN_NUMERIC_MAX + 6) / 4 + 1)

/* Days from 1970-01-01 to 2000-01-01, PostgreSQL's date epoch. */
#define COPYBIN_PG_EPOCH_DAYS 10957

/*
 * The dates the server takes (datatype/timestamp.h IS_VALID_DATE), as days
 * since 1970-01-01: Julian day 0 (4714-11-24 BC) up to, not including,
 * Julian day 2147483494 (5874898-01-01).
 */
#define COPYBIN_DATE_MIN (INT64_C(0) - 2440588)
#define COPYBIN_DATE_END (INT64_C(2147483494) - 2440588)

static unsigned char *
put16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
    return p + 2;
}

static unsigned char *
put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
    return p + 4;
}

static unsigned char *
put64(unsigned char *p, uint64_t v)
{
    return put32(put32(p, (uint32_t)(v >> 32)), (uint32_t)v);
}

int
etl_copybin_header(struct etl_buf *b, struct etl_err *err)
{
    static const unsigned char head[19] = {
        'P', 'G', 'C', 'O', 'P', 'Y', '\n', 0xff, '\r', '\n', '\0',
        0, 0, 0, 0,     /* flags: no OIDs */
        0, 0, 0, 0      /* header extension length */
    };

    return etl_buf_add(b, head, sizeof(head), err);
}

int
etl_copybin_trailer(struct etl_buf *b, struct etl_err *err)
{
    static const unsigned char trailer[2] = { 0xff, 0xff };

    return etl_buf_add(b, trailer, sizeof(trailer), err);
}

int
etl_copybin_tuple(struct etl_buf *b, int nfields, struct etl_err *err)
{
    unsigned char f[2];

    if (nfields < 0 || nfields > ETL_COPYBIN_FIELDS_MAX) {
        return etl_err_set(err, ETL_E_INTERNAL, "invalid field count %d for binary COPY",
                           nfields);
    }
    put16(f, (uint16_t)nfields);
    return etl_buf_add(b, f, sizeof(f), err);
}

int
etl_copybin_null(struct etl_buf *b, struct etl_err *err)
{
    static const unsigned char null[4] = { 0xff, 0xff, 0xff, 0xff };

    return etl_buf_add(b, null, sizeof(null), err);
}

int
etl_copybin_text(struct etl_buf *b, const char *s, struct etl_err *err)
{
    return etl_copybin_text_n(b, s, s != NULL ? strlen(s) : 0, err);
}

/*
 * The length word and the bytes in two appends: the length is undone if
 * the bytes do not fit, which a text too long for the buffer may well do.
 */
int
etl_copybin_text_n(struct etl_buf *b, const char *s, size_t n, struct etl_err *err)
{
    unsigned char f[4];
    size_t len = b->len;

    if (s == NULL) {
        return etl_copybin_null(b, err);
    }
    if (n > INT32_MAX) {
        return etl_err_set(err, ETL_E_DATA, "text of %zu bytes is too long for binary COPY",
                           n);
    }
    put32(f, (uint32_t)n);
    if (etl_buf_add(b, f, sizeof(f), err) < 0) {
        return -1;
    }
    if (etl_buf_add(b, s, n, err) < 0) {
        b->len = len;
        b->data[len] = '\0';
        return -1;
    }
    return 0;
}

int
etl_copybin_int2(struct etl_buf *b, int16_t v, struct etl_err *err)
{
    unsigned char f[6];

    put16(put32(f, 2), (uint16_t)v);
    return etl_buf_add(b, f, sizeof(f), err);
}

int
etl_copybin_int4(struct etl_buf *b, int32_t v, struct etl_err *err)
{
    unsigned char f[8];

    put32(put32(f, 4), (uint32_t)v);
    return etl_buf_add(b, f, sizeof(f), err);
}

int
etl_copybin_int8(struct etl_buf *b, int64_t v, struct etl_err *err)
{
    unsigned char f[12];

    put64(put32(f, 8), (uint64_t)v);
    return etl_buf_add(b, f, sizeof(f), err);
}

int
etl_copybin_bool(struct etl_buf *b, bool v, struct etl_err *err)
{
    unsigned char f[5];

    put32(f, 1);
    f[4] = v ? 1 : 0;
    return etl_buf_add(b, f, sizeof(f), err);
}

int
etl_copybin_date(struct etl_buf *b, int64_t days, struct etl_err *err)
{
    if (days < COPYBIN_DATE_MIN || days >= COPYBIN_DATE_END) {
        return etl_err_set(err, ETL_E_DATA,
                           "date out of range for PostgreSQL: day 1970-01-01 %+lld",
                           (long long)days);
    }
    return etl_copybin_int4(b, (int32_t)(days - COPYBIN_PG_EPOCH_DAYS), err);
}

int
etl_copybin_date_ymd(struct etl_buf *b, int32_t ymd, struct etl_err *err)
{
    int32_t y = ymd / 10000;
    int m = (int)(ymd / 100 % 100);
    int d = (int)(ymd % 100);

    if (y < 1 || m < 1 || m > 12 || d < 1 || d > etl_date_days_in_month(y, m)) {
        return etl_err_set(err, ETL_E_DATA, "invalid date %ld", (long)ymd);
    }
    return etl_copybin_date(b, etl_date_days_from_civil(y, m, d), err);
}

/*
 * The "invalid numeric value" error quoting s[0, n), with 'why' as the
 * detail.  Returns -1.
 */
static int
numeric_invalid(struct etl_err *err, const char *s, size_t n, const char *why)
{
    int k = (int)etl_text_cut(s, n, COPYBIN_QUOTE_MAX);

    etl_err_set(err, ETL_E_DATA, "invalid numeric value \"%.*s%s\"", k, s,
                (size_t)k < n ? "…" : "");
    etl_err_detail(err, "%s", why);
    return -1;
}

/* What is wrong with the character at s[i] of a numeric text that stops
 * there, for the detail. */
static const char *
numeric_why(const char *s, size_t n, size_t i)
{
    char c = s[i];

    if (c == '.') {
        return memchr(s, '.', i) != NULL ? "more than one decimal point"
                                         : "a decimal point needs digits on both sides";
    }
    if (c == 'e' || c == 'E') {
        return "exponent notation is not accepted";
    }
    if (c == '+') {
        return "a sign other than a leading '-' is not accepted";
    }
    if (c == '-') {
        return i == 0 || s[i - 1] == '-' ? "more than one sign" : "'-' only leads";
    }
    if (etl_text_blank(s + i, s + n) > 0) {
        return "blanks are not accepted";
    }
    return "expected an optional '-', digits, and '.' and digits";
}

int
etl_copybin_numeric(struct etl_buf *b, const char *s, struct etl_err *err)
{
    return etl_copybin_numeric_n(b, s, s != NULL ? strlen(s) : 0, err);
}

/*
 * Parse, then group: the integer digits (leading zeros skipped) are padded
 * on the left, the fraction digits on the right, to whole groups of four;
 * the first group has weight ceil(integer digits / 4) - 1, or -1 when
 * there is no integer digit.  Zero groups are then stripped from the front
 * (the weight going down) and from the back.
 */
int
etl_copybin_numeric_n(struct etl_buf *b, const char *s, size_t n, struct etl_err *err)
{
    unsigned char f[4 + 8 + 2 * COPYBIN_NDIGITS_MAX], *p;
    uint16_t digit[COPYBIN_NDIGITS_MAX];
    size_t i = 0, ib, ie, fb, fe, pad, nd = 0, first = 0, k;
    int weight, acc = 0, ndec = 0;
    bool neg = false;

    if (s == NULL) {
        return etl_copybin_null(b, err);
    }
    if (n > ETL_COPYBIN_NUMERIC_MAX) {
        int q = (int)etl_text_cut(s, n, COPYBIN_QUOTE_MAX);

        return etl_err_set(err, ETL_E_DATA,
                           "numeric value \"%.*s…\" is too long (more than %d characters)",
                           q, s, ETL_COPYBIN_NUMERIC_MAX);
    }
    if (n == 0) {
        return numeric_invalid(err, s, n, "empty text");
    }
    if (s[0] == '-') {
        neg = true;
        i++;
    }
    ib = i;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
        i++;
    }
    ie = i;
    fb = fe = i;
    if (i < n && s[i] == '.' && ie > ib) {
        fb = ++i;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            i++;
        }
        fe = i;
        if (fe == fb) {
            return numeric_invalid(err, s, n, i < n ? numeric_why(s, n, i)
                                   : "a decimal point needs digits on both sides");
        }
    }
    if (i < n) {
        return numeric_invalid(err, s, n, numeric_why(s, n, i));
    }
    if (ie == ib) {
        return numeric_invalid(err, s, n, "no digits");
    }

    while (ib < ie && s[ib] == '0') {
        ib++;
    }
    pad = (4 - (ie - ib) % 4) % 4;
    weight = ie > ib ? (int)((ie - ib + pad) / 4) - 1 : -1;
    ndec = (int)pad;
    for (k = ib; k < ie; k++) {
        acc = acc * 10 + (s[k] - '0');
        if (++ndec == 4) {
            digit[nd++] = (uint16_t)acc;
            acc = ndec = 0;
        }
    }
    for (k = fb; k < fe; k++) {
        acc = acc * 10 + (s[k] - '0');
        if (++ndec == 4) {
            digit[nd++] = (uint16_t)acc;
            acc = ndec = 0;
        }
    }
    if (ndec > 0) {
        while (ndec++ < 4) {
            acc *= 10;
        }
        digit[nd++] = (uint16_t)acc;
    }
    while (first < nd && digit[first] == 0) {
        first++;
        weight--;
    }
    while (nd > first && digit[nd - 1] == 0) {
        nd--;
    }
    if (nd == first) {
        weight = 0;
        neg = false;
    }

    p = put32(f, (uint32_t)(8 + 2 * (nd - first)));
    p = put16(p, (uint16_t)(nd - first));
    p = put16(p, (uint16_t)(int16_t)weight);
    p = put16(p, neg ? COPYBIN_NUMERIC_NEG : COPYBIN_NUMERIC_POS);
    p = put16(p, (uint16_t)(fe - fb));
    for (k = first; k < nd; k++) {
        p = put16(p, digit[k]);
    }
    return etl_buf_add(b, f, (size_t)(p - f), err);
}
