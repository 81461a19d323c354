/*
 * test_prom.c
 *    What needs no database: the Prometheus text format of etl/metrics.c
 *    (escaping of label values and help texts, sample values, the
 *    ewc_etl_last_run_* gauges of a run), the atomic write of a metrics
 *    file, and the daemon's listen addresses (etl/httpd.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "etl/httpd.h"
#include "etl/metrics.h"
#include "support.h"

/* The text of one sample line. */
static void
expect_sample(const char *name, const char *const *labels, double v, const char *want)
{
    struct etl_buf b;
    struct etl_err err;

    etl_buf_init(&b, 1 << 16);
    etl_err_clear(&err);
    assert_int_equal(etl_prom_sample(&b, name, labels, v, &err), 0);
    assert_string_equal(b.data, want);
    etl_buf_free(&b);
}

static void
test_label_escaping(void **state)
{
    (void)state;
    /* backslash, double quote and newline escaped; the rest as it is */
    expect_sample("m", (const char *[]){ "reason", "a\\b", NULL }, 1, "m{reason=\"a\\\\b\"} 1\n");
    expect_sample("m", (const char *[]){ "reason", "say \"hi\"", NULL }, 1,
                  "m{reason=\"say \\\"hi\\\"\"} 1\n");
    expect_sample("m", (const char *[]){ "reason", "two\nlines", NULL }, 1,
                  "m{reason=\"two\\nlines\"} 1\n");
    expect_sample("m", (const char *[]){ "reason", "\\\"\n", NULL }, 1,
                  "m{reason=\"\\\\\\\"\\n\"} 1\n");
    expect_sample("m", (const char *[]){ "reason", "未知地区 \"…\" tab\there", NULL }, 2,
                  "m{reason=\"未知地区 \\\"…\\\" tab\there\"} 2\n");
    expect_sample("m", (const char *[]){ "reason", "", NULL }, 0, "m{reason=\"\"} 0\n");
    /* several labels, in order; none */
    expect_sample("ewc_etl_files_total", (const char *[]){ "pipeline", "p", "status", "loaded",
                  NULL }, 12, "ewc_etl_files_total{pipeline=\"p\",status=\"loaded\"} 12\n");
    expect_sample("up", NULL, 1, "up 1\n");
    expect_sample("up", (const char *[]){ NULL }, 1, "up 1\n");
}

static void
test_help_escaping(void **state)
{
    struct etl_buf b;
    struct etl_err err;

    (void)state;
    etl_buf_init(&b, 1 << 16);
    etl_err_clear(&err);
    /* in HELP: backslash and newline escaped, a double quote is not */
    assert_int_equal(etl_prom_family(&b, "ewc_etl_x_total", "counter",
                                     "a \"quoted\" \\ and\na newline", &err), 0);
    assert_string_equal(b.data, "# HELP ewc_etl_x_total a \"quoted\" \\\\ and\\na newline\n"
                                "# TYPE ewc_etl_x_total counter\n");
    etl_buf_free(&b);
}

static void
test_values(void **state)
{
    char v[64];

    (void)state;
    etl_prom_format_value(0, v, sizeof(v));
    assert_string_equal(v, "0");
    etl_prom_format_value(-0.0, v, sizeof(v));
    assert_string_equal(v, "0");
    etl_prom_format_value(42, v, sizeof(v));
    assert_string_equal(v, "42");
    etl_prom_format_value(-7, v, sizeof(v));
    assert_string_equal(v, "-7");
    etl_prom_format_value(9007199254740992.0, v, sizeof(v));     /* 2^53: %.15g */
    assert_string_equal(v, "9.00719925474099e+15");
    etl_prom_format_value(0.25, v, sizeof(v));
    assert_string_equal(v, "0.25");
    etl_prom_format_value(0.1, v, sizeof(v));
    assert_string_equal(v, "0.1");
    etl_prom_format_value(1767225600.5, v, sizeof(v));
    assert_string_equal(v, "1767225600.5");
    etl_prom_format_value(1.0 / 0.0, v, sizeof(v));
    assert_string_equal(v, "+Inf");
    etl_prom_format_value(-1.0 / 0.0, v, sizeof(v));
    assert_string_equal(v, "-Inf");
    etl_prom_format_value(0.0 / 0.0, v, sizeof(v));
    assert_string_equal(v, "NaN");
}

