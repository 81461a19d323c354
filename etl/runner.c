/*
 * runner.c
 *    Drives one run; see runner.h.
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
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "notify.h"
#include "pg.h"

/* Bytes read from the spool and pushed into parse at a time. */
#define RUN_READ_BYTES (256 * 1024)

/* Most worker processes of one run. */
#define RUN_MAX_WORKERS 64

volatile sig_atomic_t etl_stop_requested;

/* For the signal handlers: the children to forward a stop to, and the
 * cancel handle of the connection loading a file in this process. */
static pid_t runner_children[RUN_MAX_WORKERS];
static volatile sig_atomic_t runner_nchildren;
static PGcancel *volatile runner_cancel;

void
etl_runner_stop(void)
{
    etl_stop_requested = 1;
    for (sig_atomic_t i = 0; i < runner_nchildren; i++) {
        kill(runner_children[i], SIGTERM);
    }
}

void
etl_runner_cancel(void)
{
    PGcancel *c = runner_cancel;
    char errbuf[256];

    if (c != NULL) {
        /* PQcancel is safe in a signal handler with a local buffer */
        (void)!PQcancel(c, errbuf, sizeof(errbuf));
    }
}

const char *const etl_run_status_names[] = { "ok", "ok_with_rejects", "partial", "failed" };

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

/* Progress on a terminal: files and bytes and rows, one line rewritten. */
static void
progress_show(struct etl_run *run, bool final)
{
    double now = now_seconds();

    if (!run->progress || (!final && now - run->progress_at < 0.2)) {
        return;
    }
    run->progress_at = now;
    fprintf(stderr, "\r[%s] %zu/%zu files, %.1f MB, %" PRId64 " rows%s",
            run->pipeline->name, run->files_done, run->progress_total,
            (double)run->progress_bytes / 1e6, run->progress_rows, final ? "\n" : "");
    fflush(stderr);
}

static void
progress_bytes(struct etl_run *run, size_t n)
{
    run->progress_bytes += (int64_t)n;
    progress_show(run, false);
}

static void
progress_file(struct etl_run *run, const struct etl_file *f)
{
    run->files_done++;
    run->progress_rows += f->rows_in;
    progress_show(run, false);
}

static void
progress_end(struct etl_run *run)
{
    if (run->progress_total > 0) {
        progress_show(run, true);
    }
}

static int64_t
result_id(PGresult *res)
{
    int64_t id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);

    PQclear(res);
    return id;
}

