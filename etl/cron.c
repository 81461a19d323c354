/*
 * cron.c
 *    Schedules: the five-field cron parser (bitsets per field), a TZif and
 *    POSIX TZ reader for the schedule's zone, and the search for the next
 *    fire time.  See cron.h for the syntax and the DST rules.
 *
 *    Times are int64 seconds.  "Wall" times are local seconds: the UTC
 *    instant plus the UTC offset in force, so that a wall time divided by
 *    86400 is a day number for the civil-date functions below (Howard
 *    Hinnant's days_from_civil / civil_from_days, proleptic Gregorian).
 *
 *    The zone is a table of transitions (instant, local time type) from the
 *    TZif file's 64-bit section, then the POSIX TZ rule of its footer for
 *    the instants after the last transition.  The next-time search walks the
 *    zone's segments of constant offset; inside one segment wall time is UTC
 *    plus a constant, so a plain calendar search over the bitsets finds the
 *    first matching wall minute, skipping by month, day and hour.
 *
 *    Next door: pipeline.c holds the schedule texts; nothing else here.
 */
#include "cron.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DAY 86400
#define NONE INT64_MIN

/* The system tzdata, unless $TZDIR says otherwise (as glibc). */
#define ZONE_DIR "/usr/share/zoneinfo"

/*
 * Largest TZif file read: the biggest in tzdata are ~10 KB ("fat" files
 * with transitions to 2037); anything far larger is not a zone.
 */
#define ZONE_FILE_MAX (256 * 1024)

/*
 * Largest |UTC offset| accepted (seconds).  Real ones stay within +-15h
 * (local mean times included); POSIX TZ strings allow 24:59:59.  Bounding
 * it bounds the window where one wall time can exist (zone_first_instant).
 */
#define ZONE_MAX_OFF (26 * 3600)

/* Longest time zone abbreviation kept ("CEST", "+0530", "<-03>" inside). */
#define ZONE_ABBR_MAX 16

/* One field of a cron expression. */
struct cron_field {
    const char *name;               /* "minute field: ..." */
    int min, max;
    const char *const *names;       /* three-letter names of min.., or NULL */
    const char *what;               /* "month" in 'unknown month name' */
};

static const char *const month_names[] = {
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
    "nov", "dec", NULL
};

static const char *const day_names[] = {
    "sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL
};

enum { F_MINUTE, F_HOUR, F_MDAY, F_MONTH, F_WDAY, F_COUNT };

static const struct cron_field fields[F_COUNT] = {
    { "minute", 0, 59, NULL, NULL },
    { "hour", 0, 23, NULL, NULL },
    { "day-of-month", 1, 31, NULL, NULL },
    { "month", 1, 12, month_names, "month" },
    { "day-of-week", 0, 7, day_names, "day-of-week" },
};

struct cron_macro {
    const char *name;
    const char *expr;
};

static const struct cron_macro macros[] = {
    { "@yearly", "0 0 1 1 *" }, { "@annually", "0 0 1 1 *" },
    { "@monthly", "0 0 1 * *" }, { "@weekly", "0 0 * * 0" },
    { "@daily", "0 0 * * *" }, { "@midnight", "0 0 * * *" },
    { "@hourly", "0 * * * *" }, { NULL, NULL }
};

/* A date of a POSIX TZ rule: Jn, n or Mm.w.d, and the local time of day. */
struct zone_date {
    char kind;                      /* 'J', 'n' or 'M' */
    int n, m, w, d;
    int32_t secs;                   /* may be negative or above 24h (v3) */
};

/* A POSIX TZ string: "CET-1CEST,M3.5.0,M10.5.0/3". */
struct zone_rule {
    char std_abbr[ZONE_ABBR_MAX], dst_abbr[ZONE_ABBR_MAX];
    int32_t std_off, dst_off;       /* UTC offsets, east positive */
    bool has_dst;
    struct zone_date start, end;
};

/* A local time type of a TZif file. */
struct zone_type {
    int32_t utoff;
    uint32_t abbr;                  /* index into abbrs */
};

struct etl_cron {
    uint64_t minutes;               /* bit n: minute n */
    uint32_t hours;                 /* bit n: hour n */
    uint32_t mdays;                 /* bits 1-31 */
    uint16_t months;                /* bits 1-12 */
    uint8_t wdays;                  /* bits 0-6, Sunday 0 */
    bool mday_star, wday_star;      /* the day field starts with '*' */
    bool wild;                      /* minute or hour starts with '*' */

    char *zone_name;
    int64_t *trans;                 /* transition instants, ascending */
    uint8_t *trans_type;            /* their types */
    size_t ntrans;
    struct zone_type *types;        /* at least one */
    size_t ntypes;
    char *abbrs;                    /* NUL-terminated strings */
    size_t nabbrs;
    bool has_rule;                  /* 'rule' covers times after trans */
    struct zone_rule rule;
};

/* ---- civil dates ---- */

