/*
 * fetch_url.c
 *    The http_fetch stage's URL templates expanded into a run's URLs: every
 *    combination of the 'vars' values and the years ({year}: the run's, or
 *    the stage's "years"), values percent-encoded where a URL needs it, each
 *    URL with its redacted form (url.h) for the ledger and the logs.
 *
 *    Next door: fetch.c reads the templates and downloads the URLs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etl/buf.h"
#include "etl/url.h"
#include "fetch.h"

/* Append a substituted value, percent-encoding spaces, controls and non-ASCII. */
static int
fetch_add_value(struct etl_buf *b, const char *v, struct etl_err *err)
{
    static const char hex[] = "0123456789ABCDEF";

    for (const unsigned char *p = (const unsigned char *)v; *p != '\0'; p++) {
        if (*p <= 0x20 || *p >= 0x7f) {
            char enc[3] = { '%', hex[*p >> 4], hex[*p & 15] };

            if (etl_buf_add(b, enc, 3, err) < 0) {
                return -1;
            }
        } else if (etl_buf_addc(b, (char)*p, err) < 0) {
            return -1;
        }
    }
    return 0;
}

/* Free a URL list. */
void
fetch_urls_free(struct fetch_url *u, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(u[i].url);
        free(u[i].shown);
    }
    free(u);
}

/* Substitute one combination ('pick', 'year') into template 't', into 'b'. */
static int
fetch_subst(const struct fetch_ctx *c, const struct fetch_tmpl *t, const size_t *pick,
            int year, struct etl_buf *b, struct etl_err *err)
{
    const char *p = t->text;

    while (*p != '\0') {
        const char *open = strchr(p, '{'), *close;

        if (open == NULL) {
            return etl_buf_addstr(b, p, err);
        }
        close = strchr(open, '}');      /* checked by fetch_tmpl_parse */
        if (etl_buf_add(b, p, (size_t)(open - p), err) < 0) {
            return -1;
        }
        if ((size_t)(close - open - 1) == 4 && strncmp(open + 1, "year", 4) == 0) {
            if (etl_buf_printf(b, err, "%d", year) < 0) {
                return -1;
            }
        } else {
            long v = fetch_var_find(c, open + 1, (size_t)(close - open - 1));
            size_t k = 0;

            while (t->vars[k] != (size_t)v) {
                k++;
            }
            if (fetch_add_value(b, c->vars[v].values[pick[k]], err) < 0) {
                return -1;
            }
        }
        p = close + 1;
    }
    return b->data == NULL ? etl_buf_addstr(b, "", err) : 0;
}

/*
 * Append URL 'url' (taken: freed on failure too) with its redacted form
 * 'shown' (taken too) to *urls.  The same URL twice is fetched once; two
 * URLs shown alike (they differ only in secrets) are an error of 't'.
 */
static int
fetch_append(const struct fetch_tmpl *t, char *url, char *shown, int year,
             struct fetch_url **urls, size_t *n, size_t *cap, struct etl_err *err)
{
    int rc = -1;

    for (size_t i = 0; i < *n; i++) {
        if (strcmp((*urls)[i].url, url) == 0) {
            rc = 0;                     /* same URL twice: fetch it once */
            goto out;
        }
        if (strcmp((*urls)[i].shown, shown) == 0) {
            /* one source in the ledger for two URLs: their validators would mix */
            etl_node_fail(t->node, err, ETL_E_CONFIG,
                          "two URLs differ only in secret values, both shown as \"%s\"",
                          shown);
            etl_err_hint(err, "a parameter that tells sources apart is no secret: list "
                              "the secret ones under \"secret_params\"");
            goto out;
        }
    }
    if (*n == *cap) {
        size_t ncap = *cap > 0 ? *cap * 2 : 16;
        struct fetch_url *nu;

        if (ncap > FETCH_URLS_MAX) {
            etl_node_fail(t->node, err, ETL_E_CONFIG,
                          "the URL templates expand to more than %d URLs", FETCH_URLS_MAX);
            goto out;
        }
        if ((nu = realloc(*urls, ncap * sizeof(*nu))) == NULL) {
            etl_err_nomem(err);
            goto out;
        }
        *urls = nu;
        *cap = ncap;
    }
    (*urls)[*n] = (struct fetch_url){ .url = url, .shown = shown,
                                      .year = t->uses_year ? year : 0 };
    (*n)++;
    return 0;
out:
    free(url);
    free(shown);
    return rc;
}

