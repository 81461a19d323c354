/*
 * fetch.c
 *    The http_fetch stage kind: expands URL templates ({year}, {name} of
 *    'vars') into the run's source URLs, downloads them all concurrently
 *    into the spool (etl/http.c) with conditional GETs from the ledger's
 *    validators (etl_ledger_sources_read), and appends one struct etl_file per URL to the run for the
 *    row stages to load.  In offline mode it takes each URL's last body from
 *    the spool instead (spool_dir/<sha256 of the ledger>).
 *
 *        - name: fetch
 *          kind: http_fetch
 *          urls: ["${EWC_SOURCE_URL}/{year}/{province}.csv"]
 *          vars: { province: [gd, gx] }
 *          years: "2020..2022"        # or [2020, 2021]; --year overrides
 *          parallel: 4
 *          secret_params: [token]     # default: etl_url_secret_params
 *
 *    A URL may carry credentials ("user:pw@", "?token=${EWC_TOKEN}"): only
 *    the download sees them.  Each expanded URL is redacted once (url.h,
 *    with the stage's secret_params) and the redacted form is the file's URL
 *    from then on: the ledger's identity of the source (so a new token keeps
 *    the source and its validators), the logs, the errors.  Two URLs of a
 *    stage that differ only in secret values would be one source: an error.
 *
 *    A failed URL fails only its file; run() fails only when the run cannot
 *    go on (configuration, spool directory, ledger query, out of memory).
 *
 *    A backfill (run->backfill) expands only the templates with {year}: a
 *    URL without one is no year's data, so it is neither fetched nor loaded.
 *    A plan's listing (run->list_only) appends the URLs, downloading nothing.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "etl/buf.h"
#include "etl/config.h"
#include "etl/http.h"
#include "etl/ledger.h"
#include "etl/log.h"
#include "etl/pg.h"
#include "etl/pipeline.h"
#include "etl/runner.h"
#include "etl/spool.h"
#include "etl/stage.h"
#include "etl/url.h"
#include "fetch.h"

static const struct etl_key fetch_keys[] = {
    { "urls", ETL_KEY_STR_OR_SEQ, true, "URL templates, with {year} and {name} of vars" },
    { "vars", ETL_KEY_MAP, false, "name: list of values, expanded into {name}" },
    { "years", ETL_KEY_ANY, false, "list of years or \"2020..2022\"; --year overrides" },
    { "parallel", ETL_KEY_INT, false, "downloads at once (1..32, default 4)" },
    { "retries", ETL_KEY_INT, false, "retries on timeouts, 429 and 5xx (0..20, default 3)" },
    { "backoff_ms", ETL_KEY_INT, false, "first retry delay in ms (default 500)" },
    { "backoff_max_ms", ETL_KEY_INT, false, "longest retry delay in ms (default 30000)" },
    { "timeout", ETL_KEY_INT, false, "seconds below 1 byte/s before giving up (default 60)" },
    { "connect_timeout", ETL_KEY_INT, false, "connect timeout in s (default 10)" },
    { "max_bytes", ETL_KEY_INT, false, "largest body (default 4 GiB)" },
    { "headers", ETL_KEY_MAP, false, "extra request headers" },
    { "secret_params", ETL_KEY_SEQ, false,
      "names of secret query parameters, replacing the defaults (token, key, sig, ...)" },
    { 0 }
};

static void
fetch_destroy(struct etl_stage *st)
{
    struct fetch_ctx *c = st->ctx;

    if (c == NULL) {
        return;
    }
    for (size_t i = 0; i < c->ntmpls; i++) {
        free(c->tmpls[i].vars);
    }
    free(c->tmpls);
    for (size_t i = 0; i < c->nvars; i++) {
        free(c->vars[i].values);
    }
    free(c->vars);
    free(c->years);
    for (size_t i = 0; i < c->nheaders; i++) {
        free(c->headers[i]);
    }
    free(c->headers);
    free(c->secret);
    free(c);
    st->ctx = NULL;
}

static bool
is_name_char(char ch, bool first)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' ||
           (!first && ch >= '0' && ch <= '9');
}

/* Find a var by name (n bytes); -1 when none. */
long
fetch_var_find(const struct fetch_ctx *c, const char *name, size_t n)
{
    for (size_t i = 0; i < c->nvars; i++) {
        if (strlen(c->vars[i].name) == n && strncmp(c->vars[i].name, name, n) == 0) {
            return (long)i;
        }
    }
    return -1;
}

