/*
 * cli_run.c
 *    The commands that load: run, backfill (and its --dry-run), plan and
 *    worker, with the progress line of a run on a terminal.  See cli.h.
 */
#include "cli.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "log.h"
#include "metrics.h"
#include "pg.h"
#include "plan.h"
#include "runner.h"
#include "usage.h"
#include "worker.h"
#include "years.h"

/* Seconds on the monotonic clock, for throttling the progress line. */
static double
now_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The progress line's state: when the run started, when the line was drawn. */
struct progress_state {
    double start, last;
};

/*
 * The engine's progress callback on a terminal: files, percent, bytes,
 * rows and the time left on the status line below the log (log.h),
 * redrawn at most every 0.2 s; the final report ends the line.  The time
 * left is the elapsed time per file done, times the files left.
 */
static void
progress_show(const struct etl_progress *p, void *arg)
{
    struct progress_state *ps = arg;
    double now = now_seconds();
    char line[256], eta[32] = "";

    if (ps->start == 0) {
        ps->start = now;
    }
    if (!p->final && now - ps->last < 0.2) {
        return;
    }
    ps->last = now;
    if (!p->final && p->files_done > 0 && p->files_total > p->files_done) {
        double left = (now - ps->start) / (double)p->files_done
                      * (double)(p->files_total - p->files_done);

        snprintf(eta, sizeof(eta), ", %.0f s left", left);
    }
    snprintf(line, sizeof(line), "[%s] %zu/%zu files (%.0f%%), %.1f MB, %lld rows%s",
             p->pipeline, p->files_done, p->files_total,
             p->files_total > 0 ? 100.0 * (double)p->files_done / (double)p->files_total : 0.0,
             (double)p->bytes / 1e6, (long long)p->rows, eta);
    etl_log_status(line, p->final);
}

/* Show progress on a terminal (stderr), for run and backfill alike. */
static void
progress_attach(struct etl_run_opts *ro, struct progress_state *ps)
{
    if (etl_log_is_tty()) {
        ro->progress = progress_show;
        ro->progress_arg = ps;
    }
}