/* Substitute one combination into template 't' and append it (no duplicates). */
static int
fetch_emit(const struct fetch_ctx *c, const struct fetch_tmpl *t, const size_t *pick,
           int year, struct fetch_url **urls, size_t *n, size_t *cap, struct etl_err *err)
{
    struct etl_buf b;
    char *url, *shown;

    etl_buf_init(&b, FETCH_URL_MAX);
    if (fetch_subst(c, t, pick, year, &b, err) < 0) {
        etl_buf_free(&b);
        if (err->code == ETL_E_DATA) {
            err->code = ETL_E_CONFIG;   /* "too big": the template's fault */
            etl_err_where(err, "%s:%u:%u", t->node->file, t->node->line, t->node->col);
        }
        return -1;
    }
    url = etl_buf_take(&b);
    if ((shown = etl_url_redact_dup(url, c->secret)) == NULL) {
        free(url);
        return etl_err_nomem(err);
    }
    return fetch_append(t, url, shown, year, urls, n, cap, err);
}

/*
 * Expand every template, in order; for each, the cartesian product of the
 * vars it uses (in the order "vars" lists them, the first varying slowest),
 * then the years, varying fastest.  'run_years' (--year), when given,
 * replace "years"; 'year_only' leaves out the templates without {year}.
 * O(number of URLs squared) for the duplicate check.
 */
int
fetch_expand(const struct fetch_ctx *c, const int *run_years, size_t nrun_years,
             bool year_only, struct fetch_url **out, size_t *nout, struct etl_err *err)
{
    struct fetch_url *urls = NULL;
    size_t n = 0, cap = 0;
    size_t *pick = NULL;
    const int *years = nrun_years > 0 ? run_years : c->years;
    size_t nyears = nrun_years > 0 ? nrun_years : c->nyears;

    pick = calloc(c->nvars > 0 ? c->nvars : 1, sizeof(*pick));
    if (pick == NULL) {
        return etl_err_nomem(err);
    }
    for (size_t ti = 0; ti < c->ntmpls; ti++) {
        const struct fetch_tmpl *t = &c->tmpls[ti];
        bool more = true;

        if (year_only && !t->uses_year) {
            continue;           /* a backfill: nothing for it to do with this one */
        }
        if (t->uses_year && nyears == 0) {
            char shown[sizeof(err->msg)];

            etl_url_redact_names(t->text, c->secret, shown, sizeof(shown));
            etl_node_fail(t->node, err, ETL_E_CONFIG,
                          "URL template \"%s\" uses {year} but no year is given", shown);
            etl_err_hint(err, "list \"years\" in the stage or run with --year");
            goto fail;
        }
        memset(pick, 0, (c->nvars > 0 ? c->nvars : 1) * sizeof(*pick));
        while (more) {
            for (size_t yi = 0; yi < (t->uses_year ? nyears : 1); yi++) {
                if (fetch_emit(c, t, pick, t->uses_year ? years[yi] : 0, &urls, &n, &cap,
                               err) < 0) {
                    goto fail;
                }
            }
            /* odometer over the template's vars, the last one fastest */
            more = false;
            for (size_t k = t->nvars; k-- > 0;) {
                if (++pick[k] < c->vars[t->vars[k]].n) {
                    more = true;
                    break;
                }
                pick[k] = 0;
            }
        }
    }
    free(pick);
    *out = urls;
    *nout = n;
    return 0;

fail:
    free(pick);
    fetch_urls_free(urls, n);
    return -1;
}