/* "year, a, b": the placeholders a template may use, for hints. */
static void
fetch_known_names(const struct fetch_ctx *c, char *out, size_t size)
{
    etl_strlcpy(out, "year", size);
    for (size_t i = 0; i < c->nvars; i++) {
        etl_strlcat(out, ", ", size);
        etl_strlcat(out, c->vars[i].name, size);
    }
}

/*
 * Check a template's placeholders and record which it uses.  {name} must
 * be "year" or a var; any other '{' is an error pointing at the template.
 */
static int
fetch_tmpl_parse(struct fetch_ctx *c, struct fetch_tmpl *t, struct etl_err *err)
{
    const char *p = t->text;
    char shown[sizeof(err->msg)];

    etl_url_redact_names(t->text, c->secret, shown, sizeof(shown));
    if (strncasecmp(p, "http://", 7) != 0 && strncasecmp(p, "https://", 8) != 0) {
        return etl_node_fail(t->node, err, ETL_E_CONFIG,
                             "URL \"%s\" must start with http:// or https://", shown);
    }
    while ((p = strchr(p, '{')) != NULL) {
        const char *name = p + 1, *q = name;
        long v;

        while (is_name_char(*q, q == name)) {
            q++;
        }
        if (q == name || *q != '}') {
            return etl_node_fail(t->node, err, ETL_E_CONFIG,
                                 "invalid placeholder at \"%.20s\" in URL template \"%s\"",
                                 p, shown);
        }
        if ((size_t)(q - name) == 4 && strncmp(name, "year", 4) == 0) {
            t->uses_year = true;
        } else if ((v = fetch_var_find(c, name, (size_t)(q - name))) < 0) {
            char known[256];

            fetch_known_names(c, known, sizeof(known));
            etl_node_fail(t->node, err, ETL_E_CONFIG,
                          "unknown placeholder {%.*s} in URL template \"%s\"",
                          (int)(q - name), name, shown);
            etl_err_hint(err, "placeholders: %s (define others under \"vars\")", known);
            return -1;
        } else {
            bool seen = false;

            for (size_t i = 0; i < t->nvars; i++) {
                seen = seen || t->vars[i] == (size_t)v;
            }
            if (!seen) {
                t->vars[t->nvars++] = (size_t)v;
            }
        }
        p = q + 1;
    }
    return 0;
}

/* vars: { name: [values...] } -- each a non-empty list of scalars. */
static int
fetch_conf_vars(struct fetch_ctx *c, const struct etl_node *vars, struct etl_err *err)
{
    if (vars == NULL) {
        return 0;
    }
    c->vars = calloc(vars->n > 0 ? vars->n : 1, sizeof(*c->vars));
    if (c->vars == NULL) {
        return etl_err_nomem(err);
    }
    for (size_t i = 0; i < vars->n; i++) {
        const struct etl_node *k = vars->keys[i], *v = vars->items[i];
        struct fetch_var *fv = &c->vars[c->nvars];
        const char *s = k->str;

        for (const char *q = s; *q != '\0'; q++) {
            if (!is_name_char(*q, q == s)) {
                return etl_node_fail(k, err, ETL_E_CONFIG,
                                     "invalid variable name \"%s\" (letters, digits, _)", s);
            }
        }
        if (s[0] == '\0') {
            return etl_node_fail(k, err, ETL_E_CONFIG, "empty variable name");
        }
        if (strcmp(s, "year") == 0) {
            etl_node_fail(k, err, ETL_E_CONFIG, "\"year\" cannot be a variable");
            etl_err_hint(err, "list the years under \"years\"");
            return -1;
        }
        if (v->type != ETL_NODE_SEQ || v->n == 0) {
            return etl_node_fail(v, err, ETL_E_CONFIG,
                                 "variable \"%s\" must be a non-empty list", s);
        }
        fv->name = s;
        fv->node = v;
        fv->values = calloc(v->n, sizeof(*fv->values));
        if (fv->values == NULL) {
            return etl_err_nomem(err);
        }
        c->nvars++;
        for (size_t j = 0; j < v->n; j++) {
            if (v->items[j]->type != ETL_NODE_SCALAR) {
                return etl_node_fail(v->items[j], err, ETL_E_CONFIG,
                                     "values of variable \"%s\" must be strings or integers",
                                     s);
            }
            fv->values[fv->n++] = v->items[j]->str;
        }
    }
    return 0;
}

