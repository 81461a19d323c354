/*
 * worker.c
 *    Claim -> load -> record -> end, per task; see worker.h.
 *
 *    A claimed task's file is owned by worker_task() and freed in exactly
 *    one place, its cleanup label (Redis src/ae.c style).  The file's
 *    transaction holds: the task's claim (FOR UPDATE SKIP LOCKED), its
 *    ledger.source upsert, its ledger.file row, the replacement of the
 *    source's previous rows, the new rows, its rejects, the task's end.  A
 *    failed load rolls back to the savepoint taken after the claim, so that
 *    the failure is recorded and the task closed in the same transaction.
 */
#include "worker.h"

#include <inttypes.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "chain.h"
#include "ledger.h"
#include "log.h"
#include "runner.h"

/* Seconds between round trips that check the run's lock session (worker_task). */
#define WORKER_LOCK_PROBE_S 1.0

/* The cancel handle of the connection loading a file in this process. */
static PGcancel *volatile worker_cancel_handle;

/* Cancel the statement in flight; see worker.h. */
void
etl_worker_cancel(void)
{
    PGcancel *c = worker_cancel_handle;
    char errbuf[256];

    if (c != NULL) {
        /* PQcancel is safe in a signal handler with a local buffer */
        (void)!PQcancel(c, errbuf, sizeof(errbuf));
    }
}

/* Connect with a cancel handle; see worker.h. */
struct pg_conn *
etl_worker_connect(const struct etl_run *run, struct etl_err *err)
{
    struct pg_conn *db = etl_pg_connect(run->conninfo, "ewc-etl loader", err);

    if (db != NULL) {
        worker_cancel_handle = PQgetCancel(db->conn);
    }
    return db;
}

/* Drop the cancel handle and close; see worker.h. */
void
etl_worker_disconnect(struct pg_conn *db)
{
    PGcancel *c = worker_cancel_handle;
    sigset_t block, old;

    sigemptyset(&block);
    sigaddset(&block, SIGALRM);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigprocmask(SIG_BLOCK, &block, &old);
    worker_cancel_handle = NULL;
    sigprocmask(SIG_SETMASK, &old, NULL);
    PQfreeCancel(c);
    etl_pg_close(db);
}

static double
now_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Run 'sql' (a rollback), ignoring its error: the first one is kept. */
static void
rollback(struct pg_conn *db, const char *sql)
{
    struct etl_err ignore;

    etl_err_clear(&ignore);
    (void)!etl_pg_exec(db, sql, &ignore);
}

static bool
conn_ok(const struct pg_conn *db)
{
    return PQstatus(db->conn) == CONNECTION_OK;
}

/* The SHA-256 of the run's YAML, under which a refusal is remembered (NULL: none). */
static const char *
worker_config_sha(const struct etl_run *run)
{
    const struct etl_config *cfg = run->pipeline->config;

    return cfg != NULL && cfg->doc != NULL && cfg->doc->sha256[0] != '\0' ? cfg->doc->sha256
                                                                          : NULL;
}

/*
 * How a claimed task's transaction ends after its ledger writes, in their
 * round trip: the task closed, then RELEASE SAVEPOINT etl_file (one
 * transaction for the whole run: a backfill) or COMMIT.
 */
struct worker_tail {
    int64_t task_id;
    bool one_tx;
};

/* worker_file failed after the chain, in its ledger writes or the COMMIT. */
#define WORKER_END_FAILED (-2)

/*
 * Load 'f' once inside the open transaction: its ledger.source upsert and
 * ledger.file row (one statement), the chain, the ledger updates of its
 * outcome with 'tail' (NULL: none) in one round trip.  The chain's verdict
 * decides the status: loaded, or failed (refused: the reason becomes
 * f->err only after the ledger writes, so that an error of theirs is not
 * hidden behind it).  -1: the caller rolls back; WORKER_END_FAILED: the
 * same, failed in the writes after the chain (a COMMIT's error ended the
 * transaction).
 */