/* Take the pipeline's advisory lock on the run's connection (session level). */
static int
run_lock(struct etl_run *run, bool wait, struct etl_err *err)
{
    const char *params[1] = { run->pipeline->name };
    PGresult *res;
    bool got;

    for (bool logged = false;; logged = true) {
        if (etl_pg_query(run->db,
                         "SELECT pg_try_advisory_lock(hashtext('ewc-etl'), hashtext($1))",
                         1, params, &res, err) < 0) {
            return -1;
        }
        got = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
        PQclear(res);
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
    return 0;
}

static int
run_open(struct etl_run *run, struct etl_err *err)
{
    char params_json[160], pid[16], host[256] = "";
    const char *params[5];
    PGresult *res;

    snprintf(params_json, sizeof(params_json),
             "{\"year\": %d, \"offline\": %s, \"scheduled_for\": %" PRId64 "}", run->year,
             run->offline ? "true" : "false", run->scheduled_for);
    snprintf(pid, sizeof(pid), "%ld", (long)getpid());
    (void)gethostname(host, sizeof(host) - 1);
    params[0] = run->pipeline->name;
    params[1] = run->kind;
    params[2] = params_json;
    params[3] = host;
    params[4] = pid;
    /*
     * Holding the pipeline's lock, no other run of it is alive: a run still
     * 'running' died (kill -9, lost connection).  Close it and its pending
     * tasks, so that no worker ever loads its old files over newer ones.
     */
    if (etl_pg_query(run->db,
                     "WITH dead AS (UPDATE ledger.run SET status = 'failed', "
                     "  finished_at = now(), error = 'the process running it ended without "
                     "finishing it' WHERE pipeline = $1 AND status = 'running' RETURNING id) "
                     "UPDATE ledger.task SET state = 'failed' "
                     "WHERE state = 'pending' AND run_id IN (SELECT id FROM dead)",
                     1, params, NULL, err) < 0) {
        etl_err_hint(err, "has the schema been created? run: ewc-etl migrate");
        return -1;
    }
    if (etl_pg_query(run->db,
                     "INSERT INTO ledger.run (pipeline, kind, params, host, pid) "
                     "VALUES ($1, $2, $3, $4, $5) RETURNING id", 5, params, &res, err) < 0) {
        etl_err_hint(err, "has the schema been created? run: ewc-etl migrate");
        return -1;
    }
    run->id = result_id(res);
    return 0;
}

static int
run_close(struct pg_conn *db, struct etl_run *run, const struct etl_run_summary *sum,
          const char *error, struct etl_err *err)
{
    char v[7][24];
    const char *params[9];

    snprintf(v[0], sizeof(v[0]), "%" PRId64, run->id);
    snprintf(v[1], sizeof(v[1]), "%zu", sum->files_total);
    snprintf(v[2], sizeof(v[2]), "%zu", sum->files_loaded);
    snprintf(v[3], sizeof(v[3]), "%zu", sum->files_unchanged);
    snprintf(v[4], sizeof(v[4]), "%zu", sum->files_failed);
    snprintf(v[5], sizeof(v[5]), "%" PRId64, sum->rows_loaded);
    snprintf(v[6], sizeof(v[6]), "%" PRId64, sum->rows_rejected);
    for (int i = 0; i < 7; i++) {
        params[i] = v[i];
    }
    params[7] = etl_run_status_names[sum->status];
    params[8] = error;
    return etl_pg_query(db,
                        "UPDATE ledger.run SET finished_at = now(), files_total = $2, "
                        "files_loaded = $3, files_unchanged = $4, files_failed = $5, "
                        "rows_loaded = $6, rows_rejected = $7, status = $8, error = $9 "
                        "WHERE id = $1", 9, params, NULL, err);
}

/* Text of an optional int64/long for a parameter. */
static const char *
num_param(char *buf, size_t size, int64_t v, bool present)
{
    if (!present) {
        return NULL;
    }
    snprintf(buf, size, "%" PRId64, v);
    return buf;
}

/*
 * Write a ledger.file row in the current transaction of 'db' (or in its own
 * statement when none is open) and return its id in *id.
 */
static int
file_insert(struct pg_conn *db, struct etl_run *run, struct etl_file *f, int64_t source_id,
            const char *status, const char *error, int64_t *id, struct etl_err *err)
{
    char b[5][24];
    const char *params[12];
    PGresult *res;

    params[0] = num_param(b[0], sizeof(b[0]), run->id, true);
    params[1] = num_param(b[1], sizeof(b[1]), source_id, source_id > 0);
    params[2] = f->url;
    params[3] = f->spool_path;
    params[4] = f->sha256[0] != '\0' ? f->sha256 : NULL;
    params[5] = num_param(b[2], sizeof(b[2]), f->bytes, f->sha256[0] != '\0');
    params[6] = f->etag;
    params[7] = f->last_modified;
    params[8] = num_param(b[3], sizeof(b[3]), f->http_status, f->http_status > 0);
    params[9] = status;
    params[10] = error;
    params[11] = num_param(b[4], sizeof(b[4]), f->rows_in, true);
    if (etl_pg_query(db,
                     "INSERT INTO ledger.file (run_id, source_id, url, spool_path, sha256, bytes, "
                     "etag, last_modified, http_status, status, error, rows_in) "
                     "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
                     12, params, &res, err) < 0) {
        return -1;
    }
    *id = result_id(res);
    return 0;
}

static int
source_upsert(struct pg_conn *db, struct etl_run *run, const char *url, int64_t *id,
              struct etl_err *err)
{
    const char *params[2] = { run->pipeline->name, url };
    PGresult *res;

    if (etl_pg_query(db,
                     "INSERT INTO ledger.source (pipeline, url) VALUES ($1, $2) "
                     "ON CONFLICT (pipeline, url) DO UPDATE SET url = EXCLUDED.url "
                     "RETURNING id", 2, params, &res, err) < 0) {
        return -1;
    }
    *id = result_id(res);
    return 0;
}

/* Record a file that did not go down the chain: unchanged, or failed in fetch. */
static int
file_record_only(struct etl_run *run, struct pg_conn *db, struct etl_file *f,
                 int64_t *file_id, struct etl_err *err)
{
    char msg[1024] = "";
    int64_t source_id = 0, id;

    if (file_id == NULL) {
        file_id = &id;
    }
    if (f->status == ETL_FILE_FAILED) {
        etl_err_format(&f->err, msg, sizeof(msg));
    }
    if (source_upsert(db, run, f->url, &source_id, err) < 0) {
        return -1;
    }
    if (f->status == ETL_FILE_UNCHANGED && (f->etag != NULL || f->last_modified != NULL)) {
        /* same body under new validators: keep them, so the next GET is conditional */
        char b[24];
        const char *params[3] = { num_param(b, sizeof(b), source_id, true), f->etag,
                                  f->last_modified };

        if (etl_pg_query(db,
                         "UPDATE ledger.source SET etag = coalesce($2, etag), "
                         "last_modified = coalesce($3, last_modified) WHERE id = $1",
                         3, params, NULL, err) < 0) {
            return -1;
        }
    }
    return file_insert(db, run, f, source_id, etl_file_status_names[f->status],
                       msg[0] != '\0' ? msg : NULL, file_id, err);
}

/* Feed the spooled body of 'job->file' through the chain starting at 'head'. */
static int
file_stream(struct etl_stage *head, struct etl_job *job, struct etl_err *err)
{
    struct etl_file *f = job->file;
    struct etl_chunk chunk;
    char *block;
    ssize_t n;
    int fd, rc = 0;

    fd = open(f->spool_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return etl_err_errno(err, ETL_E_IO, "could not open spool file \"%s\"", f->spool_path);
    }
    block = malloc(RUN_READ_BYTES);
    if (block == NULL) {
        close(fd);
        return etl_err_set(err, ETL_E_NOMEM, "out of memory");
    }
    memset(&chunk, 0, sizeof(chunk));
    while ((n = read(fd, block, RUN_READ_BYTES)) != 0) {
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            rc = etl_err_errno(err, ETL_E_IO, "could not read spool file \"%s\"", f->spool_path);
            break;
        }
        chunk.bytes = block;
        chunk.len = (size_t)n;
        if (head->kind->process(head, &chunk, err) < 0) {
            rc = -1;
            break;
        }
        progress_bytes(job->run, (size_t)n);
        etl_notify_watchdog();
    }
    if (rc == 0) {
        rc = head->kind->finish != NULL ? head->kind->finish(head, err) : 0;
    }
    free(block);
    close(fd);
    return rc;
}

