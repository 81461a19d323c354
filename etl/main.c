/*
 * main.c
 *    The ewc-etl command: options, commands, and the mapping of errors to
 *    messages and exit statuses.  The only file that prints for the user or
 *    exits; everything else returns an etl_err.
 *
 *    Exit statuses (also in --help and the man page):
 *      0  ok                      3  ok, but rows were rejected
 *      1  could not start         4  partial: some files failed
 *      2  usage or configuration  5  the run failed
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "etl/daemon.h"
#include "etl/diag.h"
#include "etl/schedule.h"
#include "etl/err.h"
#include "etl/http.h"
#include "etl/log.h"
#include "etl/migrate.h"
#include "etl/page.h"
#include "etl/pg.h"
#include "etl/pipeline.h"
#include "etl/plan.h"
#include "etl/prune.h"
#include "etl/resource.h"
#include "etl/runner.h"
#include "etl/status.h"
#include "etl/usage.h"
#include "etl/years.h"

enum {
    EXIT_OK = 0,
    EXIT_NOSTART = 1,
    EXIT_USAGE = 2,
    EXIT_REJECTS = 3,
    EXIT_PARTIAL = 4,
    EXIT_RUNFAILED = 5
};

#ifndef ETL_VERSION
#define ETL_VERSION "dev"
#endif
#ifndef ETL_SYSCONFDIR
#define ETL_SYSCONFDIR "/usr/local/etc/ewc-etl"
#endif

struct globals {
    const char *config;
    const char *db;
    int verbosity;
};

/* The help texts: usage.c. */

static void
print_err(const struct etl_err *err)
{
    char line[2048];

    etl_err_format(err, line, sizeof(line));
    fprintf(stderr, "ewc-etl: %s\n", line);
}

/* The path of the YAML: -c, else $EWC_CONFIG, else the installed one. */
static const char *
config_path(const struct globals *g)
{
    const char *path = g->config;

    if (path == NULL) {
        path = getenv("EWC_CONFIG");
    }
    if (path == NULL || path[0] == '\0') {
        path = ETL_SYSCONFDIR "/pipeline.yaml";
    }
    return path;
}

/*
 * check's errors, as a compiler's: each "file:line:col: message" at the
 * start of its line on stderr, no "ewc-etl: " before it (editors and CI
 * annotations read them), then "N errors".  Returns how many.
 */
static size_t
print_diags(const struct etl_diags *d, const char *path)
{
    size_t n = etl_diags_count(d);
    char line[2048];

    for (size_t i = 0; i < d->n; i++) {
        etl_diag_format(&d->errs[i], path, line, sizeof(line));
        fprintf(stderr, "%s\n", line);
    }
    if (d->dropped > 0) {
        fprintf(stderr, "%s: %zu more errors not shown\n", path, d->dropped);
    }
    if (n > 0) {
        fprintf(stderr, "%zu error%s\n", n, n == 1 ? "" : "s");
    }
    return n;
}

static struct etl_config *
load_config(const struct globals *g, struct etl_err *err)
{
    return etl_config_load(config_path(g), err);
}

static int
cmd_check(const struct globals *g, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    const char *path = config_path(g);
    struct etl_config *cfg;
    struct etl_diags d;

    etl_diags_init(&d);
    cfg = etl_config_check(path, &d);
    etl_diags_sort(&d);
    if (print_diags(&d, path) > 0) {
        etl_diags_free(&d);
        etl_config_free(cfg);
        return EXIT_USAGE;
    }
    etl_diags_free(&d);
    printf("%s: ok\n", cfg->path);
    for (size_t i = 0; i < cfg->nresources; i++) {
        const struct etl_resource *r = &cfg->resources[i];

        printf("%s: %s\n", r->name, r->source != NULL ? r->source : "loaded");
    }
    printf("spool: %s\n", cfg->spool_dir);
    for (size_t i = 0; i < cfg->npipelines; i++) {
        const struct etl_pipeline *p = cfg->pipelines[i];

        printf("\npipeline %s", p->name);
        if (p->schedule != NULL) {
            printf(" (schedule \"%s\"%s%s)", p->schedule, p->timezone ? ", " : "",
                   p->timezone ? p->timezone : "");
        }
        printf(":\n");
        printf("  workers %ld, priority %ld, catchup %s, jitter %ld s\n", p->workers,
               p->priority, p->catchup == ETL_CATCHUP_NONE ? "none"
               : p->catchup == ETL_CATCHUP_ALL ? "all" : "latest", p->jitter);
        if (p->sched != NULL) {
            char next[1024];

            etl_schedule_format_next(p->sched, (int64_t)time(NULL), 5, next, sizeof(next));
            printf("  next runs:\n");
            for (char *line = strtok(next, "\n"); line != NULL; line = strtok(NULL, "\n")) {
                printf("    %s\n", line);
            }
        }
        for (size_t k = 0; k < p->nstages; k++) {
            const struct etl_stage *st = p->stages[k];

            printf("  %zu. %-12s %-11s", k + 1, st->name, st->kind->name);
            if (st->nneeds > 0) {
                printf(" after ");
                for (size_t n = 0; n < st->nneeds; n++) {
                    printf("%s%s", n ? ", " : "", st->needs[n]);
                }
            }
            if (st->next != NULL) {
                printf(" -> rows to %s", st->next->name);
            }
            printf("\n");
            if (st->kind->describe != NULL) {
                char line[512];

                st->kind->describe(st, line, sizeof(line));
                printf("     %-12s %s\n", "", line);
            }
        }
    }
    etl_config_free(cfg);
    return EXIT_OK;
}

