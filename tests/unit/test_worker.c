/*
 * test_worker.c
 *    The claim loop (etl/worker.c) and the chain (etl/chain.c) against a
 *    real, migrated database: tasks claimed, their spooled files driven
 *    through a test row stage whose finish() returns each verdict -- ok,
 *    refused, a failure, a unique violation that the stage's declared
 *    policy turns into a retry with dedupe -- and the ledger rows, task
 *    states and progress counts that come of it; and a whole run
 *    (etl/runner.c) of a test pipeline, summed up from the ledger.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "etl/chain.h"
#include "etl/ledger.h"
#include "etl/pg.h"
#include "etl/runner.h"
#include "etl/worker.h"
#include "support.h"

static struct pg_conn *db;
static char conninfo[512];
static char dir[64];

/* What the sink stage saw. */
static struct {
    char body[64];
    size_t len;
    int begins, aborts, dedupes, progress_calls;
} seen;

static int
sink_begin(struct etl_stage *st, struct etl_err *err)
{
    (void)st;
    (void)err;
    seen.begins++;
    seen.len = 0;
    return 0;
}

static int
sink_process(struct etl_stage *st, struct etl_chunk *in, struct etl_err *err)
{
    (void)st;
    (void)err;
    for (size_t i = 0; i < in->len && seen.len + 1 < sizeof(seen.body); i++) {
        seen.body[seen.len++] = in->bytes[i];
    }
    seen.body[seen.len] = '\0';
    return 0;
}

/*
 * The file's body decides: "ok" loads one row, "refuse" refuses, "fail"
 * fails, "dup" breaks a real unique key unless the load is a dedupe one.
 */
static int
sink_finish(struct etl_stage *st, struct etl_verdict *v, struct etl_err *err)
{
    struct etl_job *job = st->job;

    if (strcmp(seen.body, "refuse") == 0) {
        etl_verdict_refuse(v, "reject ratio too high");
        etl_verdict_refuse(v, "a later refusal");
        return 0;
    }
    if (strcmp(seen.body, "fail") == 0) {
        return etl_err_set(err, ETL_E_DATA, "bad file");
    }
    if (strcmp(seen.body, "dup") == 0) {
        if (job->dedupe) {
            seen.dedupes++;
            job->file->rows_in = 2;
            job->file->rows_loaded = 1;
            job->file->rows_rejected = 1;
            return 0;
        }
        return etl_pg_exec(job->db, "INSERT INTO ledger.source (pipeline, url) VALUES "
                           "('w-dup', 'u'), ('w-dup', 'u')", err);
    }
    job->file->rows_in = job->file->rows_loaded = 1;
    return 0;
}

static void
sink_abort(struct etl_stage *st)
{
    (void)st;
    seen.aborts++;
}

static const struct etl_stage_kind sink_kind = {
    .name = "test_sink", .consumes = ETL_FLOW_FILE, .produces = ETL_FLOW_NONE,
    .begin = sink_begin, .process = sink_process, .finish = sink_finish, .abort = sink_abort,
    .on_unique_violation = ETL_VERDICT_RETRY_DEDUPE,
};
/* The same without a policy: a unique violation fails the file. */
static const struct etl_stage_kind strict_kind = {
    .name = "test_strict", .consumes = ETL_FLOW_FILE, .produces = ETL_FLOW_NONE,
    .begin = sink_begin, .process = sink_process, .finish = sink_finish, .abort = sink_abort,
};
/*
 * A fetch for etl_run_pipeline: four files of the test pipeline -- one to
 * load, one that fails in the chain, one that failed to download, one
 * unchanged.
 */
static int
fetch_run(struct etl_stage *st, struct etl_run *run, struct etl_err *err)
{
    static const char *const names[] = { "r-ok.csv", "r-fail.csv", "r-404.csv", "r-same.csv" };

    for (int i = 0; i < 4; i++) {
        char url[128], path[128];
        struct etl_file *f;

        snprintf(url, sizeof(url), "http://127.0.0.1/%s", names[i]);
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        f = etl_run_add_file(run, url, err);
        if (f == NULL) {
            return -1;
        }
        f->from = st;
        f->spool_path = strdup(path);
        snprintf(f->sha256, sizeof(f->sha256), "sha-%s", names[i]);
        f->status = i < 2 ? ETL_FILE_PENDING : i == 2 ? ETL_FILE_FAILED : ETL_FILE_UNCHANGED;
        if (i == 2) {
            f->sha256[0] = '\0';
            etl_err_set(&f->err, ETL_E_NET, "GET %s: 404 Not Found", url);
        }
    }
    return 0;
}

