/*
 * status.h
 *    `ewc-etl status`: recent runs and their files from the ledger, as a
 *    table for people or JSON for programs, written to a FILE.
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
};

int etl_status_print(struct pg_conn *db, const struct etl_status_opts *opts, FILE *out,
                     struct etl_err *err) ETL_MUSTCHECK;

#endif