/* Append one year, checking its range. */
static int
fetch_year_add(struct fetch_ctx *c, const struct etl_node *node, long y, size_t cap,
               struct etl_err *err)
{
    if (y < FETCH_YEAR_MIN || y > FETCH_YEAR_MAX) {
        return etl_node_fail(node, err, ETL_E_CONFIG, "year %ld is out of range (%d to %d)",
                             y, FETCH_YEAR_MIN, FETCH_YEAR_MAX);
    }
    if (c->nyears >= cap) {
        return etl_node_fail(node, err, ETL_E_CONFIG, "too many years (at most %d)",
                             FETCH_YEARS_MAX);
    }
    c->years[c->nyears++] = (int)y;
    return 0;
}

/* years: [2020, 2021] | 2021 | "2020..2022" */
static int
fetch_conf_years(struct fetch_ctx *c, const struct etl_node *years, struct etl_err *err)
{
    size_t cap = FETCH_YEARS_MAX;

    if (years == NULL) {
        return 0;
    }
    c->years = calloc(cap, sizeof(*c->years));
    if (c->years == NULL) {
        return etl_err_nomem(err);
    }
    if (years->type == ETL_NODE_SEQ) {
        if (years->n == 0) {
            return etl_node_fail(years, err, ETL_E_CONFIG, "\"years\" is an empty list");
        }
        for (size_t i = 0; i < years->n; i++) {
            long y;

            if (etl_node_to_long(years->items[i], LONG_MIN, LONG_MAX, &y, err) < 0 ||
                fetch_year_add(c, years->items[i], y, cap, err) < 0) {
                return -1;
            }
        }
        return 0;
    }
    if (years->type == ETL_NODE_SCALAR) {
        const char *dots = strstr(years->str, "..");
        long a, b;
        char *end;

        if (dots == NULL) {
            if (etl_node_to_long(years, LONG_MIN, LONG_MAX, &a, err) < 0) {
                etl_err_hint(err, "a year, a list of years or a range \"2020..2022\"");
                return -1;
            }
            return fetch_year_add(c, years, a, cap, err);
        }
        a = strtol(years->str, &end, 10);
        if (end != dots || end == years->str) {
            goto bad_range;
        }
        b = strtol(dots + 2, &end, 10);
        if (*end != '\0' || end == dots + 2) {
            goto bad_range;
        }
        if (a > b) {
            return etl_node_fail(years, err, ETL_E_CONFIG,
                                 "year range \"%s\" ends before it starts", years->str);
        }
        if (b - a >= FETCH_YEARS_MAX) {
            return etl_node_fail(years, err, ETL_E_CONFIG, "too many years (at most %d)",
                                 FETCH_YEARS_MAX);
        }
        for (long y = a; y <= b; y++) {
            if (fetch_year_add(c, years, y, cap, err) < 0) {
                return -1;
            }
        }
        return 0;
    }
bad_range:
    etl_node_fail(years, err, ETL_E_CONFIG, "invalid \"years\"");
    etl_err_hint(err, "a year, a list of years or a range \"2020..2022\"");
    return -1;
}

/* An HTTP header field name: RFC 9110 token characters. */
static bool
is_token(const char *s)
{
    if (*s == '\0') {
        return false;
    }
    for (; *s != '\0'; s++) {
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || strchr("!#$%&'*+-.^_`|~", *s) != NULL)) {
            return false;
        }
    }
    return true;
}

