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
#include "etl/schedule.h"
#include "etl/err.h"
#include "etl/http.h"
#include "etl/httpd.h"
#include "etl/log.h"
#include "etl/metrics.h"
#include "etl/migrate.h"
#include "etl/pg.h"
#include "etl/pipeline.h"
#include "etl/resource.h"
#include "etl/runner.h"
#include "etl/status.h"
#include "etl/usage.h"

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

static struct etl_config *
load_config(const struct globals *g, struct etl_err *err)
{
    const char *path = g->config;

    if (path == NULL) {
        path = getenv("EWC_CONFIG");
    }
    if (path == NULL || path[0] == '\0') {
        path = ETL_SYSCONFDIR "/pipeline.yaml";
    }
    return etl_config_load(path, err);
}

static int
cmd_check(const struct globals *g, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    struct etl_err err;
    struct etl_config *cfg;

    etl_err_clear(&err);
    cfg = load_config(g, &err);
    if (cfg == NULL) {
        print_err(&err);
        return EXIT_USAGE;
    }
    printf("%s: ok\n", cfg->path);
    for (size_t i = 0; i < cfg->nresources; i++) {
        const struct etl_resource *r = &cfg->resources[i];

        printf("%s: %s\n", r->name, r->source != NULL ? r->source : "loaded");
    }
    printf("spool: %s\n", cfg->spool_dir);
    printf("http: %s (the daemon's /metrics and /health)\n",
           cfg->http_listen != NULL ? cfg->http_listen : ETL_LISTEN_DEFAULT);
    for (size_t i = 0; i < cfg->npipelines; i++) {
        const struct etl_pipeline *p = cfg->pipelines[i];

        printf("\npipeline %s", p->name);
        if (p->schedule != NULL) {
            printf(" (schedule \"%s\"%s%s)", p->schedule, p->timezone ? ", " : "",
                   p->timezone ? p->timezone : "");
        }
        printf(":\n");
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

/*
 * The engine's progress callback on a terminal: files, bytes and rows on
 * one line of stderr, rewritten at most every 0.2 s; the final report ends
 * the line.  'arg' is the time of the last line (double).
 */
static void
progress_show(const struct etl_progress *p, void *arg)
{
    double *last = arg;
    double now = now_seconds();

    if (!p->final && now - *last < 0.2) {
        return;
    }
    *last = now;
    fprintf(stderr, "\r[%s] %zu/%zu files, %.1f MB, %lld rows%s", p->pipeline, p->files_done,
            p->files_total, (double)p->bytes / 1e6, (long long)p->rows, p->final ? "\n" : "");
    fflush(stderr);
}

/* Seconds since the epoch, with a fraction. */
static double
wall_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* What one pipeline's run did, for the --metrics-file. */
static void
metrics_note(struct etl_metrics_run *m, const struct etl_pipeline *p, bool took_place,
             const struct etl_run_summary *sum, double t0, uint64_t retries)
{
    memset(m, 0, sizeof(*m));
    m->pipeline = p->name;
    m->run_id = sum->run_id;
    snprintf(m->status, sizeof(m->status), "%s",
             took_place ? etl_run_status_names[sum->status]
                        : sum->run_id != 0 ? "failed" : "not_started");
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

/*
 * Run the selected pipelines with 'ro'; the worst exit status of them all.
 * With 'metrics_file', each run's metrics are written there at the end
 * (a failure to is an error message; the exit status stays the runs').
 */
static int
run_pipelines(struct etl_config *cfg, const char *only, struct etl_run_opts *ro,
              const char *metrics_file)
{
    struct etl_metrics_run *mruns = NULL;
    size_t nm = 0;
    struct etl_err err;
    int rc = EXIT_OK;

    if (metrics_file != NULL &&
        (mruns = calloc(cfg->npipelines ? cfg->npipelines : 1, sizeof(*mruns))) == NULL) {
        etl_err_clear(&err);
        etl_err_nomem(&err);
        print_err(&err);
        return EXIT_NOSTART;
    }
    install_signals();
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
        if (mruns != NULL) {
            metrics_note(&mruns[nm++], p, took_place, &sum, t0,
                         etl_http_retry_count() - retries);
        }
        /* the worst wins; "could not start" ranks with a failed run */
        if ((prc == EXIT_NOSTART ? EXIT_RUNFAILED : prc) >
            (rc == EXIT_NOSTART ? EXIT_RUNFAILED : rc)) {
            rc = prc;
        }
    }
    if (mruns != NULL && nm > 0) {
        /* the runs' outcome is in the ledger already: this only reports it */
        fflush(stdout);
        etl_err_clear(&err);
        if (etl_metrics_textfile(metrics_file, etl_run_conninfo(cfg, ro->conninfo), mruns, nm,
                                 &err) < 0) {
            print_err(&err);
        }
    }
    free(mruns);
    return rc;
}

/* Load the YAML and run the selected pipeline(s) with 'ro'. */
static int
run_configured(const struct globals *g, const char *only, struct etl_run_opts *ro,
               const char *metrics_file)
{
    struct etl_config *cfg;
    struct etl_err err;
    int rc;

    ro->conninfo = g->db;
    etl_err_clear(&err);
    if (metrics_file != NULL && etl_metrics_file_check(metrics_file, &err) < 0) {
        print_err(&err);
        return EXIT_USAGE;
    }
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
    rc = run_pipelines(cfg, only, ro, metrics_file);
    etl_config_free(cfg);
    return rc;
}

static int
parse_year(const char *s, int *year)
{
    char *end;
    long y = strtol(s, &end, 10);

    if (*end != '\0' || y < 1900 || y > 2200) {
        fprintf(stderr, "ewc-etl: --year: expected a year, found \"%s\"\n", s);
        return -1;
    }
    *year = (int)y;
    return 0;
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
        { "metrics-file", required_argument, NULL, 'M' },
        { "help", no_argument, NULL, 'h' },
        { 0 }
    };
    struct etl_run_opts ro = { 0 };
    const char *only = NULL, *metrics_file = NULL;
    int c;

    ro.kind = "manual";
    optind = 1;
    while ((c = getopt_long(argc, argv, "p:y:k:w:WM:h", opts, NULL)) != -1) {
        switch (c) {
        case 'p': only = optarg; break;
        case 'M': metrics_file = optarg; break;
        case 'y':
            if (parse_year(optarg, &ro.year) < 0) {
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
    return run_configured(g, only, &ro, metrics_file);
}

static int
cmd_backfill(const struct globals *g, int argc, char **argv)
{
    static const struct option opts[] = {
        { "pipeline", required_argument, NULL, 'p' },
        { "year", required_argument, NULL, 'y' },
        { "offline", no_argument, NULL, 'o' },
        { "wait", no_argument, NULL, 'W' },
        { "metrics-file", required_argument, NULL, 'M' },
        { "help", no_argument, NULL, 'h' },
        { 0 }
    };
    struct etl_run_opts ro = { 0 };
    const char *only = NULL, *metrics_file = NULL;
    double progress_at = 0;
    int c;

    ro.kind = "backfill";
    if (isatty(STDERR_FILENO)) {
        ro.progress = progress_show;
        ro.progress_arg = &progress_at;
    }
    optind = 1;
    while ((c = getopt_long(argc, argv, "p:y:oWM:h", opts, NULL)) != -1) {
        switch (c) {
        case 'p': only = optarg; break;
        case 'M': metrics_file = optarg; break;
        case 'y':
            if (parse_year(optarg, &ro.year) < 0) {
                return EXIT_USAGE;
            }
            break;
        case 'o': ro.offline = true; break;
        case 'W': ro.wait_lock = true; break;
        case 'h': fputs(etl_usage_backfill, stdout); return EXIT_OK;
        default: fputs(etl_usage_backfill, stderr); return EXIT_USAGE;
        }
    }
    if (optind < argc || ro.year == 0) {
        fprintf(stderr, "ewc-etl: backfill: %s\n", ro.year == 0 ? "--year is required"
                                                                : "unexpected argument");
        fputs(etl_usage_backfill, stderr);
        return EXIT_USAGE;
    }
    return run_configured(g, only, &ro, metrics_file);
}

static int
cmd_daemon(const struct globals *g, int argc, char **argv)
{
    static const struct option opts[] = {
        { "listen", required_argument, NULL, 'l' },
        { "help", no_argument, NULL, 'h' },
        { 0 }
    };
    struct etl_daemon_opts d = { 0 };
    struct etl_clock clock = etl_clock_wall;
    struct etl_config *cfg;
    struct etl_listen at;
    struct etl_err err;
    const char *path = g->config != NULL ? g->config : getenv("EWC_CONFIG");
    const char *start = getenv(ETL_CLOCK_START_ENV);   /* "" is unset */
    int64_t shift = 0;
    int c;

    etl_err_clear(&err);
    optind = 1;
    while ((c = getopt_long(argc, argv, "l:h", opts, NULL)) != -1) {
        switch (c) {
        case 'l':
            if (etl_listen_parse(optarg, &at, &err) < 0) {
                etl_err_context(&err, "--listen");
                print_err(&err);
                return EXIT_USAGE;
            }
            d.listen = optarg;
            break;
        case 'h': fputs(etl_usage_daemon, stdout); return EXIT_OK;
        default: fputs(etl_usage_daemon, stderr); return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fputs(etl_usage_daemon, stderr);
        return EXIT_USAGE;
    }
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
    { "daemon", etl_usage_daemon, cmd_daemon, CMD_HTTP },
    { "worker", etl_usage_worker, cmd_worker, 0 },
    { "status", etl_usage_status, cmd_status, 0 },
    { "unmatched", etl_usage_unmatched, cmd_unmatched, CMD_NO_ARGS },
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
    } else if ((c = command_find(topic)) != NULL) {
        fputs(c->usage, stdout);
    } else {
        fprintf(stderr, "ewc-etl: no help for \"%s\"\n", topic);
        return EXIT_USAGE;
    }
    return EXIT_OK;
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

    /* options before the command only: "+" stops at the first non-option */
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
    etl_log_init(g.verbosity > 0 ? ETL_LOG_DEBUG : g.verbosity < 0 ? ETL_LOG_WARNING
                                                                   : ETL_LOG_INFO);
    cmd = argv[optind];
    argc -= optind;
    argv += optind;
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
