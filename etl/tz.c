/*
 * tz.c
 *    The zone of a schedule, for glibc's tz code: the checks that it exists
 *    and that its TZif file is sound (glibc takes any zone it cannot read
 *    for UTC, silently, and reads a bad TZ string as far as it can; it does
 *    the conversions, so only the structure is checked here, no tables are
 *    built) and the switch of TZ around a conversion.
 *    See tz.h.  The user is cron.c.
 */
#include "tz.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The system tzdata, unless $TZDIR says otherwise (as glibc). */
#define ZONE_DIR "/usr/share/zoneinfo"

/*
 * Largest TZif file accepted: the biggest in tzdata are ~10 KB ("fat"
 * files with transitions to 2037); anything far larger is not a zone.
 */
#define ZONE_FILE_MAX (256 * 1024)

/* A TZif file starts with "TZif", a version byte and a 44-byte header. */
#define ZONE_HEADER_LEN 44

/* A transition's type index is one byte: at most 256 types. */
#define ZONE_TYPES_MAX 256

/* Largest UTC offset of a zone file's type: 26 hours (RFC 8536 says under). */
#define ZONE_OFFSET_MAX (26 * 3600)

/* Longest footer TZ string accepted; tzdata's are under 50 bytes. */
#define ZONE_FOOTER_MAX 128

/* Longest time zone abbreviation accepted in a TZ string ("<+0530>"). */
#define ZONE_ABBR_MAX 16

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

/* ---- zone names and files ---- */

/* Is 'name' acceptable as a relative zone name under the zone directory? */
static bool
tz_name_ok(const char *name)
{
    return name[0] != '\0' && name[0] != '/' && strstr(name, "..") == NULL;
}

/* The zone directory: $TZDIR if set and not empty, else ZONE_DIR. */
static const char *
tz_dir(void)
{
    const char *dir = getenv("TZDIR");

    return dir != NULL && dir[0] != '\0' ? dir : ZONE_DIR;
}

/* The zone directory path of a name; false if it does not fit. */
static bool
tz_path(const char *name, char *path, size_t size)
{
    return (size_t)snprintf(path, size, "%s/%s", tz_dir(), name) < size;
}

/* "unknown time zone" with the reason as detail; returns -1. */
static int
tz_unknown(const char *name, const char *why, struct etl_err *err)
{
    etl_err_set(err, ETL_E_CONFIG, "unknown time zone \"%s\"", name);
    etl_err_detail(err, "%s", why);
    return -1;
}

/* ---- TZif files: the structure glibc takes for UTC when it is wrong ---- */

/* Big-endian integers of a TZif file. */
static uint32_t
tzif_be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
           (uint32_t)p[2] << 8 | p[3];
}

/* Transition time i of a data block with 'timesize'-byte times. */
static int64_t
tzif_time(const unsigned char *p, uint32_t i, size_t timesize)
{
    p += (size_t)i * timesize;
    if (timesize == 4) {
        return (int32_t)tzif_be32(p);
    }
    return (int64_t)((uint64_t)tzif_be32(p) << 32 | tzif_be32(p + 4));
}

/* The six counts of a TZif header, in file order. */
struct tzif_counts {
    uint32_t isut, isstd, leap, time, type, chars;
};

/*
 * The header at 'off' of a 'len'-byte file and the size of its data block
 * (*data), which must fit the file.  NULL, or why the file is invalid.
 */
static const char *
tzif_header(const unsigned char *buf, size_t len, size_t off, size_t timesize,
            struct tzif_counts *n, size_t *data)
{
    const unsigned char *h = buf + off;
    uint64_t size;

