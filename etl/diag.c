/*
 * diag.c
 *    The list of errors of a collecting loader, and the compiler-style line
 *    of each; see diag.h.
 */
#include "diag.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
etl_diags_init(struct etl_diags *d)
{
    memset(d, 0, sizeof(*d));
}

void
etl_diags_free(struct etl_diags *d)
{
    free(d->errs);
    etl_diags_init(d);
}

int
etl_diags_add(struct etl_diags *d, struct etl_err *err)
{
    if (err->code == ETL_E_NONE) {
        etl_err_set(err, ETL_E_INTERNAL, "unknown error");
    }
    if (etl_diags_count(d) == 0) {
        d->first = *err;
    }
    if (d->n == d->cap && d->n < ETL_DIAGS_MAX) {
        size_t cap = d->cap ? d->cap * 2 : 8;
        struct etl_err *p = realloc(d->errs, cap * sizeof(*p));

        if (p != NULL) {
            d->errs = p;
            d->cap = cap;
        }
    }
    if (d->n < d->cap && d->n < ETL_DIAGS_MAX) {
        d->errs[d->n++] = *err;
    } else {
        d->dropped++;
    }
    etl_err_clear(err);
    return -1;
}

size_t
etl_diags_count(const struct etl_diags *d)
{
    return d->n + d->dropped;
}

/* Whether s ends in ":N" or ":N:N" (digits); *start: where that tail starts. */
static bool
ends_in_mark(const char *s, size_t len, size_t *start)
{
    size_t i = len, colons = 0;

    while (i > 0 && colons < 2) {
        size_t digits = 0;

        while (i > 0 && isdigit((unsigned char)s[i - 1])) {
            i--;
            digits++;
        }
        if (digits == 0 || i == 0 || s[i - 1] != ':') {
            break;
        }
        i--;
        colons++;
        *start = i;
    }
    return colons > 0;
}

/*
 * Split 'where' into the context before the location and the location:
 * the location starts at 'file' when 'where' holds "file:" at its start or
 * after ", ", else after the last ", ".  *loc is where it starts.
 */
static size_t
location_start(const char *where, const char *file)
{
    size_t flen = file != NULL ? strlen(file) : 0;
    const char *p, *last = NULL;

    if (flen > 0) {
        for (p = where; (p = strstr(p, file)) != NULL; p++) {
            if (p[flen] == ':' && (p == where || (p - where >= 2 && p[-2] == ',' &&
                                                  p[-1] == ' '))) {
                return (size_t)(p - where);
            }
        }
    }
    for (p = where; (p = strstr(p, ", ")) != NULL; p += 2) {
        last = p + 2;
    }
    return last != NULL ? (size_t)(last - where) : 0;
}

/*
 * The file (a pointer into err->where and its length), line and column of
 * an error's location; line 0 when it names none.
 */
static void
diag_mark(const struct etl_err *err, const char **file, size_t *flen, unsigned long *line,
          unsigned long *col)
{
    size_t len = strlen(err->where), mark, at;
    unsigned long a = 0, b = 0;

    *file = err->where;
    *flen = len;
    *line = *col = 0;
    if (len > 0 && ends_in_mark(err->where, len, &mark)) {
        int n = sscanf(err->where + mark, ":%lu:%lu", &a, &b);

        at = location_start(err->where, NULL);
        at = at > mark ? 0 : at;
        *file = err->where + at;
        *flen = mark - at;
        *line = n >= 1 ? a : 0;
        *col = n >= 2 ? b : 0;
    }
}

/* An error and the order it was found in, for a stable sort. */
struct sort_item {
    const char *file;
    size_t flen;
    unsigned long line, col;
    size_t seq;
    struct etl_err *err;
};

static int
sort_cmp(const void *pa, const void *pb)
{
    const struct sort_item *a = pa, *b = pb;
    size_t n = a->flen < b->flen ? a->flen : b->flen;
    int c = memcmp(a->file, b->file, n);

    if (c != 0 || a->flen != b->flen) {
        return c != 0 ? c : a->flen < b->flen ? -1 : 1;
    }
    if (a->line != b->line) {
        return a->line < b->line ? -1 : 1;
    }
    if (a->col != b->col) {
        return a->col < b->col ? -1 : 1;
    }
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

void
etl_diags_sort(struct etl_diags *d)
{
    struct sort_item *it = calloc(d->n ? d->n : 1, sizeof(*it));
    struct etl_err *sorted = calloc(d->n ? d->n : 1, sizeof(*sorted));

    if (it == NULL || sorted == NULL) {
        free(it);
        free(sorted);
        return;         /* left in the order found */
    }
    for (size_t i = 0; i < d->n; i++) {
        diag_mark(&d->errs[i], &it[i].file, &it[i].flen, &it[i].line, &it[i].col);
        it[i].seq = i;
        it[i].err = &d->errs[i];
    }
    qsort(it, d->n, sizeof(*it), sort_cmp);
    for (size_t i = 0; i < d->n; i++) {
        sorted[i] = *it[i].err;
    }
    free(d->errs);
    free(it);
    d->errs = sorted;
    d->cap = d->n ? d->n : 1;
}

void
etl_diag_format(const struct etl_err *err, const char *file, char *out, size_t size)
{
    struct etl_err body = *err;
    char loc[sizeof(err->where)] = "";
    size_t len = strlen(err->where), at, mark;

    body.where[0] = '\0';
    if (len > 0 && ends_in_mark(err->where, len, &mark)) {
        at = location_start(err->where, file);
        if (at > mark) {
            at = 0;     /* a ", " inside the file name: all of it is the location */
        }
        etl_strlcpy(loc, err->where + at, sizeof(loc));
        if (at >= 2) {
            memcpy(body.where, err->where, at - 2);     /* the context, without ", " */
            body.where[at - 2] = '\0';
        }
    } else if (len > 0) {
        etl_strlcpy(loc, err->where, sizeof(loc));      /* a file, no line */
    } else if (file != NULL) {
        etl_strlcpy(loc, file, sizeof(loc));
    }
    if (size == 0) {
        return;
    }
    out[0] = '\0';
    if (loc[0] != '\0') {
        etl_strlcpy(out, loc, size);
        etl_strlcat(out, ": ", size);
    }
    len = strlen(out);
    etl_err_format(&body, out + len, size - len);
}