/* headers: { Name: value } -> "Name: value" lines. */
static int
fetch_conf_headers(struct fetch_ctx *c, const struct etl_node *h, struct etl_err *err)
{
    if (h == NULL) {
        return 0;
    }
    c->headers = calloc(h->n > 0 ? h->n : 1, sizeof(*c->headers));
    if (c->headers == NULL) {
        return etl_err_nomem(err);
    }
    for (size_t i = 0; i < h->n; i++) {
        const struct etl_node *k = h->keys[i], *v = h->items[i];
        size_t n;

        if (!is_token(k->str)) {
            return etl_node_fail(k, err, ETL_E_CONFIG, "invalid header name \"%s\"", k->str);
        }
        if (strcasecmp(k->str, "If-None-Match") == 0 ||
            strcasecmp(k->str, "If-Modified-Since") == 0) {
            return etl_node_fail(k, err, ETL_E_CONFIG,
                                 "header \"%s\" is set from the ledger, not the YAML",
                                 k->str);
        }
        if (v->type != ETL_NODE_SCALAR) {
            return etl_node_fail(v, err, ETL_E_CONFIG, "header \"%s\" must be a string",
                                 k->str);
        }
        if (strpbrk(v->str, "\r\n") != NULL) {
            return etl_node_fail(v, err, ETL_E_CONFIG,
                                 "header \"%s\" must not contain a line break", k->str);
        }
        n = strlen(k->str) + 2 + strlen(v->str) + 1;
        c->headers[i] = malloc(n);
        if (c->headers[i] == NULL) {
            return etl_err_nomem(err);
        }
        snprintf(c->headers[i], n, "%s: %s", k->str, v->str);
        c->nheaders++;
    }
    return 0;
}

/*
 * secret_params: [name, ...] -- replaces the default names (an empty list
 * leaves only userinfo redacted).  Names are compared decoded and in any
 * case, so they must be non-empty and free of '=', '&', ';', '?' and '#'.
 */
static int
fetch_conf_secret(struct fetch_ctx *c, const struct etl_node *names, struct etl_err *err)
{
    if (names == NULL) {
        return 0;
    }
    if (names->type != ETL_NODE_SEQ) {
        return etl_node_fail(names, err, ETL_E_CONFIG,
                             "\"secret_params\" must be a list of parameter names");
    }
    c->secret = calloc(names->n + 1, sizeof(*c->secret));
    if (c->secret == NULL) {
        return etl_err_nomem(err);
    }
    for (size_t i = 0; i < names->n; i++) {
        const struct etl_node *v = names->items[i];

        if (v->type != ETL_NODE_SCALAR || v->str[0] == '\0' ||
            strpbrk(v->str, "=&;?#") != NULL || strlen(v->str) > ETL_URL_PARAM_MAX) {
            return etl_node_fail(v, err, ETL_E_CONFIG,
                                 "invalid secret parameter name (no '=', '&', ';', "
                                 "'?', '#'; at most %d bytes)", ETL_URL_PARAM_MAX);
        }
        c->secret[i] = v->str;
    }
    return 0;
}

/* urls: one template or a list of them. */
static int
fetch_conf_urls(struct fetch_ctx *c, const struct etl_node *urls, struct etl_err *err)
{
    size_t n = urls->type == ETL_NODE_SEQ ? urls->n : 1;

    if (urls->type == ETL_NODE_MAP) {
        return etl_node_fail(urls, err, ETL_E_CONFIG, "\"urls\" must be a string or a list");
    }
    if (n == 0) {
        return etl_node_fail(urls, err, ETL_E_CONFIG, "\"urls\" is an empty list");
    }
    c->tmpls = calloc(n, sizeof(*c->tmpls));
    if (c->tmpls == NULL) {
        return etl_err_nomem(err);
    }
    for (size_t i = 0; i < n; i++) {
        const struct etl_node *u = urls->type == ETL_NODE_SEQ ? urls->items[i] : urls;
        struct fetch_tmpl *t = &c->tmpls[c->ntmpls];

        if (u->type != ETL_NODE_SCALAR || u->str[0] == '\0') {
            return etl_node_fail(u, err, ETL_E_CONFIG, "a URL must be a non-empty string");
        }
        t->text = u->str;
        t->node = u;
        t->vars = calloc(c->nvars > 0 ? c->nvars : 1, sizeof(*t->vars));
        if (t->vars == NULL) {
            return etl_err_nomem(err);
        }
        c->ntmpls++;
        if (fetch_tmpl_parse(c, t, err) < 0) {
            return -1;
        }
    }
    return 0;
}