/* a / b rounded towards minus infinity (b > 0). */
static int64_t
floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;

    if ((a % b != 0) && ((a < 0) != (b < 0))) {
        q--;
    }
    return q;
}

/* Days since 1970-01-01 of y-m-d (m 1-12, d 1-31). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* The y-m-d of a day number. */
static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    int64_t era, doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* Day of the week of a day number, Sunday 0 (1970-01-01 was a Thursday). */
static int
weekday(int64_t days)
{
    return (int)(((days % 7) + 11) % 7);
}

/* Gregorian leap year. */
static bool
is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days in month m (1-12) of year y. */
static int
days_in_month(int64_t y, int m)
{
    static const int dim[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

    return (m == 2 && is_leap(y)) ? 29 : dim[m - 1];
}

/* ---- the expression ---- */

/*
 * One value of a field: digits, or a three-letter name where the field has
 * names.  'item' is the whole list item, named when the value is empty.
 */
static int
parse_value(const struct cron_field *f, const char *s, size_t len,
            const char *item, size_t ilen, int *out, struct etl_err *err)
{
    long v = 0;

    if (len == 0) {
        return etl_err_set(err, ETL_E_CONFIG,
                           "%s field: invalid value \"%.*s\"", f->name,
                           (int)ilen, item);
    }
    if (isdigit((unsigned char)s[0])) {
        for (size_t i = 0; i < len; i++) {
            if (!isdigit((unsigned char)s[i])) {
                return etl_err_set(err, ETL_E_CONFIG,
                                   "%s field: invalid value \"%.*s\"", f->name,
                                   (int)len, s);
            }
            if (v < 1000000) {
                v = v * 10 + (s[i] - '0');
            }
        }
        if (v < f->min || v > f->max) {
            return etl_err_set(err, ETL_E_CONFIG,
                               "%s field: %.*s is out of range (%d-%d)",
                               f->name, (int)len, s, f->min, f->max);
        }
        *out = (int)v;
        return 0;
    }
    if (f->names != NULL && isalpha((unsigned char)s[0])) {
        for (int i = 0; len == 3 && f->names[i] != NULL; i++) {
            if (strncasecmp(s, f->names[i], 3) == 0) {
                *out = f->min + i;
                return 0;
            }
        }
        return etl_err_set(err, ETL_E_CONFIG, "unknown %s name \"%.*s\"",
                           f->what, (int)len, s);
    }
    return etl_err_set(err, ETL_E_CONFIG, "%s field: invalid value \"%.*s\"",
                       f->name, (int)len, s);
}

/*
 * One list item: "*", "n", "n-m", each with an optional "/step"; sets its
 * values in 'bits' (day-of-week 7 as 0).
 */
static int
parse_item(const struct cron_field *f, const char *item, size_t len,
           uint64_t *bits, struct etl_err *err)
{
    const char *slash = memchr(item, '/', len);
    size_t rlen = slash != NULL ? (size_t)(slash - item) : len;
    int lo, hi, step = 1;

    if (rlen == 1 && item[0] == '*') {
        lo = f->min;
        hi = f->max;
    } else {
        const char *dash = memchr(item, '-', rlen);

        if (dash != NULL) {
            if (parse_value(f, item, (size_t)(dash - item), item, len, &lo,
                            err) < 0 ||
                parse_value(f, dash + 1, rlen - (size_t)(dash - item) - 1,
                            item, len, &hi, err) < 0) {
                return -1;
            }
            if (f == &fields[F_WDAY] && hi == 0 && lo > 0) {
                hi = 7;                 /* "fri-sun" */
            }
            if (lo > hi) {
                return etl_err_set(err, ETL_E_CONFIG,
                                   "%s field: range %.*s ends before it starts",
                                   f->name, (int)rlen, item);
            }
        } else {
            if (parse_value(f, item, rlen, item, len, &lo, err) < 0) {
                return -1;
            }
            hi = slash != NULL ? f->max : lo;
        }
    }
    if (slash != NULL) {
        const char *s = slash + 1;
        size_t slen = len - rlen - 1;
        int span = f->max - f->min + 1;
        long v = 0;

        for (size_t i = 0; i < slen; i++) {
            if (!isdigit((unsigned char)s[i])) {
                v = 0;
                break;
            }
            if (v < 1000000) {
                v = v * 10 + (s[i] - '0');
            }
        }
        if (v == 0) {
            return etl_err_set(err, ETL_E_CONFIG,
                               "%s field: invalid step \"%.*s\"", f->name,
                               (int)slen, s);
        }
        if (v > span) {
            return etl_err_set(err, ETL_E_CONFIG,
                               "%s field: step %.*s is out of range (1-%d)",
                               f->name, (int)slen, s, span);
        }
        step = (int)v;
    }
    for (int v = lo; v <= hi; v += step) {
        *bits |= 1ULL << (f == &fields[F_WDAY] && v == 7 ? 0 : v);
    }
    return 0;
}

/* One field: a comma list of items. */
static int
parse_field(const struct cron_field *f, const char *s, size_t len,
            uint64_t *bits, struct etl_err *err)
{
    size_t i = 0;

    *bits = 0;
    for (;;) {
        const char *comma = memchr(s + i, ',', len - i);
        size_t end = comma != NULL ? (size_t)(comma - s) : len;

        if (end == i) {
            return etl_err_set(err, ETL_E_CONFIG,
                               "%s field: empty item in \"%.*s\"", f->name,
                               (int)len, s);
        }
        if (parse_item(f, s + i, end - i, bits, err) < 0) {
            return -1;
        }
        if (comma == NULL) {
            return 0;
        }
        i = end + 1;
    }
}

/* Split 'expr' at blanks: up to 'max' words into w/wlen; returns the count. */
static int
split_words(const char *expr, const char **w, size_t *wlen, int max)
{
    int n = 0;
    const char *p = expr;

    for (;;) {
        const char *start;

        while (isspace((unsigned char)*p)) {
            p++;
        }
        if (*p == '\0') {
            return n;
        }
        start = p;
        while (*p != '\0' && !isspace((unsigned char)*p)) {
            p++;
        }
        if (n < max) {
            w[n] = start;
            wlen[n] = (size_t)(p - start);
        }
        n++;
    }
}

/* Parse the expression (or a macro) into c's bitsets. */
static int
parse_expr(struct etl_cron *c, const char *expr, struct etl_err *err)
{
    const char *w[F_COUNT];
    size_t wlen[F_COUNT];
    uint64_t bits[F_COUNT];
    int n = split_words(expr != NULL ? expr : "", w, wlen, F_COUNT);

    if (n >= 1 && w[0][0] == '@') {
        const struct cron_macro *m = macros;

        while (m->name != NULL &&
               (strlen(m->name) != wlen[0] ||
                strncasecmp(m->name, w[0], wlen[0]) != 0)) {
            m++;
        }
        if (m->name == NULL) {
            return etl_err_set(err, ETL_E_CONFIG,
                               "unknown schedule macro \"%.*s\"", (int)wlen[0],
                               w[0]);
        }
        if (n > 1) {
            return etl_err_set(err, ETL_E_CONFIG,
                               "unexpected \"%.*s\" after %s", (int)wlen[1],
                               w[1], m->name);
        }
        return parse_expr(c, m->expr, err);
    }
    if (n != F_COUNT) {
        return etl_err_set(err, ETL_E_CONFIG, "expected 5 fields, found %d", n);
    }
    for (int i = 0; i < F_COUNT; i++) {
        if (parse_field(&fields[i], w[i], wlen[i], &bits[i], err) < 0) {
            return -1;
        }
    }
    c->minutes = bits[F_MINUTE];
    c->hours = (uint32_t)bits[F_HOUR];
    c->mdays = (uint32_t)bits[F_MDAY];
    c->months = (uint16_t)bits[F_MONTH];
    c->wdays = (uint8_t)bits[F_WDAY];
    c->mday_star = w[F_MDAY][0] == '*';
    c->wday_star = w[F_WDAY][0] == '*';
    c->wild = w[F_MINUTE][0] == '*' || w[F_HOUR][0] == '*';
    return 0;
}

/* ---- POSIX TZ strings ---- */

/* Up to 'max' digits into *v; NULL if there is none. */
static const char *
tz_digits(const char *p, int max, int *v)
{
    int n = 0;

    *v = 0;
    while (n < max && isdigit((unsigned char)*p)) {
        *v = *v * 10 + (*p++ - '0');
        n++;
    }
    return n > 0 ? p : NULL;
}

/* An abbreviation: three or more letters, or <...> of letters, digits, +-. */
static const char *
tz_abbr(const char *p, char *out)
{
    size_t n = 0;

    if (*p == '<') {
        for (p++; *p != '>'; p++) {
            if (!isalnum((unsigned char)*p) && *p != '+' && *p != '-') {
                return NULL;
            }
            if (n + 1 >= ZONE_ABBR_MAX) {
                return NULL;
            }
            out[n++] = *p;
        }
        p++;
    } else {
        for (; isalpha((unsigned char)*p); p++) {
            if (n + 1 >= ZONE_ABBR_MAX) {
                return NULL;
            }
            out[n++] = *p;
        }
    }
    out[n] = '\0';
    return n >= 3 ? p : NULL;
}

/* [+-]hh[:mm[:ss]], hours up to 'maxh', into signed seconds. */
static const char *
tz_time(const char *p, int maxh, int32_t *secs)
{
    int sign = 1, h, m = 0, s = 0;

    if (*p == '+' || *p == '-') {
        sign = *p++ == '-' ? -1 : 1;
    }
    if ((p = tz_digits(p, 3, &h)) == NULL || h > maxh) {
        return NULL;
    }
    if (*p == ':') {
        if ((p = tz_digits(p + 1, 2, &m)) == NULL || m > 59) {
            return NULL;
        }
        if (*p == ':') {
            if ((p = tz_digits(p + 1, 2, &s)) == NULL || s > 59) {
                return NULL;
            }
        }
    }
    *secs = sign * (h * 3600 + m * 60 + s);
    return p;
}

/* A rule date, Jn (1-365), n (0-365) or Mm.w.d, with an optional /time. */
static const char *
tz_date(const char *p, struct zone_date *d)
{
    memset(d, 0, sizeof(*d));
    d->secs = 7200;
    if (*p == 'J') {
        d->kind = 'J';
        if ((p = tz_digits(p + 1, 3, &d->n)) == NULL || d->n < 1 ||
            d->n > 365) {
            return NULL;
        }
    } else if (*p == 'M') {
        d->kind = 'M';
        if ((p = tz_digits(p + 1, 2, &d->m)) == NULL || d->m < 1 || d->m > 12 ||
            *p != '.' || (p = tz_digits(p + 1, 1, &d->w)) == NULL ||
            d->w < 1 || d->w > 5 || *p != '.' ||
            (p = tz_digits(p + 1, 1, &d->d)) == NULL || d->d > 6) {
            return NULL;
        }
    } else {
        d->kind = 'n';
        if ((p = tz_digits(p, 3, &d->n)) == NULL || d->n > 365) {
            return NULL;
        }
    }
    if (*p == '/') {
        p = tz_time(p + 1, 167, &d->secs);
    }
    return p;
}

/*
 * Parse a POSIX TZ string:
 *     std offset [dst [offset] [,start[/time],end[/time]]]
 * Without rules a DST zone uses the US rules, as glibc.  Returns 0 or -1.
 */
static int
tz_rule_parse(const char *s, struct zone_rule *r)
{
    const char *p = s;
    int32_t off;

    memset(r, 0, sizeof(*r));
    if ((p = tz_abbr(p, r->std_abbr)) == NULL ||
        (p = tz_time(p, 24, &off)) == NULL) {
        return -1;
    }
    r->std_off = -off;
    if (*p == '\0') {
        return 0;
    }
    if ((p = tz_abbr(p, r->dst_abbr)) == NULL) {
        return -1;
    }
    r->has_dst = true;
    r->dst_off = r->std_off + 3600;
    if (*p != '\0' && *p != ',') {
        if ((p = tz_time(p, 24, &off)) == NULL) {
            return -1;
        }
        r->dst_off = -off;
    }
    if (*p == '\0') {
        p = ",M3.2.0,M11.1.0";
    }
    if (*p != ',' || (p = tz_date(p + 1, &r->start)) == NULL || *p != ',' ||
        (p = tz_date(p + 1, &r->end)) == NULL || *p != '\0') {
        return -1;
    }
    return 0;
}

/* Day number of a rule date in year y. */
static int64_t
tz_date_days(const struct zone_date *d, int64_t y)
{
    int64_t jan1 = days_from_civil(y, 1, 1);
    int64_t first;
    int day;

    switch (d->kind) {
    case 'J':
        return jan1 + d->n - 1 + (is_leap(y) && d->n >= 60 ? 1 : 0);
    case 'n':
        return jan1 + d->n;
    default:
        first = days_from_civil(y, d->m, 1);
        day = 1 + (d->d - weekday(first) + 7) % 7 + (d->w - 1) * 7;
        while (day > days_in_month(y, d->m)) {
            day -= 7;
        }
        return first + day - 1;
    }
}

/* The instants DST starts and ends in year y. */
static void
tz_rule_events(const struct zone_rule *r, int64_t y, int64_t *start,
               int64_t *end)
{
    *start = tz_date_days(&r->start, y) * DAY + r->start.secs - r->std_off;
    *end = tz_date_days(&r->end, y) * DAY + r->end.secs - r->dst_off;
}

/* Is DST in force at t?  At equal instants a start wins over an end. */
static bool
tz_rule_isdst(const struct zone_rule *r, int64_t t)
{
    int64_t y, best = NONE, s, e;
    int m, d;
    bool dst = false;

    if (!r->has_dst) {
        return false;
    }
    civil_from_days(floor_div(t + r->std_off, DAY), &y, &m, &d);
    for (int64_t k = y - 1; k <= y + 1; k++) {
        tz_rule_events(r, k, &s, &e);
        if (e <= t && e > best) {
            best = e;
            dst = false;
        }
        if (s <= t && s >= best) {
            best = s;
            dst = true;
        }
    }
    return dst;
}

/* The first rule event after t, or INT64_MAX. */
static int64_t
tz_rule_next(const struct zone_rule *r, int64_t t)
{
    int64_t y, best = INT64_MAX, s, e;
    int m, d;

    if (!r->has_dst) {
        return INT64_MAX;
    }
    civil_from_days(floor_div(t + r->std_off, DAY), &y, &m, &d);
    for (int64_t k = y - 1; k <= y + 2; k++) {
        tz_rule_events(r, k, &s, &e);
        if (s > t && s < best) {
            best = s;
        }
        if (e > t && e < best) {
            best = e;
        }
    }
    return best;
}

/* ---- the zone ---- */

/* UTC offset and abbreviation in force at t. */
static void
zone_info(const struct etl_cron *c, int64_t t, int32_t *off, const char **abbr)
{
    const struct zone_type *ty;

    if (c->has_rule && (c->ntrans == 0 || t >= c->trans[c->ntrans - 1])) {
        bool dst = tz_rule_isdst(&c->rule, t);

        *off = dst ? c->rule.dst_off : c->rule.std_off;
        if (abbr != NULL) {
            *abbr = dst ? c->rule.dst_abbr : c->rule.std_abbr;
        }
        return;
    }
    if (c->ntrans == 0 || t < c->trans[0]) {
        ty = &c->types[0];
    } else {
        size_t lo = 0, hi = c->ntrans;   /* trans[lo] <= t < trans[hi] */

        while (hi - lo > 1) {
            size_t mid = lo + (hi - lo) / 2;

            if (c->trans[mid] <= t) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        ty = &c->types[c->trans_type[lo]];
    }
    *off = ty->utoff;
    if (abbr != NULL) {
        *abbr = c->abbrs + ty->abbr;
    }
}

/* UTC offset in force at t (seconds, east positive). */
static int32_t
zone_offset(const struct etl_cron *c, int64_t t)
{
    int32_t off;

    zone_info(c, t, &off, NULL);
    return off;
}

/* The first instant after t where the offset may change, or INT64_MAX. */
static int64_t
zone_next_change(const struct etl_cron *c, int64_t t)
{
    if (c->ntrans > 0 && t < c->trans[c->ntrans - 1]) {
        size_t lo = 0, hi = c->ntrans - 1;   /* first trans > t is in lo..hi */

        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;

            if (c->trans[mid] > t) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        return c->trans[lo];
    }
    return c->has_rule ? tz_rule_next(&c->rule, t) : INT64_MAX;
}

/*
 * The earliest instant whose wall time is 'wall', or NONE (in a gap).
 * Walks the offset segments of the window where it can be, +-ZONE_MAX_OFF.
 */
static int64_t
zone_first_instant(const struct etl_cron *c, int64_t wall)
{
    int64_t s = wall - ZONE_MAX_OFF;
    int32_t off = zone_offset(c, s);

    while (s <= wall + ZONE_MAX_OFF) {
        int64_t e = zone_next_change(c, s);
        int64_t t = wall - off;

        if (t >= s && t < e) {
            return t;
        }
        if (e == INT64_MAX) {
            break;
        }
        s = e;
        off = zone_offset(c, s);
    }
    return NONE;
}

/* Make c's zone plain UTC (no tables, the rule "UTC0"). */
static void
zone_set_utc(struct etl_cron *c)
{
    memset(&c->rule, 0, sizeof(c->rule));
    strcpy(c->rule.std_abbr, "UTC");
    c->has_rule = true;
}

/* Big-endian integers of a TZif file. */
static uint32_t
be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
           (uint32_t)p[2] << 8 | p[3];
}

static int64_t
be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* Counts of a TZif header. */
struct tzif_counts {
    uint32_t isut, isstd, leap, time, type, chars;
};

/* Header at 'off': magic and counts; the size of its data block. */
static const char *
tzif_header(const unsigned char *buf, size_t len, size_t off, int timesize,
            struct tzif_counts *n, size_t *data)
{
    if (len < off + 44) {
        return "truncated";
    }
    if (memcmp(buf + off, "TZif", 4) != 0) {
        return "not a TZif file";
    }
    n->isut = be32(buf + off + 20);
    n->isstd = be32(buf + off + 24);
    n->leap = be32(buf + off + 28);
    n->time = be32(buf + off + 32);
    n->type = be32(buf + off + 36);
    n->chars = be32(buf + off + 40);
    *data = (size_t)n->time * (size_t)(timesize + 1) + (size_t)n->type * 6 +
            n->chars + (size_t)n->leap * (size_t)(timesize + 4) + n->isstd +
            n->isut;
    if (len - off - 44 < *data) {
        return "truncated";
    }
    return NULL;
}

/*
 * Read the tables of a TZif file into c.  Returns 0, -1 with the reason it
 * is invalid in 'why', or -2 when out of memory.
 */
static int
tzif_parse(struct etl_cron *c, const unsigned char *buf, size_t len,
           char *why, size_t whysize)
{
    struct tzif_counts n;
    size_t data, off = 44;
    int timesize = 4;
    const char *bad;
    const unsigned char *p;

    if ((bad = tzif_header(buf, len, 0, 4, &n, &data)) != NULL) {
        goto invalid;
    }
    if (buf[4] >= '2') {
        off = 44 + data;
        if ((bad = tzif_header(buf, len, off, 8, &n, &data)) != NULL) {
            goto invalid;
        }
        off += 44;
        timesize = 8;
    }
    bad = "leap seconds are not supported";
    if (n.leap > 0) {
        goto invalid;
    }
    bad = "bad local time type count";
    if (n.type == 0 || n.type > 256) {
        goto invalid;
    }
    c->trans = malloc(n.time > 0 ? n.time * sizeof(int64_t) : 1);
    c->trans_type = malloc(n.time > 0 ? n.time : 1);
    c->types = malloc(n.type * sizeof(struct zone_type));
    c->abbrs = malloc(n.chars + 1);
    if (c->trans == NULL || c->trans_type == NULL || c->types == NULL ||
        c->abbrs == NULL) {
        return -2;
    }
    p = buf + off;
    bad = "transition times out of order";
    for (uint32_t i = 0; i < n.time; i++, p += timesize) {
        c->trans[i] = timesize == 8 ? be64(p) : (int32_t)be32(p);
        if (i > 0 && c->trans[i] <= c->trans[i - 1]) {
            goto invalid;
        }
    }
    c->ntrans = n.time;
    bad = "bad local time type index";
    for (uint32_t i = 0; i < n.time; i++, p++) {
        if (*p >= n.type) {
            goto invalid;
        }
        c->trans_type[i] = *p;
    }
    for (uint32_t i = 0; i < n.type; i++, p += 6) {
        int32_t utoff = (int32_t)be32(p);

        bad = "UTC offset out of range";
        if (utoff < -ZONE_MAX_OFF || utoff > ZONE_MAX_OFF) {
            goto invalid;
        }
        bad = "bad abbreviation index";
        if (p[5] >= n.chars) {
            goto invalid;
        }
        c->types[i].utoff = utoff;
        c->types[i].abbr = p[5];
    }
    c->ntypes = n.type;
    memcpy(c->abbrs, p, n.chars);
    c->abbrs[n.chars] = '\0';
    c->nabbrs = n.chars;
    if (timesize == 8) {
        const char *foot = (const char *)buf + off + data;
        const char *nl;
        size_t rest = len - off - data;
        char tzs[128];

        bad = "bad footer";
        if (rest < 2 || foot[0] != '\n' ||
            (nl = memchr(foot + 1, '\n', rest - 1)) == NULL ||
            (size_t)(nl - foot - 1) >= sizeof(tzs)) {
            goto invalid;
        }
        memcpy(tzs, foot + 1, (size_t)(nl - foot - 1));
        tzs[nl - foot - 1] = '\0';
        if (tzs[0] != '\0') {
            if (tz_rule_parse(tzs, &c->rule) < 0) {
                snprintf(why, whysize, "bad TZ string \"%s\"", tzs);
                return -1;
            }
            c->has_rule = true;
        }
    }
    return 0;

invalid:
    snprintf(why, whysize, "%s", bad);
    return -1;
}

/* Why 'path' cannot be opened as a zone file, as detail text; 0 if it can. */
static int
zone_read_file(const char *path, unsigned char **buf, size_t *len,
               char *why, size_t whysize)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    int rc = -1;

    *buf = NULL;
    if (f == NULL) {
        snprintf(why, whysize, "could not open \"%s\": %s", path,
                 strerror(errno));
        return -1;
    }
    if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode)) {
        snprintf(why, whysize, "\"%s\" is not a regular file", path);
    } else if (st.st_size > ZONE_FILE_MAX) {
        snprintf(why, whysize, "\"%s\" is too large for a zone file", path);
    } else if ((*buf = malloc((size_t)st.st_size + 1)) == NULL) {
        snprintf(why, whysize, "out of memory");
    } else if (fread(*buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
        snprintf(why, whysize, "could not read \"%s\"", path);
    } else {
        *len = (size_t)st.st_size;
        rc = 0;
    }
    if (rc < 0) {
        free(*buf);
        *buf = NULL;
    }
    fclose(f);
    return rc;
}

