/*
 * plan.c
 *    `ewc-etl plan` and `backfill --dry-run`; see plan.h.  A plan is made
 *    of the run's own parts: the fetch stages list their URLs (run->
 *    list_only: nothing downloaded), the ledger says what it knows of each
 *    source, and with --fetch the fetch stages download as in a run and
 *    worker.c's trial load tries each changed file inside one transaction,
 *    which ends in ROLLBACK.  Printing: a table like `ewc-etl status`, or
 *    JSON written by yajl's generator.
 */
#include "plan.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

#include "ledger.h"
#include "log.h"
#include "pg.h"
#include "runner.h"
#include "worker.h"

/* One URL of the plan. */
struct plan_row {
    const struct etl_file *listed;  /* from the listing: url, year */
    int ver;                        /* its row in plan.ver, -1: the ledger has none */
    const struct etl_file *got;     /* --fetch: what the download and trial made */
    bool skip;                      /* a backfill's URL without {year} */
};

/* Counts of a pipeline's plan. */
struct plan_totals {
    size_t urls, fetch, skipped, load, unchanged, failed;
    int64_t rows_now, rows_loaded, rows_rejected, added, changed, removed;
};

struct plan {
    struct etl_pipeline *p;
    const struct etl_plan_opts *o;
    struct etl_run list;            /* the listing */
    struct etl_run fetched;         /* --fetch: the downloads and trials */
    PGresult *ver;                  /* etl_ledger_sources_versions */
    struct plan_row *rows;
    size_t n;
    struct plan_totals t;
};

static void
plan_run_init(struct plan *pl, struct etl_run *run)
{
    memset(run, 0, sizeof(*run));
    run->pipeline = pl->p;
    run->kind = pl->o->backfill ? "backfill" : "manual";
    run->years = pl->o->years;
    run->nyears = pl->o->nyears;
    run->conninfo = etl_run_conninfo(pl->p->config, pl->o->conninfo);
    run->counts.pipeline = pl->p->name;
}

static void
plan_run_free(struct etl_run *run)
{
    for (size_t i = 0; i < run->nfiles; i++) {
        etl_file_clear(&run->files[i]);
    }
    free(run->files);
    run->files = NULL;
    run->nfiles = 0;
}

/* Run the pipeline's fetch stages (kinds that produce files) on 'run'. */
static int
plan_fetch_stages(struct etl_run *run, struct etl_err *err)
{
    struct etl_pipeline *p = run->pipeline;

    for (size_t i = 0; i < p->nstages && !etl_stop_requested; i++) {
        struct etl_stage *st = p->stages[i];

        if (st->kind->run == NULL || st->kind->produces != ETL_FLOW_FILE) {
            continue;
        }
        if (st->kind->run(st, run, err) < 0) {
            etl_err_context(err, "stage \"%s\"", st->name);
            return -1;
        }
    }
    return 0;
}

/*
 * --fetch: the pipeline's lock, one transaction with a run row, the
 * downloads (a backfill's {year} URLs only) and a trial load of each
 * changed file; then ROLLBACK, whatever happened.
 */
static int
plan_try(struct plan *pl, struct pg_conn *db, struct etl_err *err)
{
    struct etl_run *run = &pl->fetched;
    struct etl_err ignore;
    bool got = false;
    int rc = -1;

    plan_run_init(pl, run);
    run->db = db;
    run->backfill = pl->o->backfill;
    if (etl_ledger_lock_try(db, pl->p->name, &got, err) < 0) {
        return -1;
    }
    if (!got) {
        etl_err_set(err, ETL_E_BUSY, "pipeline \"%s\" is being run by another process",
                    pl->p->name);
        etl_err_hint(err, "plan it when the run has ended (ewc-etl status)");
        return -1;
    }
    if (etl_pg_exec(db, "BEGIN", err) < 0 ||
        etl_ledger_run_insert(db, pl->p->name, run->kind, "{\"plan\": true}", &run->id,
                              err) < 0 ||
        plan_fetch_stages(run, err) < 0) {
        goto out;
    }
    for (size_t i = 0; i < run->nfiles && !etl_stop_requested; i++) {
        if (run->files[i].status == ETL_FILE_PENDING &&
            etl_worker_trial(run, db, &run->files[i], err) < 0) {
            goto out;
        }
    }
    rc = 0;
out:
    etl_err_clear(&ignore);
    if (etl_pg_exec(db, "ROLLBACK", &ignore) < 0 && rc == 0) {
        *err = ignore;
        rc = -1;
    }
    etl_ledger_lock_release(db, pl->p->name);
    return rc;
}