static int
cmd_migrate(const struct globals *g, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    struct etl_err err;
    struct etl_config *cfg;
    struct pg_conn *db = NULL;
    int applied = 0, rc = EXIT_OK;

    etl_err_clear(&err);
    cfg = load_config(g, &err);
    if (cfg == NULL) {
        print_err(&err);
        return EXIT_USAGE;
    }
    db = etl_pg_connect(etl_run_conninfo(cfg, g->db), "ewc-etl migrate", &err);
    if (db == NULL || etl_migrate(db, &applied, &err) < 0) {
        print_err(&err);
        rc = EXIT_NOSTART;
    } else {
        printf("migrations: %d applied\n", applied);
        /* then what the resources keep in the database (the dimensions) */
        for (size_t i = 0; i < cfg->nresources && rc == EXIT_OK; i++) {
            const struct etl_resource *r = &cfg->resources[i];
            char summary[256] = "";

            if (r->kind == NULL || r->kind->sync == NULL) {
                continue;
            }
            if (r->kind->sync(r->ptr, db, summary, sizeof(summary), &err) < 0) {
                print_err(&err);
                rc = EXIT_NOSTART;
            } else {
                printf("%s: %s\n", r->name, summary);
            }
        }
    }
    etl_pg_close(db);
    etl_config_free(cfg);
    return rc;
}

/* Grace before the file in flight is cancelled after a stop signal. */
#define STOP_GRACE_SECONDS 10

static void
on_stop(int sig)
{
    (void)sig;
    if (!etl_stop_requested) {
        alarm(STOP_GRACE_SECONDS);
    } else {
        etl_runner_cancel();    /* a second signal: do not wait */
    }
    etl_runner_stop();
}

static void
on_alarm(int sig)
{
    (void)sig;
    etl_runner_cancel();
}

static void
on_hup(int sig)
{
    (void)sig;
    etl_reload_requested = 1;
}

static void
install_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    sa.sa_handler = on_hup;
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = SIG_IGN;    /* a closed socket is an error return, not a death */
    sigaction(SIGPIPE, &sa, NULL);
}

/* Exit status of a run's outcome. */
static int
exit_of(enum etl_run_status st)
{
    return st == ETL_RUN_OK ? EXIT_OK
         : st == ETL_RUN_OK_WITH_REJECTS ? EXIT_REJECTS
         : st == ETL_RUN_PARTIAL ? EXIT_PARTIAL : EXIT_RUNFAILED;
}

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

/* The worse of two exit statuses; "could not start" ranks with a failed run. */
static int
worse(int rc, int prc)
{
    return (prc == EXIT_NOSTART ? EXIT_RUNFAILED : prc) >
           (rc == EXIT_NOSTART ? EXIT_RUNFAILED : rc) ? prc : rc;
}

