/*
 * num.c
 *    Exact parsing of value texts: Arabic digits (ASCII or full-width) with
 *    thousands separators and decimals, small Chinese numerals, the
 *    multipliers 万 亿 (chains: 万亿, 1万多亿), qualifiers (多 余 逾 以上 ->
 *    lower bound, 约 近 左右 -> approximate) and missing markers.  Numbers
 *    are kept as a string of significant digits and a power of ten, so no
 *    floating point ever touches a value.  See num.h.
 *
 *    The unit word after the number is returned, not interpreted: the catalog
 *    (catalog.c) knows what "亿元" or "人次" mean.
 */
#include "num.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "etl/text.h"

/* Clip quoted texts in messages to this many bytes (at a character start). */
#define NUM_QUOTE_MAX 60

/* A decimal: digits d[0..nd) times 10^exp, negative if neg. */
struct dec {
    char d[ETL_NUM_DIGITS];
    int nd;
    int exp;
    bool neg;
};

struct word {
    const char *s;
    int value;
};

/* Missing markers: the whole (trimmed) text is one of these. */
static const char *const missing_words[] = {
    "-", "--", "—", "——", "–", "－", "…", "……", "...", "..", "NA", "N/A", "n/a",
    NULL
};

static const struct word prefix_quals[] = {
    { "大约", ETL_Q_APPROX }, { "约", ETL_Q_APPROX }, { "将近", ETL_Q_APPROX },
    { "接近", ETL_Q_APPROX }, { "近", ETL_Q_APPROX }, { "逾", ETL_Q_LOWER },
    { "超过", ETL_Q_LOWER }, { "超", ETL_Q_LOWER }, { NULL, 0 }
};

static const struct word suffix_quals[] = {
    { "以上", ETL_Q_LOWER }, { "左右", ETL_Q_APPROX }, { NULL, 0 }
};

/* Chinese digits and small units; 万 and 亿 are handled apart. */
static const struct word cn_digits[] = {
    { "零", 0 }, { "〇", 0 }, { "一", 1 }, { "二", 2 }, { "两", 2 }, { "三", 3 },
    { "四", 4 }, { "五", 5 }, { "六", 6 }, { "七", 7 }, { "八", 8 }, { "九", 9 },
    { NULL, 0 }
};
static const struct word cn_units[] = {
    { "十", 10 }, { "百", 100 }, { "千", 1000 }, { NULL, 0 }
};

/* Length of the word at p if it starts with 'w', else 0. */
static size_t
starts(const char *p, const char *end, const char *w)
{
    size_t n;

    if (p >= end || *p != *w) {
        return 0;               /* the usual miss, without strlen */
    }
    n = strlen(w);
    if ((size_t)(end - p) >= n && memcmp(p, w, n) == 0) {
        return n;
    }
    return 0;
}

/*
 * The ASCII equivalent of the character at p among digits and , . - + (ASCII
 * or full-width, and U+2212 minus); its length in *len.  Other ASCII bytes
 * are returned as they are; other characters give 0.
 */
static int
fold(const char *p, const char *end, size_t *len)
{
    int c = etl_text_fold(p, end, len);

    if (c >= 0 && (*len == 1 || (c >= '0' && c <= '9') || c == ',' || c == '.' ||
                   c == '-' || c == '+')) {
        return c;
    }
    if (end - p >= 3 && memcmp(p, "\xE2\x88\x92", 3) == 0) {    /* U+2212 */
        *len = 3;
        return '-';
    }
    *len = 0;
    return 0;
}

/* ASCII digit (after fold()). */
static bool
is_digit(int c)
{
    return c >= '0' && c <= '9';
}

/* Length of the first n bytes of s cut at NUM_QUOTE_MAX (etl_text_cut). */
static int
clip(const char *s, size_t n)
{
    return (int)etl_text_cut(s, n, NUM_QUOTE_MAX);
}

