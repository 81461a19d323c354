/*
 * period.c
 *    Period texts into [start, end) date ranges; see period.h for the forms.
 *    The text is first folded into a small ASCII-friendly buffer (full-width
 *    digits and letters to ASCII, every dash and 至/到 to '-', quotes and
 *    spaces dropped), then read by a hand-written recursive descent over
 *    that buffer.  Relative texts are rewritten with the as-of year and read
 *    again.
 */
#include "period.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "etl/date.h"
#include "etl/text.h"

#define PERIOD_QUOTE_MAX 60

/*
 * A cursor over the folded text.  'num' is the text of the last number read
 * (digits() or small_num()); 'bad' the month that made a reader fail with
 * P_MONTH, quoted as written in the message: never converted, so a run of
 * digits of any length is safe.
 */
struct span {
    const char *p;
    size_t len;
};

struct cur {
    const char *p;
    struct span num;
    struct span bad;
};

static const struct span no_span = { NULL, 0 };

struct word {
    const char *s;
    int value;
};

/* Relative year words and their offset from the as-of year. */
static const struct word rel_years[] = {
    { "今年", 0 }, { "本年", 0 }, { "当年", 0 }, { "去年", -1 }, { "上年", -1 },
    { "前年", -2 }, { "明年", 1 }, { NULL, 0 }
};

static const struct word cn_small[] = {
    { "一", 1 }, { "二", 2 }, { "两", 2 }, { "三", 3 }, { "四", 4 }, { "五", 5 },
    { "六", 6 }, { "七", 7 }, { "八", 8 }, { "九", 9 }, { NULL, 0 }
};

static int32_t
ymd(int y, int m, int d)
{
    return (int32_t)(y * 10000 + m * 100 + d);
}

/* Length of the prefix 'w' of p, or 0. */
static size_t
starts(const char *p, const char *w)
{
    size_t n;

    if (*p != *w) {
        return 0;               /* the usual miss, without strlen */
    }
    n = strlen(w);
    return strncmp(p, w, n) == 0 ? n : 0;
}

/*
 * What a three-byte character means to fold(): FOLD_DASH for the dashes
 * (U+2010..2015, U+2212) and 至 到, FOLD_DROP for quotes and brackets around
 * plan names (‘ ’ “ ” 《 》 「 」) and U+3000, 0 otherwise.
 */
#define FOLD_DASH 1
#define FOLD_DROP 2

static int
fold3(const unsigned char *u)
{
    if (u[0] == 0xE2 && u[1] == 0x80) {
        if (u[2] >= 0x90 && u[2] <= 0x95) {
            return FOLD_DASH;
        }
        if (u[2] == 0x98 || u[2] == 0x99 || u[2] == 0x9C || u[2] == 0x9D) {
            return FOLD_DROP;
        }
    } else if (u[0] == 0xE2 && u[1] == 0x88 && u[2] == 0x92) {
        return FOLD_DASH;
    } else if (u[0] == 0xE3 && u[1] == 0x80) {
        if (u[2] == 0x80 || (u[2] >= 0x8A && u[2] <= 0x8D)) {
            return FOLD_DROP;
        }
    } else if ((u[0] == 0xE8 && u[1] == 0x87 && u[2] == 0xB3) ||      /* 至 */
               (u[0] == 0xE5 && u[1] == 0x88 && u[2] == 0xB0)) {      /* 到 */
        return FOLD_DASH;
    }
    return 0;
}

/*
 * Fold 'text' into 'out' (size 'size'): see the file header.  One pass, a
 * few comparisons per byte.  Returns -1 if it does not fit.
 */