/* Run the selected pipelines with 'ro'; the worst exit status of them all. */
static int
run_pipelines(struct etl_config *cfg, const char *only, struct etl_run_opts *ro)
{
    struct etl_err err;
    int rc = EXIT_OK;

    install_signals();
    for (size_t i = 0; i < cfg->npipelines && !etl_stop_requested; i++) {
        struct etl_pipeline *p = cfg->pipelines[i];
        struct etl_run_summary sum;
        int prc;

        if (only != NULL && strcmp(p->name, only) != 0) {
            continue;
        }
        etl_err_clear(&err);
        if (etl_run_pipeline(p, ro, &sum, &err) < 0) {
            print_err(&err);
            /* once the run has started, breaking off is a failed run */
            prc = err.code == ETL_E_CONFIG ? EXIT_USAGE
                : sum.run_id != 0 ? EXIT_RUNFAILED : EXIT_NOSTART;
        } else {
            printf("run %lld %s: %s, %zu files (%zu loaded, %zu unchanged, %zu failed), "
                   "%lld rows loaded, %lld rejected (revised: %lld added, %lld changed, "
                   "%lld removed), %.2f s\n", (long long)sum.run_id,
                   p->name, etl_run_status_names[sum.status], sum.files_total,
                   sum.files_loaded, sum.files_unchanged, sum.files_failed,
                   (long long)sum.rows_loaded, (long long)sum.rows_rejected,
                   (long long)sum.rows_added, (long long)sum.rows_changed,
                   (long long)sum.rows_removed, sum.seconds);
            prc = exit_of(sum.status);
        }
        rc = worse(rc, prc);
    }
    return rc;
}

/*
 * A backfill of the years 'ys', one after the other: each year its own run
 * and its own transaction, so that each year's new data becomes visible at
 * once and a year that fails leaves that year's old data (and the years
 * already done) in place.  A year that could not start ends it.
 */
static int
backfill_years(struct etl_config *cfg, const char *only, struct etl_run_opts *ro,
               const struct etl_years *ys)
{
    int rc = EXIT_OK;

    for (size_t i = 0; i < ys->n && !etl_stop_requested; i++) {
        int yrc;

        ro->year = ys->v[i];
        yrc = run_pipelines(cfg, only, ro);
        rc = worse(rc, yrc);
        if (yrc == EXIT_NOSTART || yrc == EXIT_USAGE) {
            break;
        }
    }
    return rc;
}