/* The "invalid number" error, quoting the trimmed text [b, e). */
static int
invalid(struct etl_err *err, const char *b, const char *e)
{
    size_t n = (size_t)(e - b);
    int k = clip(b, n);

    return etl_err_set(err, ETL_E_DATA, "invalid number \"%.*s%s\"", k, b,
                       (size_t)k < n ? "…" : "");
}

/*
 * A number in a notation the files are not expected to use, or malformed in
 * a way worth naming: "<what>: \"text\"", quoting the trimmed text [b, e).
 */
static int
not_accepted(struct etl_err *err, const char *what, const char *b, const char *e)
{
    size_t n = (size_t)(e - b);
    int k = clip(b, n);

    return etl_err_set(err, ETL_E_DATA, "%s: \"%.*s%s\"", what, k, b,
                       (size_t)k < n ? "…" : "");
}

/* The "does not fit" error, quoting the trimmed text [b, e). */
static int
too_long(struct etl_err *err, const char *b, const char *e)
{
    size_t n = (size_t)(e - b);
    int k = clip(b, n);

    return etl_err_set(err, ETL_E_DATA, "value \"%.*s%s\" does not fit %d characters",
                       k, b, (size_t)k < n ? "…" : "", ETL_VALUE_MAX - 1);
}

/* Append one digit; -1 if the digit buffer is full. */
static int
dec_push(struct dec *x, int digit)
{
    if (x->nd == 0 && digit == 0) {
        return 0;   /* a leading zero; fraction zeros are counted by the caller */
    }
    if (x->nd >= ETL_NUM_DIGITS) {
        return -1;
    }
    x->d[x->nd++] = (char)('0' + digit);
    return 0;
}

/* Drop trailing zero digits into the exponent; zero becomes nd 0, exp 0. */
static void
dec_normalize(struct dec *x)
{
    while (x->nd > 0 && x->d[x->nd - 1] == '0') {
        x->nd--;
        x->exp++;
    }
    if (x->nd == 0) {
        x->exp = 0;
        x->neg = false;
    }
}

/* Write a normalized decimal as text; -1 if it does not fit 'size'. */
static int
dec_format(const struct dec *x, char *out, size_t size)
{
    size_t need;
    char *p = out;

    if (x->nd == 0) {
        if (size < 2) {
            return -1;
        }
        strcpy(out, "0");
        return 0;
    }
    if (x->exp >= 0) {
        need = (size_t)x->nd + (size_t)x->exp;
    } else if (x->nd > -x->exp) {
        need = (size_t)x->nd + 1;
    } else {
        need = 2 + (size_t)(-x->exp);
    }
    need += (x->neg ? 1 : 0) + 1;
    if (x->exp > ETL_VALUE_MAX || x->exp < -ETL_VALUE_MAX || need > size) {
        return -1;
    }
    if (x->neg) {
        *p++ = '-';
    }
    if (x->exp >= 0) {
        memcpy(p, x->d, (size_t)x->nd);
        p += x->nd;
        memset(p, '0', (size_t)x->exp);
        p += x->exp;
    } else if (x->nd > -x->exp) {
        size_t ip = (size_t)(x->nd + x->exp);

        memcpy(p, x->d, ip);
        p += ip;
        *p++ = '.';
        memcpy(p, x->d + ip, (size_t)x->nd - ip);
        p += x->nd - (int)ip;
    } else {
        size_t zeros = (size_t)(-x->exp - x->nd);

        *p++ = '0';
        *p++ = '.';
        memset(p, '0', zeros);
        p += zeros;
        memcpy(p, x->d, (size_t)x->nd);
        p += x->nd;
    }
    *p = '\0';
    return 0;
}

/* parse_arabic(), parse_number(): a thousands separator out of place. */
#define NUM_BAD_GROUP (-3)

/*
 * Arabic digits at *pp: groups with , separators (exactly three digits after
 * each), then an optional fraction.  Returns 1 when parsed, 0 when no digit
 * starts here, -1 on a malformed number (a point without digits after it),
 * NUM_BAD_GROUP on bad grouping, -2 when too long.
 */
