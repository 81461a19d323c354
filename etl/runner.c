/*
 * runner.c
 *    Drives one run; see runner.h.  The stages in graph order, the worker
 *    processes (fork, wait, stop), the run's summary.  The ledger's
 *    statements are in ledger*.c, the claim loop in worker.c, one file's
 *    chain in chain.c; progress goes to the caller's callback.
 *
 *    Two connections: the run's own (advisory lock, ledger.run, run kinds
 *    such as sql) and the files' (one transaction per file).  A file's
 *    transaction holds: its ledger.source upsert, its ledger.file row, the
 *    replacement of the source's previous rows, the new rows, its rejects.
 *    Either all of it commits or none of it does; a crash or a lost
 *    connection leaves the previous version in place and the next run
 *    fetches the file again (its source row still has the old validators).
 */
#include "runner.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ledger.h"
#include "log.h"
#include "notify.h"
#include "pg.h"
#include "prune.h"
#include "worker.h"
#include "years.h"

/* Most worker processes of one run. */
#define RUN_MAX_WORKERS 64

volatile sig_atomic_t etl_stop_requested;

/* For the signal handlers: the children to forward a stop to. */
static pid_t runner_children[RUN_MAX_WORKERS];
static volatile sig_atomic_t runner_nchildren;

/* Stop this process and its children; see runner.h. */
void
etl_runner_stop(void)
{
    etl_stop_requested = 1;
    for (sig_atomic_t i = 0; i < runner_nchildren; i++) {
        kill(runner_children[i], SIGTERM);
    }
}

/* Cancel the file in flight; see runner.h. */
void
etl_runner_cancel(void)
{
    etl_worker_cancel();
}

const char *const etl_run_status_names[] = { "ok", "ok_with_rejects", "partial", "failed" };

/* The conninfo to use; see runner.h. */
const char *
etl_run_conninfo(const struct etl_config *cfg, const char *opt)
{
    const char *env = getenv("EWC_DB");

    if (opt != NULL) {
        return opt;
    }
    if (env != NULL && env[0] != '\0') {
        return env;
    }
    if (cfg != NULL && cfg->database != NULL) {
        return cfg->database;
    }
    return "";
}

static double
now_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Count bytes read or a file done, and tell the progress callback; see runner.h. */
void
etl_run_report(struct etl_run *run, size_t bytes, const struct etl_file *done)
{
    run->counts.bytes += (int64_t)bytes;
    if (done != NULL) {
        run->counts.files_done++;
        run->counts.rows += done->rows_in;
    }
    if (run->progress != NULL) {
        run->progress(&run->counts, run->progress_arg);
    }
}

/* Free a file's strings; see pipeline.h. */
void
etl_file_clear(struct etl_file *f)
{
    free(f->url);
    free(f->spool_path);
    free(f->etag);
    free(f->last_modified);
    memset(f, 0, sizeof(*f));
}

/* Take the pipeline's advisory lock on the run's connection (session level). */
static int
run_lock(struct etl_run *run, bool wait, struct etl_err *err)
{
    bool got = false;

    for (bool logged = false;; logged = true) {
        if (etl_ledger_lock_try(run->db, run->pipeline->name, &got, err) < 0) {
            return -1;
        }
        if (got || !wait || etl_stop_requested) {
            break;
        }
        /* wait in slices: signals are served and the watchdog fed meanwhile */
        if (!logged) {
            etl_log(ETL_LOG_NOTICE, "[%s] waiting for another run of the pipeline to end",
                    run->pipeline->name);
        }
        etl_notify_watchdog();
        sleep(1);
    }
    if (!got && wait) {
        return etl_err_set(err, ETL_E_BUSY, "stopped while waiting for the pipeline's lock");
    }
    if (!got) {
        etl_err_set(err, ETL_E_BUSY, "pipeline \"%s\" is being run by another process",
                    run->pipeline->name);
        etl_err_hint(err, "see the running run with: ewc-etl status; or wait for it with "
                     "--wait");
        return -1;
    }
    run->locked = true;
    return 0;
}

