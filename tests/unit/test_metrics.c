/*
 * test_metrics.c
 *    The ledger's metrics (etl/metrics.c) against a real, migrated database
 *    (support.c: test_pg_open): counts by pipeline and status, rejects by
 *    folded reason with the top ones kept and the rest as "other", the
 *    histograms; /health's answers; and the HTTP server itself
 *    (etl/httpd.c) on loopback: routes, statuses, keep-alive, and a forked
 *    child that keeps none of its sockets.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <curl/curl.h>
#include <dirent.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "etl/httpd.h"
#include "etl/metrics.h"
#include "etl/notify.h"
#include "etl/pg.h"
#include "etl/runner.h"
#include "support.h"

static struct pg_conn *db;
static char conninfo[512];

static int
setup(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    db = test_pg_open("metrics", conninfo, sizeof(conninfo));
    return db != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
    (void)state;
    test_pg_drop(db, "metrics");
    curl_global_cleanup();
    return 0;
}

static void
exec_ok(const char *sql)
{
    struct etl_err err;

    etl_err_clear(&err);
    if (etl_pg_exec(db, sql, &err) < 0) {
        fail_msg("%s: %s", sql, err.msg);
    }
}

/* 'text' has the line 'line' (whole). */
static void
has_line(const char *text, const char *line)
{
    const char *p = text;
    size_t n = strlen(line);

    while ((p = strstr(p, line)) != NULL) {
        if ((p == text || p[-1] == '\n') && p[n] == '\n') {
            return;
        }
        p += n;
    }
    fail_msg("no line \"%s\" in:\n%s", line, text);
}

/*
 * Two pipelines: "a" with an ok run (a loaded file with 3 rejects and
 * revisions, an unchanged file from a 304), a partial run (a loaded file,
 * a failed one) and a running run; "b" with a failed run and nothing else.
 * Then 22 reject reason classes in a third pipeline "r".
 */
static void
ledger_fill(void)
{
    exec_ok("INSERT INTO ledger.run (id, pipeline, kind, status, started_at, finished_at, "
            "files_total, files_loaded, files_unchanged, rows_loaded, rows_rejected, "
            "rows_changed) VALUES "
            "(1, 'a', 'manual', 'ok_with_rejects', '2026-01-01 00:00:00+00', "
            " '2026-01-01 00:00:03+00', 2, 1, 1, 10, 3, 2), "
            "(2, 'a', 'nightly', 'partial', '2026-01-02 00:00:00+00', "
            " '2026-01-02 00:01:40+00', 2, 1, 0, 5, 0, 0), "
            "(3, 'a', 'nightly', 'running', now(), NULL, 0, 0, 0, 0, 0, 0), "
            "(4, 'b', 'manual', 'failed', '2026-01-03 00:00:00+00', "
            " '2026-01-03 00:00:00.5+00', 0, 0, 0, 0, 0, 0), "
            "(5, 'r', 'manual', 'ok_with_rejects', '2026-01-04 00:00:00+00', "
            " '2026-01-04 02:00:00+00', 1, 1, 0, 0, 0, 0)");
    exec_ok("INSERT INTO ledger.file (id, run_id, url, status, bytes, http_status, rows_in, "
            "rows_loaded, rows_rejected, rows_added, rows_changed, rows_removed, started_at, "
            "finished_at) VALUES "
            "(1, 1, 'http://x/1', 'loaded', 1000, 200, 13, 10, 3, 1, 2, 0, "
            " '2026-01-01 00:00:00+00', '2026-01-01 00:00:00.2+00'), "
            "(2, 1, 'http://x/2', 'unchanged', 500, 304, 0, 0, 0, NULL, NULL, NULL, "
            " '2026-01-01 00:00:00+00', '2026-01-01 00:00:00.01+00'), "
            "(3, 2, 'http://x/1', 'loaded', 2000, 200, 5, 5, 0, NULL, NULL, NULL, "
            " '2026-01-02 00:00:00+00', '2026-01-02 00:00:40+00'), "
            "(4, 2, 'http://x/3', 'failed', NULL, 404, 0, 0, 0, NULL, NULL, NULL, "
            " '2026-01-02 00:00:00+00', '2026-01-02 00:00:00.04+00'), "
            "(5, 5, 'http://x/r', 'loaded', 77, 0, 0, 0, 0, NULL, NULL, NULL, "
            " '2026-01-04 00:00:00+00', '2026-01-04 00:00:01+00')");
    /* rejects of file 1: 15 + 15 fold into one reason, 25 into another */
    exec_ok("INSERT INTO ledger.reject (file_id, line, raw, reason) "
            "SELECT 1, i, 'x', CASE WHEN i <= 15 THEN format('unknown region \"广东%s\"', i) "
            "                       WHEN i <= 30 THEN format('unknown region \u201c浙江%s\u201d', i) "
            "                       ELSE format('value -%s.5 is not a number of 3 digits', i) END "
            "FROM generate_series(1, 55) i");
    /* pipeline r: reason class k (1..22) has k rejects */
    exec_ok("INSERT INTO ledger.reject (file_id, line, raw, reason) "
            "SELECT 5, k * 100 + i, 'x', format('reason %s', chr(64 + k)) "
            "FROM generate_series(1, 22) k, generate_series(1, k) i WHERE i <= k");
}

