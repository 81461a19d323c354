/*
 * schedule.h
 *    When a pipeline runs: a five-field cron expression in an IANA time zone
 *    (cron.c), or "@every N{s,m,h}", a fixed interval aligned to the epoch
 *    (for short test schedules and for sources polled all day long).
 */
#ifndef ETL_SCHEDULE_H
#define ETL_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>
#include "cron.h"
#include "err.h"

struct etl_schedule {
    struct etl_cron *cron;      /* NULL for an interval */
    int64_t every;              /* seconds, for "@every" */
};

/*
 * Parse; NULL with ETL_E_CONFIG (the caller adds where) and, if 'bad' is
 * not NULL, *bad telling which part was wrong: the expression (an "@every"
 * error too) or the zone.  ETL_E_NOMEM when out of memory.
 */
struct etl_schedule *etl_schedule_parse(const char *expr, const char *tz,
                                        enum etl_cron_part *bad,
                                        struct etl_err *err) ETL_MUSTCHECK;
void etl_schedule_free(struct etl_schedule *s);

/* First fire time strictly after 'after' (seconds since the epoch), -1 if none. */
int64_t etl_schedule_next(const struct etl_schedule *s, int64_t after);

/* The next 'n' fire times as lines for `check`; returns lines written. */
int etl_schedule_format_next(const struct etl_schedule *s, int64_t after, int n, char *out,
                             size_t size);

#endif
