/*
 * diag.h
 *    A list of errors, for loaders that go on after an error: `ewc-etl
 *    check` reports every error of a configuration in one pass, as a
 *    linter.  Each entry is a whole etl_err (set, then placed by its
 *    "where"); the list keeps them in the order they were found.
 *
 *    A loader that collects does, at each place it can go on from:
 *
 *        struct etl_err err;
 *        etl_err_clear(&err);
 *        if (step(..., &err) < 0) {
 *            etl_diags_add(d, &err);      // copied, 'err' cleared again
 *            ... go on with the next stage / key / pipeline ...
 *        }
 *
 *    and a caller that wants only the first error takes d->first.
 */
#ifndef ETL_DIAG_H
#define ETL_DIAG_H

#include <stddef.h>

#include "err.h"

#define ETL_DIAGS_MAX 200       /* kept at most; more are counted in 'dropped' */

struct etl_diags {
    struct etl_err *errs;       /* the errors, in order found */
    size_t n, cap;
    size_t dropped;             /* beyond ETL_DIAGS_MAX, or lost to a failed allocation */
    struct etl_err first;       /* a copy of the first error, kept without allocating */
};

void etl_diags_init(struct etl_diags *d);
void etl_diags_free(struct etl_diags *d);

/*
 * Append a copy of 'err' (an error with code ETL_E_NONE becomes an internal
 * "unknown error") and clear 'err'.  Returns -1, for "return
 * etl_diags_add(d, &err);".
 */
int etl_diags_add(struct etl_diags *d, struct etl_err *err);

/* How many errors were added (kept or dropped). */
size_t etl_diags_count(const struct etl_diags *d);

/*
 * Sort the errors by file, line and column, as a compiler lists them;
 * errors of one place keep the order they were found in.  'first' stays
 * the first found.  Left unsorted when out of memory.
 */
void etl_diags_sort(struct etl_diags *d);

/*
 * One error as a compiler prints it, "file:line:col: message": the
 * location is the "file:line:col" (or "file:line") at the end of
 * err->where; what precedes it in 'where' (a context such as 'pipeline
 * "p"') goes before the message.  An error that names no line is placed
 * at 'file' alone ("p.yaml: could not open ...").  'file', when given, is
 * preferred as the start of the location, so that a path with ", " in it
 * stays whole.
 */
void etl_diag_format(const struct etl_err *err, const char *file, char *out, size_t size);

#endif