/* The row of 'url' in the versions (sorted in byte order), or -1. */
static int
plan_version(PGresult *ver, const char *url)
{
    int lo = 0, hi = PQntuples(ver);

    while (lo < hi) {
        int mid = lo + (hi - lo) / 2, c = strcmp(PQgetvalue(ver, mid, 0), url);

        if (c == 0) {
            return mid;
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return -1;
}

/* Add a fetched (and tried) file to the totals. */
static void
plan_count_fetched(struct plan_totals *t, const struct etl_file *f)
{
    if (f->status == ETL_FILE_UNCHANGED) {
        t->unchanged++;
    } else if (f->status == ETL_FILE_LOADED) {
        t->load++;
        t->rows_loaded += f->rows_loaded;
        t->rows_rejected += f->rows_rejected;
        if (f->rows_added >= 0) {
            t->added += f->rows_added;
            t->changed += f->rows_changed;
            t->removed += f->rows_removed;
        }
    } else {
        t->failed++;
    }
}

/* Pair the listing with the ledger and the downloads; count. */
static int
plan_match(struct plan *pl, struct etl_err *err)
{
    pl->n = pl->list.nfiles;
    pl->rows = calloc(pl->n > 0 ? pl->n : 1, sizeof(*pl->rows));
    if (pl->rows == NULL) {
        return etl_err_nomem(err);
    }
    for (size_t i = 0; i < pl->n; i++) {
        struct plan_row *r = &pl->rows[i];

        r->listed = &pl->list.files[i];
        r->ver = plan_version(pl->ver, r->listed->url);
        r->skip = pl->o->backfill && r->listed->year == 0;
        pl->t.urls++;
        if (r->skip) {
            pl->t.skipped++;
            continue;
        }
        pl->t.fetch++;
        if (r->ver >= 0) {
            pl->t.rows_now += strtoll(PQgetvalue(pl->ver, r->ver, 6), NULL, 10);
        }
        for (size_t k = 0; k < pl->fetched.nfiles && r->got == NULL; k++) {
            if (strcmp(pl->fetched.files[k].url, r->listed->url) == 0) {
                r->got = &pl->fetched.files[k];
                plan_count_fetched(&pl->t, r->got);
            }
        }
    }
    return 0;
}

/* A ledger field of the row's version, or "-". */
static const char *
plan_field(const struct plan *pl, const struct plan_row *r, int col)
{
    const char *v = r->ver >= 0 ? PQgetvalue(pl->ver, r->ver, col) : "";

    return v[0] != '\0' ? v : "-";
}

/* What the plan says of a row, one word. */
static const char *
plan_word(const struct plan_row *r)
{
    if (r->skip) {
        return "skip";
    }
    if (r->got == NULL) {
        return "fetch";
    }
    switch (r->got->status) {
    case ETL_FILE_UNCHANGED: return "unchanged";
    case ETL_FILE_LOADED: return "load";
    case ETL_FILE_PENDING: return "stopped";
    default: return r->got->spool_path == NULL ? "failed" : "refused";   /* its load */
    }
}

/* "+1 ~2 -0", "first", or "-". */
static void
plan_revised(const struct etl_file *f, char *out, size_t size)
{
    if (f == NULL || f->status != ETL_FILE_LOADED) {
        snprintf(out, size, "-");
    } else if (f->rows_added < 0) {
        snprintf(out, size, "first");
    } else {
        snprintf(out, size, "+%" PRId64 " ~%" PRId64 " -%" PRId64, f->rows_added,
                 f->rows_changed, f->rows_removed);
    }
}

/* The lines under a row: validators, why it is skipped or failed. */
static void
plan_print_details(const struct plan *pl, const struct plan_row *r, FILE *out)
{
    const char *etag = plan_field(pl, r, 2), *lm = plan_field(pl, r, 3);

    if (strcmp(etag, "-") != 0 || strcmp(lm, "-") != 0) {
        fprintf(out, "      etag %s, last-modified %s\n", etag, lm);
    }
    if (r->skip) {
        fprintf(out, "      skipped: no {year} in its URL template; a backfill does not "
                "fetch it\n");
    } else if (r->got != NULL && r->got->status == ETL_FILE_FAILED) {
        char msg[1024];

        etl_err_format(&r->got->err, msg, sizeof(msg));
        fprintf(out, "      %s: %s\n", plan_word(r), msg);
    }
}

/* One row of the table. */
static void
plan_print_row(const struct plan *pl, const struct plan_row *r, FILE *out)
{
    char year[16] = "-", http[16] = "-", load[24] = "-", reject[24] = "-", revised[64];
    const struct etl_file *f = r->got;

    if (r->listed->year != 0) {
        snprintf(year, sizeof(year), "%d", r->listed->year);
    }
    fprintf(out, "%4s  %-8s %8s  %-19s %8s  %-9s ", year, plan_field(pl, r, 1),
            plan_field(pl, r, 4), plan_field(pl, r, 5), r->ver >= 0 ?
            PQgetvalue(pl->ver, r->ver, 6) : "0", plan_word(r));
    if (pl->o->fetch) {
        if (f != NULL && f->http_status != 0) {
            snprintf(http, sizeof(http), "%ld", f->http_status);
        }
        if (f != NULL && f->status == ETL_FILE_LOADED) {
            snprintf(load, sizeof(load), "%" PRId64, f->rows_loaded);
            snprintf(reject, sizeof(reject), "%" PRId64, f->rows_rejected);
        }
        plan_revised(f, revised, sizeof(revised));
        fprintf(out, "%4s %-8.8s %7s %7s  %-14s ", http,
                f != NULL && f->sha256[0] != '\0' ? f->sha256 : "-", load, reject, revised);
    }
    fprintf(out, "%s\n", r->listed->url);
    plan_print_details(pl, r, out);
}

/* The table of one pipeline, with its summary line. */
static void
plan_print_table(const struct plan *pl, FILE *out)
{
    const struct plan_totals *t = &pl->t;

    fprintf(out, "plan %s (%s): %zu URLs\n", pl->p->name,
            pl->o->backfill ? "backfill" : "run", t->urls);
    fprintf(out, "%4s  %-8s %8s  %-19s %8s  %-9s ", "year", "current", "rows", "loaded at",
            "rows now", "plan");
    if (pl->o->fetch) {
        fprintf(out, "%4s %-8s %7s %7s  %-14s ", "http", "new", "load", "reject", "revised");
    }
    fprintf(out, "url\n");
    for (size_t i = 0; i < pl->n; i++) {
        plan_print_row(pl, &pl->rows[i], out);
    }
    if (!pl->o->fetch) {
        fprintf(out, "%zu to fetch, %zu skipped; %" PRId64 " rows in the warehouse from "
                "them; nothing downloaded, nothing written\n", t->fetch, t->skipped,
                t->rows_now);
        return;
    }
    fprintf(out, "%zu to load (%" PRId64 " rows, %" PRId64 " rejected; revised: %" PRId64
            " added, %" PRId64 " changed, %" PRId64 " removed), %zu unchanged, %zu failed, "
            "%zu skipped; nothing written (the loads were rolled back)\n", t->load,
            t->rows_loaded, t->rows_rejected, t->added, t->changed, t->removed, t->unchanged,
            t->failed, t->skipped);
}

/* yajl_gen helpers: a key, a string, a string or null, an integer. */
static void
js_str(yajl_gen g, const char *s)
{
    yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

static void
js_opt(yajl_gen g, const char *s)
{
    if (s == NULL || s[0] == '\0' || strcmp(s, "-") == 0) {
        yajl_gen_null(g);
    } else {
        js_str(g, s);
    }
}

static void
js_int(yajl_gen g, const char *key, int64_t v)
{
    js_str(g, key);
    yajl_gen_integer(g, (long long)v);
}

/* The ledger's current version of a row, or null. */
static void
plan_json_version(const struct plan *pl, const struct plan_row *r, yajl_gen g)
{
    if (r->ver < 0 || PQgetvalue(pl->ver, r->ver, 1)[0] == '\0') {
        yajl_gen_null(g);
        return;
    }
    yajl_gen_map_open(g);
    js_str(g, "sha256_prefix");
    js_str(g, PQgetvalue(pl->ver, r->ver, 1));
    js_str(g, "etag");
    js_opt(g, PQgetvalue(pl->ver, r->ver, 2));
    js_str(g, "last_modified");
    js_opt(g, PQgetvalue(pl->ver, r->ver, 3));
    js_int(g, "rows_loaded", strtoll(PQgetvalue(pl->ver, r->ver, 4), NULL, 10));
    js_str(g, "loaded_at");
    js_opt(g, PQgetvalue(pl->ver, r->ver, 5));
    js_int(g, "run_id", strtoll(PQgetvalue(pl->ver, r->ver, 7), NULL, 10));
    yajl_gen_map_close(g);
}

/* What --fetch found of a row: its download and trial load. */
static void
plan_json_fetched(const struct etl_file *f, yajl_gen g)
{
    char msg[1024];

    js_str(g, "http_status");
    if (f->http_status != 0) {
        yajl_gen_integer(g, f->http_status);
    } else {
        yajl_gen_null(g);
    }
    js_str(g, "sha256");
    js_opt(g, f->sha256);
    js_int(g, "bytes", f->bytes);
    if (f->status == ETL_FILE_LOADED) {
        js_int(g, "rows_in", f->rows_in);
        js_int(g, "rows_loaded", f->rows_loaded);
        js_int(g, "rows_rejected", f->rows_rejected);
        js_str(g, "first_version");
        yajl_gen_bool(g, f->rows_added < 0);
        if (f->rows_added >= 0) {
            js_int(g, "rows_added", f->rows_added);
            js_int(g, "rows_changed", f->rows_changed);
            js_int(g, "rows_removed", f->rows_removed);
        }
    }
    if (f->status == ETL_FILE_FAILED) {
        etl_err_format(&f->err, msg, sizeof(msg));
        js_str(g, "error");
        js_str(g, msg);
    }
}

/* One pipeline's plan as a JSON object. */
static void
plan_json(const struct plan *pl, yajl_gen g)
{
    yajl_gen_map_open(g);
    js_str(g, "pipeline");
    js_str(g, pl->p->name);
    js_str(g, "kind");
    js_str(g, pl->o->backfill ? "backfill" : "run");
    js_str(g, "fetch");
    yajl_gen_bool(g, pl->o->fetch);
    js_str(g, "years");
    yajl_gen_array_open(g);
    for (size_t i = 0; i < pl->o->nyears; i++) {
        yajl_gen_integer(g, pl->o->years[i]);
    }
    yajl_gen_array_close(g);
    js_str(g, "files");
    yajl_gen_array_open(g);
    for (size_t i = 0; i < pl->n; i++) {
        const struct plan_row *r = &pl->rows[i];

        yajl_gen_map_open(g);
        js_str(g, "url");
        js_str(g, r->listed->url);
        js_str(g, "year");
        if (r->listed->year != 0) {
            yajl_gen_integer(g, r->listed->year);
        } else {
            yajl_gen_null(g);
        }
        js_str(g, "plan");
        js_str(g, plan_word(r));
        js_str(g, "current");
        plan_json_version(pl, r, g);
        js_int(g, "rows_now", r->ver >= 0 ? strtoll(PQgetvalue(pl->ver, r->ver, 6), NULL, 10)
                                          : 0);
        if (r->got != NULL) {
            plan_json_fetched(r->got, g);
        }
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
    yajl_gen_map_close(g);
}

/* Plan one pipeline on 'db': listing, ledger, --fetch; then print or add to 'g'. */
static int
plan_pipeline(struct etl_pipeline *p, const struct etl_plan_opts *o, struct pg_conn *db,
              FILE *out, yajl_gen g, struct etl_err *err)
{
    struct plan pl;
    int rc = -1;

    memset(&pl, 0, sizeof(pl));
    pl.p = p;
    pl.o = o;
    plan_run_init(&pl, &pl.list);
    pl.list.list_only = true;
    if (plan_fetch_stages(&pl.list, err) < 0 ||
        etl_ledger_sources_versions(db, p->name, &pl.ver, err) < 0) {
        etl_err_hint(err, "has the schema been created? run: ewc-etl migrate");
        goto out;
    }
    if ((o->fetch && plan_try(&pl, db, err) < 0) || plan_match(&pl, err) < 0) {
        goto out;
    }
    if (g != NULL) {
        plan_json(&pl, g);
    } else {
        plan_print_table(&pl, out);
    }
    rc = 0;
out:
    PQclear(pl.ver);
    free(pl.rows);
    plan_run_free(&pl.list);
    plan_run_free(&pl.fetched);
    return rc;
}

/* Plan and print; see plan.h. */
int
etl_plan_print(struct etl_config *cfg, const struct etl_plan_opts *o, FILE *out,
               struct etl_err *err)
{
    yajl_gen g = NULL;
    int rc = 0;
    bool first = true;

    if (o->json && ((g = yajl_gen_alloc(NULL)) == NULL ||
                    !yajl_gen_config(g, yajl_gen_beautify, 1))) {
        if (g != NULL) {
            yajl_gen_free(g);
        }
        return etl_err_nomem(err);
    }
    if (g != NULL) {
        yajl_gen_array_open(g);
    }
    for (size_t i = 0; i < cfg->npipelines && rc == 0; i++) {
        struct etl_pipeline *p = cfg->pipelines[i];
        struct pg_conn *db;

        if (o->pipeline != NULL && strcmp(p->name, o->pipeline) != 0) {
            continue;
        }
        if (g == NULL && !first) {
            fputc('\n', out);
        }
        first = false;
        /* a connection each: closing it ends the plan's lock and transaction */
        db = etl_pg_connect(etl_run_conninfo(cfg, o->conninfo), "ewc-etl plan", err);
        rc = db != NULL ? plan_pipeline(p, o, db, out, g, err) : -1;
        etl_pg_close(db);
    }
    if (g != NULL && rc == 0) {
        const unsigned char *buf;
        size_t len;

        yajl_gen_array_close(g);
        yajl_gen_get_buf(g, &buf, &len);
        fwrite(buf, 1, len, out);
    }
    if (g != NULL) {
        yajl_gen_free(g);     /* it takes no NULL */
    }
    return rc;
}