static int
worker_file(struct etl_run *run, struct pg_conn *db, struct etl_stage *head, struct etl_file *f,
            bool dedupe, const struct worker_tail *tail, int64_t *file_id, struct etl_err *err)
{
    static const char *const tail_commit[] = { "COMMIT" };
    static const char *const tail_release[] = { "RELEASE SAVEPOINT etl_file" };
    struct etl_ledger_end end;
    struct etl_verdict v;
    struct etl_job job;
    char priority[24];
    bool refused;

    memset(&job, 0, sizeof(job));
    job.run = run;
    job.file = f;
    job.db = db;
    job.dedupe = dedupe;
    f->rows_in = f->rows_loaded = f->rows_rejected = f->rows_deleted = 0;
    f->rows_added = f->rows_changed = f->rows_removed = -1;
    f->max_change_pct[0] = '\0';
    f->notes = NULL;
    snprintf(priority, sizeof(priority), "%ld", run->pipeline->priority);
    if (etl_ledger_file_open(db, run->id, run->pipeline->name, priority, f, "failed",
                             "incomplete", &job.source_id, &job.replaces, &job.file_id,
                             err) < 0) {
        return -1;
    }
    *file_id = job.file_id;
    if (etl_chain_run(head, &job, &v, err) < 0) {
        return -1;
    }
    refused = v.kind == ETL_VERDICT_REFUSED;
    f->status = refused ? ETL_FILE_FAILED : ETL_FILE_LOADED;
    memset(&end, 0, sizeof(end));
    end.file_id = job.file_id;
    end.source_id = job.source_id;
    end.file = f;
    end.error = refused ? v.reason : NULL;
    end.refused = refused;
    end.config = worker_config_sha(run);
    if (tail != NULL) {
        end.task_id = tail->task_id;
        end.task_state = refused ? "failed" : "done";
    }
    if (etl_ledger_file_end(db, &end, tail == NULL ? NULL
                            : tail->one_tx ? tail_release : tail_commit,
                            tail == NULL ? 0 : 1, err) < 0) {
        return WORKER_END_FAILED;
    }
    if (refused) {
        etl_err_set(&f->err, ETL_E_DATA, "%s", v.reason);
    }
    return 0;
}

/*
 * The load of a claimed file, in savepoint etl_file (taken here unless
 * 'in_savepoint'): once, and once more with dedupe when the chain's policy
 * turns its failure into ETL_VERDICT_RETRY_DEDUPE; the end of the
 * transaction as 'tail' says (see worker_file).  The outcome is in
 * f->status and f->err.
 */
static int
worker_load(struct etl_run *run, struct pg_conn *db, struct etl_stage *head, struct etl_file *f,
            const struct worker_tail *tail, bool in_savepoint, int64_t *file_id)
{
    int rc;

    etl_err_clear(&f->err);
    if (!in_savepoint && etl_pg_exec(db, "SAVEPOINT etl_file", &f->err) < 0) {
        return -1;
    }
    rc = worker_file(run, db, head, f, false, tail, file_id, &f->err);
    if (rc == 0) {
        return 0;
    }
    if (rc == WORKER_END_FAILED ||
        etl_chain_policy(head, &f->err) != ETL_VERDICT_RETRY_DEDUPE || !conn_ok(db) ||
        etl_stop_requested) {
        return -1;
    }
    /* the file repeats a key: load it again, turning repeats into rejects */
    etl_log(ETL_LOG_NOTICE, "[%s/%s] %s repeats a key; loading it again with the "
            "repeats rejected", run->pipeline->name, head->name, f->url);
    etl_err_clear(&f->err);
    rollback(db, "ROLLBACK TO SAVEPOINT etl_file");
    return worker_file(run, db, head, f, true, tail, file_id, &f->err) == 0 ? 0 : -1;
}

