/*
 * cron.c
 *    Schedules: the five-field cron parser (bitsets per field) and the
 *    search for the next fire time.  See cron.h for the syntax and the DST
 *    rules.
 *
 *    The time zone arithmetic is glibc's own (tz.c): while a conversion
 *    runs, TZ names the schedule's zone, and localtime_r() gives the UTC
 *    offset in force at an instant; TZ and glibc's zone are put back before
 *    the function returns.  Single-threaded only, as the process is.
 *
 *    Times are int64 seconds.  "Wall" times are local seconds: the UTC
 *    instant plus the UTC offset in force, so that gmtime_r() of a wall
 *    time gives the local calendar date and time of day.  The next-time
 *    search walks segments of constant offset: inside one, wall time is
 *    UTC plus a constant, so a plain calendar search over the bitsets finds
 *    the first matching wall minute, skipping by month, day and hour; the
 *    end of a segment (a transition) is found by probing the offset.
 *
 *    Next door: tz.c checks and switches the zone; pipeline.c holds the
 *    schedule texts.
 */
#include "cron.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "tz.h"

#define DAY 86400
#define NONE INT64_MIN

/*
 * Largest |UTC offset| assumed (seconds).  Real ones stay within +-15h
 * (local mean times included); POSIX TZ strings allow 24:59:59.  It bounds
 * the window where one wall time can exist (wall_repeats).
 */
#define ZONE_MAX_OFF (26 * 3600)

/*
 * Step of the probe for the next offset change: a change is found when
 * the offset at a probe differs from the one before, then located to the
 * second by bisection.  A change and its reversal less than six hours
 * apart would go unseen; tzdata has none (DST rules are months apart).
 */
#define ZONE_PROBE (6 * 3600)

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

struct etl_cron {
    uint64_t minutes;               /* bit n: minute n */
    uint32_t hours;                 /* bit n: hour n */
    uint32_t mdays;                 /* bits 1-31 */
    uint16_t months;                /* bits 1-12 */
    uint8_t wdays;                  /* bits 0-6, Sunday 0 */
    bool mday_star, wday_star;      /* the day field starts with '*' */
    bool wild;                      /* minute or hour starts with '*' */

    struct etl_tz zone;
};

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

/*
 * The first instant in (t, end] where the offset is no longer 'off' (the
 * offset at t), or NONE.  Probes every ZONE_PROBE seconds, then bisects.
 */
static int64_t
zone_change(int64_t t, int64_t end, int32_t off)
{
    while (t < end) {
        int64_t b = end - t > ZONE_PROBE ? t + ZONE_PROBE : end;

        if (etl_tz_offset(b) != off) {
            while (b - t > 1) {
                int64_t m = t + (b - t) / 2;

                if (etl_tz_offset(m) == off) {
                    t = m;
                } else {
                    b = m;
                }
            }
            return b;
        }
        t = b;
    }
    return NONE;
}

/*
 * Does wall time 'wall', reached at instant 'fire', also occur earlier (a
 * fall-back overlap)?  An earlier instant has a larger offset, one of those
 * in force within ZONE_MAX_OFF of the wall time.
 */
static bool
wall_repeats(int64_t wall, int64_t fire)
{
    int32_t cand[2] = { etl_tz_offset(wall - ZONE_MAX_OFF),
                        etl_tz_offset(wall + ZONE_MAX_OFF) };

    for (int i = 0; i < 2; i++) {
        if (wall - cand[i] < fire && etl_tz_offset(wall - cand[i]) == cand[i]) {
            return true;
        }
    }
    return false;
}

/* ---- the API ---- */

struct etl_cron *
etl_cron_parse(const char *expr, const char *tz, enum etl_cron_part *bad,
               struct etl_err *err)
{
    struct etl_cron *c = calloc(1, sizeof(*c));
    enum etl_cron_part part = ETL_CRON_EXPR;

    if (c != NULL && parse_expr(c, expr, err) == 0) {
        part = ETL_CRON_ZONE;
        if (etl_tz_load(&c->zone, tz, err) == 0) {
            return c;
        }
    } else if (c == NULL) {
        etl_err_nomem(err);
    }
    if (bad != NULL) {
        *bad = part;
    }
    etl_cron_free(c);
    return NULL;
}

void
etl_cron_free(struct etl_cron *c)
{
    if (c == NULL) {
        return;
    }
    etl_tz_free(&c->zone);
    free(c);
}

const char *
etl_cron_zone(const struct etl_cron *c)
{
    return c->zone.name;
}

/* Does the day (day of month 'mday', weekday 'wday') match (Vixie's OR)? */
static bool
day_matches(const struct etl_cron *c, int mday, int wday)
{
    bool m = (c->mdays >> mday) & 1;
    bool w = (c->wdays >> wday) & 1;

    if (c->mday_star || c->wday_star) {
        return m && w;
    }
    return m || w;
}