/*
 * Load the zone file 'path' for the zone called 'name': a missing or
 * unreadable file is an unknown zone, a bad one an invalid zone file.
 */
static int
zone_load_file(struct etl_cron *c, const char *path, const char *name,
               struct etl_err *err)
{
    unsigned char *buf;
    size_t len = 0;
    char why[512];
    int rc;

    if (zone_read_file(path, &buf, &len, why, sizeof(why)) < 0) {
        etl_err_set(err, ETL_E_CONFIG, "unknown time zone \"%s\"", name);
        etl_err_detail(err, "%s", why);
        return -1;
    }
    rc = tzif_parse(c, buf, len, why, sizeof(why));
    free(buf);
    if (rc == -2) {
        return etl_err_set(err, ETL_E_NOMEM, "out of memory");
    }
    if (rc < 0) {
        return etl_err_set(err, ETL_E_CONFIG,
                           "invalid time zone file \"%s\": %s", path, why);
    }
    return 0;
}

/* Is 'name' acceptable as a relative zone name under the zone directory? */
static bool
zone_name_ok(const char *name)
{
    return name[0] != '\0' && name[0] != '/' && strstr(name, "..") == NULL;
}

/* The zone directory: $TZDIR if set and not empty, else ZONE_DIR. */
static const char *
zone_dir(void)
{
    const char *dir = getenv("TZDIR");

    return dir != NULL && dir[0] != '\0' ? dir : ZONE_DIR;
}