/*
 * Read the stage's keys (already checked against fetch_keys by the
 * pipeline loader).  Strings stay owned by the document, which outlives
 * the stage.  On failure st->ctx holds what was built; destroy frees it.
 */
static int
fetch_configure(struct etl_stage *st, const struct etl_node *node, struct etl_err *err)
{
    struct fetch_ctx *c = calloc(1, sizeof(*c));
    const struct etl_node *urls = etl_node_get(node, "urls");
    long l;

    if (c == NULL) {
        return etl_err_nomem(err);
    }
    st->ctx = c;
    etl_http_opts_init(&c->http);
    if (urls == NULL) {
        return etl_node_fail(node, err, ETL_E_CONFIG, "stage has no \"urls\"");
    }
    if (fetch_conf_secret(c, etl_node_get(node, "secret_params"), err) < 0 ||
        fetch_conf_vars(c, etl_node_get(node, "vars"), err) < 0 ||
        fetch_conf_years(c, etl_node_get(node, "years"), err) < 0 ||
        fetch_conf_headers(c, etl_node_get(node, "headers"), err) < 0 ||
        fetch_conf_urls(c, urls, err) < 0 ||
        etl_node_long(node, "parallel", ETL_HTTP_PARALLEL, 1, 32, &c->http.parallel,
                      err) < 0 ||
        etl_node_long(node, "retries", ETL_HTTP_RETRIES, 0, 20, &c->http.retries, err) < 0 ||
        etl_node_long(node, "backoff_ms", ETL_HTTP_BACKOFF_MS, 0, 600000,
                      &c->http.backoff_ms, err) < 0 ||
        etl_node_long(node, "backoff_max_ms", ETL_HTTP_BACKOFF_MAX_MS, 0, 3600000,
                      &c->http.backoff_max_ms, err) < 0 ||
        etl_node_long(node, "timeout", ETL_HTTP_TIMEOUT, 1, 86400, &c->http.timeout,
                      err) < 0 ||
        etl_node_long(node, "connect_timeout", ETL_HTTP_CONNECT_TIMEOUT, 1, 600,
                      &c->http.connect_timeout, err) < 0 ||
        etl_node_long(node, "max_bytes", (long)ETL_HTTP_MAX_BYTES, 1, LONG_MAX, &l,
                      err) < 0) {
        return -1;
    }
    c->http.max_bytes = l;
    if (c->http.backoff_max_ms < c->http.backoff_ms) {
        return etl_node_fail(etl_node_get(node, "backoff_max_ms"), err, ETL_E_CONFIG,
                             "backoff_max_ms (%ld) is less than backoff_ms (%ld)",
                             c->http.backoff_max_ms, c->http.backoff_ms);
    }
    c->http.headers = (const char *const *)c->headers;
    c->http.nheaders = c->nheaders;
    return 0;
}


/* strdup that tolerates NULL; false on ENOMEM. */
static bool
dup_opt(char **dst, const char *src)
{
    *dst = NULL;
    if (src == NULL) {
        return true;
    }
    *dst = strdup(src);
    return *dst != NULL;
}

/*
 * Offline: each URL's body is spool_dir/<sha256 the ledger recorded>.  A URL
 * without ledger row or whose body left the spool fails "not in the spool".
 */