static const struct etl_stage_kind fetch_kind = {
    .name = "test_fetch", .consumes = ETL_FLOW_RUN, .produces = ETL_FLOW_FILE,
    .run = fetch_run,
};

static char *needs_fetch[] = { (char *)"fetch" };
static char *needs_strict[] = { (char *)"fetch_strict" };
static struct etl_stage st_fetch = { .kind = &fetch_kind, .name = (char *)"fetch" };
static struct etl_stage st_sink = { .kind = &sink_kind, .name = (char *)"sink",
                                    .needs = needs_fetch, .nneeds = 1 };
static struct etl_stage st_strict = { .kind = &strict_kind, .name = (char *)"strict",
                                      .needs = needs_strict, .nneeds = 1 };
static struct etl_stage *stages[] = { &st_fetch, &st_sink, &st_strict };
static struct etl_pipeline pl = { .name = (char *)"w", .stages = stages, .nstages = 3 };

static void
on_progress(const struct etl_progress *p, void *arg)
{
    struct etl_progress *last = arg;

    seen.progress_calls++;
    if (last != NULL) {
        assert_false(last->final);          /* the final report comes once, last */
        *last = *p;
    }
}

static int
setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/ewc-test-worker.XXXXXX");
    if (mkdtemp(dir) == NULL) {
        return -1;
    }
    db = test_pg_open("worker", conninfo, sizeof(conninfo));
    return db != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
    (void)state;
    test_pg_drop(db, "worker");
    return test_rmtree(dir);
}

/* A run of the test pipeline, opened in the ledger, with no lock connection. */
static void
run_new(struct etl_run *run)
{
    struct etl_err err;

    memset(run, 0, sizeof(*run));
    run->pipeline = &pl;
    run->kind = "manual";
    run->conninfo = conninfo;
    run->progress = on_progress;
    run->counts.pipeline = pl.name;
    etl_err_clear(&err);
    assert_int_equal(etl_ledger_run_open(db, pl.name, "manual", "{}", &run->id, &err), 0);
}

/* Spool 'body' as file 'name' and register it as a task of fetch stage 'stage'. */
static void
task_new(struct etl_run *run, const char *stage, const char *name, const char *body)
{
    char path[128], url[128];
    struct etl_file f;
    struct etl_err err;
    FILE *fp;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    snprintf(url, sizeof(url), "http://127.0.0.1/%s", name);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(body, fp);
    fclose(fp);
    memset(&f, 0, sizeof(f));
    f.url = url;
    f.spool_path = path;
    snprintf(f.sha256, sizeof(f.sha256), "sha-%s", name);
    f.bytes = (int64_t)strlen(body);
    etl_err_clear(&err);
    assert_int_equal(etl_ledger_task_add(db, run->id, stage, &f, &err), 0);
}

/* The run's tasks as "url-tail:state:file status:error", one per task, by id. */
static void
expect_tasks(const struct etl_run *run, const char *want)
{
    char sql[512];
    struct etl_err err;
    PGresult *res;

    snprintf(sql, sizeof(sql),
             "SELECT string_agg(regexp_replace(t.url, '.*/', '') || ':' || t.state || ':' || "
             "coalesce(f.status, '-') || ':' || coalesce(f.error, '-'), ' | ' ORDER BY t.id) "
             "FROM ledger.task t LEFT JOIN ledger.file f ON f.id = t.file_id "
             "WHERE t.run_id = %lld", (long long)run->id);
    etl_err_clear(&err);
    assert_int_equal(etl_pg_query(db, sql, 0, NULL, &res, &err), 0);
    assert_string_equal(PQgetvalue(res, 0, 0), want);
    PQclear(res);
}

