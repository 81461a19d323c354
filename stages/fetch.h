/*
 * fetch.h
 *    Inside the http_fetch stage (not for other stages): its configured
 *    state, shared by fetch.c (the keys, the download, the kind) and
 *    fetch_url.c (URL templates expanded into the run's URLs).
 */
#ifndef STAGES_FETCH_H
#define STAGES_FETCH_H

#include <stdbool.h>
#include <stddef.h>

#include "etl/config.h"
#include "etl/err.h"
#include "etl/http.h"

/* Longest expanded URL. */
#define FETCH_URL_MAX 8192
/* Bounds of a {year}: anything else is a typo. */
#define FETCH_YEAR_MIN 1900
#define FETCH_YEAR_MAX 2100
/* Most years a "a..b" range may name. */
#define FETCH_YEARS_MAX 200
/* Most URLs one stage may expand to (the product of vars can explode). */
#define FETCH_URLS_MAX 100000

struct fetch_var {
    const char *name;                   /* owned by the document */
    const struct etl_node *node;
    const char **values;                /* strings owned by the document */
    size_t n;
};

struct fetch_tmpl {
    const char *text;                   /* owned by the document */
    const struct etl_node *node;
    bool uses_year;
    size_t *vars;                       /* indexes in ctx->vars, first use first */
    size_t nvars;
};

struct fetch_ctx {
    struct fetch_tmpl *tmpls;
    size_t ntmpls;
    struct fetch_var *vars;
    size_t nvars;
    int *years;                         /* NULL when no "years" */
    size_t nyears;
    char **headers;                     /* "Name: value" lines */
    size_t nheaders;
    const char **secret;                /* NULL-terminated, owned by the document;
                                           NULL: the defaults */
    struct etl_http_opts http;
};

/* One expanded URL. */
struct fetch_url {
    char *url;                          /* to download: with its credentials */
    char *shown;                        /* redacted: the file's URL */
    int year;
};

/* The index of the variable called [name, +n) of the stage, or -1 (fetch.c). */
long fetch_var_find(const struct fetch_ctx *c, const char *name, size_t n);

/*
 * fetch_url.c: every URL the templates name for a run of years 'years' (n
 * of them; none: the stage's years), with its redacted form; only those of
 * templates with {year} when 'year_only' (a backfill).  *out (n of them)
 * freed with fetch_urls_free().  0, or -1 with 'err' (too many, too long,
 * two URLs one only by their secrets, out of memory).
 */
int fetch_expand(const struct fetch_ctx *c, const int *years, size_t nyears, bool year_only,
                 struct fetch_url **out, size_t *nout, struct etl_err *err);
void fetch_urls_free(struct fetch_url *u, size_t n);

#endif