static int
fetch_offline(struct etl_stage *st, struct etl_run *run, const struct fetch_url *urls,
              size_t n, const struct etl_ledger_sources *prev, const char *spool_dir,
              const char *prefix, struct etl_err *err)
{
    for (size_t i = 0; i < n; i++) {
        const struct etl_ledger_source *p = etl_ledger_sources_find(prev, urls[i].shown);
        struct etl_file *f = etl_run_add_file(run, urls[i].shown, err);
        struct stat sb;

        if (f == NULL) {
            return -1;
        }
        f->year = urls[i].year;
        f->from = st;
        if (p == NULL || p->sha256 == NULL) {
            f->status = ETL_FILE_FAILED;
            etl_err_set(&f->err, ETL_E_IO, "%s: not in the spool", f->url);
            etl_err_detail(&f->err, "the ledger has no download of it");
        } else if ((f->spool_path = etl_spool_path(spool_dir, p->sha256)) == NULL ||
                   !dup_opt(&f->etag, p->etag) ||
                   !dup_opt(&f->last_modified, p->last_modified)) {
            return etl_err_nomem(err);
        } else if (stat(f->spool_path, &sb) < 0) {
            f->status = ETL_FILE_FAILED;
            etl_err_set(&f->err, ETL_E_IO, "%s: not in the spool", f->url);
            etl_err_detail(&f->err, "spool file \"%s\" is missing", f->spool_path);
            free(f->spool_path);
            f->spool_path = NULL;
        } else {
            etl_strlcpy(f->sha256, p->sha256, sizeof(f->sha256));
            f->bytes = sb.st_size;
            f->status = ETL_FILE_PENDING;
        }
        if (f->status == ETL_FILE_FAILED) {
            etl_log(ETL_LOG_WARNING, "%s%s", prefix, f->err.msg);
        } else {
            etl_log(ETL_LOG_INFO, "%soffline %s: spool, %lld bytes, sha256 %.8s", prefix,
                    f->url, (long long)f->bytes, f->sha256);
        }
    }
    return 0;
}

/*
 * Whether the source's refused version still stands for this run: it was
 * refused under the YAML loaded now (another YAML may accept it).
 */
static bool
fetch_refusal_holds(const struct etl_stage *st, const struct etl_ledger_source *p)
{
    const struct etl_config *cfg = st->pipeline->config;
    const struct etl_doc *doc = cfg != NULL ? cfg->doc : NULL;

    return p != NULL && p->refused_sha256 != NULL && p->refused_config != NULL &&
           doc != NULL && strcmp(p->refused_config, doc->sha256) == 0;
}

/*
 * The body is the version the source last refused (304 to its validators,
 * or the same SHA-256): the file fails again with the same reason, without
 * a parse, and keeps the refused version's validators for the next GET.
 */
static int
fetch_still_refused(struct etl_file *f, struct etl_http_req *r,
                    const struct etl_ledger_source *p, const char *spool_dir,
                    const char *prefix, struct etl_err *err)
{
    struct stat sb;

    f->etag = r->resp_etag;
    f->last_modified = r->resp_last_modified;
    r->resp_etag = r->resp_last_modified = NULL;
    if ((f->etag == NULL && !dup_opt(&f->etag, p->refused_etag)) ||
        (f->last_modified == NULL && !dup_opt(&f->last_modified, p->refused_last_modified))) {
        return etl_err_nomem(err);
    }
    etl_strlcpy(f->sha256, p->refused_sha256, sizeof(f->sha256));
    if (r->not_modified) {
        if ((f->spool_path = etl_spool_path(spool_dir, p->refused_sha256)) == NULL) {
            return etl_err_nomem(err);
        }
        if (stat(f->spool_path, &sb) == 0) {
            f->bytes = sb.st_size;
        } else {
            free(f->spool_path);
            f->spool_path = NULL;
        }
    } else {
        f->spool_path = r->spool_path;
        r->spool_path = NULL;
        f->bytes = r->bytes;
    }
    f->status = ETL_FILE_FAILED;
    f->still_refused = true;
    etl_err_set(&f->err, ETL_E_DATA, "unchanged since it was refused: %s",
                p->refused_reason != NULL ? p->refused_reason : "refused");
    etl_err_detail(&f->err, "ledger file %s; not parsed again until the file or the YAML "
                   "changes", p->refused_file_id);
    etl_log(ETL_LOG_INFO, "%sGET %s: %s, the version refused as ledger file %s", prefix,
            f->url, r->not_modified ? "304 not modified" : "same sha256", p->refused_file_id);
    return 0;
}

/*
 * Turn a finished request into the run's file; 'refused': the source's
 * refused version stands (the request asked with its validators).
 */
