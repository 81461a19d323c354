/*
 * plausible.c
 *    Whether a file's figures are of a plausible order of magnitude; see
 *    plausible.h.
 */
#include "plausible.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* What the figures of one indicator in one file looked like. */
struct plausible_count {
    long n;                     /* figures with a range */
    double sum_log;             /* sum of log10(figure / middle of its range) */
};

struct plausible {
    const struct etl_catalog *cat;
    struct plausible_count *count;  /* by indicator position in the catalog */
};

struct plausible *
plausible_new(const struct etl_catalog *cat, struct etl_err *err)
{
    struct plausible *pl = calloc(1, sizeof(*pl));

    if (pl == NULL || (pl->count = calloc(cat->nindicators + 1, sizeof(*pl->count))) == NULL) {
        free(pl);
        etl_err_nomem(err);
        return NULL;
    }
    pl->cat = cat;
    return pl;
}

void
plausible_free(struct plausible *pl)
{
    if (pl != NULL) {
        free(pl->count);
        free(pl);
    }
}

void
plausible_reset(struct plausible *pl)
{
    memset(pl->count, 0, (pl->cat->nindicators + 1) * sizeof(*pl->count));
}

/* Months of [start, end) (yyyymmdd), at least 1. */
static double
plausible_months(int32_t start, int32_t end)
{
    long m = (end / 10000 * 12 + end / 100 % 100) - (start / 10000 * 12 + start / 100 % 100);

    return m > 0 ? (double)m : 1.0;
}

/*
 * The middle (geometric) of the plausible range of a figure of 'ind' for a
 * period of 'months' and a region of 'level', or 0 when the catalog gives
 * no range.  The year's range is the nation's; a shorter period lowers
 * its low end, a longer one raises its high end; a province's middle is a
 * thirtieth of the nation's, a prefecture's a thousandth.
 */
static double
plausible_middle(const struct etl_indicator *ind, double months, const char *level)
{
    double years = months / 12.0, lo, hi, mid;

    if (!(ind->magnitude[0] > 0)) {
        return 0;
    }
    lo = ind->magnitude[0] * (years < 1 ? years : 1);
    hi = ind->magnitude[1] * (years > 1 ? years : 1);
    mid = sqrt(lo * hi);
    if (level != NULL && strcmp(level, "province") == 0) {
        mid /= 30;
    } else if (level != NULL && strcmp(level, "prefecture") == 0) {
        mid /= 1000;
    }
    return mid;
}

void
plausible_add(struct plausible *pl, const struct etl_row *row)
{
    const struct etl_indicator *ind;
    const struct etl_region *r;
    struct plausible_count *c;
    double v, mid;

    if (row->rejected || row->indicator == NULL || row->value[0] == '\0' ||
        row->value[0] == '-' || row->region[0] == '\0') {
        return;
    }
    ind = etl_catalog_indicator_find(pl->cat, row->indicator, strlen(row->indicator));
    r = etl_catalog_region(pl->cat, row->region, strlen(row->region), row->period.start);
    v = strtod(row->value, NULL);
    if (ind == NULL || !(v > 0)) {
        return;
    }
    mid = plausible_middle(ind, plausible_months(row->period.start, row->period.end),
                           r != NULL ? r->level : NULL);
    if (mid > 0) {
        c = &pl->count[ind - pl->cat->indicators];
        c->n++;
        c->sum_log += log10(v / mid);
    }
}

void
plausible_verdict(const struct plausible *pl, struct etl_verdict *v)
{
    for (size_t i = 0; i < pl->cat->nindicators; i++) {
        const struct plausible_count *c = &pl->count[i];
        double m = c->n > 0 ? c->sum_log / (double)c->n : 0;

        if (fabs(m) < PLAUSIBLE_LOG10) {
            continue;
        }
        etl_verdict_refuse(v, "values of %s look about %.0f× too %s for their periods and "
                           "regions (%ld figures): unit?", pl->cat->indicators[i].code,
                           pow(10, round(fabs(m))), m < 0 ? "small" : "large", c->n);
        return;
    }
}