static int
fold(const char *text, char *out, size_t size)
{
    const unsigned char *u = (const unsigned char *)text;
    size_t o = 0;

    while (*u != '\0') {
        int c = -1;             /* the byte to write, -1 none, '-' a dash */

        if (*u < 0x80) {
            c = *u++;
            if (c == ' ' || c == '\t' || c == '"' || c == '\'') {
                continue;
            }
            if (c == '~') {
                c = '-';
            } else if (c >= 'a' && c <= 'z') {
                c = c - 'a' + 'A';
            }
        } else if (u[1] != '\0' && u[2] != '\0' && fold3(u) != 0) {
            int f = fold3(u);

            u += 3;
            if (f == FOLD_DROP) {
                continue;
            }
            c = '-';
        } else if (u[0] == 0xEF) {
            /* U+FF01..U+FF5E: full-width ASCII */
            const char *p = (const char *)u;
            size_t len;
            int f = etl_text_fold(p, p + strnlen(p, 3), &len);

            if (f >= 0) {
                c = f;
                u += len;
                if (c == '~') {
                    c = '-';
                } else if (c >= 'a' && c <= 'z') {
                    c = c - 'a' + 'A';
                }
            }
        }
        if (c == -1) {
            /* any other byte of a multi-byte character: copied */
            if (o + 1 >= size) {
                return -1;
            }
            out[o++] = (char)*u++;
            continue;
        }
        if (c == '-' && o > 0 && out[o - 1] == '-') {
            continue;           /* —— is one dash */
        }
        if (o + 1 >= size) {
            return -1;
        }
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return 0;
}

/* Consume the literal 'w' if the text continues with it. */
static bool
lit(struct cur *c, const char *w)
{
    size_t n = starts(c->p, w);

    if (n > 0) {
        c->p += n;
        return true;
    }
    return false;
}

static bool
at_end(const struct cur *c)
{
    return *c->p == '\0';
}

/* Exactly 'len' ASCII digits (and no more) into *v. */
static bool
digits(struct cur *c, int len, int *v)
{
    int x = 0;

    for (int i = 0; i < len; i++) {
        if (c->p[i] < '0' || c->p[i] > '9') {
            return false;
        }
        x = x * 10 + (c->p[i] - '0');
    }
    if (c->p[len] >= '0' && c->p[len] <= '9') {
        return false;
    }
    c->num.p = c->p;
    c->num.len = (size_t)len;
    c->p += len;
    *v = x;
    return true;
}

/* 1 or 2 ASCII digits, or a Chinese numeral 一..九十九; 0 is refused. */
static bool
small_num(struct cur *c, int *v)
{
    const char *save = c->p;
    int d1 = 0, d2 = 0;
    bool ten = false;

    if (digits(c, 1, v) || digits(c, 2, v)) {
        return *v > 0;
    }
    for (const struct word *w = cn_small; w->s != NULL; w++) {
        if (lit(c, w->s)) {
            d1 = w->value;
            break;
        }
    }
    if (lit(c, "十")) {
        ten = true;
        for (const struct word *w = cn_small; w->s != NULL; w++) {
            if (lit(c, w->s)) {
                d2 = w->value;
                break;
            }
        }
    }
    if (ten) {
        *v = (d1 == 0 ? 1 : d1) * 10 + d2;
    } else {
        *v = d1;
    }
    if (*v == 0) {
        c->p = save;
        return false;
    }
    c->num.p = save;
    c->num.len = (size_t)(c->p - save);
    return true;
}

/* Fill a period. */
static void
set(struct etl_period *out, enum etl_period_kind kind, int32_t start, int32_t end)
{
    out->kind = kind;
    out->start = start;
    out->end = end;
}

/* Result codes of the readers below, besides 0 (parsed). */
#define P_INVALID   (-1)
#define P_MONTH     (-2)    /* month out of range, the cursor's 'bad' */
#define P_BACKWARDS (-3)    /* ends before it starts */
#define P_SINCE     (-4)    /* "2012年以来": start set, the end is the as-of year's */

/* A five-year plan: (第)十三五(规划)(时期|期间|期). */
static int
read_plan(const char *s, struct etl_period *out)
{
    char buf[ETL_PERIOD_TEXT_MAX + 1];
    static const char *const suffixes[] = { "时期", "期间", "期", "规划", NULL };
    struct cur c;
    size_t n;
    int v;
    bool again = true;

    snprintf(buf, sizeof(buf), "%s", starts(s, "第") > 0 ? s + strlen("第") : s);
    while (again) {
        again = false;
        for (const char *const *w = suffixes; *w != NULL; w++) {
            size_t k = strlen(*w), l = strlen(buf);

            if (l > k && strcmp(buf + l - k, *w) == 0) {
                buf[l - k] = '\0';
                again = true;
            }
        }
    }
    n = strlen(buf);
    if (n <= strlen("五") || strcmp(buf + n - strlen("五"), "五") != 0) {
        return P_INVALID;
    }
    buf[n - strlen("五")] = '\0';
    c.p = buf;
    /* a Chinese numeral only: "135" is no plan name */
    if (((unsigned char)buf[0] & 0x80) == 0 || !small_num(&c, &v) || !at_end(&c) ||
        v < 6 || v > 30) {
        return P_INVALID;
    }
    set(out, ETL_PERIOD_RANGE, ymd(1981 + (v - 6) * 5, 1, 1),
        ymd(1981 + (v - 6) * 5 + 5, 1, 1));
    return 0;
}

/* After "YYYY年-": "今" (至今) or an end year, "YYYY(年)". */
static int
read_nian_to(struct cur *c, int y, struct etl_period *out)
{
    int y2;

    if (lit(c, "今")) {                 /* 至今, folded to "-今" */
        set(out, ETL_PERIOD_RANGE, ymd(y, 1, 1), 0);
        return at_end(c) ? P_SINCE : P_INVALID;
    }
    if (!digits(c, 4, &y2)) {
        return P_INVALID;
    }
    lit(c, "年");
    if (!at_end(c)) {
        return P_INVALID;
    }
    if (y2 < y) {
        return P_BACKWARDS;
    }
    set(out, y2 == y ? ETL_PERIOD_YEAR : ETL_PERIOD_RANGE, ymd(y, 1, 1), ymd(y2 + 1, 1, 1));
    return 0;
}

/*
 * After "YYYY年(第)n": "季度" (a quarter), "月(份)" (a month) or
 * "(月)-m月(份)" (months n to m).
 */
static int
read_nian_numbered(struct cur *c, int y, int n, struct etl_period *out)
{
    struct span first = c->num;     /* n as written */
    int m2;
    bool has_yue;

    if (lit(c, "季度")) {
        if (!at_end(c) || n > 4) {
            return P_INVALID;
        }
        set(out, ETL_PERIOD_QUARTER, ymd(y, 3 * n - 2, 1),
            etl_date_add_months(ymd(y, 3 * n - 2, 1), 3));
        return 0;
    }
    has_yue = lit(c, "月");
    if (*c->p == '-') {
        c->p++;
        if (!small_num(c, &m2) || !lit(c, "月")) {
            return P_INVALID;
        }
        lit(c, "份");
        if (!at_end(c)) {
            return P_INVALID;
        }
        if (n > 12 || m2 > 12) {
            c->bad = n > 12 ? first : c->num;
            return P_MONTH;
        }
        if (m2 < n) {
            return P_BACKWARDS;
        }
        set(out, ETL_PERIOD_MONTHS, ymd(y, n, 1), etl_date_add_months(ymd(y, m2, 1), 1));
        return 0;
    }
    if (!has_yue) {
        return P_INVALID;       /* a bare number after 年 */
    }
    lit(c, "份");
    if (!at_end(c)) {
        return P_INVALID;
    }
    if (n > 12) {
        c->bad = first;
        return P_MONTH;
    }
    set(out, ETL_PERIOD_MONTH, ymd(y, n, 1), etl_date_add_months(ymd(y, n, 1), 1));
    return 0;
}

/*
 * After "YYYY年": the Chinese forms (年度, 以来, 上半年, 前三季度, -YYYY年,
 * 第三季度, 5月, 1-7月).  Returns 0 or a P_* code.
 */
static int
read_after_nian(struct cur *c, int y, struct etl_period *out)
{
    int n;

    if (at_end(c) || ((lit(c, "度") || lit(c, "全年")) && at_end(c))) {
        set(out, ETL_PERIOD_YEAR, ymd(y, 1, 1), ymd(y + 1, 1, 1));
        return 0;
    }
    if (lit(c, "以来")) {
        set(out, ETL_PERIOD_RANGE, ymd(y, 1, 1), 0);
        return at_end(c) ? P_SINCE : P_INVALID;
    }
    if (lit(c, "上半年")) {
        set(out, ETL_PERIOD_HALF, ymd(y, 1, 1), ymd(y, 7, 1));
        return at_end(c) ? 0 : P_INVALID;
    }
    if (lit(c, "下半年")) {
        set(out, ETL_PERIOD_HALF, ymd(y, 7, 1), ymd(y + 1, 1, 1));
        return at_end(c) ? 0 : P_INVALID;
    }
    if (lit(c, "前")) {
        if (!small_num(c, &n) || !lit(c, "季度") || !at_end(c) || n > 4) {
            return P_INVALID;
        }
        set(out, ETL_PERIOD_MONTHS, ymd(y, 1, 1),
            etl_date_add_months(ymd(y, 1, 1), 3 * n));
        return 0;
    }
    if (*c->p == '-') {
        c->p++;
        return read_nian_to(c, y, out);
    }
    lit(c, "第");
    if (!small_num(c, &n)) {
        return P_INVALID;
    }
    return read_nian_numbered(c, y, n, out);
}

/* After "YYYY-MM-DD/": an SDMX duration PnY or PnM. */
static int
read_duration(struct cur *c, int32_t start, struct etl_period *out)
{
    int n = 0, digits_seen = 0, months;
    int m = start / 100 % 100, d = start % 100;
    enum etl_period_kind kind = ETL_PERIOD_RANGE;

    if (!lit(c, "P")) {
        return P_INVALID;
    }
    while (*c->p >= '0' && *c->p <= '9' && digits_seen < 3) {
        n = n * 10 + (*c->p++ - '0');
        digits_seen++;
    }
    if (digits_seen == 0 || n == 0) {
        return P_INVALID;
    }
    if (lit(c, "Y")) {
        months = 12 * n;
    } else if (lit(c, "M")) {
        months = n;
    } else {
        return P_INVALID;
    }
    if (!at_end(c)) {
        return P_INVALID;
    }
    if (d == 1) {
        if (months == 12 && m == 1) {
            kind = ETL_PERIOD_YEAR;
        } else if (months == 6 && (m == 1 || m == 7)) {
            kind = ETL_PERIOD_HALF;
        } else if (months == 3 && m % 3 == 1) {
            kind = ETL_PERIOD_QUARTER;
        } else if (months == 1) {
            kind = ETL_PERIOD_MONTH;
        } else if (months < 12 && m == 1) {
            kind = ETL_PERIOD_MONTHS;
        }
    }
    set(out, kind, start, etl_date_add_months(start, months));
    return 0;
}

/* After "YYYY": everything that is not Chinese. */
static int
read_after_year(struct cur *c, int y, struct etl_period *out)
{
    int n, y2, d;

    if (at_end(c)) {
        set(out, ETL_PERIOD_YEAR, ymd(y, 1, 1), ymd(y + 1, 1, 1));
        return 0;
    }
    if (lit(c, "年")) {
        return read_after_nian(c, y, out);
    }
    if (*c->p == '-') {
        c->p++;
        if (lit(c, "今")) {
            set(out, ETL_PERIOD_RANGE, ymd(y, 1, 1), 0);
            return at_end(c) ? P_SINCE : P_INVALID;
        }
        if (digits(c, 4, &y2)) {
            lit(c, "年");
            if (!at_end(c)) {
                return P_INVALID;
            }
            if (y2 < y) {
                return P_BACKWARDS;
            }
            set(out, y2 == y ? ETL_PERIOD_YEAR : ETL_PERIOD_RANGE, ymd(y, 1, 1),
                ymd(y2 + 1, 1, 1));
            return 0;
        }
        if (lit(c, "M")) {
            if (!digits(c, 2, &n) || !at_end(c)) {
                return P_INVALID;
            }
            if (n < 1 || n > 12) {
                c->bad = c->num;
                return P_MONTH;
            }
            set(out, ETL_PERIOD_MONTH, ymd(y, n, 1), etl_date_add_months(ymd(y, n, 1), 1));
            return 0;
        }
        if (digits(c, 2, &n) || digits(c, 1, &n)) {
            if (n < 1 || n > 12) {
                c->bad = c->num;
                return P_MONTH;
            }
            if (at_end(c)) {
                set(out, ETL_PERIOD_MONTH, ymd(y, n, 1),
                    etl_date_add_months(ymd(y, n, 1), 1));
                return 0;
            }
            if (*c->p != '-') {
                return P_INVALID;
            }
            c->p++;
            if (!digits(c, 2, &d) || d < 1 || d > etl_date_days_in_month(y, n) ||
                !lit(c, "/")) {
                return P_INVALID;
            }
            return read_duration(c, ymd(y, n, d), out);
        }
    }
    if (lit(c, "H") || lit(c, "S")) {
        if (!digits(c, 1, &n) || !at_end(c) || n < 1 || n > 2) {
            return P_INVALID;
        }
        set(out, ETL_PERIOD_HALF, ymd(y, 6 * n - 5, 1),
            etl_date_add_months(ymd(y, 6 * n - 5, 1), 6));
        return 0;
    }
    if (lit(c, "Q")) {
        if (!digits(c, 1, &n) || !at_end(c) || n < 1 || n > 4) {
            return P_INVALID;
        }
        set(out, ETL_PERIOD_QUARTER, ymd(y, 3 * n - 2, 1),
            etl_date_add_months(ymd(y, 3 * n - 2, 1), 3));
        return 0;
    }
    return P_INVALID;
}

/*
 * A folded text; P_* codes on failure, P_SINCE for "2012年以来" (the caller
 * sets the end).  "自"/"从" may lead a since-form only: 自2012年以来.  On
 * P_MONTH, *bad is the month as written in 's'.
 */
static int
read_period(const char *s, struct etl_period *out, struct span *bad)
{
    struct cur c = { s, { NULL, 0 }, { NULL, 0 } };
    size_t k = starts(s, "自") > 0 ? starts(s, "自") : starts(s, "从");
    int y, r;

    if (k > 0) {
        r = read_period(s + k, out, bad);
        return r == P_SINCE ? r : P_INVALID;
    }
    if (digits(&c, 4, &y)) {
        if (y < 1000) {
            return P_INVALID;
        }
        r = read_after_year(&c, y, out);
        *bad = c.bad;
        return r;
    }
    return read_plan(s, out);
}

/* "一年多来", "三年来", "近三年": N years back from the as-of date; else -1. */
static int
read_years_back(const char *s, int *years)
{
    struct cur c = { s, { NULL, 0 }, { NULL, 0 } };
    bool near = lit(&c, "近");

    if (!small_num(&c, years) || !lit(&c, "年")) {
        return -1;
    }
    if (near) {
        lit(&c, "来");
    } else {
        lit(&c, "多");
        if (!lit(&c, "来")) {
            return -1;
        }
    }
    return at_end(&c) ? 0 : -1;
}

/* Relative texts too vague to date even with an as-of date. */
static bool
is_vague(const char *s)
{
    return strcmp(s, "多年来") == 0 || strcmp(s, "近年来") == 0 || strcmp(s, "近年") == 0 ||
           strcmp(s, "近些年") == 0 || strcmp(s, "近几年") == 0;
}

/*
 * Set the error for a P_* code; 'text' is quoted, cut at 60 bytes.  'month'
 * is the month of P_MONTH as written (a span of the folded text).
 */
static int
fail(struct etl_err *err, int code, const char *text, struct span month)
{
    size_t n = strlen(text);
    int k = (int)etl_text_cut(text, n, PERIOD_QUOTE_MAX);
    int mk = (int)etl_text_cut(month.p != NULL ? month.p : "", month.len, PERIOD_QUOTE_MAX);

    switch (code) {
    case P_MONTH:
        return etl_err_set(err, ETL_E_DATA, "invalid month %.*s in period \"%.*s%s\"", mk,
                           month.p != NULL ? month.p : "", k, text,
                           (size_t)k < n ? "…" : "");
    case P_BACKWARDS:
        return etl_err_set(err, ETL_E_DATA, "period \"%.*s%s\" ends before it starts",
                           k, text, (size_t)k < n ? "…" : "");
    default:
        return etl_err_set(err, ETL_E_DATA, "invalid period \"%.*s%s\"",
                           k, text, (size_t)k < n ? "…" : "");
    }
}

/*
 * The trimmed 'text' into 'shown' (for messages) and folded into 's', both
 * of ETL_PERIOD_TEXT_MAX + 1 bytes.  Returns 0, or -1 with 'err' set when
 * the text is too long, does not fold or folds to nothing.
 */
static int
period_prepare(const char *text, char *shown, char *s, struct etl_err *err)
{
    const char *b = text, *e = text + strlen(text);

    etl_text_trim(&b, &e);
    if ((size_t)(e - b) > ETL_PERIOD_TEXT_MAX) {
        memcpy(shown, b, ETL_PERIOD_TEXT_MAX);
        shown[ETL_PERIOD_TEXT_MAX] = '\0';
        return fail(err, P_INVALID, shown, no_span);
    }
    memcpy(shown, b, (size_t)(e - b));
    shown[e - b] = '\0';
    if (fold(shown, s, ETL_PERIOD_TEXT_MAX + 1) < 0 || s[0] == '\0') {
        return fail(err, P_INVALID, shown, no_span);
    }
    return 0;
}

/*
 * A leading relative year word of folded text 's' rewritten with the
 * as-of year, in place: 今年上半年 -> 2022年上半年.  Returns 0 (also when
 * there is none), or -1 with 'err' set: no as-of date, or the result does
 * not fit.  'shown' is the text for messages.
 */
static int
period_rel_year(char *s, int32_t as_of, const char *shown, struct etl_err *err)
{
    char t[ETL_PERIOD_TEXT_MAX + 16];

    for (const struct word *w = rel_years; w->s != NULL && (s[0] & 0x80); w++) {
        size_t n = starts(s, w->s);

        if (n > 0) {
            if (as_of == 0) {
                return etl_err_set(err, ETL_E_DATA,
                                   "relative period \"%s\" needs the file's as-of date", shown);
            }
            snprintf(t, sizeof(t), "%04d年%s", as_of / 10000 + w->value, s + n);
            if (strlen(t) >= ETL_PERIOD_TEXT_MAX + 1) {
                return fail(err, P_INVALID, shown, no_span);
            }
            memcpy(s, t, strlen(t) + 1);
            break;
        }
    }
    return 0;
}

/*
 * Close a since-form (2012年以来, 2012年至今) read into 'out': it ends with
 * the as-of year.  Returns 0, or -1 with 'err' set and 'out' cleared when
 * there is no as-of date or the period would end before it starts.
 */
static int
period_since(int32_t as_of, const char *shown, struct etl_period *out, struct etl_err *err)
{
    /* [start, the end of the as-of year) */
    if (as_of == 0) {
        memset(out, 0, sizeof(*out));
        return etl_err_set(err, ETL_E_DATA,
                           "relative period \"%s\" needs the file's as-of date", shown);
    }
    out->end = ymd(as_of / 10000 + 1, 1, 1);
    if (out->end <= out->start) {
        memset(out, 0, sizeof(*out));
        return fail(err, P_BACKWARDS, shown, no_span);
    }
    return 0;
}

/*
 * A period text into 'out'; see period.h for the forms.  'as_of'
 * (yyyymmdd, 0 = none) dates relative and yearless texts.  Returns 0, or
 * -1 with ETL_E_DATA and 'out' cleared: invalid period, invalid month,
 * ends before it starts, vague, or relative without an as-of date.
 */
int
etl_period_parse(const char *text, int32_t as_of, struct etl_period *out,
                 struct etl_err *err)
{
    char s[ETL_PERIOD_TEXT_MAX + 1], t[ETL_PERIOD_TEXT_MAX + 16];
    char shown[ETL_PERIOD_TEXT_MAX + 1];
    struct etl_period tmp;
    struct span bad = { NULL, 0 }, ignored;
    struct cur c, c0;
    int r, years, y;

    memset(out, 0, sizeof(*out));
    /* the trimmed original, for messages */
    if (period_prepare(text, shown, s, err) < 0) {
        return -1;
    }
    /* relative year words: 今年上半年 -> 2022年上半年 */
    if (period_rel_year(s, as_of, shown, err) < 0) {
        return -1;
    }
    c0.p = s;
    if (!digits(&c0, 4, &y) && (read_years_back(s, &years) == 0 || is_vague(s))) {
        if (as_of == 0) {
            return etl_err_set(err, ETL_E_DATA,
                               "relative period \"%s\" needs the file's as-of date", shown);
        }
        if (is_vague(s)) {
            return etl_err_set(err, ETL_E_DATA, "vague period \"%s\"", shown);
        }
        set(out, ETL_PERIOD_RANGE, etl_date_add_months(as_of, -12 * years), as_of);
        return 0;
    }
    r = read_period(s, out, &bad);
    if (r == P_SINCE) {
        return period_since(as_of, shown, out, err);
    }
    c.p = s;
    if (r == P_INVALID && !digits(&c, 4, &y)) {
        /* a yearless form (上半年, 1-7月, 第三季度)? */
        snprintf(t, sizeof(t), "%04d年%s", as_of != 0 ? as_of / 10000 : 2000, s);
        if (read_period(t, &tmp, &ignored) == 0 && (tmp.kind != ETL_PERIOD_RANGE)) {
            if (as_of == 0) {
                return etl_err_set(err, ETL_E_DATA,
                                   "relative period \"%s\" needs the file's as-of date", shown);
            }
            *out = tmp;
            return 0;
        }
    }
    if (r < 0) {
        memset(out, 0, sizeof(*out));
        return fail(err, r, shown, bad);
    }
    return 0;
}