static int
parse_arabic(const char **pp, const char *end, struct dec *x)
{
    const char *p = *pp;
    size_t len;
    int c = fold(p, end, &len);
    int group = 0;
    bool grouped = false;

    if (!is_digit(c)) {
        return 0;
    }
    for (;;) {
        c = fold(p, end, &len);
        if (is_digit(c)) {
            if (dec_push(x, c - '0') < 0) {
                return -2;
            }
            group++;
            p += len;
        } else if (c == ',') {
            const char *q = p + len;
            size_t l2;

            if ((!grouped && group > 3) || (grouped && group != 3)) {
                return NUM_BAD_GROUP;
            }
            for (int i = 0; i < 3; i++) {
                if (!is_digit(fold(q, end, &l2))) {
                    return NUM_BAD_GROUP;
                }
                q += l2;
            }
            if (is_digit(fold(q, end, &l2))) {
                return NUM_BAD_GROUP;
            }
            grouped = true;
            group = 0;
            p += len;
        } else {
            break;
        }
    }
    if (c == '.') {
        const char *q = p + len;
        size_t l2;

        if (!is_digit(fold(q, end, &l2))) {
            return -1;
        }
        p = q;
        while (is_digit(c = fold(p, end, &len))) {
            if (dec_push(x, c - '0') < 0) {
                return -2;
            }
            x->exp--;               /* 0.05: leading zeros count, unstored */
            p += len;
        }
    }
    *pp = p;
    return 1;
}

/* The value of a word of 'table' at p, its length in *len; -1 if none. */
static int
match_word(const struct word *table, const char *p, const char *end, size_t *len)
{
    for (const struct word *w = table; w->s != NULL; w++) {
        if ((*len = starts(p, end, w->s)) > 0) {
            return w->value;
        }
    }
    *len = 0;
    return -1;
}

/*
 * A Chinese numeral at *pp: digits with 十 百 千, and 万 / 亿 only when
 * another numeral digit follows (一万二千); a final 万 or 亿 is left to the
 * multiplier loop.  Returns 1 with the value in *out, 0 when none starts
 * here, -2 when too large.
 */
static int
parse_chinese(const char **pp, const char *end, uint64_t *out)
{
    const char *p = *pp;
    uint64_t total = 0, section = 0, digit = 0;
    bool any = false, after_digit = false;
    size_t len, l2, wan;
    int v;

    for (;;) {
        wan = 0;
        if ((v = match_word(cn_digits, p, end, &len)) >= 0) {
            if (after_digit && v != 0) {
                break;          /* 一二: not a numeral */
            }
            digit = (uint64_t)v;
            any = true;
            after_digit = (v != 0);     /* 一百零五: 零 may precede */
            p += len;
            continue;
        } else if ((v = match_word(cn_units, p, end, &len)) >= 0) {
            if (!any && v != 10) {
                break;          /* 百/千 do not start a numeral */
            }
            section += (digit == 0 ? 1 : digit) * (uint64_t)v;
            digit = 0;
            any = true;
            p += len;
        } else if (any && ((wan = starts(p, end, "万")) > 0 ||
                           starts(p, end, "亿") > 0) &&
                   match_word(cn_digits, p + 3, end, &l2) >= 0) {
            if (wan > 0) {
                total += (section + digit) * 10000;
            } else {
                if (total + section + digit > UINT64_MAX / 100000000) {
                return -2;      /* before it wraps */
            }
            total = (total + section + digit) * 100000000;
            }
            section = digit = 0;
            p += 3;
        } else {
            break;
        }
        after_digit = false;
        if (total > UINT64_C(1000000000000000)) {
            return -2;
        }
    }
    if (!any) {
        return 0;
    }
    *out = total + section + digit;
    *pp = p;
    return 1;
}

/* Set the qualifier unless one is set already: the first one wins. */
static void
set_qualifier(struct etl_num *out, enum etl_qualifier q)
{
    if (out->qualifier == ETL_Q_EXACT) {
        out->qualifier = q;
    }
}

