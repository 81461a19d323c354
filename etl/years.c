/*
 * years.c
 *    Years and year ranges of the command line (--year); see years.h.
 */
#include "years.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * One year at [*p, end): digits only, optional blanks around.  Advances
 * *p past it.  false when there is none.
 */
static bool
years_number(const char **p, const char *end, long *out)
{
    const char *s = *p;
    long v = 0;
    int digits = 0;

    while (s < end && isblank((unsigned char)*s)) {
        s++;
    }
    while (s < end && isdigit((unsigned char)*s)) {
        if (digits++ < 9) {
            v = v * 10 + (*s - '0');
        }
        s++;
    }
    while (s < end && isblank((unsigned char)*s)) {
        s++;
    }
    if (digits == 0) {
        return false;
    }
    *out = digits > 9 ? 1000000000L : v;
    *p = s;
    return true;
}

static int
years_bounds(long y, struct etl_err *err)
{
    if (y < ETL_YEAR_MIN || y > ETL_YEAR_MAX) {
        return etl_err_set(err, ETL_E_CONFIG, "year %ld is out of range (%d to %d)", y,
                           ETL_YEAR_MIN, ETL_YEAR_MAX);
    }
    return 0;
}

/* Insert 'y' in order unless present. */
static void
years_insert(struct etl_years *ys, int y)
{
    size_t i = 0;

    while (i < ys->n && ys->v[i] < y) {
        i++;
    }
    if (i < ys->n && ys->v[i] == y) {
        return;
    }
    memmove(&ys->v[i + 1], &ys->v[i], (ys->n - i) * sizeof(ys->v[0]));
    ys->v[i] = y;
    ys->n++;
}

/* Add a year or a range; see years.h. */
int
etl_years_add(struct etl_years *ys, const char *text, struct etl_err *err)
{
    const char *end = text + strlen(text), *dots = strstr(text, "..");
    const char *p = text;
    struct etl_years next;
    long a, b;

    if (!years_number(&p, dots != NULL ? dots : end, &a) || p != (dots != NULL ? dots : end)) {
        goto bad;
    }
    b = a;
    if (dots != NULL) {
        p = dots + 2;
        if (!years_number(&p, end, &b) || p != end) {
            goto bad;
        }
    }
    if (years_bounds(a, err) < 0 || years_bounds(b, err) < 0) {
        return -1;
    }
    if (a > b) {
        etl_err_set(err, ETL_E_CONFIG, "year range \"%s\" ends before it starts", text);
        etl_err_hint(err, "write the earlier year first: %ld..%ld", b, a);
        return -1;
    }
    next = *ys;
    for (long y = a; y <= b; y++) {
        bool present = false;

        for (size_t i = 0; i < next.n && !present; i++) {
            present = next.v[i] == (int)y;
        }
        if (!present && next.n == ETL_YEARS_MAX) {
            return etl_err_set(err, ETL_E_CONFIG, "too many years (at most %d)",
                               ETL_YEARS_MAX);
        }
        years_insert(&next, (int)y);
    }
    *ys = next;
    return 0;
bad:
    etl_err_set(err, ETL_E_CONFIG, "expected a year or a range such as 2020..2022, "
                "found \"%s\"", text);
    return -1;
}

/* The list as text; see years.h. */
void
etl_years_format(const struct etl_years *ys, char *out, size_t size)
{
    char one[16];

    if (size > 0) {
        out[0] = '\0';
    }
    if (ys->n > 2 && ys->v[ys->n - 1] - ys->v[0] == (int)ys->n - 1) {
        snprintf(out, size, "%d..%d", ys->v[0], ys->v[ys->n - 1]);
        return;
    }
    for (size_t i = 0; i < ys->n; i++) {
        snprintf(one, sizeof(one), "%s%d", i > 0 ? ", " : "", ys->v[i]);
        etl_strlcat(out, one, size);
    }
}