/*
 * Load one claimed file inside the transaction already open on 'db': its
 * ledger.source upsert, ledger.file row, the chain of row stages, the
 * ledger updates.  On failure the caller rolls back to its savepoint.
 */
static int
file_work(struct etl_run *run, struct pg_conn *db, struct etl_stage *head, struct etl_file *f,
          bool dedupe, int64_t *file_id, struct etl_err *err)
{
    struct etl_job job;
    struct etl_stage *st;
    const char *params[7];
    char b[6][24];
    int rc = -1;

    memset(&job, 0, sizeof(job));
    job.run = run;
    job.file = f;
    job.db = db;
    job.dedupe = dedupe;
    f->rows_in = f->rows_loaded = f->rows_rejected = f->rows_deleted = 0;
    if (source_upsert(db, run, f->url, &job.source_id, err) < 0 ||
        file_insert(db, run, f, job.source_id, "failed", "incomplete", &job.file_id, err) < 0) {
        return -1;
    }
    *file_id = job.file_id;
    for (st = head; st != NULL; st = st->next) {
        st->job = &job;
    }
    for (st = head; st != NULL; st = st->next) {
        if (st->kind->begin != NULL && st->kind->begin(st, err) < 0) {
            goto abort;
        }
    }
    if (file_stream(head, &job, err) < 0) {
        goto abort;
    }
    f->status = job.refused ? ETL_FILE_FAILED : ETL_FILE_LOADED;
    params[0] = num_param(b[0], sizeof(b[0]), job.file_id, true);
    params[1] = etl_file_status_names[f->status];
    params[2] = job.refused ? job.refuse_reason : NULL;
    params[3] = num_param(b[1], sizeof(b[1]), f->rows_in, true);
    params[4] = num_param(b[2], sizeof(b[2]), f->rows_loaded, true);
    params[5] = num_param(b[3], sizeof(b[3]), f->rows_rejected, true);
    params[6] = num_param(b[5], sizeof(b[5]), f->rows_deleted, true);
    if (etl_pg_query(db,
                     "UPDATE ledger.file SET status = $2, error = $3, rows_in = $4, "
                     "rows_loaded = $5, rows_rejected = $6, rows_deleted = $7, "
                     "finished_at = clock_timestamp() WHERE id = $1", 7, params, NULL, err) < 0) {
        goto out;
    }
    if (!job.refused) {
        params[0] = num_param(b[4], sizeof(b[4]), job.source_id, true);
        params[1] = f->etag;
        params[2] = f->last_modified;
        params[3] = f->sha256;
        params[4] = num_param(b[0], sizeof(b[0]), job.file_id, true);
        if (etl_pg_query(db,
                         "UPDATE ledger.source SET etag = $2, last_modified = $3, sha256 = $4, "
                         "file_id = $5 WHERE id = $1", 5, params, NULL, err) < 0) {
            goto out;
        }
    }
    if (job.refused) {
        /* only now: an error of the ledger writes above must not hide behind it */
        etl_err_set(&f->err, ETL_E_DATA, "%s", job.refuse_reason);
    }
    rc = 0;
    goto out;
abort:
    for (st = head; st != NULL; st = st->next) {
        if (st->kind->abort != NULL) {
            st->kind->abort(st);
        }
    }
out:
    for (st = head; st != NULL; st = st->next) {
        st->job = NULL;
    }
    return rc;
}

