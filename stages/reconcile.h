/*
 * reconcile.h
 *    National rows against the sum of their province rows, added up while
 *    the rows stream through the load stage: the client sees every row, so
 *    the check costs no query and no second pass over the warehouse.
 *
 *    A group is one additive indicator and one period of a file (pair and
 *    of-which rows, and rows without a value, stay out, as in the view
 *    ewc.reconciliation).  Each group keeps its national value and the exact
 *    sum and count of its province rows: values are decimal strings, summed
 *    as 64-bit integers at the largest scale seen, so the totals written to
 *    ledger.reconcile are the same digits PostgreSQL's sum(numeric) gives.
 *    A value or sum too long for that (about 18 digits in all) makes the sums
 *    inexact: reconcile_exact() then says so and the load stage asks the
 *    database instead, never a rounded answer.
 *
 *    Memory grows with the groups (indicators times periods: about 30,000
 *    in a million generated rows over fifty years of every kind of period),
 *    32 bytes each, not with the rows, and is bounded: beyond
 *    RECONCILE_MAX_GROUPS (32,768 groups: 1 MiB, and a 256 KiB index) the
 *    file's sums are left to the database, as when inexact.  Agencies'
 *    files hold hundreds to a few thousand; the bound keeps a load's peak
 *    memory the same from a hundred thousand rows to ten million.
 *
 *    Next door: load.c adds each loaded row and reads the differences at
 *    the end of the file.
 */
#ifndef STAGES_RECONCILE_H
#define STAGES_RECONCILE_H

/* The most indicator-periods whose sums are kept (see above). */
#define RECONCILE_MAX_GROUPS 32768

#include <stdbool.h>
#include <stdint.h>

#include "etl/err.h"
#include "etl/ewc/catalog.h"
#include "etl/ewc/row.h"

struct reconcile;

/* One national figure off the sum of its provinces. */
struct reconcile_diff {
    const char *indicator;              /* catalog code */
    enum etl_period_kind kind;
    int32_t start, end;                 /* yyyymmdd */
    char national[48], total[48];       /* decimal text, as numeric prints it */
    int64_t regions;                    /* province rows summed */
};

/* Groups for rows of 'cat'; NULL with ETL_E_NOMEM. */
struct reconcile *reconcile_new(const struct etl_catalog *cat, struct etl_err *err);
void reconcile_free(struct reconcile *rc);

/* A new file: forget the groups. */
void reconcile_reset(struct reconcile *rc);

/*
 * Count one loaded row (normalized, not rejected).  -1 with ETL_E_NOMEM
 * only; a value the sums cannot hold exactly marks them inexact.
 */
int reconcile_add(struct reconcile *rc, const struct etl_row *r, struct etl_err *err);

/* Whether every sum is exact (false: ask the database instead). */
bool reconcile_exact(const struct reconcile *rc);

/* Whether any row went into a group with a national value. */
bool reconcile_any(const struct reconcile *rc);

/*
 * Call 'fn' for each group whose national value and province sum (of at
 * least one province) differ by more than greatest(|national| * tolerance,
 * 1), in order of indicator, start, end; 'tolerance' is in millionths
 * (0.005 = 5000).  Stops at the first 'fn' that does not return 0 and
 * returns that.  -1 with ETL_E_NOMEM, or with ETL_E_INTERNAL when the sums
 * are not exact (before any call).  Memory: 4 bytes per group.
 */
int reconcile_each_difference(const struct reconcile *rc, int64_t tolerance_ppm,
                              int (*fn)(void *ctx, const struct reconcile_diff *d,
                                        struct etl_err *err),
                              void *ctx, struct etl_err *err);

#endif