/* Open the run's ledger row with its parameters. */
static int
run_open(struct etl_run *run, struct etl_err *err)
{
    char params_json[160 + 6 * ETL_YEARS_MAX], years[6 * ETL_YEARS_MAX + 16] = "";

    for (size_t i = 0; i < run->nyears && i < ETL_YEARS_MAX; i++) {
        char one[32];

        snprintf(one, sizeof(one), "%s%d", i > 0 ? ", " : ", \"years\": [", run->years[i]);
        etl_strlcat(years, one, sizeof(years));
    }
    if (run->nyears > 0) {
        etl_strlcat(years, "]", sizeof(years));
    }
    snprintf(params_json, sizeof(params_json),
             "{\"year\": %d%s, \"offline\": %s, \"scheduled_for\": %" PRId64 "}", run->year,
             years, run->offline ? "true" : "false", run->scheduled_for);
    if (etl_ledger_run_open(run->db, run->pipeline->name, run->kind, params_json, &run->id,
                            err) < 0) {
        return -1;
    }
    /* the YAML's priority holds for the sources' figures already loaded too */
    return etl_ledger_sources_priority(run->db, run->pipeline->name, run->pipeline->priority,
                                       err);
}

/*
 * A file that failed before its load (the fetch refused it: 404, network,
 * not in the spool): one ERR line with the URL and the reason, as a failed
 * load gets in worker.c.  The stage's own WARNING said what happened; this
 * says the file is lost to the run.
 */
static void
run_log_failed(const struct etl_run *run, const struct etl_stage *st, const struct etl_file *f)
{
    char msg[1024];

    etl_err_format(&f->err, msg, sizeof(msg));
    if (f->url != NULL && strstr(msg, f->url) == NULL) {
        etl_log(ETL_LOG_ERR, "[%s/%s] %s failed: %s", run->pipeline->name, st->name, f->url,
                msg);
    } else {
        etl_log(ETL_LOG_ERR, "[%s/%s] file failed: %s", run->pipeline->name, st->name, msg);
    }
}

/* Register what fetch stage 'st' produced: tasks to load, ledger rows for the rest. */
static int
run_register(struct etl_run *run, const struct etl_stage *st, size_t first,
             struct etl_err *err)
{
    const struct etl_file *missing = NULL;
    const struct etl_file **pending;
    size_t npending = 0;
    int rc;

    pending = calloc(run->nfiles - first + 1, sizeof(*pending));
    if (pending == NULL) {
        return etl_err_nomem(err);
    }
    for (size_t k = first; k < run->nfiles; k++) {
        struct etl_file *f = &run->files[k];

        if (f->from != st) {
            continue;
        }
        if (run->backfill && f->year != run->year) {
            /* a backfill takes the year's files only: leave the others alone */
            continue;
        }
        if (f->status != ETL_FILE_PENDING) {
            if (etl_ledger_file_record(run->db, run->id, run->pipeline->name, f, NULL,
                                       err) < 0) {
                free(pending);
                return -1;
            }
            if (f->status == ETL_FILE_FAILED) {
                run_log_failed(run, st, f);
            }
            if (run->backfill && f->status == ETL_FILE_FAILED && missing == NULL) {
                missing = f;
            }
            continue;
        }
        pending[npending++] = f;
    }
    /* the tasks in one transaction, a few hundred per round trip */
    rc = etl_ledger_tasks_add(run->db, run->id, st->name, pending, npending, err);
    free(pending);
    if (rc < 0) {
        return -1;
    }
    run->tasks += npending;
    run->counts.files_total += npending;
    if (missing != NULL) {
        /* one file missing fails the year: the old data stays whole */
        *err = missing->err;
        etl_err_context(err, "%s", missing->url);
        etl_err_hint(err, "a backfill loads all of the year's files or none");
        return -1;
    }
    return 0;
}

