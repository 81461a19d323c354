/*
 * row.c
 *    Names of the row model's enums, the row batch's chunk type and the
 *    reject helper; see row.h.
 */
#include "row.h"

#include <stdarg.h>
#include <stdio.h>

const char *const etl_col_names[ETL_NCOLS] = {
    "region", "partner", "indicator", "period", "value", "unit", "note"
};

const char *const etl_qualifier_names[] = {
    "exact", "lower_bound", "approximate", "estimate", "provisional", "missing"
};

const char *const etl_period_kind_names[] = {
    "none", "year", "half", "quarter", "month", "months", "range"
};

const struct etl_chunk_type etl_chunk_rows_type = { .name = "rows" };

/* The batch of a rows chunk, or NULL and an internal error (see row.h). */
struct etl_batch *
etl_chunk_batch(const struct etl_stage *st, const struct etl_chunk *c, struct etl_err *err)
{
    if (c->type != &etl_chunk_rows_type) {
        etl_err_set(err, ETL_E_INTERNAL, "stage %s (%s) expects rows, not %s", st->name,
                    st->kind->name, etl_chunk_type_name(c));
        return NULL;
    }
    return c->data;
}

/* Mark a row rejected with a reason, unless it already is (see row.h). */
void
etl_row_reject(struct etl_row *row, const char *fmt, ...)
{
    va_list ap;

    if (row->rejected) {
        return;
    }
    row->rejected = true;
    va_start(ap, fmt);
    vsnprintf(row->reason, sizeof(row->reason), fmt, ap);
    va_end(ap);
}