/* The zone directory path of a name; false if it does not fit. */
static bool
zone_path(const char *name, char *path, size_t size)
{
    return (size_t)snprintf(path, size, "%s/%s", zone_dir(), name) < size;
}

/* The local zone: $TZ, else /etc/localtime, else UTC. */
static int
zone_load_local(struct etl_cron *c, struct etl_err *err)
{
    const char *tz = getenv("TZ");
    char path[4096];
    struct zone_rule rule;

    if (tz == NULL) {
        char link[4096];
        ssize_t n = readlink("/etc/localtime", link, sizeof(link) - 1);
        const char *zi;

        if (access("/etc/localtime", F_OK) != 0) {
            zone_set_utc(c);
            c->zone_name = strdup("UTC");
            return c->zone_name != NULL ? 0 : etl_err_set(err, ETL_E_NOMEM,
                                                          "out of memory");
        }
        link[n > 0 ? n : 0] = '\0';
        zi = strstr(link, "zoneinfo/");
        c->zone_name = strdup(zi != NULL ? zi + 9 : "localtime");
        if (c->zone_name == NULL) {
            return etl_err_set(err, ETL_E_NOMEM, "out of memory");
        }
        return zone_load_file(c, "/etc/localtime", "localtime", err);
    }
    if (tz[0] == ':') {
        tz++;
    }
    if (tz[0] == '\0') {
        zone_set_utc(c);
        c->zone_name = strdup("UTC");
        return c->zone_name != NULL ? 0 : etl_err_set(err, ETL_E_NOMEM,
                                                      "out of memory");
    }
    if ((c->zone_name = strdup(tz)) == NULL) {
        return etl_err_set(err, ETL_E_NOMEM, "out of memory");
    }
    if (tz[0] == '/') {
        return zone_load_file(c, tz, tz, err);
    }
    if (zone_name_ok(tz) && zone_path(tz, path, sizeof(path)) &&
        access(path, F_OK) == 0) {
        return zone_load_file(c, path, tz, err);
    }
    if (tz_rule_parse(tz, &rule) == 0) {
        c->rule = rule;
        c->has_rule = true;
        return 0;
    }
    etl_err_set(err, ETL_E_CONFIG, "unknown time zone \"%s\"", tz);
    etl_err_detail(err, "$TZ is neither a zone under %s nor a POSIX TZ string",
                   zone_dir());
    return -1;
}