/* Whether the trimmed text [b, e) is a missing marker ("-", "NA", ...). */
static bool
is_missing(const char *b, const char *e)
{
    for (const char *const *m = missing_words; *m != NULL && !is_digit(*b); m++) {
        if ((size_t)(e - b) == strlen(*m) && memcmp(b, *m, (size_t)(e - b)) == 0) {
            return true;
        }
    }
    return false;
}

/*
 * The number at *pp into 'x': Arabic digits, else a Chinese numeral;
 * *arabic says which.  Returns 1 and moves *pp past it; 0 when none starts
 * here, -1 when malformed, NUM_BAD_GROUP on bad grouping, -2 when too long.
 */
static int
parse_number(const char **pp, const char *end, struct dec *x, bool *arabic)
{
    int r = parse_arabic(pp, end, x);

    *arabic = (r == 1);
    if (r == 0) {
        uint64_t cv = 0;
        char tmp[24];
        int n;

        r = parse_chinese(pp, end, &cv);
        if (r == 1) {
            n = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)cv);
            for (int i = 0; i < n; i++) {
                if (dec_push(x, tmp[i] - '0') < 0) {
                    return -2;
                }
            }
        }
    }
    return r;
}

/*
 * The multipliers and infix qualifiers after the number, at *pp: 万 亿 多
 * 余, and 千万 / 百万 after Arabic digits.  Adds to out->mult, sets the
 * qualifier, moves *pp past them.  Returns 0, or -2 when the power of ten
 * passes 2 * ETL_VALUE_MAX.
 */
static int
parse_multipliers(const char **pp, const char *e, bool arabic, struct etl_num *out)
{
    const char *p = *pp;
    size_t len;
    int k;

    for (;;) {
        if ((len = starts(p, e, "万")) > 0) {
            out->mult += 4;
        } else if ((len = starts(p, e, "亿")) > 0) {
            out->mult += 8;
        } else if ((len = starts(p, e, "多")) > 0 || (len = starts(p, e, "余")) > 0) {
            set_qualifier(out, ETL_Q_LOWER);
        } else if (arabic && out->mult == 0 &&
                   ((k = (starts(p, e, "千") > 0) ? 3 : 0) > 0 ||
                    (k = (starts(p, e, "百") > 0) ? 2 : 0) > 0) &&
                   (starts(p + 3, e, "万") > 0 || starts(p + 3, e, "亿") > 0)) {
            out->mult += k;         /* 3千万, 5百万 */
            len = 3;
        } else {
            break;
        }
        p += len;
        if (out->mult > 2 * ETL_VALUE_MAX) {
            return -2;
        }
    }
    *pp = p;
    return 0;
}

/*
 * A suffix qualifier (以上, 左右) at the end of the rest [*pp, *ue): set in
 * 'out' and cut off, the rest trimmed again.
 */
static void
strip_suffix_qualifier(const char **pp, const char **ue, struct etl_num *out)
{
    for (const struct word *w = suffix_quals; w->s != NULL; w++) {
        size_t n = strlen(w->s);

        if ((size_t)(*ue - *pp) >= n && memcmp(*ue - n, w->s, n) == 0) {
            set_qualifier(out, (enum etl_qualifier)w->value);
            *ue -= n;
            etl_text_trim(pp, ue);
            break;
        }
    }
}

/* Whether the ASCII equivalent (etl_text_fold) of the character at p is c. */
static bool
is_char(const char *p, const char *e, int c, size_t *len)
{
    return p < e && etl_text_fold(p, e, len) == c;
}

/* Whether an exponent (e3, E+3, e-3, full-width too) starts at p. */
static bool
is_exponent(const char *p, const char *e)
{
    size_t len;
    int c;

    if (!is_char(p, e, 'e', &len) && !is_char(p, e, 'E', &len)) {
        return false;
    }
    p += len;
    c = fold(p, e, &len);
    if (c == '-' || c == '+') {
        p += len;
        c = fold(p, e, &len);
    }
    return is_digit(c);
}