/* Watch the children; forward a stop; returns how many failed. */
static int
workers_wait(void)
{
    int failed = 0;

    for (sig_atomic_t i = 0; i < runner_nchildren; i++) {
        int status = 0;
        pid_t r;

        /* poll, so that the watchdog is fed while the children load */
        while ((r = waitpid(runner_children[i], &status, WNOHANG)) == 0 ||
               (r < 0 && errno == EINTR)) {
            etl_notify_watchdog();
            usleep(100 * 1000);
        }
        if (r < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            failed++;
        }
    }
    runner_nchildren = 0;
    return failed;
}

/*
 * Worker process number 'w' (a forked child): its own connection, the claim
 * loop, _exit.  The parent's connection is never touched.  A terminal's
 * Ctrl-C reaches the whole group: the parent forwards it as SIGTERM, so the
 * child ignores its own copy.
 */
static void
worker_child(struct etl_run *run, long w, const sigset_t *oldmask)
{
    struct etl_err werr;
    struct sigaction sa;
    struct pg_conn *db;
    int rc;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_IGN;
    sigaction(SIGINT, &sa, NULL);
    sigprocmask(SIG_SETMASK, oldmask, NULL);
    runner_nchildren = 0;
    run->db = NULL;     /* the parent's: never used here */
    etl_err_clear(&werr);
    db = etl_worker_connect(run, &werr);
    rc = db != NULL ? etl_worker_loop(run, db, false, &werr) : -1;
    if (rc < 0) {
        char msg[1024];

        etl_err_format(&werr, msg, sizeof(msg));
        etl_log(ETL_LOG_ERR, "[%s] worker %ld: %s", run->pipeline->name, w + 1, msg);
    }
    if (db != NULL) {
        etl_worker_disconnect(db);
    }
    _exit(rc < 0 ? 1 : 0);
}

/* Fork workers-1 children that load with this process (as many as possible). */
static void
workers_spawn(struct etl_run *run, long workers)
{
    fflush(stdout);
    fflush(stderr);
    for (long w = 1; w < workers && runner_nchildren < RUN_MAX_WORKERS; w++) {
        sigset_t stops, oldmask;
        pid_t pid;

        /* a stop between fork() and the child's entry would miss the child */
        sigemptyset(&stops);
        sigaddset(&stops, SIGTERM);
        sigaddset(&stops, SIGINT);
        sigprocmask(SIG_BLOCK, &stops, &oldmask);
        pid = fork();
        if (pid < 0) {
            sigprocmask(SIG_SETMASK, &oldmask, NULL);
            etl_log(ETL_LOG_WARNING, "[%s] could not start worker %ld: %s", run->pipeline->name,
                    w + 1, strerror(errno));
            break;
        }
        if (pid == 0) {
            worker_child(run, w, &oldmask);
        }
        runner_children[runner_nchildren++] = pid;
        sigprocmask(SIG_SETMASK, &oldmask, NULL);
    }
}

/* A backfill: every task of the year in one transaction on 'db', or none. */
static int
workers_load_year(struct etl_run *run, struct pg_conn *db, struct etl_err *err)
{
    int rc = etl_pg_exec(db, "BEGIN", err);

    if (rc == 0) {
        rc = etl_worker_loop(run, db, true, err);
    }
    if (rc == 0 && etl_stop_requested) {
        rc = etl_err_set(err, ETL_E_INTERNAL, "stopped before the year was complete");
    }
    if (rc == 0) {
        rc = etl_pg_exec(db, "COMMIT", err);
    } else {
        struct etl_err ignore;

        etl_err_clear(&ignore);
        (void)!etl_pg_exec(db, "ROLLBACK", &ignore);
    }
    return rc;
}

/* Load tasks on 'db' until none is pending, waiting for those others hold. */
static int
workers_load_all(struct etl_run *run, struct pg_conn *db, struct etl_err *err)
{
    int rc = etl_worker_loop(run, db, false, err);

    while (rc == 0 && !etl_stop_requested) {
        int64_t left;

        /* files other processes (ewc-etl worker) still hold: wait for them */
        if (etl_ledger_tasks_wait_held(db, run->id, &left, err) < 0) {
            rc = -1;
        } else if (left == 0) {
            break;
        } else {
            /* their worker died: the claims came back; load them here */
            rc = etl_worker_loop(run, db, false, err);
        }
    }
    return rc;
}

