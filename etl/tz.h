/*
 * tz.h
 *    The time zone of a schedule, for glibc's own tz code: etl_tz_load
 *    checks that the zone exists and that its file is sound (glibc would
 *    take an unknown or broken one for UTC without a word) and keeps the
 *    TZ value that selects it; etl_tz_enter makes it glibc's local zone
 *    (setenv TZ, tzset) for one conversion,
 *    etl_tz_leave puts TZ and glibc's zone back.  Setting TZ is not
 *    thread-safe: ewc-etl is single-threaded (its workers are processes).
 *
 *    Next door: cron.c, the only user, does the calendar and the search.
 */
#ifndef ETL_TZ_H
#define ETL_TZ_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

struct etl_tz {
    char *name;             /* as given, or what the local zone is called */
    char *tz;               /* the TZ value while converting; NULL: unset */
};

/*
 * Check and keep zone 'tz': an IANA name, a file under $TZDIR if set, else
 * /usr/share/zoneinfo (no "..", no leading "/"); NULL, the local zone as
 * libc picks it: $TZ (":name", "name", "/path", a POSIX TZ string; empty is
 * UTC), else /etc/localtime, else UTC.  A zone file must be a regular file
 * of at most 256 KiB in TZif format, checked for what glibc would read as
 * UTC without a word: headers whose counts fit the file, at least one type
 * and one abbreviation byte, type and abbreviation indexes in range,
 * transitions in ascending order, UTC offsets within 26 hours, no leap
 * seconds, and in a version 2+ file a final "\n<POSIX TZ string>\n" footer.
 * Its times are glibc's to read.  A $TZ that names no file must be POSIX
 * TZ syntax.  0, or -1 with ETL_E_CONFIG ('unknown time zone "x"', detail:
 * why; or 'invalid time zone file "path": why', detail 'the file of time
 * zone "x"', why one of "truncated", "not a TZif file", "leap seconds are
 * not supported", "bad local time type count", "bad abbreviation count",
 * "bad local time type index", "transition times out of order", "UTC offset
 * out of range", "bad abbreviation index", "bad footer", 'bad TZ string
 * "s"'), or ETL_E_NOMEM.  Free with etl_tz_free, after a failure too.
 */
int etl_tz_load(struct etl_tz *z, const char *tz, struct etl_err *err) ETL_MUSTCHECK;
void etl_tz_free(struct etl_tz *z);

/* What etl_tz_enter found, for etl_tz_leave to put back. */
struct etl_tz_env {
    char *saved;            /* a copy of $TZ, NULL if it was unset */
    bool switched;          /* TZ was changed */
};

/*
 * Make 'z' glibc's local zone: TZ set (or unset) as 'z' says, tzset()
 * called.  0, or -1 when out of memory (nothing changed).  Each successful
 * etl_tz_enter is paired with an etl_tz_leave.  The environment lock is
 * held from etl_tz_enter to etl_tz_leave.
 */
int etl_tz_enter(const struct etl_tz *z, struct etl_tz_env *env) ETL_MUSTCHECK;
void etl_tz_leave(struct etl_tz_env *env);

/*
 * The environment lock (recursive).  etl_tz_enter/leave change TZ, and
 * setenv may move the environment that getenv reads without a lock: a
 * thread that reads the environment or the local zone while the main
 * thread may convert times -- the HTTP server's (libpq reads PG*
 * variables, a log line calls localtime_r) -- holds this lock meanwhile.
 * etl_env_lock_reset(): for a fork child handler only (the lock as new).
 */
void etl_env_lock(void);
void etl_env_unlock(void);
void etl_env_lock_reset(void);

/* The UTC offset at t in glibc's local zone (seconds, east positive). */
int32_t etl_tz_offset(int64_t t);

#endif
