/*
 * cron.c
 *    Schedules: the five-field cron parser (bitsets per field), the checks
 *    that a schedule's zone exists, and the search for the next fire time.
 *    See cron.h for the syntax and the DST rules.
 *
 *    The time zone arithmetic is glibc's own: while a conversion runs, TZ
 *    names the schedule's zone (the zone file's path), tzset() loads it and
 *    localtime_r() gives the UTC offset in force at an instant; TZ and
 *    glibc's zone state are put back before the function returns.  Setting
 *    TZ is not thread-safe: ewc-etl is single-threaded (workers are
 *    processes), and nothing here may be called from two threads.
 *
 *    Times are int64 seconds.  "Wall" times are local seconds: the UTC
 *    instant plus the UTC offset in force, so that gmtime_r() of a wall
 *    time gives the local calendar date and time of day.  The next-time
 *    search walks segments of constant offset: inside one, wall time is
 *    UTC plus a constant, so a plain calendar search over the bitsets finds
 *    the first matching wall minute, skipping by month, day and hour; the
 *    end of a segment (a transition) is found by probing the offset.
 *
 *    glibc falls back to UTC, silently, for a zone it cannot read and reads
 *    a bad TZ string as far as it can; so the parser checks zone names,
 *    files and TZ strings itself, and an unknown zone is a config error.
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
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DAY 86400
#define NONE INT64_MIN

/* The system tzdata, unless $TZDIR says otherwise (as glibc). */
#define ZONE_DIR "/usr/share/zoneinfo"

/*
 * Largest TZif file accepted: the biggest in tzdata are ~10 KB ("fat"
 * files with transitions to 2037); anything far larger is not a zone.
 */
#define ZONE_FILE_MAX (256 * 1024)

/* A TZif file starts with "TZif", a version byte and a 44-byte header. */
#define ZONE_HEADER_LEN 44

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

/* Longest time zone abbreviation accepted in a TZ string ("<+0530>"). */
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

struct etl_cron {
    uint64_t minutes;               /* bit n: minute n */
    uint32_t hours;                 /* bit n: hour n */
    uint32_t mdays;                 /* bits 1-31 */
    uint16_t months;                /* bits 1-12 */
    uint8_t wdays;                  /* bits 0-6, Sunday 0 */
    bool mday_star, wday_star;      /* the day field starts with '*' */
    bool wild;                      /* minute or hour starts with '*' */