/* The first row stage after fetch stage 'stage', or NULL. */
static struct etl_stage *
chain_head(struct etl_pipeline *p, const char *stage)
{
    for (size_t i = 0; i < p->nstages; i++) {
        struct etl_stage *st = p->stages[i];

        if (st->kind->consumes == ETL_FLOW_FILE && strcmp(st->needs[0], stage) == 0) {
            return st;
        }
    }
    return NULL;
}

static void
file_clear(struct etl_file *f)
{
    free(f->url);
    free(f->spool_path);
    free(f->etag);
    free(f->last_modified);
    memset(f, 0, sizeof(*f));
}

static char *
dup_or_null(PGresult *res, int col)
{
    return PQgetisnull(res, 0, col) ? NULL : strdup(PQgetvalue(res, 0, col));
}

/*
 * Claim the next pending task of the run in the open transaction; *got is
 * false when there is none.  Fills 'f' (owned; file_clear() it) and *head.
 */
static int
task_claim(struct etl_run *run, struct pg_conn *db, int64_t *task_id, struct etl_file *f,
           struct etl_stage **head, bool *got, struct etl_err *err)
{
    char b[24];
    const char *params[1] = { num_param(b, sizeof(b), run->id, true) };
    PGresult *res;

    *got = false;
    if (etl_pg_query(db,
                     "SELECT id, stage, url, year, spool_path, sha256, bytes, etag, "
                     "last_modified, http_status FROM ledger.task "
                     "WHERE run_id = $1 AND state = 'pending' ORDER BY id "
                     "LIMIT 1 FOR UPDATE SKIP LOCKED", 1, params, &res, err) < 0) {
        return -1;
    }
    if (PQntuples(res) == 0) {
        PQclear(res);
        return 0;
    }
    memset(f, 0, sizeof(*f));
    *task_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    *head = chain_head(run->pipeline, PQgetvalue(res, 0, 1));
    f->url = dup_or_null(res, 2);
    f->year = atoi(PQgetvalue(res, 0, 3));
    f->spool_path = dup_or_null(res, 4);
    etl_strlcpy(f->sha256, PQgetvalue(res, 0, 5), sizeof(f->sha256));
    f->bytes = strtoll(PQgetvalue(res, 0, 6), NULL, 10);
    f->etag = dup_or_null(res, 7);
    f->last_modified = dup_or_null(res, 8);
    f->http_status = PQgetisnull(res, 0, 9) ? 0 : atol(PQgetvalue(res, 0, 9));
    f->status = ETL_FILE_PENDING;
    PQclear(res);
    if (f->url == NULL || f->spool_path == NULL) {
        file_clear(f);
        return etl_err_set(err, ETL_E_NOMEM, "out of memory");
    }
    if (*head == NULL) {
        file_clear(f);
        return etl_err_set(err, ETL_E_CONFIG, "task %" PRId64 " names a stage this pipeline "
                           "does not have", *task_id);
    }
    *got = true;
    return 0;
}

static int
task_finish(struct pg_conn *db, int64_t task_id, const char *state, int64_t file_id,
            struct etl_err *err)
{
    char b[2][24], who[300], host[256] = "";
    const char *params[4];

    (void)gethostname(host, sizeof(host) - 1);
    snprintf(who, sizeof(who), "%s:%ld", host, (long)getpid());
    params[0] = num_param(b[0], sizeof(b[0]), task_id, true);
    params[1] = state;
    params[2] = who;
    params[3] = num_param(b[1], sizeof(b[1]), file_id, file_id > 0);
    return etl_pg_query(db, "UPDATE ledger.task SET state = $2, worker = $3, file_id = $4 "
                        "WHERE id = $1", 4, params, NULL, err);
}

static void
rollback(struct pg_conn *db, const char *sql)
{
    struct etl_err ignore;

    etl_err_clear(&ignore);
    (void)!etl_pg_exec(db, sql, &ignore);
}

/*
 * Close a task whose claim was lost with its transaction: in a new one, mark
 * it failed and record the file's failure -- unless another worker took it
 * meanwhile (then it is no longer pending and nothing is written).
 */