/* ok, refused, failed, repeated key (retried with dedupe): each recorded, the loop goes on. */
static void
test_claim_to_end(void **state)
{
    struct etl_run run;
    struct pg_conn *wdb;
    struct etl_err err;
    PGresult *res;
    char sql[256];

    (void)state;
    memset(&seen, 0, sizeof(seen));
    run_new(&run);
    task_new(&run, "fetch", "ok.csv", "ok");
    task_new(&run, "fetch", "refuse.csv", "refuse");
    task_new(&run, "fetch", "fail.csv", "fail");
    task_new(&run, "fetch", "dup.csv", "dup");
    etl_err_clear(&err);
    wdb = etl_worker_connect(&run, &err);
    assert_non_null(wdb);
    assert_int_equal(etl_worker_loop(&run, wdb, false, &err), 0);
    assert_int_equal(err.code, ETL_E_NONE);
    expect_tasks(&run, "ok.csv:done:loaded:- | "
                 "refuse.csv:failed:failed:reject ratio too high | "
                 "fail.csv:failed:failed:http://127.0.0.1/fail.csv: bad file | "
                 "dup.csv:done:loaded:-");
    /* dup: once plain (aborted), once with dedupe */
    assert_int_equal(seen.dedupes, 1);
    assert_int_equal(seen.begins, 5);
    assert_int_equal(seen.aborts, 2);           /* fail, and the first dup */
    assert_int_equal(run.counts.files_done, 4);
    assert_int_equal(run.counts.bytes, 2 + 6 + 4 + 3 + 3);
    assert_int_equal(run.counts.rows, 1 + 0 + 0 + 2);
    assert_true(seen.progress_calls >= 9);
    /* the loaded files became their sources' current versions; the refused one did not */
    snprintf(sql, sizeof(sql), "SELECT string_agg(regexp_replace(url, '.*/', '') || '=' || "
             "coalesce(sha256, '-'), ',' ORDER BY url) FROM ledger.source "
             "WHERE pipeline = 'w'");
    assert_int_equal(etl_pg_query(db, sql, 0, NULL, &res, &err), 0);
    assert_string_equal(PQgetvalue(res, 0, 0),
                        "dup.csv=sha-dup.csv,fail.csv=-,ok.csv=sha-ok.csv,refuse.csv=-");
    PQclear(res);
    /* nothing left: a second loop claims nothing */
    assert_int_equal(etl_worker_loop(&run, wdb, false, &err), 0);
    assert_int_equal(run.counts.files_done, 4);
    etl_worker_disconnect(wdb);
}

/* Without a declared policy, the unique violation fails the file: no retry. */
static void
test_no_policy_no_retry(void **state)
{
    struct etl_run run;
    struct pg_conn *wdb;
    struct etl_err err;

    (void)state;
    memset(&seen, 0, sizeof(seen));
    run_new(&run);
    task_new(&run, "fetch_strict", "dup2.csv", "dup");
    etl_err_clear(&err);
    wdb = etl_worker_connect(&run, &err);
    assert_non_null(wdb);
    assert_int_equal(etl_worker_loop(&run, wdb, false, &err), 0);
    assert_int_equal(seen.dedupes, 0);
    assert_int_equal(seen.begins, 1);
    expect_tasks(&run, "dup2.csv:failed:failed:http://127.0.0.1/dup2.csv: query failed: "
                 "duplicate key value violates unique constraint \"source_pipeline_url_key\" "
                 "(SQLSTATE 23505, Key (pipeline, url)=(w-dup, u) already exists)");
    etl_worker_disconnect(wdb);
}

/* One transaction for all (a backfill): a failed file fails the worker, named. */
static void
test_one_tx_fails_whole(void **state)
{
    struct etl_run run;
    struct pg_conn *wdb;
    struct etl_err err;

    (void)state;
    memset(&seen, 0, sizeof(seen));
    run_new(&run);
    task_new(&run, "fetch", "ok3.csv", "ok");
    task_new(&run, "fetch", "refuse3.csv", "refuse");
    etl_err_clear(&err);
    wdb = etl_worker_connect(&run, &err);
    assert_non_null(wdb);
    assert_int_equal(etl_pg_exec(wdb, "BEGIN", &err), 0);
    assert_int_equal(etl_worker_loop(&run, wdb, true, &err), -1);
    assert_int_equal(err.code, ETL_E_DATA);
    assert_string_equal(err.msg, "reject ratio too high");
    assert_string_equal(err.where, "http://127.0.0.1/refuse3.csv");
    etl_err_clear(&err);
    assert_int_equal(etl_pg_exec(wdb, "ROLLBACK", &err), 0);
    expect_tasks(&run, "ok3.csv:pending:-:- | refuse3.csv:pending:-:-");
    etl_worker_disconnect(wdb);
}