    char *zone_name;                /* etl_cron_zone */
    char *tz;                       /* TZ while converting; NULL: unset */
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

/* ---- POSIX TZ strings, syntax only (glibc does not check it) ---- */

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
tz_abbr(const char *p)
{
    size_t n = 0;

    if (*p == '<') {
        for (p++; *p != '>'; p++, n++) {
            if ((!isalnum((unsigned char)*p) && *p != '+' && *p != '-') ||
                n + 1 >= ZONE_ABBR_MAX) {
                return NULL;
            }
        }
        p++;
    } else {
        for (; isalpha((unsigned char)*p); p++, n++) {
            if (n + 1 >= ZONE_ABBR_MAX) {
                return NULL;
            }
        }
    }
    return n >= 3 ? p : NULL;
}

/* [+-]hh[:mm[:ss]], hours up to 'maxh'. */
static const char *
tz_time(const char *p, int maxh)
{
    int v;

    if (*p == '+' || *p == '-') {
        p++;
    }
    if ((p = tz_digits(p, 3, &v)) == NULL || v > maxh) {
        return NULL;
    }
    for (int i = 0; i < 2 && *p == ':'; i++) {
        if ((p = tz_digits(p + 1, 2, &v)) == NULL || v > 59) {
            return NULL;
        }
    }
    return p;
}

/* A rule date, Jn (1-365), n (0-365) or Mm.w.d, with an optional /time. */
static const char *
tz_date(const char *p)
{
    int n, m, w, d;

    if (*p == 'J') {
        if ((p = tz_digits(p + 1, 3, &n)) == NULL || n < 1 || n > 365) {
            return NULL;
        }
    } else if (*p == 'M') {
        if ((p = tz_digits(p + 1, 2, &m)) == NULL || m < 1 || m > 12 ||
            *p != '.' || (p = tz_digits(p + 1, 1, &w)) == NULL ||
            w < 1 || w > 5 || *p != '.' ||
            (p = tz_digits(p + 1, 1, &d)) == NULL || d > 6) {
            return NULL;
        }
    } else if ((p = tz_digits(p, 3, &n)) == NULL || n > 365) {
        return NULL;
    }
    if (*p == '/') {
        p = tz_time(p + 1, 167);
    }
    return p;
}

/*
 * Is 's' a POSIX TZ string?
 *     std offset [dst [offset] [,start[/time],end[/time]]]
 * (without rules glibc uses the US ones, from $TZDIR/posixrules).
 */
static bool
tz_string_ok(const char *s)
{
    const char *p = s;

    if ((p = tz_abbr(p)) == NULL || (p = tz_time(p, 24)) == NULL) {
        return false;
    }
    if (*p == '\0') {
        return true;
    }
    if ((p = tz_abbr(p)) == NULL) {
        return false;
    }
    if (*p != '\0' && *p != ',' && (p = tz_time(p, 24)) == NULL) {
        return false;
    }
    if (*p == '\0') {
        return true;
    }
    return *p == ',' && (p = tz_date(p + 1)) != NULL && *p == ',' &&
           (p = tz_date(p + 1)) != NULL && *p == '\0';
}

/* ---- the zone ---- */

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

/* "unknown time zone" with the reason as detail; returns -1. */
static int
zone_unknown(const char *name, const char *why, struct etl_err *err)
{
    etl_err_set(err, ETL_E_CONFIG, "unknown time zone \"%s\"", name);
    etl_err_detail(err, "%s", why);
    return -1;
}

/*
 * Check that 'path' can be the zone file of the zone called 'name': a
 * missing, unreadable, odd or huge file is an unknown zone (the reason in
 * the detail), one without a TZif header an invalid zone file.  The file's
 * contents are glibc's to read.
 */
static int
zone_check_file(const char *path, const char *name, struct etl_err *err)
{
    unsigned char head[ZONE_HEADER_LEN];
    FILE *f = fopen(path, "rb");
    char why[sizeof(err->detail)] = "";
    struct stat st;
    size_t n = 0;

    if (f == NULL) {
        snprintf(why, sizeof(why), "could not open \"%s\": %s", path,
                 strerror(errno));
        return zone_unknown(name, why, err);
    }
    if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode)) {
        snprintf(why, sizeof(why), "\"%s\" is not a regular file", path);
    } else if (st.st_size > ZONE_FILE_MAX) {
        snprintf(why, sizeof(why), "\"%s\" is too large for a zone file",
                 path);
    } else {
        n = fread(head, 1, sizeof(head), f);
    }
    fclose(f);
    if (why[0] != '\0') {
        return zone_unknown(name, why, err);
    }
    if (n < sizeof(head)) {
        return etl_err_set(err, ETL_E_CONFIG,
                           "invalid time zone file \"%s\": truncated", path);
    }
    if (memcmp(head, "TZif", 4) != 0) {
        return etl_err_set(err, ETL_E_CONFIG,
                           "invalid time zone file \"%s\": not a TZif file",
                           path);
    }
    return 0;
}

/* Set c's zone name and the TZ value of its conversions (NULL: unset). */
static int
zone_set(struct etl_cron *c, const char *name, const char *tz,
         struct etl_err *err)
{
    if ((c->zone_name = strdup(name)) == NULL ||
        (tz != NULL && (c->tz = strdup(tz)) == NULL)) {
        return etl_err_set(err, ETL_E_NOMEM, "out of memory");
    }
    return 0;
}

/*
 * The local zone as glibc picks it: $TZ (":name", "name", "/path", a POSIX
 * TZ string; empty is UTC), else /etc/localtime, else UTC.  The $TZ text
 * is kept, so that later changes to it do not move the schedule.
 */
static int
zone_load_local(struct etl_cron *c, struct etl_err *err)
{
    const char *tz = getenv("TZ");
    const char *name;
    char path[4096];

    if (tz == NULL) {
        char link[4096];
        ssize_t n;
        const char *zi;

        if (access("/etc/localtime", F_OK) != 0) {
            return zone_set(c, "UTC", NULL, err);
        }
        n = readlink("/etc/localtime", link, sizeof(link) - 1);
        link[n > 0 ? n : 0] = '\0';
        zi = strstr(link, "zoneinfo/");
        if (zone_set(c, zi != NULL ? zi + 9 : "localtime", NULL, err) < 0) {
            return -1;
        }
        return zone_check_file("/etc/localtime", "localtime", err);
    }
    name = tz[0] == ':' ? tz + 1 : tz;
    if (zone_set(c, name[0] != '\0' ? name : "UTC", tz, err) < 0) {
        return -1;
    }
    if (name[0] == '\0') {
        return 0;
    }
    if (name[0] == '/') {
        return zone_check_file(name, name, err);
    }
    if (zone_name_ok(name) && zone_path(name, path, sizeof(path)) &&
        access(path, F_OK) == 0) {
        return zone_check_file(path, name, err);
    }
    if (tz_string_ok(name)) {
        return 0;
    }
    snprintf(path, sizeof(path), "$TZ is neither a zone under %s nor a "
             "POSIX TZ string", zone_dir());
    return zone_unknown(name, path, err);
}

