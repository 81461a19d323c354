/*
 * status.h
 *    `ewc-etl status`: recent runs and their files from the ledger, as a
 *    table for people or JSON for programs, written to a FILE; and
 *    `ewc-etl unmatched`, the names the catalog did not know.
 */
#ifndef ETL_STATUS_H
#define ETL_STATUS_H

#include <stdbool.h>
#include <stdio.h>
#include "err.h"
#include "pg.h"

struct etl_status_opts {
    const char *pipeline;   /* NULL: all */
    long limit;             /* runs */
    bool json;
    bool failed_only;       /* runs that are not ok */
    const char *spool_dir;  /* the YAML's spool, for its size; NULL: not known */
};

int etl_status_print(struct pg_conn *db, const struct etl_status_opts *opts, FILE *out,
                     struct etl_err *err) ETL_MUSTCHECK;

/*
 * `ewc-etl unmatched`: every name the catalog does not know in the current
 * version of each source, with its rows, files and the nearest catalog
 * entries, one per line (tab-separated), most rows first; "no unmatched
 * names" when there is none.
 */
int etl_status_unmatched(struct pg_conn *db, FILE *out, struct etl_err *err) ETL_MUSTCHECK;

#endif