/* A named zone. */
static int
zone_load(struct etl_cron *c, const char *tz, struct etl_err *err)
{
    char path[4096];

    if (tz == NULL) {
        return zone_load_local(c, err);
    }
    if ((c->zone_name = strdup(tz)) == NULL) {
        return etl_err_set(err, ETL_E_NOMEM, "out of memory");
    }
    if (!zone_name_ok(tz) || !zone_path(tz, path, sizeof(path))) {
        etl_err_set(err, ETL_E_CONFIG, "unknown time zone \"%s\"", tz);
        etl_err_detail(err, "a zone is a name under the zone directory, "
                       "such as \"Asia/Shanghai\"");
        return -1;
    }
    return zone_load_file(c, path, tz, err);
}

/* ---- the API ---- */

struct etl_cron *
etl_cron_parse(const char *expr, const char *tz, struct etl_err *err)
{
    struct etl_cron *c = calloc(1, sizeof(*c));

    if (c == NULL) {
        etl_err_set(err, ETL_E_NOMEM, "out of memory");
        return NULL;
    }
    if (parse_expr(c, expr, err) < 0 || zone_load(c, tz, err) < 0) {
        etl_cron_free(c);
        return NULL;
    }
    return c;
}

void
etl_cron_free(struct etl_cron *c)
{
    if (c == NULL) {
        return;
    }
    free(c->zone_name);
    free(c->trans);
    free(c->trans_type);
    free(c->types);
    free(c->abbrs);
    free(c);
}