/* A named zone, or for NULL the local one. */
static int
zone_load(struct etl_cron *c, const char *tz, struct etl_err *err)
{
    char path[4096];

    if (tz == NULL) {
        return zone_load_local(c, err);
    }
    if (!zone_name_ok(tz) || !zone_path(tz, path, sizeof(path))) {
        return zone_unknown(tz, "a zone is a name under the zone directory, "
                            "such as \"Asia/Shanghai\"", err);
    }
    if (zone_set(c, tz, path, err) < 0) {
        return -1;
    }
    return zone_check_file(path, tz, err);
}

/* The TZ in force before zone_enter, for zone_leave to put back. */
struct zone_env {
    char *saved;                    /* a copy of $TZ, NULL if unset */
    bool switched;                  /* TZ was changed */
};

/*
 * Make c's zone glibc's local zone: TZ set (or unset) as c wants and
 * tzset() called.  Returns 0, or -1 when out of memory, nothing changed.
 * Each zone_enter is paired with a zone_leave.  Single-threaded only.
 */
static int
zone_enter(const struct etl_cron *c, struct zone_env *env)
{
    const char *cur = getenv("TZ");

    env->saved = NULL;
    env->switched = false;
    if (cur == NULL ? c->tz == NULL
                    : c->tz != NULL && strcmp(cur, c->tz) == 0) {
        tzset();                    /* cheap; TZ may be newer than glibc's */
        return 0;
    }
    if (cur != NULL && (env->saved = strdup(cur)) == NULL) {
        return -1;
    }
    if ((c->tz != NULL ? setenv("TZ", c->tz, 1) : unsetenv("TZ")) < 0) {
        free(env->saved);
        return -1;
    }
    env->switched = true;
    tzset();
    return 0;
}

/* Put back the TZ (and glibc's zone) that zone_enter found. */
static void
zone_leave(struct zone_env *env)
{
    if (!env->switched) {
        return;
    }
    if (env->saved != NULL) {
        (void)setenv("TZ", env->saved, 1);
        free(env->saved);
    } else {
        (void)unsetenv("TZ");
    }
    tzset();
}

/* UTC offset in force at t in glibc's local zone (seconds, east positive). */
static int32_t
zone_offset(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;

    return localtime_r(&tt, &tm) != NULL ? (int32_t)tm.tm_gmtoff : 0;
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

        if (zone_offset(b) != off) {
            while (b - t > 1) {
                int64_t m = t + (b - t) / 2;

                if (zone_offset(m) == off) {
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
    int32_t cand[2] = { zone_offset(wall - ZONE_MAX_OFF),
                        zone_offset(wall + ZONE_MAX_OFF) };

    for (int i = 0; i < 2; i++) {
        if (wall - cand[i] < fire && zone_offset(wall - cand[i]) == cand[i]) {
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
        if (zone_load(c, tz, err) == 0) {
            return c;
        }
    } else if (c == NULL) {
        etl_err_set(err, ETL_E_NOMEM, "out of memory");
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
    free(c->zone_name);
    free(c->tz);
    free(c);
}

const char *
etl_cron_zone(const struct etl_cron *c)
{
    return c->zone_name;
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
    int32_t off = zone_offset(t);
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
        noff = zone_offset(e);
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
    struct zone_env env;
    int64_t fire;

    if (c == NULL || after < ETL_CRON_MIN_TIME || after > ETL_CRON_MAX_TIME ||
        zone_enter(c, &env) < 0) {
        return -1;
    }
    fire = next_fire(c, after);
    zone_leave(&env);
    return fire;
}

int
etl_cron_format_time(const struct etl_cron *c, int64_t t, char *out,
                     size_t size)
{
    time_t tt = (time_t)t;
    struct zone_env env;
    struct tm tm;
    char abbr[32];
    long off, a;
    char sign;

    if (t < ETL_CRON_MIN_TIME ||
        t > ETL_CRON_MAX_TIME + (int64_t)ETL_CRON_HORIZON_DAYS * DAY) {
        return snprintf(out, size, "(out of range)");
    }
    if (zone_enter(c, &env) < 0) {
        return snprintf(out, size, "(out of memory)");
    }
    localtime_r(&tt, &tm);
    /* tm_zone points into glibc's zone, which zone_leave replaces */
    snprintf(abbr, sizeof(abbr), "%s", tm.tm_zone != NULL ? tm.tm_zone : "");
    zone_leave(&env);
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