    if (len < off || len - off < ZONE_HEADER_LEN) {
        return "truncated";
    }
    if (memcmp(h, "TZif", 4) != 0) {
        return "not a TZif file";
    }
    n->isut = tzif_be32(h + 20);
    n->isstd = tzif_be32(h + 24);
    n->leap = tzif_be32(h + 28);
    n->time = tzif_be32(h + 32);
    n->type = tzif_be32(h + 36);
    n->chars = tzif_be32(h + 40);
    size = (uint64_t)n->time * (timesize + 1) + (uint64_t)n->type * 6 +
           n->chars + (uint64_t)n->leap * (timesize + 4) + n->isstd + n->isut;
    if (size > len - off - ZONE_HEADER_LEN) {
        return "truncated";
    }
    *data = (size_t)size;
    return NULL;
}

/*
 * The tables of the data block 'p' that glibc reads: types and
 * abbreviations to point at, transitions in order, sane offsets, no leap
 * seconds (the clock ewc-etl reads has none).  NULL, or what is wrong.
 */
static const char *
tzif_tables(const unsigned char *p, const struct tzif_counts *n,
            size_t timesize)
{
    const unsigned char *idx = p + (size_t)n->time * timesize;
    const unsigned char *type = idx + n->time;

    if (n->leap > 0) {
        return "leap seconds are not supported";
    }
    if (n->type == 0 || n->type > ZONE_TYPES_MAX) {
        return "bad local time type count";
    }
    if (n->chars == 0) {
        return "bad abbreviation count";
    }
    for (uint32_t i = 0; i < n->time; i++) {
        if (idx[i] >= n->type) {
            return "bad local time type index";
        }
        if (i > 0 && tzif_time(p, i, timesize) <= tzif_time(p, i - 1, timesize)) {
            return "transition times out of order";
        }
    }
    for (uint32_t i = 0; i < n->type; i++, type += 6) {
        int32_t utoff = (int32_t)tzif_be32(type);

        if (utoff < -ZONE_OFFSET_MAX || utoff > ZONE_OFFSET_MAX) {
            return "UTC offset out of range";
        }
        if (type[5] >= n->chars) {
            return "bad abbreviation index";
        }
    }
    return NULL;
}

/*
 * The footer of a version 2+ file, the 'rest' bytes after its second data
 * block: "\n", a TZ string (empty: none), "\n", then the end of the file.
 * The TZ string must be POSIX syntax (glibc reads a bad one as far as it
 * can).  0, or -1 with why not in 'why'.
 */
static int
tzif_footer(const unsigned char *p, size_t rest, char *why, size_t size)
{
    const char *s = (const char *)p + 1;
    char tzs[ZONE_FOOTER_MAX];
    size_t n = rest >= 2 ? rest - 2 : 0;

    if (rest < 2 || p[0] != '\n' || p[rest - 1] != '\n' ||
        n >= sizeof(tzs) || memchr(s, '\n', n) != NULL ||
        memchr(s, '\0', n) != NULL) {
        snprintf(why, size, "bad footer");
        return -1;
    }
    memcpy(tzs, s, n);
    tzs[n] = '\0';
    if (n > 0 && !tz_string_ok(tzs)) {
        snprintf(why, size, "bad TZ string \"%s\"", tzs);
        return -1;
    }
    return 0;
}

/*
 * Check the structure of a TZif file 'buf' of 'len' bytes: the counts of
 * each header fit the file, the tables glibc reads (the second, 64-bit
 * block of a version 2+ file) and the footer make sense.  0, or -1 with
 * why the file is invalid in 'why'.
 */
static int
tzif_check(const unsigned char *buf, size_t len, char *why, size_t size)
{
    struct tzif_counts n;
    size_t data, off = ZONE_HEADER_LEN;
    size_t timesize = 4;
    const char *bad;

    if ((bad = tzif_header(buf, len, 0, 4, &n, &data)) == NULL &&
        buf[4] >= '2') {
        off += data;
        timesize = 8;
        if ((bad = tzif_header(buf, len, off, 8, &n, &data)) == NULL) {
            off += ZONE_HEADER_LEN;
        }
    }
    if (bad == NULL) {
        bad = tzif_tables(buf + off, &n, timesize);
    }
    if (bad != NULL) {
        snprintf(why, size, "%s", bad);
        return -1;
    }
    return timesize == 8 ? tzif_footer(buf + off + data, len - off - data,
                                       why, size)
                         : 0;
}

