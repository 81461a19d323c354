/*
 * cron.h
 *    Pipeline schedules: five-field cron expressions (minute hour
 *    day-of-month month day-of-week, Vixie cron syntax and @macros) in an
 *    IANA time zone, and the next fire time after a given instant with
 *    cronie's daylight-saving rules.
 *
 *    The zone arithmetic is glibc's: each conversion sets TZ to the
 *    schedule's zone, calls tzset() and localtime_r(), and puts TZ and
 *    glibc's zone back before it returns.  That is not thread-safe; the
 *    process is single-threaded.  A parsed schedule is read-only.
 *
 *    Next door: tz.c checks and switches the zone; pipeline.c keeps the
 *    "schedule" and "timezone" texts of a pipeline; the daemon and
 *    "ewc-etl check" turn them into a schedule.
 */
#ifndef ETL_CRON_H
#define ETL_CRON_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/*
 * How far etl_cron_next looks ahead: a bit over eight years, the longest
 * wait for a schedule that can fire, "0 0 29 2 *" from March 2096 to
 * February 2104 (2100 is no leap year).  Further than that it says never.
 */
#define ETL_CRON_HORIZON_DAYS 3000

/*
 * 'after' instants accepted by etl_cron_next: 0001-01-01 to 9999-12-31 UTC.
 * Outside it there is no next time.
 */
#define ETL_CRON_MIN_TIME (-62135596800LL)
#define ETL_CRON_MAX_TIME 253402300799LL

struct etl_cron;

/* Which part of a schedule a parse error is about. */
enum etl_cron_part {
    ETL_CRON_EXPR,              /* the expression (or "@every") */
    ETL_CRON_ZONE               /* the time zone (or $TZ, for tz NULL) */
};

/*
 * Parse a schedule in a time zone.
 *
 * 'expr': five fields separated by blanks: minute (0-59), hour (0-23),
 * day-of-month (1-31), month (1-12 or jan-dec), day-of-week (0-7 or
 * sun-sat; 0 and 7 are Sunday; a range ending in 0 or sun after a later
 * day ends on Sunday: "fri-sun").  Each field is a comma list of "*", "n",
 * "n-m", with an optional "/step"; "n/step" means n to the maximum.  Names
 * are three letters, any case.  Or one macro: @yearly @annually @monthly
 * @weekly @daily @midnight @hourly.
 *
 * Vixie cron's rules, written down: a field "starts with *" when its text
 * does: "*", "*,5", or "*" with a step.  When neither day field starts
 * with *, a day matches if EITHER matches ("0 0 13 * 5": every 13th and
 * every Friday); otherwise both must match.  When the minute or the hour
 * field starts with *, the schedule is a "wildcard" one and simply follows
 * real time (see etl_cron_next).
 *
 * 'tz': an IANA name ("Europe/Berlin", "UTC"), a file under $TZDIR if
 * set, else /usr/share/zoneinfo; names with ".." or a leading "/" are
 * refused.  NULL means the local zone as libc would pick it: $TZ (":name",
 * "name", "/path" or a POSIX TZ string such as "CET-1CEST,M3.5.0,M10.5.0/3";
 * empty is UTC), else /etc/localtime, else UTC; the $TZ text is kept.
 * glibc takes a zone it cannot read for UTC without a word, so the zone is
 * checked first by etl_tz_load (tz.h): the file must be a regular TZif
 * file whose structure glibc would accept, a $TZ string must be POSIX TZ
 * syntax.  The times are glibc's to read, at each conversion.
 *
 * Returns a schedule the caller frees with etl_cron_free, or NULL with
 * 'err' set, ETL_E_CONFIG (the caller adds file:line:col):
 *   expected 5 fields, found 4
 *   minute field: 61 is out of range (0-59)
 *   hour field: invalid value "1x"          (also empty values: "1-")
 *   day-of-month field: empty item in "1,,2"
 *   hour field: range 20-5 ends before it starts
 *   minute field: invalid step "0"
 *   minute field: step 61 is out of range (1-60)
 *   unknown month name "jun."      unknown day-of-week name "fr"
 *   unknown schedule macro "@often"        unexpected "x" after @daily
 *   unknown time zone "Mars/Base"          (detail: the file and why)
 *   invalid time zone file "/usr/share/zoneinfo/x": truncated
 *     (also: not a TZif file, leap seconds are not supported, ...: tz.h)
 * '*bad' (if 'bad' is not NULL) says which part was wrong; the expression
 * is checked first.  ETL_E_NOMEM when out of memory.  Costs: a stat and
 * one read of the zone file (at most 256 KiB), three allocations (the
 * schedule, the zone's name and the TZ value).
 */