/*
 * Load every pending task: 'workers' processes, each with its own
 * connection (this one and workers-1 forked children), or, for a backfill,
 * this process alone in one transaction.
 */
static int
run_workers(struct etl_run *run, long workers, struct etl_err *err)
{
    struct pg_conn *db;
    int rc;

    if (run->tasks == 0) {
        return 0;
    }
    workers_spawn(run, run->backfill ? 1 : workers);
    db = etl_worker_connect(run, err);
    if (db == NULL) {
        workers_wait();
        return -1;
    }
    rc = run->backfill ? workers_load_year(run, db, err) : workers_load_all(run, db, err);
    etl_worker_disconnect(db);
    if (workers_wait() > 0) {
        /* what it did not load is still pending and counts as failed */
        etl_log(ETL_LOG_WARNING, "[%s] a worker process failed; see its messages above",
                run->pipeline->name);
    }
    run->tasks = 0;
    return rc;
}

/* The run's outcome from the ledger, whoever loaded its files. */
static int
run_summarize(struct etl_run *run, bool failed, struct etl_run_summary *sum,
              struct etl_err *err)
{
    struct etl_ledger_tally t;

    if (etl_ledger_run_tally(run->db, run->id, &t, err) < 0) {
        return -1;
    }
    sum->files_total = t.files_total;
    sum->files_loaded = t.files_loaded;
    sum->files_unchanged = t.files_unchanged;
    sum->files_failed = t.files_failed;
    sum->rows_loaded = t.rows_loaded;
    sum->rows_rejected = t.rows_rejected;
    sum->rows_added = t.rows_added;
    sum->rows_changed = t.rows_changed;
    sum->rows_removed = t.rows_removed;
    if (failed || (sum->files_failed > 0 && sum->files_failed == sum->files_total)) {
        sum->status = ETL_RUN_FAILED;
    } else if (sum->files_failed > 0) {
        sum->status = ETL_RUN_PARTIAL;
    } else if (sum->rows_rejected > 0) {
        sum->status = ETL_RUN_OK_WITH_REJECTS;
    } else {
        sum->status = ETL_RUN_OK;
    }
    return 0;
}

/* Seconds (one try each) to reach the server again to close a run. */
#define RUN_RECONNECT_TRIES 30

/*
 * The run's loads are over: if its connection died (a PostgreSQL restart,
 * a terminated backend), connect again to close it; then its tasks still
 * pending -- a failed or stopped run, a backfill's year rolled back --
 * become failed file rows, with 'error' or why they were not loaded.
 * 0, or -1 when the ledger cannot be reached.
 */
static int
run_settle(struct etl_run *run, const char *error, struct etl_err *err)
{
    char why[1100];      /* the prefix and a message of up to 1024 bytes */

    struct etl_err probe;

    etl_err_clear(&probe);
    if (!etl_pg_alive(run->db) || etl_pg_exec(run->db, "SELECT 1", &probe) < 0) {
        etl_log(ETL_LOG_WARNING, "[%s] run %" PRId64 ": the run's connection was lost; "
                "connecting again to close the run", run->pipeline->name, run->id);
        etl_pg_close(run->db);
        /* a server that restarts takes a moment to accept connections */
        for (int i = 0; i < RUN_RECONNECT_TRIES; i++) {
            etl_err_clear(err);
            if ((run->db = etl_pg_connect(run->conninfo, "ewc-etl", err)) != NULL) {
                break;
            }
            sleep(1);
        }
        if (run->db == NULL) {
            etl_err_context(err, "closing run %" PRId64, run->id);
            return -1;
        }
    }
    if (error != NULL) {
        snprintf(why, sizeof(why), "not loaded: the run failed: %s", error);
    } else {
        snprintf(why, sizeof(why), "%s", etl_stop_requested
                 ? "not loaded: the run was stopped by a signal"
                 : "not loaded: the run ended before it");
    }
    return etl_ledger_run_fail_pending(run->db, run->id, why, err);
}