/* Load the YAML and run the selected pipeline(s) with 'ro' (a backfill: of 'ys'). */
static int
run_configured(const struct globals *g, const char *only, struct etl_run_opts *ro,
               const struct etl_years *ys)
{
    struct etl_config *cfg;
    struct etl_err err;
    int rc;

    ro->conninfo = g->db;
    etl_err_clear(&err);
    cfg = load_config(g, &err);
    if (cfg == NULL) {
        print_err(&err);
        return EXIT_USAGE;
    }
    if (only != NULL && etl_config_pipeline(cfg, only) == NULL) {
        fprintf(stderr, "ewc-etl: no pipeline \"%s\" in %s\n", only, cfg->path);
        etl_config_free(cfg);
        return EXIT_USAGE;
    }
    rc = ys != NULL ? backfill_years(cfg, only, ro, ys) : run_pipelines(cfg, only, ro);
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
        print_err(&err);
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

static int
parse_count(const char *opt, const char *s, long max, long *out)
{
    char *end;
    long n = strtol(s, &end, 10);

    if (*end != '\0' || n < 1 || n > max) {
        fprintf(stderr, "ewc-etl: %s: expected a number from 1 to %ld, found \"%s\"\n", opt,
                max, s);
        return -1;
    }
    *out = n;
    return 0;
}

static int
cmd_run(const struct globals *g, int argc, char **argv)
{
    static const struct option opts[] = {
        { "pipeline", required_argument, NULL, 'p' },
        { "year", required_argument, NULL, 'y' },
        { "kind", required_argument, NULL, 'k' },
        { "workers", required_argument, NULL, 'w' },
        { "wait", no_argument, NULL, 'W' },
        { "help", no_argument, NULL, 'h' },
        { 0 }
    };
    struct etl_run_opts ro = { 0 };
    struct progress_state ps = { 0 };
    struct etl_years ys = { .n = 0 };
    const char *only = NULL;
    int c;

    ro.kind = "manual";
    progress_attach(&ro, &ps);
    optind = 1;
    while ((c = getopt_long(argc, argv, "p:y:k:w:Wh", opts, NULL)) != -1) {
        switch (c) {
        case 'p': only = optarg; break;
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
            if (parse_count("--workers", optarg, 64, &ro.workers) < 0) {
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
    return run_configured(g, only, &ro, NULL);
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
    cfg = load_config(g, &err);
    if (cfg == NULL) {
        print_err(&err);
        return EXIT_USAGE;
    }
    if (po->pipeline != NULL && etl_config_pipeline(cfg, po->pipeline) == NULL) {
        fprintf(stderr, "ewc-etl: no pipeline \"%s\" in %s\n", po->pipeline, cfg->path);
        etl_config_free(cfg);
        return EXIT_USAGE;
    }
    if (etl_plan_print(cfg, po, stdout, &err) < 0) {
        print_err(&err);
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
        { "help", no_argument, NULL, 'h' },
        { 0 }
    };
    const char *usage = plan ? etl_usage_plan : etl_usage_backfill, *bad;
    struct etl_run_opts ro = { .kind = "backfill" };
    struct etl_plan_opts po = { .backfill = !plan };
    struct etl_years ys = { .n = 0 };
    bool dry = plan;
    struct progress_state ps = { 0 };
    int c;

    progress_attach(&ro, &ps);
    optind = 1;
    while ((c = getopt_long(argc, argv, "p:y:oWnFjh", opts, NULL)) != -1) {
        switch (c) {
        case 'p': po.pipeline = optarg; break;
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
        : dry && ro.offline ? "--offline does not go with --dry-run" : NULL;
    if (bad != NULL) {
        fprintf(stderr, "ewc-etl: %s: %s\n", plan ? "plan" : "backfill", bad);
        fputs(usage, stderr);
        return EXIT_USAGE;
    }
    po.years = ys.v;
    po.nyears = ys.n;
    return dry ? plan_configured(g, &po) : run_configured(g, po.pipeline, &ro, &ys);
}

static int
cmd_backfill(const struct globals *g, int argc, char **argv)
{
    return backfill_or_plan(g, argc, argv, false);
}

static int
cmd_plan(const struct globals *g, int argc, char **argv)
{
    return backfill_or_plan(g, argc, argv, true);
}

static int
cmd_daemon(const struct globals *g, int argc, char **argv)
{
    struct etl_daemon_opts d = { 0 };
    struct etl_clock clock = etl_clock_wall;
    struct etl_config *cfg;
    struct etl_err err;
    const char *path = g->config != NULL ? g->config : getenv("EWC_CONFIG");
    const char *start = getenv(ETL_CLOCK_START_ENV);   /* "" is unset */
    int64_t shift = 0;

    (void)argc;
    (void)argv;
    etl_err_clear(&err);
    cfg = load_config(g, &err);
    if (cfg == NULL) {
        print_err(&err);
        return EXIT_USAGE;
    }
    d.config_path = path != NULL && path[0] != '\0' ? path : ETL_SYSCONFDIR "/pipeline.yaml";
    d.conninfo = g->db;
    if (start != NULL && start[0] != '\0') {
        int64_t at;

        if (etl_clock_parse(start, &at, &err) < 0) {
            etl_config_free(cfg);
            print_err(&err);
            return EXIT_USAGE;
        }
        shift = at - etl_clock_wall_now(NULL);
        clock.arg = &shift;
        d.clock = &clock;
    }
    install_signals();
    if (etl_daemon_run(cfg, &d, &err) < 0) {
        print_err(&err);
        return err.code == ETL_E_CONFIG ? EXIT_USAGE : EXIT_NOSTART;
    }
    return EXIT_OK;
}

static int
cmd_worker(const struct globals *g, int argc, char **argv)
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
            if (parse_count("--run", optarg, 0x7fffffffL, &run_id) < 0) {
                return EXIT_USAGE;
            }
            break;
        case 'h': fputs(etl_usage_worker, stdout); return EXIT_OK;
        default: fputs(etl_usage_worker, stderr); return EXIT_USAGE;
        }
    }
    etl_err_clear(&err);
    cfg = load_config(g, &err);
    if (cfg == NULL) {
        print_err(&err);
        return EXIT_USAGE;
    }
    install_signals();
    for (size_t i = 0; i < cfg->npipelines; i++) {
        struct etl_pipeline *p = cfg->pipelines[i];
        size_t files = 0;

        if (only != NULL && strcmp(p->name, only) != 0) {
            continue;
        }
        etl_err_clear(&err);
        if (etl_run_worker(p, g->db, run_id, &files, &err) < 0) {
            print_err(&err);
            rc = EXIT_NOSTART;
        }
        printf("worker %s: %zu files\n", p->name, files);
    }
    etl_config_free(cfg);
    return rc;
}

static int
cmd_status(const struct globals *g, int argc, char **argv)
{
    static const struct option opts[] = {
        { "pipeline", required_argument, NULL, 'p' },
        { "limit", required_argument, NULL, 'n' },
        { "failed", no_argument, NULL, 'f' },
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        { 0 }
    };
    struct etl_status_opts so = { .limit = 10 };
    struct etl_config *cfg = NULL;
    struct pg_conn *db;
    struct etl_err err;
    const char *conninfo;
    int c, rc = EXIT_OK;

    optind = 1;
    while ((c = getopt_long(argc, argv, "p:n:fjh", opts, NULL)) != -1) {
        switch (c) {
        case 'p': so.pipeline = optarg; break;
        case 'n': {
            char *end;

            so.limit = strtol(optarg, &end, 10);
            if (*end != '\0' || so.limit < 1) {
                fprintf(stderr, "ewc-etl: --limit: expected a positive number\n");
                return EXIT_USAGE;
            }
            break;
        }
        case 'f': so.failed_only = true; break;
        case 'j': so.json = true; break;
        case 'h': fputs(etl_usage_status, stdout); return EXIT_OK;
        default: fputs(etl_usage_status, stderr); return EXIT_USAGE;
        }
    }
    etl_err_clear(&err);
    /* the YAML is optional here: status only needs the database */
    if (g->config != NULL || getenv("EWC_CONFIG") != NULL) {
        cfg = load_config(g, &err);
        if (cfg == NULL) {
            print_err(&err);
            return EXIT_USAGE;
        }
    }
    so.spool_dir = cfg != NULL ? cfg->spool_dir : NULL;
    conninfo = etl_run_conninfo(cfg, g->db);
    db = etl_pg_connect(conninfo, "ewc-etl status", &err);
    if (db == NULL || etl_status_print(db, &so, stdout, &err) < 0) {
        print_err(&err);
        rc = EXIT_NOSTART;
    }
    etl_pg_close(db);
    etl_config_free(cfg);
    return rc;
}

/* "prune [--dry-run]": the YAML's retention applied to the ledger and the spool. */
static int
cmd_prune(const struct globals *g, int argc, char **argv)
{
    static const struct option opts[] = {
        { "dry-run", no_argument, NULL, 'n' },
        { "help", no_argument, NULL, 'h' },
        { 0 }
    };
    struct etl_prune_opts po = { .wait = true };
    struct etl_prune_counts pc;
    struct etl_config *cfg;
    struct pg_conn *db;
    struct etl_err err;
    int c, rc = EXIT_OK;

    optind = 1;
    while ((c = getopt_long(argc, argv, "nh", opts, NULL)) != -1) {
        switch (c) {
        case 'n': po.dry_run = true; break;
        case 'h': fputs(etl_usage_prune, stdout); return EXIT_OK;
        default: fputs(etl_usage_prune, stderr); return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fputs(etl_usage_prune, stderr);
        return EXIT_USAGE;
    }
    etl_err_clear(&err);
    cfg = load_config(g, &err);
    if (cfg == NULL) {
        print_err(&err);
        return EXIT_USAGE;
    }
    po.ledger_age = cfg->retention.ledger;
    po.spool_age = cfg->retention.spool;
    po.spool_dir = cfg->spool_dir;
    db = etl_pg_connect(etl_run_conninfo(cfg, g->db), "ewc-etl prune", &err);
    if (db == NULL || etl_prune(db, &po, &pc, &err) < 0) {
        print_err(&err);
        rc = EXIT_NOSTART;
    } else {
        etl_prune_print(&po, &pc, stdout);
    }
    etl_pg_close(db);
    etl_config_free(cfg);
    return rc;
}

/* "unmatched": the names the catalog does not know, from the ledger. */
static int
cmd_unmatched(const struct globals *g, int argc, char **argv)
{
    struct etl_config *cfg = NULL;
    struct pg_conn *db;
    struct etl_err err;
    int rc = EXIT_OK;

    (void)argc;
    (void)argv;
    etl_err_clear(&err);
    if (g->config != NULL || getenv("EWC_CONFIG") != NULL) {
        cfg = load_config(g, &err);
        if (cfg == NULL) {
            print_err(&err);
            return EXIT_USAGE;
        }
    }
    db = etl_pg_connect(etl_run_conninfo(cfg, g->db), "ewc-etl unmatched", &err);
    if (db == NULL || etl_status_unmatched(db, stdout, &err) < 0) {
        print_err(&err);
        rc = EXIT_NOSTART;
    }
    etl_pg_close(db);
    etl_config_free(cfg);
    return rc;
}

/* "page [-o FILE]": the status page, to stdout or FILE. */
static int
cmd_page(const struct globals *g, int argc, char **argv)
{
    static const struct option opts[] = {
        { "output", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },
        { 0 }
    };
    struct etl_config *cfg = NULL;
    const char *path = NULL;
    struct pg_conn *db;
    struct etl_err err;
    int c, rc = EXIT_OK;

    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o': path = optarg; break;
        case 'h': fputs(etl_usage_page, stdout); return EXIT_OK;
        default: fputs(etl_usage_page, stderr); return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fputs(etl_usage_page, stderr);
        return EXIT_USAGE;
    }
    etl_err_clear(&err);
    if (g->config != NULL || getenv("EWC_CONFIG") != NULL) {
        cfg = load_config(g, &err);
        if (cfg == NULL) {
            print_err(&err);
            return EXIT_USAGE;
        }
    }
    db = etl_pg_connect(etl_run_conninfo(cfg, g->db), "ewc-etl page", &err);
    if (db == NULL || etl_page_write(db, path, stdout, &err) < 0) {
        print_err(&err);
        rc = EXIT_NOSTART;
    }
    etl_pg_close(db);
    etl_config_free(cfg);
    return rc;
}

/* The stage kinds and their keys, from the registry itself. */
static void
print_stage_kinds(void)
{
    printf("Stage kinds (keys besides name, kind and needs):\n");
    for (size_t i = 0; etl_stage_kinds[i] != NULL; i++) {
        const struct etl_stage_kind *k = etl_stage_kinds[i];

        printf("\n  %s: %s\n", k->name, k->summary != NULL ? k->summary : "");
        for (const struct etl_key *key = k->keys; key != NULL && key->name != NULL; key++) {
            printf("    %-17s %s%s\n", key->name, key->help != NULL ? key->help : "",
                   key->required ? " (required)" : "");
        }
    }
}

/* What a command needs from main() before it runs. */
enum {
    CMD_NO_ARGS = 1 << 0,   /* takes no arguments: any is a usage error */
    CMD_HTTP = 1 << 1       /* downloads: libcurl's global init around it */
};

/* One command of the command line: its name, help text and function. */
struct command {
    const char *name;
    const char *usage;
    int (*fn)(const struct globals *g, int argc, char **argv);
    unsigned flags;
};

static const struct command commands[] = {
    { "check", etl_usage_check, cmd_check, CMD_NO_ARGS },
    { "migrate", etl_usage_migrate, cmd_migrate, CMD_NO_ARGS },
    { "run", etl_usage_run, cmd_run, CMD_HTTP },
    { "backfill", etl_usage_backfill, cmd_backfill, CMD_HTTP },
    { "plan", etl_usage_plan, cmd_plan, CMD_HTTP },
    { "daemon", etl_usage_daemon, cmd_daemon, CMD_HTTP | CMD_NO_ARGS },
    { "worker", etl_usage_worker, cmd_worker, 0 },
    { "status", etl_usage_status, cmd_status, 0 },
    { "unmatched", etl_usage_unmatched, cmd_unmatched, CMD_NO_ARGS },
    { "page", etl_usage_page, cmd_page, 0 },
    { "prune", etl_usage_prune, cmd_prune, 0 },
};

static const struct command *
command_find(const char *name)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(commands[i].name, name) == 0) {
            return &commands[i];
        }
    }
    return NULL;
}

