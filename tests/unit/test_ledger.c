/*
 * test_ledger.c
 *    The ledger's statements (etl/ledger.c) against a real, migrated
 *    database (support.c: test_pg_open, in the cluster of $EWC_TEST_DB):
 *    their results, and their errors -- a unique violation's SQLSTATE, a
 *    missing schema, a connection lost under them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etl/ledger.h"
#include "etl/pg.h"
#include "support.h"

static struct pg_conn *db;
static char conninfo[512];

static int
setup(void **state)
{
    (void)state;
    db = test_pg_open("ledger", conninfo, sizeof(conninfo));
    return db != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
    (void)state;
    test_pg_drop(db, "ledger");
    return 0;
}

/* One value of a query, as text in 'out'. */
static void
query1(const char *sql, char *out, size_t size)
{
    struct etl_err err;
    PGresult *res;

    etl_err_clear(&err);
    if (etl_pg_query(db, sql, 0, NULL, &res, &err) < 0) {
        fail_msg("%s: %s", sql, err.msg);
    }
    assert_int_equal(PQntuples(res), 1);
    snprintf(out, size, "%s", PQgetisnull(res, 0, 0) ? "NULL" : PQgetvalue(res, 0, 0));
    PQclear(res);
}

static void
expect1(const char *sql, const char *want)
{
    char got[1024];

    query1(sql, got, sizeof(got));
    assert_string_equal(got, want);
}

static struct pg_conn *
connect_again(void)
{
    struct etl_err err;
    struct pg_conn *c;

    etl_err_clear(&err);
    c = etl_pg_connect(conninfo, "test_ledger", &err);
    assert_non_null(c);
    return c;
}