static int
task_fail_unclaimed(struct etl_run *run, struct pg_conn *db, struct etl_file *f,
                    int64_t task_id, struct etl_err *err)
{
    char b[24];
    const char *params[1] = { num_param(b, sizeof(b), task_id, true) };
    PGresult *res;
    int64_t file_id = 0;
    bool ours;

    if (etl_pg_exec(db, "BEGIN", err) < 0 ||
        etl_pg_query(db, "SELECT 1 FROM ledger.task WHERE id = $1 AND state = 'pending' "
                     "FOR UPDATE", 1, params, &res, err) < 0) {
        rollback(db, "ROLLBACK");
        return -1;
    }
    ours = PQntuples(res) > 0;
    PQclear(res);
    if (ours && (file_record_only(run, db, f, &file_id, err) < 0 ||
                 task_finish(db, task_id, "failed", file_id, err) < 0)) {
        rollback(db, "ROLLBACK");
        return -1;
    }
    return etl_pg_exec(db, "COMMIT", err);
}


/*
 * Claim and load tasks of 'run' until none is left (or a stop is asked).
 * Each file in its own transaction, unless 'one_tx': then the caller holds
 * one transaction around all of them and any failure fails it whole.
 * Returns -1 when the worker cannot go on (connection lost; in one_tx, a
 * file failed: *err says which).
 */
static int
worker_loop(struct etl_run *run, struct pg_conn *db, bool one_tx, struct etl_err *err)
{
    const char *pname = run->pipeline->name;

    for (;;) {
        struct etl_stage *head = NULL;
        struct etl_file f;
        int64_t task_id = 0, file_id = 0;
        double t0 = now_seconds();
        bool got;
        int rc;

        if (etl_stop_requested) {
            return 0;
        }
        if (run->db != NULL && etl_pg_exec(run->db, "SELECT 1", err) < 0) {
            /* the session holding the pipeline's lock is gone: so is the lock */
            etl_err_context(err, "the run's lock connection");
            return -1;
        }
        if ((!one_tx && etl_pg_exec(db, "BEGIN", err) < 0) ||
            task_claim(run, db, &task_id, &f, &head, &got, err) < 0) {
            if (!one_tx) {
                rollback(db, "ROLLBACK");
            }
            return -1;
        }
        if (!got) {
            return one_tx ? 0 : etl_pg_exec(db, "COMMIT", err);
        }
        etl_err_clear(&f.err);
        rc = etl_pg_exec(db, "SAVEPOINT etl_file", &f.err);
        if (rc == 0) {
            rc = file_work(run, db, head, &f, false, &file_id, &f.err);
        }
        if (rc < 0 && strstr(f.err.detail, "SQLSTATE 23505") != NULL &&
            PQstatus(db->conn) == CONNECTION_OK && !etl_stop_requested) {
            /* the file repeats a key: load it again, turning repeats into rejects */
            etl_log(ETL_LOG_NOTICE, "[%s/%s] %s repeats a key; loading it again with the "
                    "repeats rejected", pname, head->name, f.url);
            etl_err_clear(&f.err);
            rollback(db, "ROLLBACK TO SAVEPOINT etl_file");
            rc = file_work(run, db, head, &f, true, &file_id, &f.err);
        }
        if (rc == 0 && task_finish(db, task_id, f.status == ETL_FILE_LOADED ? "done" : "failed",
                                   file_id, &f.err) == 0 &&
            etl_pg_exec(db, "RELEASE SAVEPOINT etl_file", &f.err) == 0 &&
            (one_tx || etl_pg_exec(db, "COMMIT", &f.err) == 0)) {
            if (f.status == ETL_FILE_FAILED) {
                etl_log(ETL_LOG_ERR, "[%s/%s] %s: %s", pname, head->name, f.url, f.err.msg);
            } else {
                etl_log(ETL_LOG_INFO,
                        "[%s/%s] %s: %" PRId64 " rows, %" PRId64 " loaded, %" PRId64
                        " rejected, %.2f s", pname, head->name, f.url, f.rows_in,
                        f.rows_loaded, f.rows_rejected, now_seconds() - t0);
            }
            progress_file(run, &f);
            if (one_tx && f.status == ETL_FILE_FAILED) {
                *err = f.err;
                etl_err_context(err, "%s", f.url);
                file_clear(&f);
                return -1;
            }
            file_clear(&f);
            continue;
        }
        /* the file failed */
        {
            char msg[1024];

            f.status = ETL_FILE_FAILED;
            etl_err_context(&f.err, "%s", f.url);
            etl_err_format(&f.err, msg, sizeof(msg));
            etl_log(ETL_LOG_ERR, "[%s/%s] %s", pname, head->name, msg);
        }
        if (!one_tx && PQstatus(db->conn) == CONNECTION_OK &&
            PQtransactionStatus(db->conn) == PQTRANS_IDLE) {
            /* the transaction ended (a failed COMMIT) and the claim with it:
             * record the failure only if the task is still ours to close */
            if (task_fail_unclaimed(run, db, &f, task_id, err) < 0) {
                file_clear(&f);
                return -1;
            }
            progress_file(run, &f);
            file_clear(&f);
            continue;
        }
        if (PQstatus(db->conn) != CONNECTION_OK || one_tx || etl_stop_requested) {
            /* the whole transaction goes; the task stays pending for the next run */
            *err = f.err;
            file_clear(&f);
            if (!one_tx && PQstatus(db->conn) == CONNECTION_OK) {
                rollback(db, "ROLLBACK");
                return 0;       /* stopped: not an error of the worker */
            }
            return -1;
        }
        /* keep the claim: record the failure and close the task in the same transaction */
        rollback(db, "ROLLBACK TO SAVEPOINT etl_file");
        if (file_record_only(run, db, &f, &file_id, err) < 0 ||
            task_finish(db, task_id, "failed", file_id, err) < 0 ||
            etl_pg_exec(db, "COMMIT", err) < 0) {
            rollback(db, "ROLLBACK");
            file_clear(&f);
            return -1;
        }
        progress_file(run, &f);
        file_clear(&f);
    }
}