/* "help [TOPIC]": the main text, a command's, or the stage kinds. */
static int
cmd_help(const char *topic)
{
    const struct command *c;

    if (topic == NULL) {
        fputs(etl_usage_main, stdout);
    } else if (strcmp(topic, "stages") == 0) {
        print_stage_kinds();
    } else if (strcmp(topic, "help") == 0) {
        fputs(etl_usage_help, stdout);
    } else if ((c = command_find(topic)) != NULL) {
        fputs(c->usage, stdout);
    } else {
        fprintf(stderr, "ewc-etl: no help for \"%s\"\n", topic);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

/*
 * The global options given after the command ("ewc-etl status -c x.yaml"):
 * taken into 'g' and out of argv (argv[0] is the command), up to a "--".
 * The commands' own options use other letters.  -1 after a usage message.
 */
static int
take_globals(int *argc, char **argv, struct globals *g)
{
    int out = 1, i;

    for (i = 1; i < *argc && strcmp(argv[i], "--") != 0; i++) {
        const char *a = argv[i];
        const char **slot = NULL;
        const char *val = NULL;

        if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            g->verbosity++;
            continue;
        }
        if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            g->verbosity--;
            continue;
        }
        if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0 ||
            strncmp(a, "--config=", 9) == 0 || (strncmp(a, "-c", 2) == 0 && a[2] != '\0')) {
            slot = &g->config;
        } else if (strcmp(a, "-d") == 0 || strcmp(a, "--db") == 0 ||
                   strncmp(a, "--db=", 5) == 0 || (strncmp(a, "-d", 2) == 0 && a[2] != '\0')) {
            slot = &g->db;
        } else {
            argv[out++] = argv[i];
            continue;
        }
        if (a[1] != '-' && a[2] != '\0') {
            val = a + 2;                        /* -cFILE */
        } else if (strchr(a, '=') != NULL) {
            val = strchr(a, '=') + 1;           /* --config=FILE */
        } else if (i + 1 < *argc) {
            val = argv[++i];
        } else {
            fprintf(stderr, "ewc-etl: option %s needs a value\n", a);
            return -1;
        }
        *slot = val;
    }
    while (i < *argc) {
        argv[out++] = argv[i++];
    }
    argv[out] = NULL;
    *argc = out;
    return 0;
}