/* A task of a stage the pipeline lacks, and a missing spool file. */
static void
test_bad_tasks(void **state)
{
    struct etl_run run;
    struct pg_conn *wdb;
    struct etl_err err;

    (void)state;
    memset(&seen, 0, sizeof(seen));
    run_new(&run);
    task_new(&run, "fetch", "gone.csv", "ok");
    {
        char path[128];

        snprintf(path, sizeof(path), "%s/gone.csv", dir);
        assert_int_equal(unlink(path), 0);
    }
    task_new(&run, "nosuch", "x.csv", "ok");
    etl_err_clear(&err);
    wdb = etl_worker_connect(&run, &err);
    assert_non_null(wdb);
    assert_int_equal(etl_worker_loop(&run, wdb, false, &err), -1);
    assert_int_equal(err.code, ETL_E_CONFIG);
    assert_non_null(strstr(err.msg, "names a stage this pipeline does not have"));
    /* the missing spool file failed its task alone; the bad task stays pending */
    assert_int_equal(seen.aborts, 1);
    etl_worker_disconnect(wdb);
    wdb = NULL;
    {
        char want[512];

        snprintf(want, sizeof(want), "gone.csv:failed:failed:http://127.0.0.1/gone.csv: "
                 "could not open spool file \"%s/gone.csv\": No such file or directory | "
                 "x.csv:pending:-:-", dir);
        expect_tasks(&run, want);
    }
}

/* The run's lock connection is gone: the worker stops before claiming. */
static void
test_lock_connection_lost(void **state)
{
    struct etl_run run;
    struct pg_conn *wdb, *lockdb;
    struct etl_err err;
    char sql[128];

    (void)state;
    run_new(&run);
    task_new(&run, "fetch", "ok5.csv", "ok");
    etl_err_clear(&err);
    lockdb = etl_pg_connect(conninfo, "test_worker lock", &err);
    assert_non_null(lockdb);
    snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%d, 10000)",
             PQbackendPID(lockdb->conn));
    assert_int_equal(etl_pg_exec(db, sql, &err), 0);
    run.db = lockdb;
    wdb = etl_worker_connect(&run, &err);
    assert_non_null(wdb);
    assert_int_equal(etl_worker_loop(&run, wdb, false, &err), -1);
    assert_int_equal(err.code, ETL_E_DB);
    assert_true(err.retryable);
    assert_string_equal(err.where, "the run's lock connection");
    expect_tasks(&run, "ok5.csv:pending:-:-");
    etl_worker_disconnect(wdb);
    etl_pg_close(lockdb);
}

/* Write 'body' as spool file 'name'. */
static void
spool_put(const char *name, const char *body)
{
    char path[128];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(body, fp);
    fclose(fp);
}

/*
 * A whole run (runner.c): fetch's files registered (tasks, or ledger rows
 * for the unchanged and the failed), loaded by this process, summed up
 * from the ledger, the progress callback's counts with one final report.
 */