/* Close the run in the ledger with its summary. */
static int
run_close(struct etl_run *run, const struct etl_run_summary *sum, const char *error,
          struct etl_err *err)
{
    struct etl_ledger_tally t = {
        .files_total = sum->files_total, .files_loaded = sum->files_loaded,
        .files_unchanged = sum->files_unchanged, .files_failed = sum->files_failed,
        .rows_loaded = sum->rows_loaded, .rows_rejected = sum->rows_rejected,
        .rows_added = sum->rows_added, .rows_changed = sum->rows_changed,
        .rows_removed = sum->rows_removed,
    };

    return etl_ledger_run_close(run->db, run->id, &t, etl_run_status_names[sum->status], error,
                                err);
}

static void
run_free(struct etl_run *run)
{
    for (size_t i = 0; i < run->nfiles; i++) {
        etl_file_clear(&run->files[i]);
    }
    free(run->files);
}

/*
 * The stages in graph order: run kinds once (a stage that is not fetch
 * after the loads it needs), fetch's files registered as tasks, then the
 * loads.  -1 when the run failed ('err' says why).
 */
static int
run_stages(struct etl_run *run, long workers, struct etl_err *err)
{
    struct etl_pipeline *p = run->pipeline;

    for (size_t i = 0; i < p->nstages && !etl_stop_requested; i++) {
        struct etl_stage *st = p->stages[i];
        size_t before = run->nfiles;

        if (st->kind->run == NULL) {
            continue;           /* row stages run inside the workers */
        }
        if (st->kind->produces != ETL_FLOW_FILE && run_workers(run, workers, err) < 0) {
            /* a run stage (sql) follows the loads it needs: finish them first */
            return -1;
        }
        if (st->kind->run(st, run, err) < 0) {
            etl_err_context(err, "stage \"%s\"", st->name);
            return -1;
        }
        if (st->kind->produces == ETL_FLOW_FILE && run_register(run, st, before, err) < 0) {
            return -1;
        }
    }
    return run_workers(run, workers, err);
}

/*
 * The run's one summary line: NOTICE when every file was loaded or left
 * unchanged (rejected rows included), ERR when the run ended partial or
 * failed, with 'why' (the error, or the stop) when not empty: a failed
 * night leaves an error-priority line in the journal, not only warnings.
 */
static void
run_log_summary(const struct etl_run *run, const struct etl_run_summary *sum, const char *why)
{
    bool bad = sum->status == ETL_RUN_PARTIAL || sum->status == ETL_RUN_FAILED;

    etl_log(bad ? ETL_LOG_ERR : ETL_LOG_NOTICE,
            "[%s] run %" PRId64 " %s: %zu files (%zu loaded, %zu unchanged, %zu failed), "
            "%" PRId64 " rows loaded, %" PRId64 " rejected (revised: %" PRId64 " added, %"
            PRId64 " changed, %" PRId64 " removed), %.2f s%s%s", run->pipeline->name,
            run->id, etl_run_status_names[sum->status], sum->files_total, sum->files_loaded,
            sum->files_unchanged, sum->files_failed, sum->rows_loaded, sum->rows_rejected,
            sum->rows_added, sum->rows_changed, sum->rows_removed,
            sum->seconds, why[0] != '\0' ? ": " : "", why);
}

/* Run a pipeline once; see runner.h. */
int
etl_run_pipeline(struct etl_pipeline *p, const struct etl_run_opts *opts,
                 struct etl_run_summary *sum, struct etl_err *err)
{
    struct etl_run run;
    struct etl_err stage_err;
    char msg[1024] = "";
    double t0 = now_seconds();
    bool failed = false, told = false;
    char year_text[16];
    int rc = -1;