/* The gauges of two runs: one that loaded, one that could not start. */
static void
test_last_runs(void **state)
{
    struct etl_metrics_run runs[2];
    struct etl_buf b;
    struct etl_err err;

    (void)state;
    memset(runs, 0, sizeof(runs));
    runs[0].pipeline = "a\"b";
    runs[0].run_id = 7;
    snprintf(runs[0].status, sizeof(runs[0].status), "ok_with_rejects");
    runs[0].started_at = 1000;
    runs[0].finished_at = 1002.5;
    runs[0].files_loaded = 2;
    runs[0].files_unchanged = 1;
    runs[0].rows_loaded = 30;
    runs[0].rows_rejected = 4;
    runs[0].rows_changed = 3;
    runs[0].last_success = 1002.5;
    runs[0].http_retries = 2;
    runs[1].pipeline = "down";
    snprintf(runs[1].status, sizeof(runs[1].status), "not_started");
    runs[1].started_at = 2000;
    runs[1].finished_at = 2000.25;
    runs[1].http_retries = 0;
    etl_buf_init(&b, 1 << 20);
    etl_err_clear(&err);
    assert_int_equal(etl_metrics_last_runs(&b, runs, 2, true, &err), 0);
    assert_non_null(strstr(b.data, "ewc_etl_last_run_id{pipeline=\"a\\\"b\"} 7\n"
                                   "ewc_etl_last_run_id{pipeline=\"down\"} 0\n"));
    assert_non_null(strstr(b.data,
        "ewc_etl_last_run_status{pipeline=\"a\\\"b\",status=\"ok\"} 0\n"
        "ewc_etl_last_run_status{pipeline=\"a\\\"b\",status=\"ok_with_rejects\"} 1\n"
        "ewc_etl_last_run_status{pipeline=\"a\\\"b\",status=\"partial\"} 0\n"
        "ewc_etl_last_run_status{pipeline=\"a\\\"b\",status=\"failed\"} 0\n"
        "ewc_etl_last_run_status{pipeline=\"a\\\"b\",status=\"not_started\"} 0\n"
        "ewc_etl_last_run_status{pipeline=\"down\",status=\"ok\"} 0\n"));
    assert_non_null(strstr(b.data, "ewc_etl_last_run_status{pipeline=\"down\","
                                   "status=\"not_started\"} 1\n"));
    assert_non_null(strstr(b.data, "ewc_etl_last_run_duration_seconds{pipeline=\"a\\\"b\"} 2.5\n"
                                   "ewc_etl_last_run_duration_seconds{pipeline=\"down\"} 0.25\n"));
    /* counts only for the run that took place */
    assert_non_null(strstr(b.data,
        "ewc_etl_last_run_files{pipeline=\"a\\\"b\",status=\"loaded\"} 2\n"
        "ewc_etl_last_run_files{pipeline=\"a\\\"b\",status=\"unchanged\"} 1\n"
        "ewc_etl_last_run_files{pipeline=\"a\\\"b\",status=\"failed\"} 0\n"
        "# HELP ewc_etl_last_run_rows_loaded"));
    assert_null(strstr(b.data, "ewc_etl_last_run_rows_loaded{pipeline=\"down\"}"));
    assert_non_null(strstr(b.data, "ewc_etl_last_run_rows_revised{pipeline=\"a\\\"b\","
                                   "change=\"changed\"} 3\n"));
    assert_non_null(strstr(b.data, "ewc_etl_last_run_http_retries{pipeline=\"a\\\"b\"} 2\n"
                                   "ewc_etl_last_run_http_retries{pipeline=\"down\"} 0\n"));
    assert_non_null(strstr(b.data, "# TYPE ewc_etl_last_success_timestamp_seconds gauge\n"
                                   "ewc_etl_last_success_timestamp_seconds{pipeline=\"a\\\"b\"} "
                                   "1002.5\n"));
    assert_null(strstr(b.data, "ewc_etl_last_success_timestamp_seconds{pipeline=\"down\"}"));
    etl_buf_free(&b);

    /* the daemon's view: no not_started state, no retries family */
    etl_buf_init(&b, 1 << 20);
    runs[0].http_retries = -1;
    runs[0].last_success = 0;
    assert_int_equal(etl_metrics_last_runs(&b, runs, 1, false, &err), 0);
    assert_null(strstr(b.data, "not_started"));
    assert_null(strstr(b.data, "ewc_etl_last_run_http_retries"));
    assert_null(strstr(b.data, "ewc_etl_last_success_timestamp_seconds"));
    etl_buf_free(&b);
}