static void
test_ledger_metrics(void **state)
{
    struct etl_buf b;
    struct etl_err err;
    const char *t;

    (void)state;
    ledger_fill();
    etl_buf_init(&b, 1 << 24);
    etl_err_clear(&err);
    if (etl_metrics_ledger(db, &b, &err) < 0) {
        fail_msg("%s (%s)", err.msg, err.detail);
    }
    t = b.data;
    has_line(t, "# TYPE ewc_etl_runs_total counter");
    has_line(t, "ewc_etl_runs_total{pipeline=\"a\",status=\"ok\"} 0");
    has_line(t, "ewc_etl_runs_total{pipeline=\"a\",status=\"ok_with_rejects\"} 1");
    has_line(t, "ewc_etl_runs_total{pipeline=\"a\",status=\"partial\"} 1");
    has_line(t, "ewc_etl_runs_total{pipeline=\"b\",status=\"failed\"} 1");
    has_line(t, "ewc_etl_runs_running{pipeline=\"a\"} 1");
    has_line(t, "ewc_etl_runs_running{pipeline=\"b\"} 0");
    /* 2026-01-01T00:00:03Z; b never succeeded */
    has_line(t, "ewc_etl_last_success_timestamp_seconds{pipeline=\"a\"} 1767225603");
    assert_null(strstr(t, "ewc_etl_last_success_timestamp_seconds{pipeline=\"b\"}"));
    /* a's finished runs took 3 s and 100 s */
    has_line(t, "ewc_etl_run_duration_seconds_bucket{pipeline=\"a\",le=\"1\"} 0");
    has_line(t, "ewc_etl_run_duration_seconds_bucket{pipeline=\"a\",le=\"5\"} 1");
    has_line(t, "ewc_etl_run_duration_seconds_bucket{pipeline=\"a\",le=\"60\"} 1");
    has_line(t, "ewc_etl_run_duration_seconds_bucket{pipeline=\"a\",le=\"120\"} 2");
    has_line(t, "ewc_etl_run_duration_seconds_bucket{pipeline=\"a\",le=\"+Inf\"} 2");
    has_line(t, "ewc_etl_run_duration_seconds_sum{pipeline=\"a\"} 103");
    has_line(t, "ewc_etl_run_duration_seconds_count{pipeline=\"a\"} 2");
    has_line(t, "ewc_etl_run_duration_seconds_bucket{pipeline=\"b\",le=\"1\"} 1");
    /* files by status, zero for a status without files */
    has_line(t, "ewc_etl_files_total{pipeline=\"a\",status=\"loaded\"} 2");
    has_line(t, "ewc_etl_files_total{pipeline=\"a\",status=\"unchanged\"} 1");
    has_line(t, "ewc_etl_files_total{pipeline=\"a\",status=\"failed\"} 1");
    has_line(t, "ewc_etl_files_total{pipeline=\"b\",status=\"loaded\"} 0");
    has_line(t, "ewc_etl_rows_loaded_total{pipeline=\"a\"} 15");
    has_line(t, "ewc_etl_rows_rejected_total{pipeline=\"a\"} 3");
    has_line(t, "ewc_etl_rows_revised_total{pipeline=\"a\",change=\"added\"} 1");
    has_line(t, "ewc_etl_rows_revised_total{pipeline=\"a\",change=\"changed\"} 2");
    has_line(t, "ewc_etl_rows_revised_total{pipeline=\"a\",change=\"removed\"} 0");
    /* bytes of 2xx answers only: not the 304's, nor the offline file's */
    has_line(t, "ewc_etl_fetched_bytes_total{pipeline=\"a\"} 3000");
    has_line(t, "ewc_etl_fetched_bytes_total{pipeline=\"r\"} 0");
    has_line(t, "ewc_etl_file_duration_seconds_bucket{pipeline=\"a\",status=\"loaded\","
                "le=\"0.25\"} 1");
    has_line(t, "ewc_etl_file_duration_seconds_bucket{pipeline=\"a\",status=\"loaded\","
                "le=\"60\"} 2");
    has_line(t, "ewc_etl_file_duration_seconds_sum{pipeline=\"a\",status=\"loaded\"} 40.2");
    has_line(t, "ewc_etl_file_duration_seconds_count{pipeline=\"a\",status=\"failed\"} 1");
    /* reasons folded: quoted names (both kinds of quotes) and numbers */
    has_line(t, "ewc_etl_rejects_total{pipeline=\"a\",reason=\"unknown region \\\"\u2026\\\"\"} 30");
    has_line(t, "ewc_etl_rejects_total{pipeline=\"a\",reason=\"value N is not a number of N "
                "digits\"} 25");
    /*
     * The top 20 of 24 classes over all pipelines: a's two, r's V (22) to
     * E (5); D, C, B, A (4 + 3 + 2 + 1) as other.
     */
    has_line(t, "ewc_etl_rejects_total{pipeline=\"r\",reason=\"reason V\"} 22");
    has_line(t, "ewc_etl_rejects_total{pipeline=\"r\",reason=\"reason E\"} 5");
    has_line(t, "ewc_etl_rejects_total{pipeline=\"r\",reason=\"other\"} 10");
    assert_null(strstr(t, "reason=\"reason D\""));
    assert_null(strstr(t, "reason=\"reason A\""));
    assert_null(strstr(t, "ewc_etl_rejects_total{pipeline=\"a\",reason=\"other\"}"));
    /* the latest finished run of each pipeline */
    has_line(t, "ewc_etl_last_run_id{pipeline=\"a\"} 2");
    has_line(t, "ewc_etl_last_run_status{pipeline=\"a\",status=\"partial\"} 1");
    has_line(t, "ewc_etl_last_run_status{pipeline=\"b\",status=\"failed\"} 1");
    has_line(t, "ewc_etl_last_run_duration_seconds{pipeline=\"a\"} 100");
    has_line(t, "ewc_etl_last_run_rows_loaded{pipeline=\"a\"} 5");
    assert_null(strstr(t, "not_started"));
    /* the ledger's tables */
    has_line(t, "# TYPE ewc_etl_ledger_bytes gauge");
    assert_non_null(strstr(t, "ewc_etl_ledger_bytes{table=\"reject\"} "));
    assert_non_null(strstr(t, "ewc_etl_ledger_bytes{table=\"run\"} "));
    /* each family once */
    assert_null(strstr(strstr(t, "# TYPE ewc_etl_last_success_timestamp_seconds") + 1,
                       "# TYPE ewc_etl_last_success_timestamp_seconds"));
    etl_buf_free(&b);

    /* no ledger: a database error that says to migrate */
    etl_buf_init(&b, 1 << 20);
    exec_ok("ALTER SCHEMA ledger RENAME TO ledger_gone");
    etl_err_clear(&err);
    assert_int_equal(etl_metrics_ledger(db, &b, &err), -1);
    assert_int_equal(err.code, ETL_E_DB);
    assert_non_null(strstr(err.hint, "ewc-etl migrate"));
    exec_ok("ALTER SCHEMA ledger_gone RENAME TO ledger");
    etl_buf_free(&b);
}