    memset(sum, 0, sizeof(*sum));
    memset(&run, 0, sizeof(run));
    snprintf(year_text, sizeof(year_text), "%d", opts->year);
    etl_err_clear(&stage_err);
    run.pipeline = p;
    run.kind = opts->kind != NULL ? opts->kind : "manual";
    run.year = opts->year;
    run.years = opts->years;
    run.nyears = opts->nyears;
    run.offline = opts->offline;
    run.backfill = strcmp(run.kind, "backfill") == 0;
    run.force = run.backfill;
    run.progress = opts->progress;
    run.progress_arg = opts->progress_arg;
    run.counts.pipeline = p->name;
    run.scheduled_for = opts->scheduled_for;
    run.conninfo = etl_run_conninfo(p->config, opts->conninfo);
    if (run.backfill && run.year == 0) {
        etl_err_set(err, ETL_E_CONFIG, "a backfill needs a year");
        return -1;
    }
    run.db = etl_pg_connect(run.conninfo, "ewc-etl", err);
    if (run.db == NULL || run_lock(&run, opts->wait_lock, err) < 0 ||
        run_open(&run, err) < 0) {
        goto out;
    }
    sum->run_id = run.id;
    etl_log(ETL_LOG_INFO, "[%s] run %" PRId64 " started (%s%s%s)", p->name, run.id, run.kind,
            run.year != 0 ? ", year " : "", run.year != 0 ? year_text : "");
    failed = run_stages(&run, opts->workers > 0 ? opts->workers : p->workers, &stage_err) < 0;
    if (run.counts.files_total > 0 && run.progress != NULL) {
        run.counts.final = true;
        run.progress(&run.counts, run.progress_arg);
    }
    if (failed) {
        /* logged with the summary below, or at 'out' if that is not reached */
        etl_err_format(&stage_err, msg, sizeof(msg));
    }
    if (run_settle(&run, failed ? msg : NULL, err) < 0 ||
        run_summarize(&run, failed, sum, err) < 0) {
        goto out;
    }
    if (etl_stop_requested && !failed && sum->files_loaded + sum->files_unchanged <
        sum->files_total) {
        snprintf(msg, sizeof(msg), "stopped by a signal before all files were loaded");
    }
    sum->seconds = now_seconds() - t0;
    if (run_close(&run, sum, msg[0] != '\0' ? msg : NULL, err) < 0) {
        goto out;
    }
    run_log_summary(&run, sum, msg);
    told = true;
    /* the YAML's retention, one bounded batch: what is old goes as it ages */
    etl_prune_after_run(run.db, p->config, p->name);
    rc = 0;
out:
    if (failed && !told) {
        etl_log(ETL_LOG_ERR, "[%s] run %" PRId64 " failed: %s", p->name, run.id, msg);
    }
    if (run.locked) {
        etl_ledger_lock_release(run.db, p->name);
    }
    etl_pg_close(run.db);     /* and, should the release be lost, closing the session */
    run_free(&run);
    return rc;
}

/* Join the running runs as an extra worker; see runner.h. */
int
etl_run_worker(struct etl_pipeline *p, const char *conninfo, int64_t run_id, size_t *files,
               struct etl_err *err)
{
    struct etl_run run;
    struct pg_conn *db;
    int64_t *ids = NULL;
    size_t n = 0;
    int rc = 0;

    memset(&run, 0, sizeof(run));
    run.pipeline = p;
    run.kind = "manual";
    run.conninfo = etl_run_conninfo(p->config, conninfo);
    run.counts.pipeline = p->name;
    *files = 0;
    db = etl_worker_connect(&run, err);
    if (db == NULL) {
        return -1;
    }
    if (etl_ledger_runs_alive(db, p->name, run_id, &ids, &n, err) < 0) {
        etl_worker_disconnect(db);
        return -1;
    }
    for (size_t i = 0; i < n && rc == 0 && !etl_stop_requested; i++) {
        run.id = ids[i];
        rc = etl_worker_loop(&run, db, false, err);
    }
    *files = run.counts.files_done;
    free(ids);
    etl_worker_disconnect(db);
    return rc;
}