/* Register what fetch stage 'st' produced: tasks to load, ledger rows for the rest. */
static int
run_register(struct etl_run *run, const struct etl_stage *st, size_t first,
             struct etl_err *err)
{
    const struct etl_file *missing = NULL;

    for (size_t k = first; k < run->nfiles; k++) {
        struct etl_file *f = &run->files[k];
        char id[24], year[24], bytes[24], status[24];
        const char *params[10];

        if (f->from != st) {
            continue;
        }
        if (run->backfill && f->year != run->year) {
            /* a backfill takes the year's files only: leave the others alone */
            continue;
        }
        if (f->status != ETL_FILE_PENDING) {
            if (file_record_only(run, run->db, f, NULL, err) < 0) {
                return -1;
            }
            if (run->backfill && f->status == ETL_FILE_FAILED && missing == NULL) {
                missing = f;
            }
            continue;
        }
        params[0] = num_param(id, sizeof(id), run->id, true);
        params[1] = st->name;
        params[2] = f->url;
        params[3] = num_param(year, sizeof(year), f->year, true);
        params[4] = f->spool_path;
        params[5] = f->sha256;
        params[6] = num_param(bytes, sizeof(bytes), f->bytes, true);
        params[7] = f->etag;
        params[8] = f->last_modified;
        params[9] = num_param(status, sizeof(status), f->http_status, f->http_status > 0);
        if (etl_pg_query(run->db,
                         "INSERT INTO ledger.task (run_id, stage, url, year, spool_path, "
                         "sha256, bytes, etag, last_modified, http_status) "
                         "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)", 10, params,
                         NULL, err) < 0) {
            return -1;
        }
        run->tasks++;
        run->progress_total++;
    }
    if (missing != NULL) {
        /* one file missing fails the year: the old data stays whole */
        *err = missing->err;
        etl_err_context(err, "%s", missing->url);
        etl_err_hint(err, "a backfill loads all of the year's files or none");
        return -1;
    }
    return 0;
}

/*
 * Wait until no other process holds a pending task of the run (FOR UPDATE
 * without SKIP LOCKED blocks on their claims, and re-checks each row once
 * they commit); *left = tasks still pending then: abandoned claims.
 */