/* Entries of 'dir' besides . and .., joined by spaces. */
static void
dir_list(const char *dir, char *out, size_t size)
{
    DIR *d = opendir(dir);
    struct dirent *e;

    out[0] = '\0';
    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            etl_strlcat(out, out[0] != '\0' ? " " : "", size);
            etl_strlcat(out, e->d_name, size);
        }
    }
    closedir(d);
}

static void
test_file_write(void **state)
{
    char dir[] = "/tmp/ewc-test-prom.XXXXXX", path[128], bad[160], list[512], got[64];
    struct etl_err err;
    struct stat sb;
    FILE *fp;
    mode_t old = umask(077);

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/ewc.prom", dir);
    etl_err_clear(&err);
    assert_int_equal(etl_metrics_file_write(path, "a 1\n", 4, &err), 0);
    assert_int_equal(etl_metrics_file_write(path, "b 2\n", 4, &err), 0);
    umask(old);
    fp = fopen(path, "r");
    assert_non_null(fp);
    assert_non_null(fgets(got, sizeof(got), fp));
    fclose(fp);
    assert_string_equal(got, "b 2\n");
    /* readable by node_exporter's user whatever the umask; no temporary file left */
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0644);
    dir_list(dir, list, sizeof(list));
    assert_string_equal(list, "ewc.prom");

    /* a directory that is not there: an error, nothing written */
    snprintf(bad, sizeof(bad), "%s/none/ewc.prom", dir);
    etl_err_clear(&err);
    assert_int_equal(etl_metrics_file_write(bad, "c 3\n", 4, &err), -1);
    assert_int_equal(err.code, ETL_E_IO);
    assert_non_null(strstr(err.msg, "could not create a temporary file"));
    assert_non_null(strstr(err.where, "metrics file"));
    /* the check before a run says so too; and refuses a directory */
    etl_err_clear(&err);
    assert_int_equal(etl_metrics_file_check(bad, &err), -1);
    assert_int_equal(err.code, ETL_E_CONFIG);
    assert_non_null(strstr(err.msg, "no directory"));
    etl_err_clear(&err);
    assert_int_equal(etl_metrics_file_check(dir, &err), -1);
    assert_non_null(strstr(err.msg, "is a directory"));
    etl_err_clear(&err);
    assert_int_equal(etl_metrics_file_check(path, &err), 0);
    dir_list(dir, list, sizeof(list));
    assert_string_equal(list, "ewc.prom");
    assert_int_equal(test_rmtree(dir), 0);
}

/* Parse 'text': 0 and its normalised form, loopback or not. */
static void
expect_listen(const char *text, const char *want, bool loopback, int family, int port)
{
    struct etl_listen at;
    struct etl_err err;

    etl_err_clear(&err);
    if (etl_listen_parse(text, &at, &err) != 0) {
        fail_msg("\"%s\": %s", text, err.msg);
    }
    assert_false(at.off);
    assert_string_equal(at.text, want);
    assert_int_equal(at.loopback, loopback);
    assert_int_equal(at.sa.ss_family, family);
    assert_int_equal(ntohs(family == AF_INET ? ((struct sockaddr_in *)&at.sa)->sin_port
                                             : ((struct sockaddr_in6 *)&at.sa)->sin6_port),
                     port);
    assert_int_equal(at.salen, family == AF_INET ? sizeof(struct sockaddr_in)
                                                 : sizeof(struct sockaddr_in6));
}

/* Parse 'text': -1, ETL_E_CONFIG, the message naming it and saying 'why'. */
static void
expect_listen_bad(const char *text, const char *why)
{
    struct etl_listen at;
    struct etl_err err;
    char head[128];

    etl_err_clear(&err);
    if (etl_listen_parse(text, &at, &err) != -1) {
        fail_msg("\"%s\" was accepted as %s", text, at.text);
    }
    assert_int_equal(err.code, ETL_E_CONFIG);
    snprintf(head, sizeof(head), "invalid listen address \"%s\": ", text);
    assert_memory_equal(err.msg, head, strlen(head));
    if (strstr(err.msg, why) == NULL) {
        fail_msg("\"%s\": \"%s\" does not say \"%s\"", text, err.msg, why);
    }
}