/* Run one command of the table, with libcurl set up if it downloads. */
static int
command_run(const struct command *c, const struct globals *g, int argc, char **argv)
{
    struct etl_err err;
    int rc;

    if ((c->flags & CMD_NO_ARGS) && argc > 1) {
        fputs(c->usage, stderr);
        return EXIT_USAGE;
    }
    if (!(c->flags & CMD_HTTP)) {
        return c->fn(g, argc, argv);
    }
    etl_err_clear(&err);
    if (etl_http_global_init(&err) < 0) {
        print_err(&err);
        return EXIT_NOSTART;
    }
    rc = c->fn(g, argc, argv);
    etl_http_global_cleanup();
    return rc;
}

int
main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' },
        { "db", required_argument, NULL, 'd' },
        { "verbose", no_argument, NULL, 'v' },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { 0 }
    };
    struct globals g = { 0 };
    const struct command *found;
    const char *cmd;
    int c;

    /* the options before the command; "+" stops at it (see take_globals) */
    while ((c = getopt_long(argc, argv, "+c:d:vqhV", opts, NULL)) != -1) {
        switch (c) {
        case 'c': g.config = optarg; break;
        case 'd': g.db = optarg; break;
        case 'v': g.verbosity++; break;
        case 'q': g.verbosity--; break;
        case 'h': fputs(etl_usage_main, stdout); return EXIT_OK;
        case 'V': printf("ewc-etl %s\n", ETL_VERSION); return EXIT_OK;
        default: fputs(etl_usage_main, stderr); return EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        fputs(etl_usage_main, stderr);
        return EXIT_USAGE;
    }
    cmd = argv[optind];
    argc -= optind;
    argv += optind;
    if (take_globals(&argc, argv, &g) < 0) {
        return EXIT_USAGE;
    }
    etl_log_init(g.verbosity > 0 ? ETL_LOG_DEBUG : g.verbosity < 0 ? ETL_LOG_WARNING
                                                                   : ETL_LOG_INFO);
    if (strcmp(cmd, "help") == 0) {
        return cmd_help(argc > 1 ? argv[1] : NULL);
    }
    if (strcmp(cmd, "version") == 0) {
        printf("ewc-etl %s\n", ETL_VERSION);
        return EXIT_OK;
    }
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        return cmd_help(cmd);
    }
    found = command_find(cmd);
    if (found != NULL) {
        return command_run(found, &g, argc, argv);
    }
    fprintf(stderr, "ewc-etl: unknown command \"%s\"\n", cmd);
    fputs(etl_usage_main, stderr);
    return EXIT_USAGE;
}