static int
tasks_wait_held(struct etl_run *run, struct pg_conn *db, int64_t *left, struct etl_err *err)
{
    char b[24];
    const char *params[1] = { num_param(b, sizeof(b), run->id, true) };
    PGresult *res;

    if (etl_pg_exec(db, "BEGIN", err) < 0) {
        return -1;
    }
    if (etl_pg_query(db, "SELECT id FROM ledger.task WHERE run_id = $1 AND state = 'pending' "
                     "FOR UPDATE", 1, params, &res, err) < 0) {
        rollback(db, "ROLLBACK");
        return -1;
    }
    *left = PQntuples(res);
    PQclear(res);
    return etl_pg_exec(db, "COMMIT", err);
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

/* The connection a worker loads with; its cancel handle serves a late stop. */
static struct pg_conn *
worker_connect(struct etl_run *run, struct etl_err *err)
{
    struct pg_conn *db = etl_pg_connect(run->conninfo, "ewc-etl loader", err);

    if (db != NULL) {
        runner_cancel = PQgetCancel(db->conn);
    }
    return db;
}

static void
worker_disconnect(struct pg_conn *db)
{
    PGcancel *c = runner_cancel;
    sigset_t block, old;

    sigemptyset(&block);
    sigaddset(&block, SIGALRM);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigprocmask(SIG_BLOCK, &block, &old);
    runner_cancel = NULL;
    sigprocmask(SIG_SETMASK, &old, NULL);
    PQfreeCancel(c);
    etl_pg_close(db);
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
    if (run->backfill) {
        workers = 1;
    }
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
            struct etl_err werr;
            struct sigaction sa;

            /* a child: its own connection; the parent's is not touched.  A
             * terminal's Ctrl-C reaches the whole group: the parent forwards
             * it as SIGTERM, so the child ignores its own copy. */
            memset(&sa, 0, sizeof(sa));
            sa.sa_handler = SIG_IGN;
            sigaction(SIGINT, &sa, NULL);
            sigprocmask(SIG_SETMASK, &oldmask, NULL);
            runner_nchildren = 0;
            run->db = NULL;     /* the parent's: never used here */
            etl_err_clear(&werr);
            db = worker_connect(run, &werr);
            rc = db != NULL ? worker_loop(run, db, false, &werr) : -1;
            if (rc < 0) {
                char msg[1024];

                etl_err_format(&werr, msg, sizeof(msg));
                etl_log(ETL_LOG_ERR, "[%s] worker %ld: %s", run->pipeline->name, w + 1, msg);
            }
            if (db != NULL) {
                worker_disconnect(db);
            }
            _exit(rc < 0 ? 1 : 0);
        }
        runner_children[runner_nchildren++] = pid;
        sigprocmask(SIG_SETMASK, &oldmask, NULL);
    }
    db = worker_connect(run, err);
    if (db == NULL) {
        workers_wait();
        return -1;
    }
    if (run->backfill) {
        rc = etl_pg_exec(db, "BEGIN", err);
        if (rc == 0) {
            rc = worker_loop(run, db, true, err);
        }
        if (rc == 0 && etl_stop_requested) {
            rc = etl_err_set(err, ETL_E_INTERNAL, "stopped before the year was complete");
        }
        if (rc == 0) {
            rc = etl_pg_exec(db, "COMMIT", err);
        } else {
            rollback(db, "ROLLBACK");
        }
    } else {
        rc = worker_loop(run, db, false, err);
        while (rc == 0 && !etl_stop_requested) {
            int64_t left;

            /* files other processes (ewc-etl worker) still hold: wait for them */
            if (tasks_wait_held(run, db, &left, err) < 0) {
                rc = -1;
            } else if (left == 0) {
                break;
            } else {
                /* their worker died: the claims came back; load them here */
                rc = worker_loop(run, db, false, err);
            }
        }
    }
    worker_disconnect(db);
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
    char b[24];
    const char *params[1] = { num_param(b, sizeof(b), run->id, true) };
    PGresult *res;

    if (etl_pg_query(run->db,
                     "SELECT count(*) + (SELECT count(*) FROM ledger.task t WHERE t.run_id = $1 "
                     "                   AND (t.state = 'pending' OR t.file_id IS NULL AND "
                     "                        t.state = 'failed')),"
                     "       count(*) FILTER (WHERE status = 'loaded'),"
                     "       count(*) FILTER (WHERE status = 'unchanged'),"
                     "       coalesce(sum(rows_loaded), 0), coalesce(sum(rows_rejected), 0) "
                     "FROM ledger.file WHERE run_id = $1", 1, params, &res, err) < 0) {
        return -1;
    }
    sum->files_total = strtoul(PQgetvalue(res, 0, 0), NULL, 10);
    sum->files_loaded = strtoul(PQgetvalue(res, 0, 1), NULL, 10);
    sum->files_unchanged = strtoul(PQgetvalue(res, 0, 2), NULL, 10);
    sum->files_failed = sum->files_total - sum->files_loaded - sum->files_unchanged;
    sum->rows_loaded = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
    sum->rows_rejected = strtoll(PQgetvalue(res, 0, 4), NULL, 10);
    PQclear(res);
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

static void
run_free(struct etl_run *run)
{
    for (size_t i = 0; i < run->nfiles; i++) {
        file_clear(&run->files[i]);
    }
    free(run->files);
}

int
etl_run_pipeline(struct etl_pipeline *p, const struct etl_run_opts *opts,
                 struct etl_run_summary *sum, struct etl_err *err)
{
    struct etl_run run;
    struct etl_err stage_err;
    char msg[1024] = "";
    double t0 = now_seconds();
    bool failed = false;
    char year_text[16];
    int rc = -1;

