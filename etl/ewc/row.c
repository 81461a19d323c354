/*
 * row.c
 *    Names of the row model's enums and the reject helper; see row.h.
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