/*
 * Read 'path', the zone file of the zone called 'name', into *buf (*len
 * bytes; the caller frees it): a missing, unreadable, odd or huge file is
 * an unknown zone, the reason in the detail.
 */
static int
tz_read_file(const char *path, const char *name, unsigned char **buf,
             size_t *len, struct etl_err *err)
{
    FILE *f = fopen(path, "rb");
    char why[sizeof(err->detail)] = "";
    struct stat st;

    *buf = NULL;
    if (f == NULL) {
        snprintf(why, sizeof(why), "could not open \"%s\": %s", path,
                 strerror(errno));
        return tz_unknown(name, why, err);
    }
    if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode)) {
        snprintf(why, sizeof(why), "\"%s\" is not a regular file", path);
    } else if (st.st_size > ZONE_FILE_MAX) {
        snprintf(why, sizeof(why), "\"%s\" is too large for a zone file",
                 path);
    } else if ((*buf = malloc((size_t)st.st_size + 1)) == NULL) {
        fclose(f);
        return etl_err_nomem(err);
    } else {
        *len = fread(*buf, 1, (size_t)st.st_size, f);
        if (ferror(f)) {
            snprintf(why, sizeof(why), "could not read \"%s\"", path);
            free(*buf);
            *buf = NULL;
        }
    }
    fclose(f);
    return why[0] != '\0' ? tz_unknown(name, why, err) : 0;
}

/*
 * Check that 'path' can be the zone file of the zone called 'name': see
 * tz_read_file for an unknown zone; a file that is not TZif, or whose
 * structure is wrong, is an invalid zone file ("invalid time zone file
 * \"path\": why", detail: the zone).  Its times are glibc's to read.
 */
static int
tz_check_file(const char *path, const char *name, struct etl_err *err)
{
    char why[sizeof(err->msg)];
    unsigned char *buf;
    size_t len = 0;
    int rc;

    if (tz_read_file(path, name, &buf, &len, err) < 0) {
        return -1;
    }
    rc = tzif_check(buf, len, why, sizeof(why));
    free(buf);
    if (rc < 0) {
        etl_err_set(err, ETL_E_CONFIG, "invalid time zone file \"%s\": %s",
                    path, why);
        etl_err_detail(err, "the file of time zone \"%s\"", name);
    }
    return rc;
}

/* Set the zone's name and the TZ value of its conversions (NULL: unset). */
static int
tz_set(struct etl_tz *z, const char *name, const char *tz, struct etl_err *err)
{
    if ((z->name = strdup(name)) == NULL || (tz != NULL && (z->tz = strdup(tz)) == NULL)) {
        return etl_err_nomem(err);
    }
    return 0;
}

/*
 * The local zone as glibc picks it: $TZ (":name", "name", "/path", a POSIX
 * TZ string; empty is UTC), else /etc/localtime, else UTC.  The $TZ text
 * is kept, so that later changes to it do not move the schedule.
 */