/* The file is done (loaded or refused): log it and count it. */
static void
worker_done(struct etl_run *run, const struct etl_stage *head, const struct etl_file *f,
            double t0)
{
    if (f->status == ETL_FILE_FAILED) {
        etl_log(ETL_LOG_ERR, "[%s/%s] %s: %s", run->pipeline->name, head->name, f->url,
                f->err.msg);
    } else if (f->rows_added < 0) {
        etl_log(ETL_LOG_INFO,
                "[%s/%s] %s: %" PRId64 " rows, %" PRId64 " loaded, %" PRId64
                " rejected, first version, %.2f s", run->pipeline->name, head->name, f->url,
                f->rows_in, f->rows_loaded, f->rows_rejected, now_seconds() - t0);
    } else {
        etl_log(f->rows_changed + f->rows_added + f->rows_removed > 0 ? ETL_LOG_NOTICE
                : ETL_LOG_INFO,
                "[%s/%s] %s: %" PRId64 " rows, %" PRId64 " loaded, %" PRId64
                " rejected; against the previous version %" PRId64 " added, %" PRId64
                " changed (largest %s%%), %" PRId64 " removed, %.2f s", run->pipeline->name,
                head->name, f->url, f->rows_in, f->rows_loaded, f->rows_rejected,
                f->rows_added, f->rows_changed,
                f->max_change_pct[0] != '\0' ? f->max_change_pct : "0", f->rows_removed,
                now_seconds() - t0);
    }
    etl_run_report(run, 0, f);
}

/*
 * The load of 'f' failed (f->err): record it where the transaction still
 * allows.  *more: whether the loop may claim another task.
 */
static int
worker_failed(struct etl_run *run, struct pg_conn *db, bool one_tx, int64_t task_id,
              const struct etl_stage *head, struct etl_file *f, bool *more, struct etl_err *err)
{
    char msg[1024];
    int64_t file_id = 0;

    f->status = ETL_FILE_FAILED;
    etl_err_context(&f->err, "%s", f->url);
    etl_err_format(&f->err, msg, sizeof(msg));
    etl_log(ETL_LOG_ERR, "[%s/%s] %s", run->pipeline->name, head->name, msg);
    if (!one_tx && conn_ok(db) && PQtransactionStatus(db->conn) == PQTRANS_IDLE) {
        /* the transaction ended (a failed COMMIT) and the claim with it:
         * record the failure only if the task is still ours to close */
        if (etl_ledger_task_fail_unclaimed(db, run->id, run->pipeline->name, f, task_id,
                                           err) < 0) {
            return -1;
        }
        etl_run_report(run, 0, f);
        *more = true;
        return 0;
    }
    if (!conn_ok(db) || one_tx || etl_stop_requested) {
        /* the whole transaction goes; the task stays pending for the next run */
        *err = f->err;
        if (!one_tx && conn_ok(db)) {
            rollback(db, "ROLLBACK");
            return 0;       /* stopped: not an error of the worker */
        }
        return -1;
    }
    /* keep the claim: record the failure and close the task in the same transaction */
    rollback(db, "ROLLBACK TO SAVEPOINT etl_file");
    if (etl_ledger_file_record(db, run->id, run->pipeline->name, f, &file_id, err) < 0 ||
        etl_ledger_task_finish(db, task_id, "failed", file_id, err) < 0 ||
        etl_pg_exec(db, "COMMIT", err) < 0) {
        rollback(db, "ROLLBACK");
        return -1;
    }
    etl_run_report(run, 0, f);
    *more = true;
    return 0;
}

/*
 * One task: claim -> load -> record -> end.  *more: whether the loop may
 * claim another one (false when none is left or a stop ended it).
 */