static void
test_run_pipeline(void **state)
{
    struct etl_run_opts ro = { 0 };
    struct etl_run_summary sum;
    struct etl_progress last = { 0 };
    struct etl_stage *run_stages[] = { &st_fetch, &st_sink };
    struct etl_pipeline rp = { .name = (char *)"w", .stages = run_stages, .nstages = 2,
                               .workers = 1 };
    struct etl_err err;
    PGresult *res;
    char sql[256];

    (void)state;
    memset(&seen, 0, sizeof(seen));
    st_fetch.pipeline = st_sink.pipeline = &rp;
    spool_put("r-ok.csv", "ok");
    spool_put("r-fail.csv", "fail");
    ro.conninfo = conninfo;
    ro.kind = "manual";
    ro.progress = on_progress;
    ro.progress_arg = &last;
    etl_err_clear(&err);
    assert_int_equal(etl_run_pipeline(&rp, &ro, &sum, &err), 0);
    st_fetch.pipeline = st_sink.pipeline = NULL;
    assert_int_equal(err.code, ETL_E_NONE);
    assert_int_equal(sum.status, ETL_RUN_PARTIAL);
    assert_int_equal(sum.files_total, 4);
    assert_int_equal(sum.files_loaded, 1);
    assert_int_equal(sum.files_unchanged, 1);
    assert_int_equal(sum.files_failed, 2);
    assert_int_equal(sum.rows_loaded, 1);
    assert_true(last.final);
    assert_string_equal(last.pipeline, "w");
    assert_int_equal(last.files_total, 2);      /* the tasks */
    assert_int_equal(last.files_done, 2);
    assert_int_equal(last.bytes, 2 + 4);
    assert_int_equal(last.rows, 1);
    snprintf(sql, sizeof(sql), "SELECT concat_ws(',', status, files_total, files_loaded, "
             "files_unchanged, files_failed, rows_loaded) FROM ledger.run WHERE id = %lld",
             (long long)sum.run_id);
    assert_int_equal(etl_pg_query(db, sql, 0, NULL, &res, &err), 0);
    assert_string_equal(PQgetvalue(res, 0, 0), "partial,4,1,1,2,1");
    PQclear(res);
    snprintf(sql, sizeof(sql), "SELECT string_agg(regexp_replace(url, '.*/', '') || ':' || "
             "status, ',' ORDER BY url) FROM ledger.file WHERE run_id = %lld",
             (long long)sum.run_id);
    assert_int_equal(etl_pg_query(db, sql, 0, NULL, &res, &err), 0);
    assert_string_equal(PQgetvalue(res, 0, 0),
                        "r-404.csv:failed,r-fail.csv:failed,r-ok.csv:loaded,r-same.csv:unchanged");
    PQclear(res);

    /* another process holds the pipeline's lock: the run does not start */
    {
        struct pg_conn *holder = etl_pg_connect(conninfo, "test_worker holder", &err);
        bool got = false;

        assert_non_null(holder);
        assert_int_equal(etl_ledger_lock_try(holder, "w", &got, &err), 0);
        assert_true(got);
        memset(&sum, 0xff, sizeof(sum));
        assert_int_equal(etl_run_pipeline(&rp, &ro, &sum, &err), -1);
        assert_int_equal(err.code, ETL_E_BUSY);
        assert_string_equal(err.msg, "pipeline \"w\" is being run by another process");
        assert_int_equal(sum.run_id, 0);
        etl_pg_close(holder);
    }
    /* a backfill needs a year */
    etl_err_clear(&err);
    ro.kind = "backfill";
    assert_int_equal(etl_run_pipeline(&rp, &ro, &sum, &err), -1);
    assert_int_equal(err.code, ETL_E_CONFIG);
}

/* The chain's policy: only SQLSTATE 23505, only with a stage that declares one. */
static void
test_chain_policy(void **state)
{
    struct etl_err e;

    (void)state;
    etl_err_clear(&e);
    assert_int_equal(etl_chain_policy(&st_sink, &e), ETL_VERDICT_OK);
    strcpy(e.sqlstate, "23503");
    assert_int_equal(etl_chain_policy(&st_sink, &e), ETL_VERDICT_OK);
    strcpy(e.sqlstate, "23505");
    assert_int_equal(etl_chain_policy(&st_sink, &e), ETL_VERDICT_RETRY_DEDUPE);
    assert_int_equal(etl_chain_policy(&st_strict, &e), ETL_VERDICT_OK);
    /* a text that says so is not a state */
    etl_err_clear(&e);
    etl_err_set(&e, ETL_E_DB, "SQLSTATE 23505");
    etl_err_detail(&e, "SQLSTATE 23505");
    assert_int_equal(etl_chain_policy(&st_sink, &e), ETL_VERDICT_OK);
    assert_ptr_equal(etl_chain_head(&pl, "fetch"), &st_sink);
    assert_ptr_equal(etl_chain_head(&pl, "fetch_strict"), &st_strict);
    assert_null(etl_chain_head(&pl, "sink"));
    /* of the real kinds, only the load stage declares a policy */
    for (size_t i = 0; etl_stage_kinds[i] != NULL; i++) {
        const struct etl_stage_kind *k = etl_stage_kinds[i];

        assert_int_equal(k->on_unique_violation, strcmp(k->name, "pg_load") == 0
                                                     ? ETL_VERDICT_RETRY_DEDUPE
                                                     : ETL_VERDICT_OK);
    }
    assert_non_null(etl_stage_kind_find("pg_load"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_claim_to_end),
        cmocka_unit_test(test_no_policy_no_retry),
        cmocka_unit_test(test_one_tx_fails_whole),
        cmocka_unit_test(test_bad_tasks),
        cmocka_unit_test(test_lock_connection_lost),
        cmocka_unit_test(test_run_pipeline),
        cmocka_unit_test(test_chain_policy),
    };

    if (test_pg_required("test_worker") < 0) {
        return 1;
    }
    return cmocka_run_group_tests(tests, setup, teardown);
}