/* Run the selected pipelines with 'ro'; the worst exit status of them all. */
/* Seconds since the epoch, with a fraction. */
static double
wall_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * The --metrics-file of a command: one entry per pipeline, its run (of a
 * backfill of several years: the worst year's), written at the end.
 */
struct run_metrics {
    const char *file;               /* NULL: none asked for */
    struct etl_metrics_run *runs;   /* by pipeline position */
    bool *seen;
};

/* How bad a run's status is, for keeping the worst of a backfill's years. */
static int
status_rank(const char *status)
{
    static const char *const order[] = { "ok", "ok_with_rejects", "partial", "failed",
                                         "not_started" };

    for (int k = 0; k < 5; k++) {
        if (strcmp(status, order[k]) == 0) {
            return k;
        }
    }
    return 0;
}

/*
 * What one pipeline's run did, into its entry of 'rm'; of several runs (a
 * backfill's years) the entry keeps the worst, the latest of equals, so a
 * failed year is not hidden by a good one after it.
 */
static void
metrics_note(struct run_metrics *rm, size_t i, const struct etl_pipeline *p, bool took_place,
             const struct etl_run_summary *sum, double t0, uint64_t retries)
{
    struct etl_metrics_run *m = &rm->runs[i];
    const char *status = took_place ? etl_run_status_names[sum->status]
                       : sum->run_id != 0 ? "failed" : "not_started";

    if (rm->seen[i] && status_rank(m->status) > status_rank(status)) {
        return;
    }
    memset(m, 0, sizeof(*m));
    rm->seen[i] = true;
    m->pipeline = p->name;
    m->run_id = sum->run_id;
    snprintf(m->status, sizeof(m->status), "%s", status);
    m->started_at = t0;
    m->finished_at = wall_seconds();
    m->files_loaded = (int64_t)sum->files_loaded;
    m->files_unchanged = (int64_t)sum->files_unchanged;
    m->files_failed = (int64_t)sum->files_failed;
    m->rows_loaded = sum->rows_loaded;
    m->rows_rejected = sum->rows_rejected;
    m->rows_added = sum->rows_added;
    m->rows_changed = sum->rows_changed;
    m->rows_removed = sum->rows_removed;
    m->http_retries = (int64_t)retries;
}

/* Print one run's summary line; its exit status. */
static int
run_print(const struct etl_pipeline *p, const struct etl_run_summary *sum)
{
    printf("run %lld %s: %s, %zu files (%zu loaded, %zu unchanged, %zu failed), "
           "%lld rows loaded, %lld rejected (revised: %lld added, %lld changed, "
           "%lld removed), %.2f s\n", (long long)sum->run_id,
           p->name, etl_run_status_names[sum->status], sum->files_total,
           sum->files_loaded, sum->files_unchanged, sum->files_failed,
           (long long)sum->rows_loaded, (long long)sum->rows_rejected,
           (long long)sum->rows_added, (long long)sum->rows_changed,
           (long long)sum->rows_removed, sum->seconds);
    return cli_exit_of(sum->status);
}

/* Run the selected pipelines with 'ro'; the worst exit status of them all. */
static int
run_pipelines(struct etl_config *cfg, const char *only, struct etl_run_opts *ro,
              struct run_metrics *rm)
{
    struct etl_err err;
    int rc = EXIT_OK;

    cli_install_signals();
    for (size_t i = 0; i < cfg->npipelines && !etl_stop_requested; i++) {
        struct etl_pipeline *p = cfg->pipelines[i];
        struct etl_run_summary sum;
        uint64_t retries = etl_http_retry_count();
        double t0 = wall_seconds();
        bool took_place;
        int prc;

        if (only != NULL && strcmp(p->name, only) != 0) {
            continue;
        }
        etl_err_clear(&err);
        took_place = etl_run_pipeline(p, ro, &sum, &err) == 0;
        if (!took_place) {
            cli_print_err(&err);
            /* once the run has started, breaking off is a failed run */
            prc = err.code == ETL_E_CONFIG ? EXIT_USAGE
                : sum.run_id != 0 ? EXIT_RUNFAILED : EXIT_NOSTART;
        } else {
            prc = run_print(p, &sum);
        }
        if (rm->file != NULL) {
            metrics_note(rm, i, p, took_place, &sum, t0, etl_http_retry_count() - retries);
        }
        rc = cli_worse(rc, prc);
    }
    return rc;
}

/*
 * Write the --metrics-file of the runs noted in 'rm' (a failure to is an
 * error message: the runs' outcome is in the ledger already, the exit
 * status stays theirs).
 */
static void
metrics_write(struct etl_config *cfg, const struct etl_run_opts *ro, struct run_metrics *rm)
{
    struct etl_err err;
    size_t n = 0;

    for (size_t i = 0; i < cfg->npipelines; i++) {
        if (rm->seen[i]) {
            rm->runs[n++] = rm->runs[i];
        }
    }
    if (n == 0) {
        return;
    }
    fflush(stdout);
    etl_err_clear(&err);
    if (etl_metrics_textfile(rm->file, etl_run_conninfo(cfg, ro->conninfo), rm->runs, n,
                             &err) < 0) {
        cli_print_err(&err);
    }
}

/*
 * A backfill of the years 'ys', one after the other: each year its own run
 * and its own transaction, so that each year's new data becomes visible at
 * once and a year that fails leaves that year's old data (and the years
 * already done) in place.  A year that could not start ends it.
 */
static int
backfill_years(struct etl_config *cfg, const char *only, struct etl_run_opts *ro,
               const struct etl_years *ys, struct run_metrics *rm)
{
    int rc = EXIT_OK;

    for (size_t i = 0; i < ys->n && !etl_stop_requested; i++) {
        int yrc;

        ro->year = ys->v[i];
        yrc = run_pipelines(cfg, only, ro, rm);
        rc = cli_worse(rc, yrc);
        if (yrc == EXIT_NOSTART || yrc == EXIT_USAGE) {
            break;
        }
    }
    return rc;
}

/*
 * Load the YAML and run the selected pipeline(s) with 'ro' (a backfill: of
 * 'ys'); with 'metrics_file', their metrics written there at the end.
 */
static int
run_configured(const struct globals *g, const char *only, struct etl_run_opts *ro,
               const struct etl_years *ys, const char *metrics_file)
{
    struct run_metrics rm = { .file = metrics_file };
    struct etl_config *cfg;
    struct etl_err err;
    int rc;

    ro->conninfo = g->db;
    etl_err_clear(&err);
    if (metrics_file != NULL && etl_metrics_file_check(metrics_file, &err) < 0) {
        cli_print_err(&err);
        return EXIT_USAGE;
    }
    cfg = cli_load_config(g, &err);
    if (cfg == NULL) {
        cli_print_err(&err);
        return EXIT_USAGE;
    }
    if (only != NULL && etl_config_pipeline(cfg, only) == NULL) {
        fprintf(stderr, "ewc-etl: no pipeline \"%s\" in %s\n", only, cfg->path);
        etl_config_free(cfg);
        return EXIT_USAGE;
    }
    if (metrics_file != NULL &&
        ((rm.runs = calloc(cfg->npipelines, sizeof(*rm.runs))) == NULL ||
         (rm.seen = calloc(cfg->npipelines, sizeof(*rm.seen))) == NULL)) {
        free(rm.runs);
        etl_config_free(cfg);
        etl_err_nomem(&err);
        cli_print_err(&err);
        return EXIT_NOSTART;
    }
    rc = ys != NULL ? backfill_years(cfg, only, ro, ys, &rm) : run_pipelines(cfg, only, ro, &rm);
    if (metrics_file != NULL) {
        metrics_write(cfg, ro, &rm);
    }
    free(rm.runs);
    free(rm.seen);
    etl_config_free(cfg);
    return rc;
}

/* One --year: a year or a range, added to 'ys' (years.h). */
static int
parse_year(const char *s, struct etl_years *ys)
{
    struct etl_err err;

    etl_err_clear(&err);
    if (etl_years_add(ys, s, &err) < 0) {
        etl_err_context(&err, "--year");
        cli_print_err(&err);
        return -1;
    }
    return 0;
}

/* The years of the command in 'ro': one as ro->year, several as ro->years. */
static void
set_years(struct etl_run_opts *ro, const struct etl_years *ys)
{
    if (ys->n == 1) {
        ro->year = ys->v[0];
    } else if (ys->n > 1) {
        ro->years = ys->v;
        ro->nyears = ys->n;
    }
}

int
cli_run(const struct globals *g, int argc, char **argv)
{
    static const struct option opts[] = {
        { "pipeline", required_argument, NULL, 'p' },
        { "year", required_argument, NULL, 'y' },
        { "kind", required_argument, NULL, 'k' },
        { "workers", required_argument, NULL, 'w' },
        { "wait", no_argument, NULL, 'W' },
        { "metrics-file", required_argument, NULL, 'M' },
        { "help", no_argument, NULL, 'h' },
        { 0 }
    };
    struct etl_run_opts ro = { 0 };
    struct progress_state ps = { 0 };
    struct etl_years ys = { .n = 0 };
    const char *only = NULL, *metrics_file = NULL;
    int c;

    ro.kind = "manual";
    progress_attach(&ro, &ps);
    optind = 1;
    while ((c = getopt_long(argc, argv, "p:y:k:w:WM:h", opts, NULL)) != -1) {
        switch (c) {
        case 'p': only = optarg; break;
        case 'M': metrics_file = optarg; break;
        case 'y':
            if (parse_year(optarg, &ys) < 0) {
                return EXIT_USAGE;
            }
            break;
        case 'k':
            if (strcmp(optarg, "manual") != 0 && strcmp(optarg, "nightly") != 0) {
                fprintf(stderr, "ewc-etl: --kind: expected manual or nightly\n");
                return EXIT_USAGE;
            }
            ro.kind = optarg;
            break;
        case 'w':
            if (cli_parse_count("--workers", optarg, 64, &ro.workers) < 0) {
                return EXIT_USAGE;
            }
            break;
        case 'W': ro.wait_lock = true; break;
        case 'h': fputs(etl_usage_run, stdout); return EXIT_OK;
        default: fputs(etl_usage_run, stderr); return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "ewc-etl: run: unexpected argument \"%s\"\n", argv[optind]);
        return EXIT_USAGE;
    }
    set_years(&ro, &ys);
    return run_configured(g, only, &ro, NULL, metrics_file);
}

/* Load the YAML and print the plan of 'po' (plan.h). */
static int
plan_configured(const struct globals *g, struct etl_plan_opts *po)
{
    struct etl_config *cfg;
    struct etl_err err;
    int rc = EXIT_OK;

    po->conninfo = g->db;
    etl_err_clear(&err);
    cfg = cli_load_config(g, &err);
    if (cfg == NULL) {
        cli_print_err(&err);
        return EXIT_USAGE;
    }
    if (po->pipeline != NULL && etl_config_pipeline(cfg, po->pipeline) == NULL) {
        fprintf(stderr, "ewc-etl: no pipeline \"%s\" in %s\n", po->pipeline, cfg->path);
        etl_config_free(cfg);
        return EXIT_USAGE;
    }
    if (etl_plan_print(cfg, po, stdout, &err) < 0) {
        cli_print_err(&err);
        rc = err.code == ETL_E_CONFIG ? EXIT_USAGE : EXIT_NOSTART;
    }
    etl_config_free(cfg);
    return rc;
}

/*
 * "backfill" ('plan' false) and "plan": the options they share.  A backfill
 * needs --year; --fetch and --json go with its --dry-run, a plan of it.
 */
static int
backfill_or_plan(const struct globals *g, int argc, char **argv, bool plan)
{
    static const struct option opts[] = {
        { "pipeline", required_argument, NULL, 'p' },
        { "year", required_argument, NULL, 'y' },
        { "offline", no_argument, NULL, 'o' },
        { "wait", no_argument, NULL, 'W' },
        { "dry-run", no_argument, NULL, 'n' },
        { "fetch", no_argument, NULL, 'F' },
        { "json", no_argument, NULL, 'j' },
        { "metrics-file", required_argument, NULL, 'M' },
        { "help", no_argument, NULL, 'h' },
        { 0 }
    };
    const char *usage = plan ? etl_usage_plan : etl_usage_backfill, *bad;
    const char *metrics_file = NULL;
    struct etl_run_opts ro = { .kind = "backfill" };
    struct etl_plan_opts po = { .backfill = !plan };
    struct etl_years ys = { .n = 0 };
    bool dry = plan;
    struct progress_state ps = { 0 };
    int c;

    progress_attach(&ro, &ps);
    optind = 1;
    while ((c = getopt_long(argc, argv, "p:y:oWnFjM:h", opts, NULL)) != -1) {
        switch (c) {
        case 'p': po.pipeline = optarg; break;
        case 'M': metrics_file = optarg; break;
        case 'y':
            if (parse_year(optarg, &ys) < 0) {
                return EXIT_USAGE;
            }
            break;
        case 'o': ro.offline = true; break;
        case 'W': ro.wait_lock = true; break;
        case 'n': dry = true; break;
        case 'F': po.fetch = true; break;
        case 'j': po.json = true; break;
        case 'h': fputs(usage, stdout); return EXIT_OK;
        default: fputs(usage, stderr); return EXIT_USAGE;
        }
    }
    bad = optind < argc ? "unexpected argument" : !plan && ys.n == 0 ? "--year is required"
        : plan && (ro.offline || ro.wait_lock) ? "--offline and --wait are backfill's"
        : !dry && (po.fetch || po.json) ? "--fetch and --json go with --dry-run"
        : dry && ro.offline ? "--offline does not go with --dry-run"
        : dry && metrics_file != NULL ? "--metrics-file does not go with a plan" : NULL;
    if (bad != NULL) {
        fprintf(stderr, "ewc-etl: %s: %s\n", plan ? "plan" : "backfill", bad);
        fputs(usage, stderr);
        return EXIT_USAGE;
    }
    po.years = ys.v;
    po.nyears = ys.n;
    return dry ? plan_configured(g, &po)
               : run_configured(g, po.pipeline, &ro, &ys, metrics_file);
}

int
cli_backfill(const struct globals *g, int argc, char **argv)
{
    return backfill_or_plan(g, argc, argv, false);
}

int
cli_plan(const struct globals *g, int argc, char **argv)
{
    return backfill_or_plan(g, argc, argv, true);
}

int
cli_worker(const struct globals *g, int argc, char **argv)
{
    static const struct option opts[] = {
        { "pipeline", required_argument, NULL, 'p' },
        { "run", required_argument, NULL, 'r' },
        { "help", no_argument, NULL, 'h' },
        { 0 }
    };
    const char *only = NULL;
    struct etl_config *cfg;
    struct etl_err err;
    long run_id = 0;
    int c, rc = EXIT_OK;

    optind = 1;
    while ((c = getopt_long(argc, argv, "p:r:h", opts, NULL)) != -1) {
        switch (c) {
        case 'p': only = optarg; break;
        case 'r':
            if (cli_parse_count("--run", optarg, 0x7fffffffL, &run_id) < 0) {
                return EXIT_USAGE;
            }
            break;
        case 'h': fputs(etl_usage_worker, stdout); return EXIT_OK;
        default: fputs(etl_usage_worker, stderr); return EXIT_USAGE;
        }
    }
    etl_err_clear(&err);
    cfg = cli_load_config(g, &err);
    if (cfg == NULL) {
        cli_print_err(&err);
        return EXIT_USAGE;
    }
    cli_install_signals();
    for (size_t i = 0; i < cfg->npipelines; i++) {
        struct etl_pipeline *p = cfg->pipelines[i];
        size_t files = 0;

        if (only != NULL && strcmp(p->name, only) != 0) {
            continue;
        }
        etl_err_clear(&err);
        if (etl_run_worker(p, g->db, run_id, &files, &err) < 0) {
            cli_print_err(&err);
            rc = EXIT_NOSTART;
        }
        printf("worker %s: %zu files\n", p->name, files);
    }
    etl_config_free(cfg);
    return rc;
}