static void
test_lock_and_runs(void **state)
{
    struct pg_conn *other = connect_again();
    struct etl_ledger_tally t;
    struct etl_err err;
    int64_t run1, run2, *ids;
    size_t n;
    bool got;

    (void)state;
    etl_err_clear(&err);
    assert_int_equal(etl_ledger_lock_try(db, "runs", &got, &err), 0);
    assert_true(got);
    assert_int_equal(etl_ledger_lock_try(other, "runs", &got, &err), 0);
    assert_false(got);
    assert_int_equal(etl_ledger_lock_try(other, "another", &got, &err), 0);
    assert_true(got);

    assert_int_equal(etl_ledger_run_open(db, "runs", "manual", "{\"year\": 0}", &run1, &err), 0);
    assert_true(run1 > 0);
    /* alive: its session holds the pipeline's lock */
    assert_int_equal(etl_ledger_runs_alive(other, "runs", 0, &ids, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(ids[0], run1);
    free(ids);
    assert_int_equal(etl_ledger_runs_alive(other, "runs", run1 + 1000, &ids, &n, &err), 0);
    assert_int_equal(n, 0);
    assert_null(ids);
    /* a second open closes the first as dead, with its pending tasks */
    assert_int_equal(etl_ledger_run_open(db, "runs", "nightly", "{}", &run2, &err), 0);
    assert_true(run2 > run1);
    expect1("SELECT status || ':' || error FROM ledger.run ORDER BY id LIMIT 1",
            "failed:the process running it ended without finishing it");

    assert_int_equal(etl_ledger_run_tally(db, run2, &t, &err), 0);
    assert_int_equal(t.files_total, 0);
    t.files_total = 3;
    t.files_loaded = 2;
    t.files_failed = 1;
    t.rows_loaded = 7;
    t.rows_added = 4;
    t.rows_changed = 5;
    t.rows_removed = 6;
    assert_int_equal(etl_ledger_run_close(db, run2, &t, "partial", "one failed", &err), 0);
    expect1("SELECT concat_ws(',', status, files_total, files_loaded, files_failed, "
            "rows_loaded, error, finished_at IS NOT NULL, rows_added, rows_changed, "
            "rows_removed) FROM ledger.run ORDER BY id DESC LIMIT 1",
            "partial,3,2,1,7,one failed,t,4,5,6");
    /* a closed run is not alive */
    assert_int_equal(etl_ledger_runs_alive(other, "runs", 0, &ids, &n, &err), 0);
    assert_int_equal(n, 0);
    assert_int_equal(err.code, ETL_E_NONE);
    etl_pg_close(other);
    /* the lock goes with the session that held it: not ours to keep here */
    assert_int_equal(etl_pg_exec(db, "SELECT pg_advisory_unlock_all()", &err), 0);
}

/* The lock given back while the session lives, even from a failed
 * transaction: another session takes it at once. */
static void
test_lock_release(void **state)
{
    struct pg_conn *other = connect_again();
    struct etl_err err;
    bool got;

    (void)state;
    etl_err_clear(&err);
    assert_int_equal(etl_ledger_lock_try(db, "release", &got, &err), 0);
    assert_true(got);
    etl_ledger_lock_release(db, "release");
    assert_int_equal(etl_ledger_lock_try(other, "release", &got, &err), 0);
    assert_true(got);
    etl_ledger_lock_release(other, "release");
    /* held again, then released from inside a transaction that failed */
    assert_int_equal(etl_ledger_lock_try(db, "release", &got, &err), 0);
    assert_true(got);
    assert_int_equal(etl_pg_exec(db, "BEGIN", &err), 0);
    assert_int_equal(etl_pg_exec(db, "SELECT 1/0", &err), -1);
    etl_err_clear(&err);
    assert_int_equal(etl_ledger_lock_try(other, "release", &got, &err), 0);
    assert_false(got);
    etl_ledger_lock_release(db, "release");
    assert_int_equal(etl_ledger_lock_try(other, "release", &got, &err), 0);
    assert_true(got);
    /* and the session is usable afterwards */
    expect1("SELECT 'usable'", "usable");
    etl_pg_close(other);
}

static void
test_last_scheduled(void **state)
{
    struct etl_err err;
    int64_t t = -1;

    (void)state;
    etl_err_clear(&err);
    assert_int_equal(etl_ledger_last_scheduled(db, "sched", &t, &err), 0);
    assert_int_equal(t, 0);
    assert_int_equal(etl_pg_exec(db,
        "INSERT INTO ledger.run (pipeline, kind, params, status) VALUES "
        " ('sched', 'nightly', '{\"scheduled_for\": 1000}', 'ok'),"
        " ('sched', 'nightly', '{\"scheduled_for\": 3000}', 'partial'),"
        " ('sched', 'nightly', '{\"scheduled_for\": 5000}', 'failed'),"
        " ('sched', 'nightly', '{\"scheduled_for\": 6000}', 'running'),"
        " ('sched', 'manual', '{\"scheduled_for\": 7000}', 'ok'),"
        " ('other', 'nightly', '{\"scheduled_for\": 9000}', 'ok')", &err), 0);
    assert_int_equal(etl_ledger_last_scheduled(db, "sched", &t, &err), 0);
    assert_int_equal(t, 3000);
    assert_int_equal(etl_ledger_last_scheduled(db, "other", &t, &err), 0);
    assert_int_equal(t, 9000);
}

static void
test_sources_and_files(void **state)
{
    struct etl_ledger_sources s;
    const struct etl_ledger_source *src;
    struct etl_file f;
    struct etl_err err;
    int64_t run, a, a2, b, file_id, rec_id;
    bool replaces;
    char sql[256];

    (void)state;
    etl_err_clear(&err);
    assert_int_equal(etl_ledger_run_open(db, "src", "manual", "{}", &run, &err), 0);
    assert_int_equal(etl_ledger_source_upsert(db, "src", "http://x/b.csv", "7", &b, NULL, &err),
                     0);
    replaces = true;
    assert_int_equal(etl_ledger_source_upsert(db, "src", "http://x/a.csv", NULL, &a, &replaces,
                                              &err), 0);
    assert_false(replaces);             /* no loaded version yet */
    assert_int_equal(etl_ledger_source_upsert(db, "src", "http://x/a.csv", "3", &a2, NULL, &err),
                     0);
    assert_int_equal(a, a2);
    assert_true(a != b);
    /* a priority given is set, NULL keeps it, 0 by default */
    expect1("SELECT string_agg(url || '=' || priority, ' ' ORDER BY url) FROM ledger.source "
            "WHERE pipeline = 'src'", "http://x/a.csv=3 http://x/b.csv=7");
    assert_int_equal(etl_ledger_source_upsert(db, "src", "http://x/b.csv", NULL, &b, NULL, &err),
                     0);
    expect1("SELECT priority FROM ledger.source WHERE url = 'http://x/b.csv'", "7");
    assert_int_equal(etl_ledger_sources_priority(db, "src", -2, &err), 0);
    expect1("SELECT string_agg(DISTINCT priority::text, ' ') FROM ledger.source "
            "WHERE pipeline = 'src'", "-2");

    memset(&f, 0, sizeof(f));
    f.url = (char *)"http://x/a.csv";
    f.spool_path = (char *)"/spool/abc";
    strcpy(f.sha256, "abc");
    f.bytes = 3;
    f.etag = (char *)"\"e1\"";
    f.http_status = 200;
    f.rows_in = 5;
    assert_int_equal(etl_ledger_file_insert(db, run, a, &f, "failed", "incomplete", &file_id,
                                            &err), 0);
    f.status = ETL_FILE_LOADED;
    f.rows_loaded = 4;
    f.rows_rejected = 1;
    assert_int_equal(etl_ledger_file_finish(db, file_id, &f, NULL, &err), 0);
    assert_int_equal(etl_ledger_source_loaded(db, a, &f, file_id, &err), 0);
    snprintf(sql, sizeof(sql), "SELECT concat_ws(',', status, coalesce(error, '-'), rows_in, "
             "rows_loaded, rows_rejected, bytes, http_status, rows_added, rows_changed, "
             "rows_removed, coalesce(max_change_pct, -1)) FROM ledger.file WHERE id = %lld",
             (long long)file_id);
    expect1(sql, "loaded,-,5,4,1,3,200,0,0,0,-1");
    assert_int_equal(etl_ledger_source_upsert(db, "src", "http://x/a.csv", NULL, &a2, &replaces,
                                              &err), 0);
    assert_true(replaces);              /* it has a loaded version now */
    /* a first version has no change counts; a second one its own */
    f.rows_added = -1;
    assert_int_equal(etl_ledger_file_finish(db, file_id, &f, NULL, &err), 0);
    snprintf(sql, sizeof(sql), "SELECT concat_ws(',', rows_added, rows_changed, rows_removed, "
             "max_change_pct) FROM ledger.file WHERE id = %lld", (long long)file_id);
    expect1(sql, "");
    f.rows_added = 2;
    f.rows_changed = 3;
    f.rows_removed = 1;
    strcpy(f.max_change_pct, "-12.50");
    assert_int_equal(etl_ledger_file_finish(db, file_id, &f, NULL, &err), 0);
    expect1(sql, "2,3,1,-12.50");
    f.rows_added = f.rows_changed = f.rows_removed = 0;
    f.max_change_pct[0] = '\0';
    /* new validators of an unchanged body: NULL keeps the old one */
    assert_int_equal(etl_ledger_source_validators(db, a, NULL, "Mon, 01 Jan 2024", &err), 0);

    assert_int_equal(etl_ledger_sources_read(db, "src", &s, &err), 0);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.v[0].url, "http://x/a.csv");      /* sorted */
    src = etl_ledger_sources_find(&s, "http://x/a.csv");
    assert_non_null(src);
    assert_string_equal(src->etag, "\"e1\"");
    assert_string_equal(src->last_modified, "Mon, 01 Jan 2024");
    assert_string_equal(src->sha256, "abc");
    src = etl_ledger_sources_find(&s, "http://x/b.csv");
    assert_non_null(src);
    assert_null(src->etag);
    assert_null(src->sha256);
    assert_null(etl_ledger_sources_find(&s, "http://x/c.csv"));
    etl_ledger_sources_free(&s);
    etl_ledger_sources_free(&s);                            /* twice is fine */
    assert_int_equal(etl_ledger_sources_read(NULL, "src", &s, &err), 0);
    assert_int_equal(s.n, 0);

    /* a file that failed in fetch: its error formatted into the row */
    memset(&f, 0, sizeof(f));
    f.url = (char *)"http://x/c.csv";
    f.status = ETL_FILE_FAILED;
    f.http_status = 404;
    etl_err_set(&f.err, ETL_E_NET, "GET http://x/c.csv: 404 Not Found");
    assert_int_equal(etl_ledger_file_record(db, run, "src", &f, &rec_id, &err), 0);
    snprintf(sql, sizeof(sql), "SELECT concat_ws(',', f.status, f.error, f.sha256 IS NULL, "
             "s.url) FROM ledger.file f JOIN ledger.source s ON s.id = f.source_id "
             "WHERE f.id = %lld", (long long)rec_id);
    expect1(sql, "failed,GET http://x/c.csv: 404 Not Found,t,http://x/c.csv");
    /* unchanged, with new validators: kept on the source */
    f.status = ETL_FILE_UNCHANGED;
    f.etag = (char *)"\"e2\"";
    assert_int_equal(etl_ledger_file_record(db, run, "src", &f, NULL, &err), 0);
    expect1("SELECT etag FROM ledger.source WHERE url = 'http://x/c.csv'", "\"e2\"");
    assert_int_equal(err.code, ETL_E_NONE);
}

/* Claims skip what another transaction holds; waiting sees abandoned ones. */
static void
test_tasks(void **state)
{
    struct pg_conn *other = connect_again();
    struct etl_file f, g;
    struct etl_err err;
    char stage[8];
    int64_t run, t1 = 0, t2 = 0, left = -1;
    bool got;

    (void)state;
    etl_err_clear(&err);
    assert_int_equal(etl_ledger_run_open(db, "tasks", "manual", "{}", &run, &err), 0);
    memset(&f, 0, sizeof(f));
    f.url = (char *)"http://x/1.csv";
    f.spool_path = (char *)"/spool/1";
    strcpy(f.sha256, "s1");
    f.bytes = 10;
    f.year = 2021;
    f.etag = (char *)"\"t\"";
    assert_int_equal(etl_ledger_task_add(db, run, "fetch_provinces", &f, &err), 0);
    f.url = (char *)"http://x/2.csv";
    f.etag = NULL;
    assert_int_equal(etl_ledger_task_add(db, run, "fetch", &f, &err), 0);

    assert_int_equal(etl_pg_exec(db, "BEGIN", &err), 0);
    assert_int_equal(etl_ledger_task_claim(db, run, &t1, stage, sizeof(stage), &g, &got, &err),
                     0);
    assert_true(got);
    assert_string_equal(stage, "fetch_p");          /* truncated to the buffer */
    assert_string_equal(g.url, "http://x/1.csv");
    assert_string_equal(g.spool_path, "/spool/1");
    assert_string_equal(g.sha256, "s1");
    assert_string_equal(g.etag, "\"t\"");
    assert_null(g.last_modified);
    assert_int_equal(g.year, 2021);
    assert_int_equal(g.bytes, 10);
    assert_int_equal(g.status, ETL_FILE_PENDING);
    etl_file_clear(&g);
    /* the other session skips the claimed one */
    assert_int_equal(etl_pg_exec(other, "BEGIN", &err), 0);
    assert_int_equal(etl_ledger_task_claim(other, run, &t2, stage, sizeof(stage), &g, &got,
                                           &err), 0);
    assert_true(got);
    assert_true(t2 > t1);
    assert_string_equal(g.url, "http://x/2.csv");
    etl_file_clear(&g);
    assert_int_equal(etl_ledger_task_finish(other, t2, "done", 0, &err), 0);
    /* nothing else pending that is free */
    assert_int_equal(etl_ledger_task_claim(other, run, &left, stage, sizeof(stage), &g, &got,
                                           &err), 0);
    assert_false(got);
    assert_int_equal(etl_pg_exec(other, "COMMIT", &err), 0);
    /* the first claim abandoned: its task is pending again */
    assert_int_equal(etl_pg_exec(db, "ROLLBACK", &err), 0);
    assert_int_equal(etl_ledger_tasks_wait_held(other, run, &left, &err), 0);
    assert_int_equal(left, 1);

    /* closed as failed from outside any claim, with a failed file row */
    f.url = (char *)"http://x/1.csv";
    f.status = ETL_FILE_FAILED;
    etl_err_clear(&f.err);
    etl_err_set(&f.err, ETL_E_DB, "COMMIT failed");
    assert_int_equal(etl_ledger_task_fail_unclaimed(db, run, "tasks", &f, t1, &err), 0);
    expect1("SELECT string_agg(t.state || ':' || coalesce(f.status, '-'), ',' ORDER BY t.id) "
            "FROM ledger.task t LEFT JOIN ledger.file f ON f.id = t.file_id "
            "WHERE t.run_id = (SELECT max(id) FROM ledger.run WHERE pipeline = 'tasks')",
            "failed:failed,done:-");
    /* a second time: no longer pending, nothing written */
    assert_int_equal(etl_ledger_task_fail_unclaimed(db, run, "tasks", &f, t1, &err), 0);
    expect1("SELECT count(*) FROM ledger.file WHERE url = 'http://x/1.csv' AND run_id = "
            "(SELECT max(id) FROM ledger.run WHERE pipeline = 'tasks')", "1");
    assert_int_equal(etl_ledger_tasks_wait_held(db, run, &left, &err), 0);
    assert_int_equal(left, 0);
    assert_int_equal(etl_ledger_run_fail_pending(db, run, "not loaded", &err), 0);
    assert_int_equal(err.code, ETL_E_NONE);
    /* a task left pending when the run ends: a failed file row says why */
    f.url = (char *)"http://x/3.csv";
    assert_int_equal(etl_ledger_task_add(db, run, "fetch", &f, &err), 0);
    assert_int_equal(etl_ledger_run_fail_pending(db, run, "not loaded: the run failed: x",
                                                 &err), 0);
    expect1("SELECT t.state || ':' || f.status || ':' || f.error FROM ledger.task t "
            "JOIN ledger.file f ON f.id = t.file_id WHERE t.url = 'http://x/3.csv'",
            "failed:failed:not loaded: the run failed: x");
    expect1("SELECT count(*) FROM ledger.task WHERE state = 'pending' AND run_id = "
            "(SELECT max(id) FROM ledger.run WHERE pipeline = 'tasks')", "0");
    etl_pg_close(other);
}

/*
 * A file's ledger writes in one round trip (etl_ledger_file_open,
 * etl_ledger_file_end): all of them commit, or, when one fails, none: the
 * COMMIT batched after a failed statement is not run, and the transaction
 * rolls back whole.
 */
static void
test_file_batches(void **state)
{
    static const char *const commit[] = { "COMMIT" };
    struct etl_ledger_end end;
    struct etl_err err;
    struct etl_file f, g;
    char sql[256], stage[64];
    int64_t run, source_id, file_id, task_id;
    bool replaces = true, got = false;

    (void)state;
    etl_err_clear(&err);
    assert_int_equal(etl_ledger_run_insert(db, "batch", "manual", "{}", &run, &err), 0);
    memset(&f, 0, sizeof(f));
    f.url = (char *)"http://x/batch.csv";
    f.spool_path = (char *)"/spool/b1";
    strcpy(f.sha256, "b1");
    f.bytes = 2;
    f.year = 2021;
    assert_int_equal(etl_ledger_task_add(db, run, "fetch", &f, &err), 0);

    /* the claim between BEGIN and a savepoint, one round trip */
    memset(&g, 0, sizeof(g));
    assert_int_equal(etl_ledger_task_claim_tx(db, "BEGIN", "SAVEPOINT etl_file", run, &task_id,
                                              stage, sizeof(stage), &g, &got, &err), 0);
    assert_true(got);
    assert_string_equal(g.url, "http://x/batch.csv");
    assert_int_equal(PQtransactionStatus(db->conn), PQTRANS_INTRANS);
    assert_int_equal(etl_ledger_file_open(db, run, "batch", "4", &g, "failed", "incomplete",
                                          &source_id, &replaces, &file_id, &err), 0);
    assert_false(replaces);
    snprintf(sql, sizeof(sql), "SELECT concat_ws(',', f.source_id = s.id, s.priority, f.status) "
             "FROM ledger.file f JOIN ledger.source s ON s.url = f.url WHERE f.id = %lld",
             (long long)file_id);
    expect1(sql, "t,4,failed");

    /* a failing statement (no such task state) stops the batch before COMMIT */
    g.status = ETL_FILE_LOADED;
    memset(&end, 0, sizeof(end));
    end.file_id = file_id;
    end.source_id = source_id;
    end.file = &g;
    end.task_id = task_id;
    end.task_state = "no such state";
    assert_int_equal(etl_ledger_file_end(db, &end, commit, 1, &err), -1);
    assert_int_equal(err.code, ETL_E_DB);
    assert_int_equal(PQtransactionStatus(db->conn), PQTRANS_INERROR);
    assert_int_equal(etl_pg_exec(db, "ROLLBACK", &err), 0);
    etl_err_clear(&err);
    expect1("SELECT count(*) FROM ledger.source WHERE url = 'http://x/batch.csv'", "0");
    expect1("SELECT state FROM ledger.task WHERE url = 'http://x/batch.csv'", "pending");

    /* again, to the end: everything commits together */
    assert_int_equal(etl_ledger_task_claim_tx(db, "BEGIN", "SAVEPOINT etl_file", run, &task_id,
                                              stage, sizeof(stage), &f, &got, &err), 0);
    assert_true(got);
    etl_file_clear(&f);
    assert_int_equal(etl_ledger_file_open(db, run, "batch", NULL, &g, "failed", "incomplete",
                                          &source_id, &replaces, &file_id, &err), 0);
    end.file_id = file_id;
    end.source_id = source_id;
    end.task_id = task_id;
    end.task_state = "done";
    assert_int_equal(etl_ledger_file_end(db, &end, commit, 1, &err), 0);
    assert_int_equal(PQtransactionStatus(db->conn), PQTRANS_IDLE);
    snprintf(sql, sizeof(sql), "SELECT concat_ws(',', t.state, f.status, s.sha256, "
             "s.file_id = f.id) FROM ledger.task t JOIN ledger.file f ON f.id = t.file_id "
             "JOIN ledger.source s ON s.id = f.source_id WHERE t.id = %lld",
             (long long)task_id);
    expect1(sql, "done,loaded,b1,t");

    /* nothing left: the claim still ends in its savepoint, the caller commits */
    assert_int_equal(etl_ledger_task_claim_tx(db, "BEGIN", "SAVEPOINT etl_file", run, &task_id,
                                              stage, sizeof(stage), &f, &got, &err), 0);
    assert_false(got);
    assert_int_equal(etl_pg_exec(db, "COMMIT", &err), 0);
    etl_file_clear(&g);
}

static void
test_status_reads(void **state)
{
    struct etl_err err;
    PGresult *res;

    (void)state;
    etl_err_clear(&err);
    assert_int_equal(etl_ledger_runs_recent(db, "src", 5, false, &res, &err), 0);
    assert_int_equal(PQntuples(res), 1);
    assert_int_equal(PQnfields(res), 13);
    assert_string_equal(PQgetvalue(res, 0, 1), "src");
    assert_string_equal(PQgetvalue(res, 0, 3), "running");
    PQclear(res);
    assert_int_equal(etl_ledger_runs_recent(db, NULL, 100, true, &res, &err), 0);
    for (int i = 0; i < PQntuples(res); i++) {
        assert_string_not_equal(PQgetvalue(res, i, 3), "ok");
        assert_string_not_equal(PQgetvalue(res, i, 3), "running");
    }
    PQclear(res);
    assert_int_equal(etl_ledger_runs_files(db, "{0}", &res, &err), 0);
    assert_int_equal(PQntuples(res), 0);
    PQclear(res);
    assert_int_equal(etl_ledger_runs_json(db, "src", 1, false, &res, &err), 0);
    assert_non_null(strstr(PQgetvalue(res, 0, 0), "\"files\": [{"));
    PQclear(res);
    assert_int_equal(etl_ledger_runs_json(db, "none", 1, false, &res, &err), 0);
    assert_string_equal(PQgetvalue(res, 0, 0), "[]");
    PQclear(res);
}

/* A unique violation surfaces typed: SQLSTATE 23505 in err.sqlstate. */
static void
test_unique_violation(void **state)
{
    const char *params[2] = { "dup", "http://x/d.csv" };
    struct etl_err err;
    int64_t id;

    (void)state;
    etl_err_clear(&err);
    assert_int_equal(etl_ledger_source_upsert(db, "dup", "http://x/d.csv", NULL, &id, NULL,
                                              &err), 0);
    assert_int_equal(etl_pg_query(db, "INSERT INTO ledger.source (pipeline, url) "
                                  "VALUES ($1, $2)", 2, params, NULL, &err), -1);
    assert_int_equal(err.code, ETL_E_DB);
    assert_string_equal(err.sqlstate, ETL_SQLSTATE_UNIQUE_VIOLATION);
    assert_false(err.retryable);
    assert_int_equal(strncmp(err.detail, "SQLSTATE 23505", 14), 0);
    /* a foreign key is another state: no run 0 */
    etl_err_clear(&err);
    {
        struct etl_file f = { .url = (char *)"http://x/e.csv" };

        assert_int_equal(etl_ledger_file_insert(db, 0, id, &f, "failed", NULL, &id, &err), -1);
    }
    assert_string_equal(err.sqlstate, "23503");
    /* inside a transaction, the first error wins over the next */
    etl_err_clear(&err);
    assert_int_equal(etl_pg_exec(db, "BEGIN", &err), 0);
    assert_int_equal(etl_pg_query(db, "INSERT INTO ledger.source (pipeline, url) "
                                  "VALUES ($1, $2)", 2, params, NULL, &err), -1);
    assert_int_equal(etl_ledger_source_upsert(db, "dup", "http://x/f.csv", NULL, &id, NULL,
                                              &err), -1);
    assert_string_equal(err.sqlstate, "23505");
    assert_int_equal(etl_pg_exec(db, "ROLLBACK", &err), 0);
}

/* Without the schema: the SQLSTATE of a missing table, and a hint to migrate. */
static void
test_no_schema(void **state)
{
    char bare_conninfo[512];
    struct etl_err err;
    struct pg_conn *bare;
    int64_t id = 0;

    (void)state;
    etl_err_clear(&err);
    bare = test_pg_open_bare("ledger_bare", bare_conninfo, sizeof(bare_conninfo));
    assert_non_null(bare);
    assert_int_equal(etl_ledger_run_open(bare, "x", "manual", "{}", &id, &err), -1);
    assert_int_equal(err.code, ETL_E_DB);
    assert_string_equal(err.sqlstate, "42P01");
    assert_string_equal(err.hint, "has the schema been created? run: ewc-etl migrate");
    assert_int_equal(id, 0);
    test_pg_drop(bare, "ledger_bare");
}

/* The connection dies under the ledger: retryable, and nothing half-read. */
static void
test_lost_connection(void **state)
{
    struct pg_conn *victim = connect_again();
    struct etl_ledger_tally t;
    struct etl_ledger_sources s;
    struct etl_err err;
    char sql[128];
    int64_t id = 0, *ids = (int64_t *)&id;
    size_t n = 5;
    bool got = true;

    (void)state;
    etl_err_clear(&err);
    snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%d, 10000)", PQbackendPID(victim->conn));
    assert_int_equal(etl_pg_exec(db, sql, &err), 0);
    assert_int_equal(etl_ledger_lock_try(victim, "lost", &got, &err), -1);
    assert_false(got);
    assert_int_equal(err.code, ETL_E_DB);
    assert_true(err.retryable);
    etl_err_clear(&err);
    assert_int_equal(etl_ledger_run_tally(victim, 1, &t, &err), -1);
    assert_true(err.retryable);
    assert_int_equal(t.files_total, 0);
    etl_err_clear(&err);
    assert_int_equal(etl_ledger_runs_alive(victim, "lost", 0, &ids, &n, &err), -1);
    assert_null(ids);
    assert_int_equal(n, 0);
    etl_err_clear(&err);
    assert_int_equal(etl_ledger_sources_read(victim, "lost", &s, &err), -1);
    assert_string_equal(err.where, "reading the ledger's sources");
    assert_null(s.res);
    etl_err_clear(&err);
    assert_int_equal(etl_ledger_tasks_wait_held(victim, 1, &id, &err), -1);
    assert_true(err.retryable);
    etl_err_clear(&err);
    assert_int_equal(etl_ledger_last_scheduled(victim, "lost", &id, &err), -1);
    assert_int_equal(id, 0);
    etl_pg_close(victim);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lock_and_runs),
        cmocka_unit_test(test_lock_release),
        cmocka_unit_test(test_last_scheduled),
        cmocka_unit_test(test_sources_and_files),
        cmocka_unit_test(test_tasks),
        cmocka_unit_test(test_file_batches),
        cmocka_unit_test(test_status_reads),
        cmocka_unit_test(test_unique_violation),
        cmocka_unit_test(test_no_schema),
        cmocka_unit_test(test_lost_connection),
    };

    if (test_pg_required("test_ledger") < 0) {
        return 1;
    }
    return cmocka_run_group_tests(tests, setup, teardown);
}