    memset(sum, 0, sizeof(*sum));
    memset(&run, 0, sizeof(run));
    snprintf(year_text, sizeof(year_text), "%d", opts->year);
    etl_err_clear(&stage_err);
    run.pipeline = p;
    run.kind = opts->kind != NULL ? opts->kind : "manual";
    run.year = opts->year;
    run.offline = opts->offline;
    run.backfill = strcmp(run.kind, "backfill") == 0;
    run.force = run.backfill;
    run.progress = opts->progress && isatty(STDERR_FILENO);
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
    for (size_t i = 0; i < p->nstages && !failed && !etl_stop_requested; i++) {
        struct etl_stage *st = p->stages[i];
        size_t before = run.nfiles;

        if (st->kind->run == NULL) {
            continue;           /* row stages run inside the workers */
        }
        if (st->kind->produces != ETL_FLOW_FILE &&
            run_workers(&run, opts->workers > 0 ? opts->workers : p->workers, &stage_err) < 0) {
            /* a run stage (sql) follows the loads it needs: finish them first */
            failed = true;
            break;
        }
        if (st->kind->run(st, &run, &stage_err) < 0) {
            etl_err_context(&stage_err, "stage \"%s\"", st->name);
            failed = true;
            break;
        }
        if (st->kind->produces == ETL_FLOW_FILE &&
            run_register(&run, st, before, &stage_err) < 0) {
            failed = true;
        }
    }
    if (!failed &&
        run_workers(&run, opts->workers > 0 ? opts->workers : p->workers, &stage_err) < 0) {
        failed = true;
    }
    progress_end(&run);
    if (failed) {
        etl_err_format(&stage_err, msg, sizeof(msg));
        etl_log(ETL_LOG_ERR, "[%s] run %" PRId64 " failed: %s", p->name, run.id, msg);
        if (run.backfill) {
            char b[24];
            const char *params[1] = { num_param(b, sizeof(b), run.id, true) };
            struct etl_err ignore;

            /* the year's transaction is gone: so are its tasks' claims */
            etl_err_clear(&ignore);
            (void)!etl_pg_query(run.db, "UPDATE ledger.task SET state = 'failed' "
                                "WHERE run_id = $1 AND state = 'pending'", 1, params, NULL,
                                &ignore);
        }
    }
    if (run_summarize(&run, failed, sum, err) < 0) {
        goto out;
    }
    if (etl_stop_requested && !failed && sum->files_loaded + sum->files_unchanged <
        sum->files_total) {
        snprintf(msg, sizeof(msg), "stopped by a signal before all files were loaded");
    }
    sum->seconds = now_seconds() - t0;
    if (run_close(run.db, &run, sum, msg[0] != '\0' ? msg : NULL, err) < 0) {
        goto out;
    }
    etl_log(ETL_LOG_NOTICE,
            "[%s] run %" PRId64 " %s: %zu files (%zu loaded, %zu unchanged, %zu failed), "
            "%" PRId64 " rows loaded, %" PRId64 " rejected, %.2f s", p->name, run.id,
            etl_run_status_names[sum->status], sum->files_total, sum->files_loaded,
            sum->files_unchanged, sum->files_failed, sum->rows_loaded, sum->rows_rejected,
            sum->seconds);
    rc = 0;
out:
    etl_pg_close(run.db);     /* closing the session releases the advisory lock */
    run_free(&run);
    return rc;
}

int
etl_run_worker(struct etl_pipeline *p, const char *conninfo, int64_t run_id, size_t *files,
               struct etl_err *err)
{
    struct etl_run run;
    struct pg_conn *db;
    PGresult *res;
    char b[24];
    const char *params[2];
    int rc = 0;

    memset(&run, 0, sizeof(run));
    run.pipeline = p;
    run.kind = "manual";
    run.conninfo = etl_run_conninfo(p->config, conninfo);
    *files = 0;
    db = worker_connect(&run, err);
    if (db == NULL) {
        return -1;
    }
    params[0] = p->name;
    params[1] = num_param(b, sizeof(b), run_id, run_id > 0);
    /* a backfill holds its year in one transaction: nobody else can join it */
    /* only runs alive: their process holds the pipeline's advisory lock */
    if (etl_pg_query(db, "SELECT id FROM ledger.run WHERE pipeline = $1 AND "
                     "status = 'running' AND ($2::bigint IS NULL OR id = $2) "
                     "AND kind <> 'backfill' AND EXISTS (SELECT 1 FROM pg_locks l "
                     "  WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2"
                     "    AND l.classid = hashtext('ewc-etl')::oid"
                     "    AND l.objid = hashtext($1)::oid) "
                     "ORDER BY id", 2, params, &res, err) < 0) {
        worker_disconnect(db);
        return -1;
    }
    for (int i = 0; i < PQntuples(res) && rc == 0 && !etl_stop_requested; i++) {
        run.id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
        rc = worker_loop(&run, db, false, err);
    }
    *files = run.files_done;
    PQclear(res);
    worker_disconnect(db);
    return rc;
}