struct etl_cron *etl_cron_parse(const char *expr, const char *tz,
                                enum etl_cron_part *bad,
                                struct etl_err *err) ETL_MUSTCHECK;

/* Free a schedule; NULL is fine. */
void etl_cron_free(struct etl_cron *c);

/*
 * The zone's name as given, or for tz NULL what was used: the $TZ text,
 * the /etc/localtime link's zone ("Europe/Berlin"), "localtime", or "UTC".
 * Owned by the schedule.
 */
const char *etl_cron_zone(const struct etl_cron *c);

/*
 * The first fire time strictly after 'after' (UTC seconds since the epoch),
 * or -1 if none within ETL_CRON_HORIZON_DAYS ("0 0 30 2 *" never fires) or
 * if 'after' is outside ETL_CRON_MIN_TIME..ETL_CRON_MAX_TIME.
 *
 * Wall-clock times are matched in the schedule's zone.  Across daylight
 * saving changes, as cronie does:
 *   - a fixed-time schedule (neither minute nor hour starts with *) whose
 *     wall time is skipped by a spring-forward gap fires once, at the first
 *     instant after the gap (02:30 in Europe/Berlin on 2025-03-30 fires at
 *     03:00 CEST = 01:00 UTC); a wall time that occurs twice in a fall-back
 *     overlap fires once, at its first occurrence (02:30 CEST on 2025-10-26
 *     = 00:30 UTC, not again at 01:30 UTC);
 *   - a wildcard schedule ("0 * * * *", or every 15 minutes) fires at every
 *     real instant whose wall time matches: every 15 real minutes through
 *     both changes, twice through the repeated hour's wall times, never at
 *     wall times that do not exist.
 *
 * Also -1 when out of memory (a copy of $TZ to put back).
 *
 * Costs: two setenv and tzset (glibc reads the zone file when TZ
 * changes); the offset is probed every six hours between 'after' and the
 * fire time, so a daily schedule costs a few localtime_r calls and one
 * that never fires some twelve thousand (a few milliseconds).
 */
int64_t etl_cron_next(const struct etl_cron *c, int64_t after);

/*
 * Render instant 't' in the schedule's zone as "2025-03-30 03:00 CEST
 * (+02:00)" (seconds of the offset are shown only if not zero, as in
 * "+00:53:28" for local mean time).  Truncates to 'size', always
 * NUL-terminated; "(out of range)" outside the times etl_cron_next can
 * return, "(out of memory)" when $TZ cannot be saved.  Returns the length
 * it tried to write, as snprintf.
 */
int etl_cron_format_time(const struct etl_cron *c, int64_t t, char *out,
                         size_t size);

/*
 * The next 'n' fire times after 'after', one etl_cron_format_time line
 * each, every line ending in "\n", into 'out' (NUL-terminated; "" when
 * none).  A line that does not fit whole is left out, as are the ones after
 * it.  Returns the number of lines written: less than 'n' when the schedule
 * stops firing (see etl_cron_next) or 'out' is full.  What "ewc-etl check"
 * prints per pipeline.
 */
int etl_cron_format_next(const struct etl_cron *c, int64_t after, int n,
                         char *out, size_t size);

#endif
