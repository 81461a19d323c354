/*
 * schedule.c
 *    Cron or interval schedules; see schedule.h.
 */
#include "schedule.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cron.h"

#define SCHEDULE_MAX_EVERY (366 * 86400)   /* longer intervals want a cron expression */

static int
parse_every(const char *text, int64_t *out, struct etl_err *err)
{
    char *end;
    long long n = strtoll(text, &end, 10);
    int64_t unit;

    if (end == text || n <= 0) {
        return etl_err_set(err, ETL_E_CONFIG, "\"@every\" needs a positive interval, "
                           "found \"%s\"", text);
    }
    if (strcmp(end, "s") == 0) {
        unit = 1;
    } else if (strcmp(end, "m") == 0) {
        unit = 60;
    } else if (strcmp(end, "h") == 0) {
        unit = 3600;
    } else {
        return etl_err_set(err, ETL_E_CONFIG, "\"@every\" interval \"%s\" needs a unit: "
                           "s, m or h", text);
    }
    if (n > SCHEDULE_MAX_EVERY / unit) {
        return etl_err_set(err, ETL_E_CONFIG, "\"@every %s\" is longer than a year", text);
    }
    *out = n * unit;
    return 0;
}

struct etl_schedule *
etl_schedule_parse(const char *expr, const char *tz, enum etl_cron_part *bad,
                   struct etl_err *err)
{
    struct etl_schedule *s = calloc(1, sizeof(*s));

    if (bad != NULL) {
        *bad = ETL_CRON_EXPR;
    }
    if (s == NULL) {
        etl_err_nomem(err);
        return NULL;
    }
    if (strncmp(expr, "@every ", 7) == 0) {
        if (parse_every(expr + 7, &s->every, err) < 0) {
            free(s);
            return NULL;
        }
        return s;
    }
    s->cron = etl_cron_parse(expr, tz, bad, err);
    if (s->cron == NULL) {
        free(s);
        return NULL;
    }
    return s;
}

void
etl_schedule_free(struct etl_schedule *s)
{
    if (s != NULL) {
        etl_cron_free(s->cron);
        free(s);
    }
}

int64_t
etl_schedule_next(const struct etl_schedule *s, int64_t after)
{
    if (s->cron != NULL) {
        return etl_cron_next(s->cron, after);
    }
    return after - (after % s->every) + s->every;
}

int
etl_schedule_format_next(const struct etl_schedule *s, int64_t after, int n, char *out,
                         size_t size)
{
    size_t len = 0;
    int i;

    if (s->cron != NULL) {
        return etl_cron_format_next(s->cron, after, n, out, size);
    }
    if (size > 0) {
        out[0] = '\0';
    }
    for (i = 0; i < n; i++) {
        time_t t = (time_t)(after = etl_schedule_next(s, after));
        struct tm tm;
        int k;

        gmtime_r(&t, &tm);
        k = (int)strftime(out + len, size - len, "%Y-%m-%d %H:%M:%S UTC\n", &tm);
        if (k == 0) {
            break;
        }
        len += (size_t)k;
    }
    return i;
}