const char *
etl_cron_zone(const struct etl_cron *c)
{
    return c->zone_name;
}

/* Does day 'days' (y-m-d) match the day fields (Vixie's OR rule)? */
static bool
day_matches(const struct etl_cron *c, int64_t days, int d)
{
    bool mday = (c->mdays >> d) & 1;
    bool wday = (c->wdays >> weekday(days)) & 1;

    if (c->mday_star || c->wday_star) {
        return mday && wday;
    }
    return mday || wday;
}

/*
 * The first matching wall minute at or after 'wall' (a whole minute) and
 * before 'limit', or NONE.  Skips whole months and days, then hours.
 */
static int64_t
match_from(const struct etl_cron *c, int64_t wall, int64_t limit)
{
    int64_t days = floor_div(wall, DAY);
    int sod = (int)(wall - days * DAY);
    int h = sod / 3600, m = sod % 3600 / 60;

    while (days * DAY < limit) {
        int64_t y;
        int mo, d;

        civil_from_days(days, &y, &mo, &d);
        if (!((c->months >> mo) & 1)) {
            days = mo == 12 ? days_from_civil(y + 1, 1, 1)
                            : days_from_civil(y, mo + 1, 1);
            h = m = 0;
            continue;
        }
        if (day_matches(c, days, d)) {
            for (; h < 24; h++, m = 0) {
                uint64_t mins = c->minutes & (~0ULL << m);

                if (((c->hours >> h) & 1) && mins != 0) {
                    int64_t t = days * DAY + h * 3600 +
                                __builtin_ctzll(mins) * 60;

                    return t < limit ? t : NONE;
                }
            }
        }
        days++;
        h = m = 0;
    }
    return NONE;
}

