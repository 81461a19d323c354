/*
 * metrics_int.h
 *    What metrics.c and metrics_file.c share: the writer of one exposition
 *    and its helpers.
 */
#ifndef ETL_METRICS_INT_H
#define ETL_METRICS_INT_H

#include <libpq-fe.h>

#include "buf.h"
#include "err.h"

/*
 * The writer of one exposition: the first error stops it (each call does
 * nothing once rc is -1), so the emitting code reads as a list.
 */
struct prom {
    struct etl_buf *out;
    struct etl_err *err;
    int rc;
};

/* One family's HELP and TYPE, one sample; nothing once p->rc is -1. */
void metrics_family(struct prom *p, const char *name, const char *type, const char *help);
void metrics_sample(struct prom *p, const char *name, const char *const *labels, double v);

/* A field as a number; NULL and garbage are 0. */
double metrics_num(const PGresult *res, int row, int col);

#endif
