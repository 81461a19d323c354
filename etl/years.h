/*
 * years.h
 *    The years of a command line: `--year 2021`, `--year 2020..2022`, given
 *    once or more (`--year 2020 --year 2022`), gathered into one sorted list
 *    without repeats.  The bounds are those of a fetch stage's "years:" in
 *    the YAML (stages/fetch.h), so that a year one accepts the other does too.
 */
#ifndef ETL_YEARS_H
#define ETL_YEARS_H

#include <stddef.h>
#include "err.h"

/* Bounds of a year and most years of one command (as FETCH_YEAR_* and FETCH_YEARS_MAX). */
#define ETL_YEAR_MIN 1900
#define ETL_YEAR_MAX 2100
#define ETL_YEARS_MAX 200

struct etl_years {
    int v[ETL_YEARS_MAX];       /* ascending, no repeats */
    size_t n;
};

/*
 * Add the years of 'text' -- "2021" or "2020..2022" (spaces around ".."
 * allowed) -- to 'ys'.  0, or -1 with ETL_E_CONFIG in 'err': not a year,
 * a range that ends before it starts, a year out of bounds, more than
 * ETL_YEARS_MAX years in all.  'ys' is unchanged on failure.
 */
int etl_years_add(struct etl_years *ys, const char *text, struct etl_err *err) ETL_MUSTCHECK;

/* "2020, 2021, 2022" (or "2020..2022" when consecutive) of 'ys' into 'out'. */
void etl_years_format(const struct etl_years *ys, char *out, size_t size);

#endif