static int
fetch_file_fill(struct etl_file *f, struct etl_http_req *r, const struct etl_ledger_source *p,
                bool refused, const char *spool_dir, const char *prefix, struct etl_err *err)
{
    const char *prev_sha = p != NULL ? p->sha256 : NULL;
    struct stat sb;

    f->http_status = r->status;
    if (r->err.code != ETL_E_NONE) {
        f->status = ETL_FILE_FAILED;
        f->err = r->err;
        etl_log(ETL_LOG_WARNING, "%s%s", prefix, r->err.msg);
        return 0;
    }
    if (refused && (r->not_modified || strcmp(r->sha256, p->refused_sha256) == 0)) {
        return fetch_still_refused(f, r, p, spool_dir, prefix, err);
    }
    /* the response's validators, else (304 without them) the ledger's */
    f->etag = r->resp_etag;
    f->last_modified = r->resp_last_modified;
    r->resp_etag = r->resp_last_modified = NULL;
    if ((f->etag == NULL && !dup_opt(&f->etag, p != NULL ? p->etag : NULL)) ||
        (f->last_modified == NULL &&
         !dup_opt(&f->last_modified, p != NULL ? p->last_modified : NULL))) {
        return etl_err_nomem(err);
    }
    if (r->not_modified) {
        f->status = ETL_FILE_UNCHANGED;
        if (prev_sha != NULL) {
            etl_strlcpy(f->sha256, prev_sha, sizeof(f->sha256));
            f->spool_path = etl_spool_path(spool_dir, prev_sha);
            if (f->spool_path == NULL) {
                return etl_err_nomem(err);
            }
            if (stat(f->spool_path, &sb) == 0) {
                f->bytes = sb.st_size;
            } else {
                free(f->spool_path);
                f->spool_path = NULL;
            }
        }
        etl_log(ETL_LOG_INFO, "%sGET %s: 304 not modified", prefix, f->url);
        return 0;
    }
    f->spool_path = r->spool_path;
    r->spool_path = NULL;
    etl_strlcpy(f->sha256, r->sha256, sizeof(f->sha256));
    f->bytes = r->bytes;
    f->status = prev_sha != NULL && strcmp(prev_sha, f->sha256) == 0 ? ETL_FILE_UNCHANGED
                                                                     : ETL_FILE_PENDING;
    etl_log(ETL_LOG_INFO, "%sGET %s: %ld, %lld bytes, sha256 %.8s%s", prefix, f->url,
            r->status, (long long)f->bytes, f->sha256,
            f->status == ETL_FILE_UNCHANGED ? " (unchanged)" : "");
    return 0;
}

/* A plan's listing: one pending file per URL, nothing downloaded or read. */
static int
fetch_list(struct etl_stage *st, struct etl_run *run, const struct fetch_url *urls, size_t n,
           struct etl_err *err)
{
    for (size_t i = 0; i < n; i++) {
        struct etl_file *f = etl_run_add_file(run, urls[i].shown, err);

        if (f == NULL) {
            return -1;
        }
        f->year = urls[i].year;
        f->from = st;
        f->status = ETL_FILE_PENDING;
    }
    return 0;
}

/* One request per URL, conditional on what the ledger knows of it (none when forced). */
static struct etl_http_req *
fetch_requests(struct etl_stage *st, const struct etl_run *run, const struct fetch_url *urls,
               size_t n, const struct etl_ledger_sources *prev, struct etl_err *err)
{
    struct etl_http_req *reqs = calloc(n > 0 ? n : 1, sizeof(*reqs));

    if (reqs == NULL) {
        etl_err_nomem(err);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        /* forced (a backfill): no conditional GET, whatever the ledger knows */
        const struct etl_ledger_source *p =
            run->force ? NULL : etl_ledger_sources_find(prev, urls[i].shown);
        /* a refused version stands: ask whether it changed since */
        bool refused = fetch_refusal_holds(st, p);

        etl_http_req_init(&reqs[i], urls[i].url,
                          p == NULL ? NULL : refused ? p->refused_etag : p->etag,
                          p == NULL ? NULL : refused ? p->refused_last_modified
                                                     : p->last_modified);
        reqs[i].shown = urls[i].shown;
    }
    return reqs;
}