/* Whether a hexadecimal digit (ASCII or full-width) starts at p. */
static bool
is_hex_digit(const char *p, const char *e)
{
    size_t len;
    int c = p < e ? etl_text_fold(p, e, &len) : -1;

    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/*
 * What follows the Arabic number [nb, ne) that makes it a notation of its
 * own, not a number and a unit word: "1e3" is no 1 of unit "e3".  Returns
 * the reason for the message, or NULL.
 */
static const char *
notation_after(const char *nb, const char *ne, const char *e, bool frac)
{
    size_t len, l2;

    if (is_exponent(ne, e)) {
        return "exponent notation is not accepted";
    }
    if ((is_char(ne, e, 'x', &len) || is_char(ne, e, 'X', &len)) &&
        is_hex_digit(ne + len, e) && is_char(nb, ne, '0', &l2) && nb + l2 == ne) {
        return "hexadecimal notation is not accepted";
    }
    if (is_char(ne, e, '/', &len) && is_digit(fold(ne + len, e, &l2))) {
        return "fractions are not accepted";
    }
    if (frac && is_char(ne, e, '.', &len)) {
        return "more than one decimal point";
    }
    if (frac && is_char(ne, e, ',', &len)) {
        return "misplaced thousands separator";
    }
    return NULL;
}

/*
 * A value text into 'out': qualifier, sign, number, multipliers, unit word
 * and suffix qualifier, in that order; see num.h for the forms.  Returns
 * 0, or -1 with ETL_E_DATA (invalid number, a notation not accepted, does
 * not fit).  'out->unit' points into 'text'.
 */
int
etl_num_parse(const char *text, struct etl_num *out, struct etl_err *err)
{
    const char *b = text, *e = text + strlen(text);
    const char *p, *ue, *nb, *why;
    struct dec x;
    size_t len;
    int c, r, v;
    bool arabic;

    memset(out, 0, sizeof(*out));
    memset(&x, 0, sizeof(x));
    etl_text_trim(&b, &e);
    if (b == e || is_missing(b, e)) {
        out->qualifier = ETL_Q_MISSING;
        return 0;
    }
    p = b;
    if ((v = match_word(prefix_quals, p, e, &len)) >= 0) {
        out->qualifier = (enum etl_qualifier)v;
        p += len;
    }
    c = fold(p, e, &len);
    if (c == '-' || c == '+') {
        x.neg = (c == '-');
        p += len;
        c = fold(p, e, &len);
        if (c == '-' || c == '+') {
            return not_accepted(err, "more than one sign", b, e);
        }
    }
    nb = p;
    r = parse_number(&p, e, &x, &arabic);
    if (r == 0 || r == -1) {
        return invalid(err, b, e);
    }
    if (r == NUM_BAD_GROUP) {
        return not_accepted(err, "misplaced thousands separator", b, e);
    }
    if (r == -2) {
        return too_long(err, b, e);
    }
    if (arabic && (why = notation_after(nb, p, e, x.exp < 0)) != NULL) {
        return not_accepted(err, why, b, e);
    }
    /* multipliers and infix qualifiers: 万 亿 多 余, 千万 / 百万 after digits */
    if (parse_multipliers(&p, e, arabic, out) < 0) {
        return too_long(err, b, e);
    }
    /* the rest: unit word, then a suffix qualifier */
    ue = e;
    etl_text_trim(&p, &ue);
    strip_suffix_qualifier(&p, &ue, out);
    c = fold(p, ue, &len);
    if (is_digit(c) || c == '.' || c == ',' || c == '-' || c == '+' ||
        match_word(cn_digits, p, ue, &len) >= 0) {
        return invalid(err, b, e);      /* 12.5.3, 一二三 */
    }
    out->unit = p;
    out->unit_len = (size_t)(ue - p);
    x.exp += out->mult;
    dec_normalize(&x);
    if (dec_format(&x, out->value, sizeof(out->value)) < 0) {
        return too_long(err, b, e);
    }
    return 0;
}

/* Read a normalized decimal text back into a dec; -1 if it is not one. */
static int
dec_read(const char *s, struct dec *x)
{
    bool frac = false;

    memset(x, 0, sizeof(*x));
    if (*s == '-') {
        x->neg = true;
        s++;
    }
    if (!is_digit(*s)) {
        return -1;
    }
    for (; *s != '\0'; s++) {
        if (*s == '.' && !frac) {
            frac = true;
        } else if (is_digit(*s)) {
            if (dec_push(x, *s - '0') < 0) {
                return -1;
            }
            if (frac) {
                x->exp--;
            }
        } else {
            return -1;
        }
    }
    return 0;
}

int
etl_num_shift(char *value, size_t size, int pow10, struct etl_err *err)
{
    struct dec x;
    char tmp[ETL_VALUE_MAX];

    if (value[0] == '\0' || pow10 == 0) {
        return 0;
    }
    if (dec_read(value, &x) < 0) {
        return etl_err_set(err, ETL_E_INTERNAL, "invalid decimal \"%s\"", value);
    }
    x.exp += pow10;
    dec_normalize(&x);
    if (dec_format(&x, tmp, size < sizeof(tmp) ? size : sizeof(tmp)) < 0) {
        return etl_err_set(err, ETL_E_DATA, "value %s×10^%d does not fit %zu characters",
                           value, pow10, size - 1);
    }
    strcpy(value, tmp);
    return 0;
}

int
etl_num_sign(const char *value)
{
    if (value[0] == '\0') {
        return 0;
    }
    if (value[0] == '-') {
        return -1;
    }
    for (const char *p = value; *p != '\0'; p++) {
        if (*p >= '1' && *p <= '9') {
            return 1;
        }
    }
    return 0;
}

/*
 * A configuration number into normalized text; see num.h.  The exponent is
 * applied by moving the decimal point, never through a double.
 */
int
etl_num_decimal(const char *s, char *out, size_t size)
{
    struct dec x;
    bool frac = false, any = false;
    long e = 0;

    memset(&x, 0, sizeof(x));
    if (*s == '-' || *s == '+') {
        x.neg = (*s == '-');
        s++;
    }
    for (; *s != '\0' && *s != 'e' && *s != 'E'; s++) {
        if (*s == '.' && !frac) {
            frac = true;
        } else if (is_digit(*s)) {
            any = true;
            if (dec_push(&x, *s - '0') < 0) {
                return -2;
            }
            if (frac) {
                x.exp--;
            }
        } else {
            return -1;
        }
    }
    if (!any) {
        return -1;
    }
    if (*s != '\0') {
        bool eneg = false;

        s++;
        if (*s == '-' || *s == '+') {
            eneg = (*s == '-');
            s++;
        }
        if (!is_digit(*s)) {
            return -1;
        }
        for (; is_digit(*s); s++) {
            if (e <= 100000) {
                e = e * 10 + (*s - '0');
            }
        }
        if (*s != '\0') {
            return -1;
        }
        if (e > 100000) {
            return x.nd == 0 ? (dec_format(&x, out, size) < 0 ? -2 : 0) : -2;
        }
        x.exp += (int)(eneg ? -e : e);
    }
    dec_normalize(&x);
    return dec_format(&x, out, size) < 0 ? -2 : 0;
}

/* Length of the integer part of an unsigned normalized decimal. */
static size_t
int_len(const char *s)
{
    size_t n = 0;

    while (s[n] != '\0' && s[n] != '.') {
        n++;
    }
    return n;
}

/* Exact comparison of normalized decimals; see num.h.  No allocation. */
int
etl_num_cmp(const char *a, const char *b)
{
    int sa = etl_num_sign(a), sb = etl_num_sign(b), r;
    size_t la, lb;

    if (sa != sb) {
        return sa < sb ? -1 : 1;
    }
    if (sa == 0) {
        return 0;
    }
    if (sa < 0) {
        a++;
        b++;
    }
    /* no leading zeros: a longer integer part is larger; then digit by digit
     * (no trailing zeros: a fraction that is a prefix of another is smaller) */
    la = int_len(a);
    lb = int_len(b);
    if (la != lb) {
        r = la < lb ? -1 : 1;
    } else {
        r = strcmp(a, b);
        r = r < 0 ? -1 : (r > 0 ? 1 : 0);
    }
    return sa < 0 ? -r : r;
}
