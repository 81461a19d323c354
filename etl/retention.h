/*
 * retention.h
 *    How long the ledger's history and the spool's files are kept: the
 *    YAML's top-level "retention" mapping and its durations ("90d", "12h",
 *    "1w2d", "off").  Pruning itself is prune.c's; this module only reads
 *    and prints the settings.
 *
 *        retention:
 *          ledger: 90d     # runs and their files older than this go
 *          spool: 30d      # spool files older than this go, unless referred to
 *
 *    Either may be "off".  The defaults keep 90 days of ledger and 30 days
 *    of spool; what the warehouse or a current version refers to is kept
 *    whatever its age (see prune.h).
 */
#ifndef ETL_RETENTION_H
#define ETL_RETENTION_H

#include <stddef.h>
#include <stdint.h>
#include "config.h"
#include "err.h"

/* Defaults, in seconds. */
#define ETL_RETENTION_LEDGER_DEFAULT (90 * 86400LL)
#define ETL_RETENTION_SPOOL_DEFAULT (30 * 86400LL)
/* The longest duration accepted: a century, far from int64 overflow. */
#define ETL_DURATION_MAX (100LL * 366 * 86400)

struct etl_retention {
    int64_t ledger;             /* seconds; 0: never pruned */
    int64_t spool;              /* seconds; 0: never pruned */
};

/* The keys of the "retention" mapping, for `ewc-etl help` and checks. */
extern const struct etl_key etl_retention_keys[];

/*
 * Parse a duration: one or more terms of a positive integer and a unit
 * (s, min, h, d, w: seconds, minutes, hours, days, weeks; a bare "m"
 * is refused, months or minutes), as "90d" or
 * "1d12h", or the word "off" (*seconds = 0).  A bare number, an unknown
 * unit, zero, or more than ETL_DURATION_MAX: -1 with ETL_E_CONFIG.
 */
int etl_duration_parse(const char *s, int64_t *seconds, struct etl_err *err) ETL_MUSTCHECK;

/* The shortest text of 'seconds' in the largest whole unit ("90d", "36h"), or "off". */
void etl_duration_format(int64_t seconds, char *out, size_t size);

/*
 * Read the top-level "retention" of 'root' (may be absent: the defaults)
 * into 'r'.  Errors name the node: "file:line:col: ...".
 */
int etl_retention_configure(const struct etl_node *root, struct etl_retention *r,
                            struct etl_err *err) ETL_MUSTCHECK;

#endif