static void
test_health(void **state)
{
    struct etl_buf b;
    struct etl_err err;
    struct timespec ts = { 0, 150 * 1000 * 1000 };

    (void)state;
    etl_buf_init(&b, 1 << 16);
    etl_err_clear(&err);
    etl_metrics_daemon_start("/nonexistent", 0);
    etl_notify_watchdog();
    etl_metrics_daemon_running("a");
    if (etl_health_render(db, &b, &err) != 0) {
        fail_msg("%s", err.msg);
    }
    assert_memory_equal(b.data, "ok\nloop: seen 0.", 16);
    assert_non_null(strstr(b.data, "\ndatabase: ok\nrunning: a\n"));
    etl_metrics_daemon_running(NULL);

    /* stopping */
    etl_stop_requested = 1;
    etl_err_clear(&err);
    assert_int_equal(etl_health_render(db, &b, &err), -1);
    assert_int_equal(err.code, ETL_E_BUSY);
    assert_string_equal(err.msg, "the daemon is stopping");
    etl_stop_requested = 0;

    /* a loop that has not beaten for longer than the limit */
    etl_metrics_daemon_start("/nonexistent", 0.1);
    etl_notify_watchdog();
    nanosleep(&ts, NULL);
    etl_err_clear(&err);
    assert_int_equal(etl_health_render(db, &b, &err), -1);
    assert_int_equal(err.code, ETL_E_BUSY);
    assert_non_null(strstr(err.msg, "the daemon's loop has not been seen for 0 s (the limit "
                                    "is 0 s)"));
    etl_metrics_daemon_start("/nonexistent", ETL_HEALTH_STALE_DEFAULT);
    etl_buf_free(&b);
}