/* Append one file per finished request to 'run'. */
static int
fetch_files(struct etl_stage *st, struct etl_run *run, const struct fetch_url *urls, size_t n,
            const struct etl_ledger_sources *prev, struct etl_http_req *reqs,
            const char *spool_dir, const char *prefix, struct etl_err *err)
{
    for (size_t i = 0; i < n; i++) {
        const struct etl_ledger_source *p =
            run->force ? NULL : etl_ledger_sources_find(prev, urls[i].shown);
        struct etl_file *f = etl_run_add_file(run, urls[i].shown, err);

        if (f == NULL) {
            return -1;
        }
        f->year = urls[i].year;
        f->from = st;
        if (fetch_file_fill(f, &reqs[i], p, fetch_refusal_holds(st, p), spool_dir, prefix,
                            err) < 0) {
            return -1;
        }
    }
    return 0;
}

/* Download every URL into the spool and append one file per URL to 'run'. */
static int
fetch_download(struct etl_stage *st, struct etl_run *run, const struct fetch_url *urls,
               size_t n, const struct etl_ledger_sources *prev, const char *spool_dir,
               const char *prefix, struct etl_err *err)
{
    const struct fetch_ctx *c = st->ctx;
    struct etl_http_req *reqs;
    struct etl_http_opts opts;
    int rc = -1;

    if (etl_spool_prepare(spool_dir, err) < 0 ||
        (reqs = fetch_requests(st, run, urls, n, prev, err)) == NULL) {
        return -1;
    }
    opts = c->http;
    opts.spool_dir = spool_dir;
    opts.log_prefix = prefix;
    opts.cancelled = etl_http_flag_set;       /* a stop (SIGTERM) ends the downloads */
    opts.cancel_arg = (void *)&etl_stop_requested;
    if (etl_http_fetch(reqs, n, &opts, err) >= 0) {
        rc = fetch_files(st, run, urls, n, prev, reqs, spool_dir, prefix, err);
    }
    for (size_t i = 0; i < n; i++) {
        etl_http_req_clear(&reqs[i]);
    }
    free(reqs);
    return rc;
}

/*
 * Expand, look up the ledger, download (or read the spool when offline) and
 * append one file per URL to 'run'.  -1 only when the run cannot go on.
 */
static int
fetch_run(struct etl_stage *st, struct etl_run *run, struct etl_err *err)
{
    const struct fetch_ctx *c = st->ctx;
    const char *spool_dir = st->pipeline->config->spool_dir;
    struct fetch_url *urls = NULL;
    struct etl_ledger_sources prev = { 0 };
    size_t n = 0;
    char prefix[160];
    int rc = -1;

    snprintf(prefix, sizeof(prefix), "[%s/%s] ", st->pipeline->name, st->name);
    /* a backfill takes the templates with {year} only: the others are no year's */
    if (fetch_expand(c, run->nyears > 0 ? run->years : &run->year,
                     run->nyears > 0 ? run->nyears : (size_t)(run->year != 0), run->backfill,
                     &urls, &n, err) < 0 ||
        (!run->list_only &&
         etl_ledger_sources_read(run->db, run->pipeline->name, &prev, err) < 0)) {
        goto out;
    }
    if (run->list_only) {
        rc = fetch_list(st, run, urls, n, err);
    } else if (run->offline) {
        rc = fetch_offline(st, run, urls, n, &prev, spool_dir, prefix, err);
    } else {
        rc = fetch_download(st, run, urls, n, &prev, spool_dir, prefix, err);
    }

out:
    etl_ledger_sources_free(&prev);
    fetch_urls_free(urls, n);
    return rc;
}

const struct etl_stage_kind etl_stage_http_fetch = {
    .name = "http_fetch",
    .consumes = ETL_FLOW_RUN,
    .produces = ETL_FLOW_FILE,
    .keys = fetch_keys,
    .summary = "download URL templates into the spool (conditional GET, retries)",
    .configure = fetch_configure,
    .run = fetch_run,
    .destroy = fetch_destroy,
};