/* The first whole minute at or after a wall time. */
static int64_t
ceil_minute(int64_t wall)
{
    return -floor_div(-wall, 60) * 60;
}

int64_t
etl_cron_next(const struct etl_cron *c, int64_t after)
{
    int64_t horizon, t;

    if (c == NULL || after < ETL_CRON_MIN_TIME || after > ETL_CRON_MAX_TIME) {
        return -1;
    }
    horizon = after + (int64_t)ETL_CRON_HORIZON_DAYS * DAY;
    t = after + 1;
    while (t <= horizon) {
        int32_t off = zone_offset(c, t);
        int64_t e = zone_next_change(c, t);
        int64_t end = e < horizon + 1 ? e : horizon + 1;
        int64_t wall = ceil_minute(t + off);

        /* Wall times of this segment: t + off .. end + off. */
        while ((wall = match_from(c, wall, end + off)) != NONE) {
            int64_t fire = wall - off;

            if (c->wild || zone_first_instant(c, wall) == fire) {
                return fire;
            }
            wall += 60;             /* a repeat of a fixed time: skip it */
        }
        if (e > horizon) {
            break;
        }
        if (!c->wild) {
            /* Wall times skipped by a gap at e fire at e. */
            int32_t noff = zone_offset(c, e);

            if (noff > off &&
                match_from(c, ceil_minute(e + off), e + noff) != NONE) {
                return e;
            }
        }
        t = e;
    }
    return -1;
}