/* Routes for the server test. */
static int
render_ok(struct pg_conn *c, struct etl_buf *out, struct etl_err *err)
{
    PGresult *res = NULL;
    int rc;

    if (etl_pg_query(c, "SELECT current_setting('statement_timeout')", 0, NULL, &res, err) < 0) {
        return -1;
    }
    rc = etl_buf_printf(out, err, "hello, timeout %s\n", PQgetvalue(res, 0, 0));
    PQclear(res);
    return rc;
}

static int
render_busy(struct pg_conn *c, struct etl_buf *out, struct etl_err *err)
{
    (void)c;
    (void)out;
    return etl_err_set(err, ETL_E_BUSY, "not now\nreally");
}

static int
render_bug(struct pg_conn *c, struct etl_buf *out, struct etl_err *err)
{
    (void)c;
    (void)!etl_buf_addstr(out, "half an answer", err);
    return etl_err_set(err, ETL_E_DATA, "a bug");
}

/* The server of test_server. */
static struct etl_httpd *server;

static const struct etl_httpd_route routes[] = {
    { "/ok", "text/x-test", render_ok },
    { "/busy", "text/x-test", render_busy },
    { "/bug", "text/x-test", render_bug },
};

static size_t
body_write(char *p, size_t size, size_t n, void *arg)
{
    struct etl_err ignore;

    etl_err_clear(&ignore);
    return etl_buf_add(arg, p, size * n, &ignore) == 0 ? size * n : 0;
}

/* GET (or another method) 'path' of 'addr': the status, the body in 'body'. */
static long
get(CURL *c, const char *addr, const char *path, const char *method, struct etl_buf *body,
    char *type, size_t tsize)
{
    char url[256];
    long code = 0;
    char *ct = NULL;

    snprintf(url, sizeof(url), "http://%s%s", addr, path);
    etl_buf_reset(body);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_NOBODY, strcmp(method, "HEAD") == 0 ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, body_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
    snprintf(type, tsize, "%s", ct != NULL ? ct : "");
    return code;
}

/* Sockets of this process: how many have local port 'port', how many peer port 'port'. */
static void
sockets_on(int port, int *local, int *peer)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;

    *local = *peer = 0;
    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        struct sockaddr_in sa;
        socklen_t len = sizeof(sa);
        int fd = atoi(e->d_name);

        if (e->d_name[0] < '0' || e->d_name[0] > '9' || fd == dirfd(d)) {
            continue;
        }
        if (getsockname(fd, (struct sockaddr *)&sa, &len) == 0 && sa.sin_family == AF_INET &&
            ntohs(sa.sin_port) == port) {
            (*local)++;
        }
        len = sizeof(sa);
        if (getpeername(fd, (struct sockaddr *)&sa, &len) == 0 && sa.sin_family == AF_INET &&
            ntohs(sa.sin_port) == port) {
            (*peer)++;
        }
    }
    closedir(d);
}

