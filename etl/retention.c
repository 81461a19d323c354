/*
 * retention.c
 *    The "retention" settings of the YAML and the duration texts they are
 *    written in; see retention.h.  prune.c applies them.
 */
#include "retention.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

const struct etl_key etl_retention_keys[] = {
    { "ledger", ETL_KEY_STR, false,
      "runs, their files, rejects and tasks older than this are pruned (default 90d)" },
    { "spool", ETL_KEY_STR, false,
      "spool files older than this and no longer referred to are deleted (default 30d)" },
    { 0 }
};

/* Seconds of one unit letter, 0 when it is not one. */
static int64_t
unit_seconds(char u)
{
    switch (u) {
    case 's': return 1;
    case 'h': return 3600;
    case 'd': return 86400;
    case 'w': return 7 * 86400;
    default: return 0;
    }
}

/* Parse a duration; see retention.h. */
int
etl_duration_parse(const char *s, int64_t *seconds, struct etl_err *err)
{
    const char *p = s;
    int64_t total = 0;

    *seconds = 0;
    if (strcmp(s, "off") == 0) {
        return 0;
    }
    if (*p == '\0') {
        return etl_err_set(err, ETL_E_CONFIG, "empty duration");
    }
    while (*p != '\0') {
        int64_t n = 0, unit;

        if (!isdigit((unsigned char)*p)) {
            return etl_err_set(err, ETL_E_CONFIG, "invalid duration \"%s\": expected a "
                               "number at \"%s\"", s, p);
        }
        while (isdigit((unsigned char)*p)) {
            n = n * 10 + (*p++ - '0');
            if (n > ETL_DURATION_MAX) {
                return etl_err_set(err, ETL_E_CONFIG, "duration \"%s\" is too long (at most "
                                   "100 years)", s);
            }
        }
        if (*p == '\0') {
            return etl_err_set(err, ETL_E_CONFIG, "duration \"%s\" needs a unit (s, min, h, d "
                               "or w), e.g. \"90d\"", s);
        }
        if (strncmp(p, "min", 3) == 0) {
            unit = 60;
            p += 3;
        } else if (*p == 'm') {
            /* "6m": six months or six minutes?  Neither is guessed */
            return etl_err_set(err, ETL_E_CONFIG, "ambiguous unit 'm' in duration \"%s\": "
                               "write min for minutes; for months, days (180d)", s);
        } else if ((unit = unit_seconds(*p)) != 0) {
            p++;
        } else {
            return etl_err_set(err, ETL_E_CONFIG, "invalid unit '%c' in duration \"%s\" "
                               "(s, min, h, d or w)", *p, s);
        }
        total += n * unit;
        if (total > ETL_DURATION_MAX) {
            return etl_err_set(err, ETL_E_CONFIG, "duration \"%s\" is too long (at most "
                               "100 years)", s);
        }
    }
    if (total == 0) {
        return etl_err_set(err, ETL_E_CONFIG, "duration \"%s\" is zero (write \"off\" to keep "
                           "everything)", s);
    }
    *seconds = total;
    return 0;
}

/* Format a duration; see retention.h. */
void
etl_duration_format(int64_t seconds, char *out, size_t size)
{
    static const struct { const char *u; int64_t s; } units[] = {
        { "w", 7 * 86400 }, { "d", 86400 }, { "h", 3600 }, { "min", 60 }, { "s", 1 }
    };

    if (seconds <= 0) {
        snprintf(out, size, "off");
        return;
    }
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        /* days read better than weeks: 90d, not 12w6d; whole weeks stay weeks */
        if (seconds % units[i].s == 0) {
            snprintf(out, size, "%lld%s", (long long)(seconds / units[i].s), units[i].u);
            return;
        }
    }
}

/* One key of the mapping: absent keeps the default. */
static int
retention_key(const struct etl_node *map, const char *key, int64_t *v, struct etl_err *err)
{
    const struct etl_node *n = etl_node_get(map, key);
    struct etl_err perr;

    if (n == NULL) {
        return 0;
    }
    etl_err_clear(&perr);
    if (n->type != ETL_NODE_SCALAR) {
        return etl_node_fail(n, err, ETL_E_CONFIG, "retention \"%s\" must be a duration "
                             "such as 90d, or \"off\"", key);
    }
    if (etl_duration_parse(n->str, v, &perr) < 0) {
        return etl_node_fail(n, err, ETL_E_CONFIG, "retention \"%s\": %s", key, perr.msg);
    }
    return 0;
}

/* Read "retention"; see retention.h. */
int
etl_retention_configure(const struct etl_node *root, struct etl_retention *r,
                        struct etl_err *err)
{
    const struct etl_node *map = etl_node_get(root, "retention");

    r->ledger = ETL_RETENTION_LEDGER_DEFAULT;
    r->spool = ETL_RETENTION_SPOOL_DEFAULT;
    if (map == NULL) {
        return 0;
    }
    if (map->type != ETL_NODE_MAP) {
        return etl_node_fail(map, err, ETL_E_CONFIG,
                             "\"retention\" must be a mapping, e.g. { ledger: 90d, spool: 30d }");
    }
    if (etl_node_check(map, etl_retention_keys, "retention", err) < 0 ||
        retention_key(map, "ledger", &r->ledger, err) < 0 ||
        retention_key(map, "spool", &r->spool, err) < 0) {
        return -1;
    }
    return 0;
}