int
etl_cron_format_time(const struct etl_cron *c, int64_t t, char *out,
                     size_t size)
{
    int32_t off;
    const char *abbr;
    int64_t wall, days, y;
    int mo, d, sod, a;
    char sign;

    if (t < ETL_CRON_MIN_TIME ||
        t > ETL_CRON_MAX_TIME + (int64_t)ETL_CRON_HORIZON_DAYS * DAY) {
        return snprintf(out, size, "(out of range)");
    }
    zone_info(c, t, &off, &abbr);
    wall = t + off;
    days = floor_div(wall, DAY);
    sod = (int)(wall - days * DAY);
    civil_from_days(days, &y, &mo, &d);
    sign = off < 0 ? '-' : '+';
    a = off < 0 ? -off : off;
    if (a % 60 != 0) {
        return snprintf(out, size,
                        "%04lld-%02d-%02d %02d:%02d %s (%c%02d:%02d:%02d)",
                        (long long)y, mo, d, sod / 3600, sod % 3600 / 60, abbr,
                        sign, a / 3600, a % 3600 / 60, a % 60);
    }
    return snprintf(out, size, "%04lld-%02d-%02d %02d:%02d %s (%c%02d:%02d)",
                    (long long)y, mo, d, sod / 3600, sod % 3600 / 60, abbr,
                    sign, a / 3600, a % 3600 / 60);
}

int
etl_cron_format_next(const struct etl_cron *c, int64_t after, int n,
                     char *out, size_t size)
{
    size_t used = 0;
    int count = 0;

    if (size > 0) {
        out[0] = '\0';
    }
    for (; count < n; count++) {
        char line[128];
        int len;

        after = etl_cron_next(c, after);
        if (after == -1) {
            break;
        }
        len = etl_cron_format_time(c, after, line, sizeof(line));
        if (len < 0 || (size_t)len >= sizeof(line) ||
            used + (size_t)len + 2 > size) {
            break;
        }
        memcpy(out + used, line, (size_t)len);
        out[used + (size_t)len] = '\n';
        used += (size_t)len + 1;
        out[used] = '\0';
    }
    return count;
}