static void
test_server(void **state)
{
    struct etl_listen at;
    struct etl_httpd *h, *second;
    struct etl_buf body;
    struct etl_err err;
    char type[128], addr[80];
    CURL *c = curl_easy_init();
    long reused = 0;
    int port, local, peer, status;
    pid_t pid;

    (void)state;
    assert_non_null(c);
    etl_buf_init(&body, 1 << 20);
    etl_err_clear(&err);
    assert_int_equal(etl_listen_parse("127.0.0.1:0", &at, &err), 0);
    h = etl_httpd_start(&at, routes, 3, conninfo, &err);
    if (h == NULL) {
        fail_msg("%s", err.msg);
    }
    server = h;         /* reachable in the forked child too (valgrind's leak check) */
    snprintf(addr, sizeof(addr), "%s", etl_httpd_address(h));
    port = atoi(strrchr(addr, ':') + 1);
    assert_true(port > 0);
    assert_memory_equal(addr, "127.0.0.1:", 10);

    /* one server per process; the same port twice is refused by the system */
    second = etl_httpd_start(&at, routes, 3, conninfo, &err);
    assert_null(second);
    assert_int_equal(err.code, ETL_E_INTERNAL);

    assert_int_equal(get(c, addr, "/ok", "GET", &body, type, sizeof(type)), 200);
    assert_string_equal(body.data, "hello, timeout 10s\n");
    assert_string_equal(type, "text/x-test");
    /* keep-alive: the next request goes over the same connection */
    assert_int_equal(get(c, addr, "/ok", "HEAD", &body, type, sizeof(type)), 200);
    assert_int_equal(body.len, 0);
    curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &reused);
    assert_int_equal(reused, 0);
    assert_int_equal(get(c, addr, "/busy", "GET", &body, type, sizeof(type)), 503);
    assert_string_equal(body.data, "unavailable: not now really\n");
    assert_string_equal(type, "text/plain; charset=utf-8");
    assert_int_equal(get(c, addr, "/bug", "GET", &body, type, sizeof(type)), 500);
    assert_string_equal(body.data, "error: a bug\n");
    assert_int_equal(get(c, addr, "/nope", "GET", &body, type, sizeof(type)), 404);
    assert_string_equal(body.data, "not found; the paths are: /ok /busy /bug\n");
    assert_int_equal(get(c, addr, "/ok?x=1", "GET", &body, type, sizeof(type)), 200);
    assert_int_equal(get(c, addr, "/ok", "POST", &body, type, sizeof(type)), 405);
    assert_string_equal(body.data, "method not allowed: POST (GET or HEAD)\n");

    /*
     * A fork while a keep-alive connection is open (curl keeps it): the
     * child has the client's end (peer port) but none of the server's
     * sockets (local port: the listening one, the accepted one).
     */
    assert_int_equal(get(c, addr, "/ok", "GET", &body, type, sizeof(type)), 200);
    sockets_on(port, &local, &peer);
    assert_int_equal(local, 2);
    assert_int_equal(peer, 1);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int rc;

        sockets_on(port, &local, &peer);
        rc = local == 0 && peer == 1 ? 0 : 10 + local;
        curl_easy_cleanup(c);
        etl_buf_free(&body);
        _exit(rc);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    /* and the parent goes on serving */
    assert_int_equal(get(c, addr, "/ok", "GET", &body, type, sizeof(type)), 200);

    /* a database that cannot be reached: 503 without calling the route */
    assert_int_equal(etl_httpd_set_conninfo(h, "host=/nonexistent-dir port=1", &err), 0);
    assert_int_equal(get(c, addr, "/bug", "GET", &body, type, sizeof(type)), 503);
    assert_memory_equal(body.data, "unavailable: could not connect to the database: ", 48);

    etl_httpd_stop(h);
    server = NULL;
    curl_easy_cleanup(c);
    sockets_on(port, &local, &peer);
    assert_int_equal(local, 0);

    /* the port is free again: a new server can take it at once */
    assert_int_equal(etl_listen_parse(addr, &at, &err), 0);
    h = etl_httpd_start(&at, routes, 3, conninfo, &err);
    assert_non_null(h);
    etl_httpd_stop(h);

    /* a port taken by another socket */
    {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001) };
        socklen_t len = sizeof(sa);
        char taken[64];

        assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        assert_int_equal(listen(fd, 1), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
        snprintf(taken, sizeof(taken), "127.0.0.1:%u", ntohs(sa.sin_port));
        assert_int_equal(etl_listen_parse(taken, &at, &err), 0);
        etl_err_clear(&err);
        assert_null(etl_httpd_start(&at, routes, 3, conninfo, &err));
        assert_int_equal(err.code, ETL_E_IO);
        assert_non_null(strstr(err.msg, "could not listen on 127.0.0.1:"));
        assert_non_null(strstr(err.msg, "Address already in use"));
        assert_non_null(strstr(err.hint, "--listen"));
        close(fd);
    }
    etl_buf_free(&body);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ledger_metrics),
        cmocka_unit_test(test_health),
        cmocka_unit_test(test_server),
    };

    if (test_pg_required("test_metrics") < 0) {
        return 1;
    }
    return cmocka_run_group_tests(tests, setup, teardown);
}