static int
worker_task(struct etl_run *run, struct pg_conn *db, bool one_tx, bool *more,
            struct etl_err *err)
{
    static double probed;       /* when the lock's session last answered */
    struct worker_tail tail;
    struct etl_stage *head;
    struct etl_file f;
    char stage[256];
    int64_t task_id = 0, file_id = 0;
    double t0 = now_seconds();
    bool got = false, tx = false;
    int rc = -1;

    memset(&f, 0, sizeof(f));
    *more = false;
    /* claim */
    if (run->db != NULL) {
        /* a session the server ended is seen at once; a round trip once a
         * second, not per file, for the rest */
        bool probe = t0 - probed >= WORKER_LOCK_PROBE_S;

        if (etl_pg_check(run->db, probe, err) < 0) {
            /* the session holding the pipeline's lock is gone: so is the lock */
            etl_err_context(err, "the run's lock connection");
            goto out;
        }
        if (probe) {
            probed = t0;
        }
    }
    tx = !one_tx;
    /* BEGIN, the claim, the savepoint a failed load rolls back to: one round trip */
    if (etl_ledger_task_claim_tx(db, tx ? "BEGIN" : NULL, "SAVEPOINT etl_file", run->id,
                                 &task_id, stage, sizeof(stage), &f, &got, err) < 0) {
        goto out;
    }
    if (!got) {
        tx = false;
        rc = etl_pg_exec(db, one_tx ? "RELEASE SAVEPOINT etl_file" : "COMMIT", err);
        goto out;
    }
    head = etl_chain_head(run->pipeline, stage);
    if (head == NULL) {
        etl_err_set(err, ETL_E_CONFIG, "task %" PRId64 " names a stage this pipeline does "
                    "not have", task_id);
        goto out;
    }
    tx = false;         /* from here on, the outcome decides how the transaction ends */
    /* load, record, end: the task closed and the COMMIT with the file's ledger writes */
    tail.task_id = task_id;
    tail.one_tx = one_tx;
    if (worker_load(run, db, head, &f, &tail, true, &file_id) == 0) {
        worker_done(run, head, &f, t0);
        if (one_tx && f.status == ETL_FILE_FAILED) {
            *err = f.err;
            etl_err_context(err, "%s", f.url);
            goto out;
        }
        *more = true;
        rc = 0;
        goto out;
    }
    rc = worker_failed(run, db, one_tx, task_id, head, &f, more, err);
out:
    if (tx) {
        rollback(db, "ROLLBACK");
    }
    etl_file_clear(&f);
    return rc;
}

/* A plan's trial load, rolled back; see worker.h. */
int
etl_worker_trial(struct etl_run *run, struct pg_conn *db, struct etl_file *f,
                 struct etl_err *err)
{
    struct etl_stage *head = etl_chain_head(run->pipeline, f->from->name);
    int64_t file_id = 0;

    if (head == NULL) {
        f->status = ETL_FILE_FAILED;
        return etl_err_set(&f->err, ETL_E_CONFIG, "no row stage after \"%s\"", f->from->name);
    }
    if (etl_pg_exec(db, "SAVEPOINT etl_trial", err) < 0) {
        return -1;
    }
    if (worker_load(run, db, head, f, NULL, false, &file_id) < 0) {
        f->status = ETL_FILE_FAILED;
        etl_err_context(&f->err, "%s", f->url);
    }
    if (!conn_ok(db) || etl_pg_exec(db, "ROLLBACK TO SAVEPOINT etl_trial", err) < 0 ||
        etl_pg_exec(db, "RELEASE SAVEPOINT etl_trial", err) < 0) {
        if (err->code == ETL_E_NONE) {
            *err = f->err;
        }
        return -1;
    }
    return 0;
}

/* The claim loop; see worker.h. */
int
etl_worker_loop(struct etl_run *run, struct pg_conn *db, bool one_tx, struct etl_err *err)
{
    bool more = true;

    while (more && !etl_stop_requested) {
        if (worker_task(run, db, one_tx, &more, err) < 0) {
            return -1;
        }
    }
    return 0;
}