static int
tz_load_local(struct etl_tz *z, struct etl_err *err)
{
    const char *tz = getenv("TZ");
    const char *name;
    char path[4096];

    if (tz == NULL) {
        char link[4096];
        ssize_t n;
        const char *zi;

        if (access("/etc/localtime", F_OK) != 0) {
            return tz_set(z, "UTC", NULL, err);
        }
        n = readlink("/etc/localtime", link, sizeof(link) - 1);
        link[n > 0 ? n : 0] = '\0';
        zi = strstr(link, "zoneinfo/");
        if (tz_set(z, zi != NULL ? zi + 9 : "localtime", NULL, err) < 0) {
            return -1;
        }
        return tz_check_file("/etc/localtime", "localtime", err);
    }
    name = tz[0] == ':' ? tz + 1 : tz;
    if (tz_set(z, name[0] != '\0' ? name : "UTC", tz, err) < 0) {
        return -1;
    }
    if (name[0] == '\0') {
        return 0;
    }
    if (name[0] == '/') {
        return tz_check_file(name, name, err);
    }
    if (tz_name_ok(name) && tz_path(name, path, sizeof(path)) &&
        access(path, F_OK) == 0) {
        return tz_check_file(path, name, err);
    }
    if (tz_string_ok(name)) {
        return 0;
    }
    snprintf(path, sizeof(path), "$TZ is neither a zone under %s nor a "
             "POSIX TZ string", tz_dir());
    return tz_unknown(name, path, err);
}

/* See tz.h. */
int
etl_tz_load(struct etl_tz *z, const char *tz, struct etl_err *err)
{
    char path[4096];

    memset(z, 0, sizeof(*z));
    if (tz == NULL) {
        return tz_load_local(z, err);
    }
    if (!tz_name_ok(tz) || !tz_path(tz, path, sizeof(path))) {
        return tz_unknown(tz, "a zone is a name under the zone directory, "
                            "such as \"Asia/Shanghai\"", err);
    }
    if (tz_set(z, tz, path, err) < 0) {
        return -1;
    }
    return tz_check_file(path, tz, err);
}

/* See tz.h. */
void
etl_tz_free(struct etl_tz *z)
{
    free(z->name);
    free(z->tz);
    z->name = z->tz = NULL;
}

/*
 * The environment lock (see tz.h): recursive, so that a holder may log
 * (localtime_r) or convert again.
 */
static pthread_mutex_t env_lock;
static pthread_once_t env_lock_once = PTHREAD_ONCE_INIT;

static void
env_lock_init(void)
{
    pthread_mutexattr_t a;

    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&env_lock, &a);
    pthread_mutexattr_destroy(&a);
}

/* See tz.h. */
void
etl_env_lock(void)
{
    pthread_once(&env_lock_once, env_lock_init);
    pthread_mutex_lock(&env_lock);
}

/* See tz.h. */
void
etl_env_unlock(void)
{
    pthread_mutex_unlock(&env_lock);
}

/* See tz.h. */
void
etl_env_lock_reset(void)
{
    env_lock_init();
}

/* See tz.h.  Cheap (one tzset) when TZ already selects the zone. */
int
etl_tz_enter(const struct etl_tz *z, struct etl_tz_env *env)
{
    const char *cur;

    etl_env_lock();
    cur = getenv("TZ");
    env->saved = NULL;
    env->switched = false;
    if (cur == NULL ? z->tz == NULL
                    : z->tz != NULL && strcmp(cur, z->tz) == 0) {
        tzset();                    /* cheap; TZ may be newer than glibc's */
        return 0;
    }
    if (cur != NULL && (env->saved = strdup(cur)) == NULL) {
        etl_env_unlock();
        return -1;
    }
    if ((z->tz != NULL ? setenv("TZ", z->tz, 1) : unsetenv("TZ")) < 0) {
        free(env->saved);
        etl_env_unlock();
        return -1;
    }
    env->switched = true;
    tzset();
    return 0;
}

/* See tz.h. */
void
etl_tz_leave(struct etl_tz_env *env)
{
    if (!env->switched) {
        etl_env_unlock();
        return;
    }
    if (env->saved != NULL) {
        (void)setenv("TZ", env->saved, 1);
        free(env->saved);
    } else {
        (void)unsetenv("TZ");
    }
    tzset();
    etl_env_unlock();
}

/* See tz.h. */
int32_t
etl_tz_offset(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;

    return localtime_r(&tt, &tm) != NULL ? (int32_t)tm.tm_gmtoff : 0;
}