static void
test_listen_parse(void **state)
{
    struct etl_listen at;
    struct etl_err err;

    (void)state;
    expect_listen(ETL_LISTEN_DEFAULT, "127.0.0.1:9188", true, AF_INET, 9188);
    expect_listen("127.0.0.1:0", "127.0.0.1:0", true, AF_INET, 0);
    expect_listen("127.8.9.10:65535", "127.8.9.10:65535", true, AF_INET, 65535);
    expect_listen("localhost:80", "127.0.0.1:80", true, AF_INET, 80);
    expect_listen("0.0.0.0:9188", "0.0.0.0:9188", false, AF_INET, 9188);
    expect_listen("192.0.2.7:9188", "192.0.2.7:9188", false, AF_INET, 9188);
    expect_listen("127.0.0.1:09188", "127.0.0.1:9188", true, AF_INET, 9188);
    expect_listen("[::1]:9188", "[::1]:9188", true, AF_INET6, 9188);
    expect_listen("[::]:9188", "[::]:9188", false, AF_INET6, 9188);
    expect_listen("[0:0:0:0:0:0:0:1]:1", "[::1]:1", true, AF_INET6, 1);
    expect_listen("[::ffff:127.0.0.1]:9", "[::ffff:127.0.0.1]:9", true, AF_INET6, 9);
    expect_listen("[2001:db8::1]:9188", "[2001:db8::1]:9188", false, AF_INET6, 9188);

    for (const char *const *w = (const char *const[]){ "off", "false", "no", NULL }; *w; w++) {
        etl_err_clear(&err);
        assert_int_equal(etl_listen_parse(*w, &at, &err), 0);
        assert_true(at.off);
        assert_string_equal(at.text, "off");
    }

    expect_listen_bad("", "expected ADDRESS:PORT");
    expect_listen_bad("9188", "expected ADDRESS:PORT, e.g. 127.0.0.1:9188, or off");
    expect_listen_bad("127.0.0.1", "expected ADDRESS:PORT");
    expect_listen_bad(":9188", "no address before the port: write 127.0.0.1:PORT");
    expect_listen_bad("*:9188", "0.0.0.0:PORT for every interface");
    expect_listen_bad("127.0.0.1:", "the port must be a number from 0 to 65535");
    expect_listen_bad("127.0.0.1:65536", "from 0 to 65535");
    expect_listen_bad("127.0.0.1:123456", "from 0 to 65535");
    expect_listen_bad("127.0.0.1:-1", "from 0 to 65535");
    expect_listen_bad("127.0.0.1:+80", "from 0 to 65535");
    expect_listen_bad("127.0.0.1:80x", "from 0 to 65535");
    expect_listen_bad("127.0.0.1: 80", "from 0 to 65535");
    expect_listen_bad("example.com:80", "not an IPv4 address, \"localhost\" or [IPv6] "
                      "(host names are not looked up)");
    expect_listen_bad("127.1:80", "not an IPv4 address");
    expect_listen_bad("256.0.0.1:80", "not an IPv4 address");
    expect_listen_bad(" 127.0.0.1:80", "not an IPv4 address");
    expect_listen_bad("::1:9188", "an IPv6 address is written in brackets, e.g. [::1]:9188");
    expect_listen_bad("[::1]", "expected [IPv6]:PORT");
    expect_listen_bad("[::1]9188", "expected [IPv6]:PORT");
    expect_listen_bad("[::1:9188", "no \"]\" after the IPv6 address");
    expect_listen_bad("[]:9188", "expected [IPv6]:PORT");
    expect_listen_bad("[127.0.0.1]:9188", "not an IPv6 address");
    expect_listen_bad("[fe80::1%eth0]:9188", "not an IPv6 address");
    expect_listen_bad("OFF", "expected ADDRESS:PORT");
    etl_err_clear(&err);
    assert_int_equal(etl_listen_parse(NULL, &at, &err), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_label_escaping),
        cmocka_unit_test(test_help_escaping),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_last_runs),
        cmocka_unit_test(test_file_write),
        cmocka_unit_test(test_listen_parse),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