/*
 * The first matching wall minute at or after 'wall' (a whole minute) and
 * before 'limit', or NONE.  Skips whole months and days, then hours; the
 * calendar is gmtime_r's and timegm's, on wall seconds.
 */
static int64_t
match_from(const struct etl_cron *c, int64_t wall, int64_t limit)
{
    while (wall < limit) {
        time_t tt = (time_t)wall;
        struct tm tm;
        int64_t day;

        gmtime_r(&tt, &tm);
        day = wall - tm.tm_hour * 3600 - tm.tm_min * 60 - tm.tm_sec;
        if (!((c->months >> (tm.tm_mon + 1)) & 1)) {
            tm.tm_mon++;
            tm.tm_mday = 1;
            tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
            wall = (int64_t)timegm(&tm);
            continue;
        }
        if (day_matches(c, tm.tm_mday, tm.tm_wday)) {
            for (int h = tm.tm_hour, m = tm.tm_min; h < 24; h++, m = 0) {
                uint64_t mins = c->minutes & (~0ULL << m);

                if (((c->hours >> h) & 1) && mins != 0) {
                    int64_t t = day + h * 3600 + __builtin_ctzll(mins) * 60;

                    return t < limit ? t : NONE;
                }
            }
        }
        wall = day + DAY;
    }
    return NONE;
}

/* The first whole minute at or after a wall time. */
static int64_t
ceil_minute(int64_t wall)
{
    return -floor_div(-wall, 60) * 60;
}

/*
 * etl_cron_next in the local zone, 'after' in range.  Walks the segments
 * of constant offset from after + 1: in each, the first matching wall
 * minute before the next change fires (a fixed time only at its first
 * occurrence); at a spring-forward change, a fixed time in the gap fires
 * at the change.
 */
static int64_t
next_fire(const struct etl_cron *c, int64_t after)
{
    int64_t horizon = after + (int64_t)ETL_CRON_HORIZON_DAYS * DAY;
    int64_t t = after + 1;
    int32_t off = etl_tz_offset(t);
    int64_t wall = ceil_minute(t + off);

    for (;;) {
        int64_t w = match_from(c, wall, horizon + 1 + off);
        int64_t fire = w != NONE ? w - off : horizon;
        int64_t e = zone_change(t, fire, off);
        int32_t noff;

        if (e == NONE) {
            if (w == NONE) {
                return -1;
            }
            if (c->wild || !wall_repeats(w, fire)) {
                return fire;
            }
            wall = w + 60;          /* a repeat of a fixed time: skip it */
            continue;
        }
        noff = etl_tz_offset(e);
        if (!c->wild && noff > off &&
            match_from(c, ceil_minute(e + off), e + noff) != NONE) {
            return e;               /* wall times skipped by the gap */
        }
        t = e;
        off = noff;
        wall = ceil_minute(t + off);
    }
}

int64_t
etl_cron_next(const struct etl_cron *c, int64_t after)
{
    struct etl_tz_env env;
    int64_t fire;

    if (c == NULL || after < ETL_CRON_MIN_TIME || after > ETL_CRON_MAX_TIME ||
        etl_tz_enter(&c->zone, &env) < 0) {
        return -1;
    }
    fire = next_fire(c, after);
    etl_tz_leave(&env);
    return fire;
}

int
etl_cron_format_time(const struct etl_cron *c, int64_t t, char *out,
                     size_t size)
{
    time_t tt = (time_t)t;
    struct etl_tz_env env;
    struct tm tm;
    char abbr[32];
    long off, a;
    char sign;

    if (t < ETL_CRON_MIN_TIME ||
        t > ETL_CRON_MAX_TIME + (int64_t)ETL_CRON_HORIZON_DAYS * DAY) {
        return snprintf(out, size, "(out of range)");
    }
    if (etl_tz_enter(&c->zone, &env) < 0) {
        return snprintf(out, size, "(out of memory)");
    }
    localtime_r(&tt, &tm);
    /* tm_zone points into glibc's zone, which zone_leave replaces */
    snprintf(abbr, sizeof(abbr), "%s", tm.tm_zone != NULL ? tm.tm_zone : "");
    etl_tz_leave(&env);
    off = tm.tm_gmtoff;
    sign = off < 0 ? '-' : '+';
    a = off < 0 ? -off : off;
    if (a % 60 != 0) {
        return snprintf(out, size,
                        "%04d-%02d-%02d %02d:%02d %s (%c%02ld:%02ld:%02ld)",
                        tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                        tm.tm_hour, tm.tm_min, abbr, sign, a / 3600,
                        a % 3600 / 60, a % 60);
    }
    return snprintf(out, size, "%04d-%02d-%02d %02d:%02d %s (%c%02ld:%02ld)",
                    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                    tm.tm_min, abbr, sign, a / 3600, a % 3600 / 60);
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
