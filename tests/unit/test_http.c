/*
 * test_http.c
 *    Unit tests of etl/http.c and etl/spool.c: the spool (hash names,
 *    temp files, errors), Retry-After and backoff, and downloads against the
 *    loopback server tests/lib/httpd.py (started here with fork/exec on
 *    127.0.0.1, stopped by its PID): conditional GET, retries, no retry on
 *    404, concurrency, refused schemes, max_bytes, connection refused,
 *    timeouts, a cancel while a server stalls (and the watchdog meanwhile).  The server's JSON request log is the witness.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "etl/http.h"
#include "support.h"
#include "etl/spool.h"

#define SHA_ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define SHA_EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* The test server and its files. */
static struct test_httpd srv;

static void
write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void
put_file(const char *name, const char *text)
{
    char path[256];

    snprintf(path, sizeof(path), "%s/%s", srv.root, name);
    write_file(path, text);
}

/* Replace the server's script (it re-reads it on every request). */
static void
set_script(const char *json)
{
    char tmp[160];

    snprintf(tmp, sizeof(tmp), "%s.new", srv.script);
    write_file(tmp, json);
    assert_int_equal(rename(tmp, srv.script), 0);
}

static int
group_setup(void **state)
{
    struct etl_err err;

    (void)state;
    etl_err_clear(&err);
    if (etl_http_global_init(&err) < 0) {
        return -1;
    }
    if (test_httpd_start(&srv, "http") < 0) {
        return -1;
    }
    snprintf(srv.spool, sizeof(srv.spool), "%s/spool", srv.dir);
    return mkdir(srv.spool, 0750);
}

static int
group_teardown(void **state)
{
    (void)state;
    test_httpd_stop(&srv);
    etl_http_global_cleanup();
    return 0;
}

static int64_t
mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Entries of a directory, "." and ".." aside; counts ".tmp-*" apart. */
static int
count_dir(const char *dir, int *tmps)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    assert_non_null(d);
    *tmps = 0;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }
        n++;
        if (strncmp(e->d_name, ".tmp-", 5) == 0) {
            (*tmps)++;
        }
    }
    closedir(d);
    return n;
}

/* The request log lines of 'path', in order, into 'out'; returns how many. */
static int
log_scan(const char *path, char *out, size_t size)
{
    char needle[160], line[2048];
    FILE *f = fopen(srv.log, "r");
    int n = 0;

    out[0] = '\0';
    if (f == NULL) {
        return 0;
    }
    snprintf(needle, sizeof(needle), "\"path\": \"%s\"", path);
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strstr(line, needle) != NULL) {
            n++;
            strncat(out, line, size - strlen(out) - 1);
        }
    }
    fclose(f);
    return n;
}

/*
 * As log_scan, after waiting (up to 5 s) for at least 'expect' lines: the
 * server logs a request after sending its response, so the client may be
 * done first.  A further 100 ms catch requests beyond 'expect'.
 */
static int
log_lines(const char *path, int expect, char *out, size_t size)
{
    for (int i = 0; i < 100 && log_scan(path, out, size) < expect; i++) {
        usleep(50000);
    }
    usleep(100000);
    return log_scan(path, out, size);
}

/* Position of the first log line of 'path' (0-based), -1 if none. */
static int
log_index(const char *path)
{
    char needle[160], line[2048];
    FILE *f = fopen(srv.log, "r");
    int i = 0;

    assert_non_null(f);
    snprintf(needle, sizeof(needle), "\"path\": \"%s\"", path);
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strstr(line, needle) != NULL) {
            fclose(f);
            return i;
        }
        i++;
    }
    fclose(f);
    return -1;
}

static void
url_of(char *out, size_t size, const char *path)
{
    snprintf(out, size, "http://127.0.0.1:%d%s", srv.port, path);
}

/* Options for quick tests: short backoffs. */
static void
quick_opts(struct etl_http_opts *o)
{
    etl_http_opts_init(o);
    o->spool_dir = srv.spool;
    o->backoff_ms = 20;
    o->backoff_max_ms = 200;
    o->timeout = 5;
}

/* Fetch one URL with 'o'; returns the rc of etl_http_fetch. */
static int
fetch_one(struct etl_http_req *r, const char *url, const char *etag, const char *lm,
          const struct etl_http_opts *o)
{
    struct etl_err err;
    int rc;

    etl_err_clear(&err);
    etl_http_req_init(r, url, etag, lm);
    rc = etl_http_fetch(r, 1, o, &err);
    assert_int_equal(err.code, ETL_E_NONE);
    return rc;
}

/* ---- spool ---- */

static void
test_sha256_hex(void **state)
{
    char hex[ETL_SHA256_HEX];

    (void)state;
    etl_sha256_hex("abc", 3, hex);
    assert_string_equal(hex, SHA_ABC);
    etl_sha256_hex("", 0, hex);
    assert_string_equal(hex, SHA_EMPTY);
}

static void
test_spool_commit(void **state)
{
    struct etl_spool_file sf;
    struct etl_err err;
    char dir[160], expect[256], sha[ETL_SHA256_HEX], buf[16];
    char *path = NULL;
    int tmps;
    FILE *f;

    (void)state;
    snprintf(dir, sizeof(dir), "%s/commit", srv.dir);
    etl_err_clear(&err);
    assert_int_equal(etl_spool_prepare(dir, &err), 0);
    assert_int_equal(etl_spool_open(&sf, dir, &err), 0);
    assert_int_equal(count_dir(dir, &tmps), 1);
    assert_int_equal(tmps, 1);
    assert_int_equal(etl_spool_write(&sf, "a", 1, &err), 0);
    assert_int_equal(etl_spool_write(&sf, "bc", 2, &err), 0);
    assert_int_equal(sf.bytes, 3);
    assert_int_equal(etl_spool_commit(&sf, dir, &path, sha, &err), 0);
    assert_int_equal(sf.bytes, 3);
    snprintf(expect, sizeof(expect), "%s/" SHA_ABC, dir);
    assert_string_equal(sha, SHA_ABC);
    assert_string_equal(path, expect);
    f = fopen(path, "r");
    assert_non_null(f);
    assert_int_equal(fread(buf, 1, sizeof(buf), f), 3);
    assert_memory_equal(buf, "abc", 3);
    fclose(f);
    free(path);
    assert_int_equal(count_dir(dir, &tmps), 1);
    assert_int_equal(tmps, 0);

    /* same content again: the existing file stays, the temp file goes */
    assert_int_equal(etl_spool_open(&sf, dir, &err), 0);
    assert_int_equal(etl_spool_write(&sf, "abc", 3, &err), 0);
    assert_int_equal(etl_spool_commit(&sf, dir, &path, sha, &err), 0);
    assert_string_equal(path, expect);
    free(path);
    assert_int_equal(count_dir(dir, &tmps), 1);
    assert_int_equal(tmps, 0);

    /* abort removes the temp file */
    assert_int_equal(etl_spool_open(&sf, dir, &err), 0);
    assert_int_equal(etl_spool_write(&sf, "xyz", 3, &err), 0);
    etl_spool_abort(&sf);
    etl_spool_abort(&sf);           /* twice is harmless */
    assert_int_equal(count_dir(dir, &tmps), 1);
    assert_int_equal(tmps, 0);
    assert_int_equal(err.code, ETL_E_NONE);
}

static void
test_spool_prepare(void **state)
{
    struct etl_err err;
    char dir[300], file[200], expect[400];
    struct stat sb;

    (void)state;
    /* nested, missing parents, trailing slash */
    snprintf(dir, sizeof(dir), "%s/p/q//r/", srv.dir);
    etl_err_clear(&err);
    assert_int_equal(etl_spool_prepare(dir, &err), 0);
    assert_int_equal(stat(dir, &sb), 0);
    assert_true(S_ISDIR(sb.st_mode));
    assert_int_equal(sb.st_mode & 0777, 0750 & ~0);
    assert_int_equal(etl_spool_prepare(dir, &err), 0);     /* exists: fine */

    /* a regular file in the way */
    snprintf(file, sizeof(file), "%s/plain", srv.dir);
    write_file(file, "x");
    snprintf(dir, sizeof(dir), "%s/sub", file);
    assert_int_equal(etl_spool_prepare(dir, &err), -1);
    assert_int_equal(err.code, ETL_E_IO);
    snprintf(expect, sizeof(expect),
             "could not create spool directory \"%s\": Not a directory", dir);
    assert_string_equal(err.msg, expect);

    /* the spool path itself is a file */
    etl_err_clear(&err);
    assert_int_equal(etl_spool_prepare(file, &err), -1);
    assert_int_equal(err.code, ETL_E_IO);
    snprintf(expect, sizeof(expect), "could not use spool directory \"%s\": Not a directory",
             file);
    assert_string_equal(err.msg, expect);

    etl_err_clear(&err);
    assert_int_equal(etl_spool_prepare("", &err), -1);
    assert_int_equal(err.code, ETL_E_CONFIG);
    assert_string_equal(err.msg, "no spool directory configured");
}

static void
test_spool_open_fails(void **state)
{
    struct etl_spool_file sf;
    struct etl_err err;
    char dir[200], prefix[300];
    const char *suffix = ": No such file or directory";
    size_t n;

    (void)state;
    snprintf(dir, sizeof(dir), "%s/no-such-dir", srv.dir);
    etl_err_clear(&err);
    assert_int_equal(etl_spool_open(&sf, dir, &err), -1);
    assert_int_equal(err.code, ETL_E_IO);
    snprintf(prefix, sizeof(prefix), "could not create spool file \"%s/.tmp-", dir);
    assert_int_equal(strncmp(err.msg, prefix, strlen(prefix)), 0);
    n = strlen(err.msg);
    assert_true(n > strlen(suffix));
    assert_string_equal(err.msg + n - strlen(suffix), suffix);
    assert_int_equal(sf.fd, -1);
    assert_null(sf.tmp_path);
    etl_spool_abort(&sf);
}

/* ---- Retry-After and backoff ---- */

static void
test_retry_after(void **state)
{
    (void)state;
    assert_int_equal(etl_http_retry_after("1", 0), 1);
    assert_int_equal(etl_http_retry_after(" 120 ", 0), 120);
    assert_int_equal(etl_http_retry_after("0", 0), 0);
    assert_int_equal(etl_http_retry_after("1x", 0), -1);
    assert_int_equal(etl_http_retry_after("soon", 0), -1);
    /* Wed, 21 Oct 2015 07:28:00 GMT = 1445412480 */
    assert_int_equal(etl_http_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412470LL), 10);
    assert_int_equal(etl_http_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412490LL), 0);
    assert_int_equal(etl_http_retry_after("99999999999999999999", 0), 86400L * 365);
}

static void
test_backoff(void **state)
{
    uint64_t seed = 42;
    long seen_min = 1L << 30, seen_max = -1;

    (void)state;
    assert_int_equal(etl_http_backoff(500, 30000, 1, 1000, &seed), 1000);
    assert_int_equal(etl_http_backoff(500, 30000, 1, 0, &seed), 0);
    assert_int_equal(etl_http_backoff(500, 30000, 1, 99999, &seed), 30000);
    assert_int_equal(etl_http_backoff(0, 30000, 5, -1, &seed), 0);
    for (int i = 0; i < 1000; i++) {
        long d1 = etl_http_backoff(500, 30000, 1, -1, &seed);
        long d3 = etl_http_backoff(500, 30000, 3, -1, &seed);
        long d20 = etl_http_backoff(500, 30000, 20, -1, &seed);

        assert_in_range(d1, 0, 500);
        assert_in_range(d3, 0, 2000);
        assert_in_range(d20, 0, 30000);
        seen_min = d3 < seen_min ? d3 : seen_min;
        seen_max = d3 > seen_max ? d3 : seen_max;
    }
    /* full jitter: spread over the whole window */
    assert_true(seen_min < 200);
    assert_true(seen_max > 1800);
}

/* ---- downloads ---- */

static void
test_get_200(void **state)
{
    struct etl_http_opts o;
    struct etl_http_req r;
    char url[128], expect[256];

    (void)state;
    put_file("abc.csv", "abc");
    quick_opts(&o);
    url_of(url, sizeof(url), "/abc.csv");
    assert_int_equal(fetch_one(&r, url, NULL, NULL, &o), 0);
    assert_int_equal(r.err.code, ETL_E_NONE);
    assert_int_equal(r.status, 200);
    assert_false(r.not_modified);
    assert_string_equal(r.sha256, SHA_ABC);
    snprintf(expect, sizeof(expect), "%s/" SHA_ABC, srv.spool);
    assert_string_equal(r.spool_path, expect);
    assert_int_equal(r.bytes, 3);
    assert_int_equal(r.attempts, 1);
    /* the quoted sha1 of "abc" */
    assert_string_equal(r.resp_etag, "\"a9993e364706816aba3e25717850c26c9cd0d89d\"");
    assert_non_null(r.resp_last_modified);
    assert_non_null(strstr(r.resp_last_modified, " GMT"));
    etl_http_req_clear(&r);
    etl_http_req_clear(&r);         /* twice is harmless */
}

static void
test_conditional_304(void **state)
{
    struct etl_http_opts o;
    struct etl_http_req r;
    char url[128], etag[128], lm[128], lines[4096], expect[256];
    int tmps, before;

    (void)state;
    put_file("cond.csv", "region,value\n");
    quick_opts(&o);
    url_of(url, sizeof(url), "/cond.csv");
    assert_int_equal(fetch_one(&r, url, NULL, NULL, &o), 0);
    assert_int_equal(r.status, 200);
    snprintf(etag, sizeof(etag), "%s", r.resp_etag);
    snprintf(lm, sizeof(lm), "%s", r.resp_last_modified);
    etl_http_req_clear(&r);
    before = count_dir(srv.spool, &tmps);

    /* If-None-Match */
    assert_int_equal(fetch_one(&r, url, etag, NULL, &o), 0);
    assert_int_equal(r.err.code, ETL_E_NONE);
    assert_int_equal(r.status, 304);
    assert_true(r.not_modified);
    assert_null(r.spool_path);
    assert_string_equal(r.sha256, "");
    assert_string_equal(r.resp_etag, etag);
    etl_http_req_clear(&r);

    /* If-Modified-Since alone */
    assert_int_equal(fetch_one(&r, url, NULL, lm, &o), 0);
    assert_int_equal(r.status, 304);
    assert_true(r.not_modified);
    etl_http_req_clear(&r);

    assert_int_equal(log_lines("/cond.csv", 3, lines, sizeof(lines)), 3);
    /* etag is "<sha1>": in JSON the quotes are escaped */
    snprintf(expect, sizeof(expect), "\"if_none_match\": \"\\\"%.*s\\\"\"",
             (int)strlen(etag) - 2, etag + 1);
    assert_non_null(strstr(lines, expect));
    snprintf(expect, sizeof(expect), "\"if_modified_since\": \"%s\"", lm);
    assert_non_null(strstr(lines, expect));
    assert_non_null(strstr(lines, "\"status\": 304"));
    assert_int_equal(count_dir(srv.spool, &tmps), before);
    assert_int_equal(tmps, 0);
}

static void
test_retry_503_retry_after(void **state)
{
    struct etl_http_opts o;
    struct etl_http_req r;
    char url[128], lines[4096];
    int64_t t0, elapsed;
    const char *p;

    (void)state;
    put_file("busy.csv", "abc");
    set_script("{\"/busy.csv\": [{\"status\": 503, \"headers\": {\"Retry-After\": \"1\"}},"
               " {\"status\": 503}]}");
    quick_opts(&o);
    o.retries = 3;
    o.backoff_max_ms = 5000;
    url_of(url, sizeof(url), "/busy.csv");
    t0 = mono_ms();
    assert_int_equal(fetch_one(&r, url, NULL, NULL, &o), 0);
    elapsed = mono_ms() - t0;
    assert_int_equal(r.err.code, ETL_E_NONE);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.attempts, 3);
    assert_string_equal(r.sha256, SHA_ABC);
    assert_true(elapsed >= 1000);
    assert_true(elapsed < 5000);
    etl_http_req_clear(&r);
    assert_int_equal(log_lines("/busy.csv", 3, lines, sizeof(lines)), 3);
    p = strstr(lines, "\"status\": 503");
    assert_non_null(p);
    p = strstr(p + 1, "\"status\": 503");
    assert_non_null(p);
    assert_non_null(strstr(p + 1, "\"status\": 200"));
}

static void
test_503_gives_up(void **state)
{
    struct etl_http_opts o;
    struct etl_http_req r;
    char url[128], lines[4096], expect[256];

    (void)state;
    set_script("{\"/down.csv\": {\"status\": 503}}");
    quick_opts(&o);
    o.retries = 1;
    url_of(url, sizeof(url), "/down.csv");
    assert_int_equal(fetch_one(&r, url, NULL, NULL, &o), 0);
    assert_int_equal(r.err.code, ETL_E_NET);
    assert_true(r.err.retryable);
    snprintf(expect, sizeof(expect), "GET %s: HTTP 503 Service Unavailable", url);
    assert_string_equal(r.err.msg, expect);
    assert_string_equal(r.err.detail, "gave up after 2 attempts");
    assert_int_equal(r.status, 503);
    assert_int_equal(r.attempts, 2);
    assert_null(r.spool_path);
    etl_http_req_clear(&r);
    assert_int_equal(log_lines("/down.csv", 2, lines, sizeof(lines)), 2);
}

static void
test_429_is_retried(void **state)
{
    struct etl_http_opts o;
    struct etl_http_req r;
    char url[128], lines[4096];

    (void)state;
    put_file("limit.csv", "abc");
    set_script("{\"/limit.csv\": [{\"status\": 429}]}");
    quick_opts(&o);
    url_of(url, sizeof(url), "/limit.csv");
    assert_int_equal(fetch_one(&r, url, NULL, NULL, &o), 0);
    assert_int_equal(r.err.code, ETL_E_NONE);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.attempts, 2);
    etl_http_req_clear(&r);
    assert_int_equal(log_lines("/limit.csv", 2, lines, sizeof(lines)), 2);
}

static void
test_404_not_retried(void **state)
{
    struct etl_http_opts o;
    struct etl_http_req r;
    char url[128], lines[4096], expect[256];
    int tmps, before = count_dir(srv.spool, &tmps);

    (void)state;
    quick_opts(&o);
    o.retries = 3;
    url_of(url, sizeof(url), "/missing.csv");
    assert_int_equal(fetch_one(&r, url, NULL, NULL, &o), 0);
    assert_int_equal(r.err.code, ETL_E_NET);
    assert_false(r.err.retryable);
    snprintf(expect, sizeof(expect), "GET %s: HTTP 404 Not Found", url);
    assert_string_equal(r.err.msg, expect);
    assert_string_equal(r.err.detail, "");
    assert_int_equal(r.status, 404);
    assert_int_equal(r.attempts, 1);
    assert_null(r.spool_path);
    assert_string_equal(r.sha256, "");
    etl_http_req_clear(&r);
    assert_int_equal(log_lines("/missing.csv", 1, lines, sizeof(lines)), 1);
    /* the error page was not spooled */
    assert_int_equal(count_dir(srv.spool, &tmps), before);
    assert_int_equal(tmps, 0);
}

static void
test_concurrent(void **state)
{
    struct etl_http_opts o;
    struct etl_http_req r[4];
    char url[4][128], lines[4096];
    struct etl_err err;
    int64_t t0, elapsed;

    (void)state;
    put_file("slow.csv", "slow");
    put_file("f1.csv", "one");
    put_file("f2.csv", "two");
    put_file("later.csv", "later");
    set_script("{\"/slow.csv\": {\"delay\": 2},"
               " \"/later.csv\": [{\"status\": 503, \"headers\": {\"Retry-After\": \"1\"}}]}");
    quick_opts(&o);
    o.parallel = 4;
    url_of(url[0], sizeof(url[0]), "/slow.csv");
    url_of(url[1], sizeof(url[1]), "/later.csv");
    url_of(url[2], sizeof(url[2]), "/f1.csv");
    url_of(url[3], sizeof(url[3]), "/f2.csv");
    for (int i = 0; i < 4; i++) {
        etl_http_req_init(&r[i], url[i], NULL, NULL);
    }
    etl_err_clear(&err);
    t0 = mono_ms();
    assert_int_equal(etl_http_fetch(r, 4, &o, &err), 0);
    elapsed = mono_ms() - t0;
    for (int i = 0; i < 4; i++) {
        assert_int_equal(r[i].err.code, ETL_E_NONE);
        assert_int_equal(r[i].status, 200);
        etl_http_req_clear(&r[i]);
    }
    assert_int_equal(r[1].attempts, 2);
    assert_int_equal(log_lines("/slow.csv", 1, lines, sizeof(lines)), 1);
    /* the fast ones and the retry finished while slow.csv was waiting */
    assert_true(log_index("/f1.csv") < log_index("/slow.csv"));
    assert_true(log_index("/f2.csv") < log_index("/slow.csv"));
    assert_true(log_index("/later.csv") < log_index("/slow.csv"));
    /* run side by side: about 2 s, not 2 + 1 s */
    assert_true(elapsed >= 2000);
    assert_true(elapsed < 2900);
}

static void
test_parallel_one(void **state)
{
    struct etl_http_opts o;
    struct etl_http_req r[2];
    char url[2][128], lines[4096];
    struct etl_err err;

    (void)state;
    put_file("seq1.csv", "1");
    put_file("seq2.csv", "2");
    set_script("{\"/seq1.csv\": {\"delay\": 0.5}}");
    quick_opts(&o);
    o.parallel = 1;
    url_of(url[0], sizeof(url[0]), "/seq1.csv");
    url_of(url[1], sizeof(url[1]), "/seq2.csv");
    etl_http_req_init(&r[0], url[0], NULL, NULL);
    etl_http_req_init(&r[1], url[1], NULL, NULL);
    etl_err_clear(&err);
    assert_int_equal(etl_http_fetch(r, 2, &o, &err), 0);
    assert_int_equal(log_lines("/seq2.csv", 1, lines, sizeof(lines)), 1);
    /* one at a time, in order: the slow first one is logged first */
    assert_true(log_index("/seq1.csv") < log_index("/seq2.csv"));
    etl_http_req_clear(&r[0]);
    etl_http_req_clear(&r[1]);
}

static void
test_refused_scheme(void **state)
{
    struct etl_http_opts o;
    struct etl_http_req r[2];
    struct etl_err err;

    (void)state;
    quick_opts(&o);
    etl_http_req_init(&r[0], "file:///etc/passwd", NULL, NULL);
    etl_http_req_init(&r[1], "ftp://127.0.0.1/x.csv", NULL, NULL);
    etl_err_clear(&err);
    assert_int_equal(etl_http_fetch(r, 2, &o, &err), 0);
    assert_int_equal(r[0].err.code, ETL_E_CONFIG);
    assert_false(r[0].err.retryable);
    assert_string_equal(r[0].err.msg,
                        "GET file:///etc/passwd: scheme not allowed (only http and https)");
    assert_int_equal(r[0].attempts, 0);
    assert_string_equal(r[1].err.msg,
                        "GET ftp://127.0.0.1/x.csv: scheme not allowed (only http and https)");
    etl_http_req_clear(&r[0]);
    etl_http_req_clear(&r[1]);
}

static void
test_redirect(void **state)
{
    struct etl_http_opts o;
    struct etl_http_req r;
    char url[128], expect[256];

    (void)state;
    put_file("target.csv", "abc");
    set_script("{\"/moved.csv\": {\"status\": 301, \"headers\": {\"Location\": \"/target.csv\"}},"
               " \"/to-ftp.csv\": {\"status\": 302,"
               " \"headers\": {\"Location\": \"ftp://127.0.0.1/x.csv\"}},"
               " \"/to-file.csv\": {\"status\": 302,"
               " \"headers\": {\"Location\": \"file:///etc/passwd\"}}}");
    quick_opts(&o);
    url_of(url, sizeof(url), "/moved.csv");
    assert_int_equal(fetch_one(&r, url, NULL, NULL, &o), 0);
    assert_int_equal(r.err.code, ETL_E_NONE);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.sha256, SHA_ABC);
    etl_http_req_clear(&r);

    /* a redirect to another scheme is refused by curl */
    url_of(url, sizeof(url), "/to-ftp.csv");
    assert_int_equal(fetch_one(&r, url, NULL, NULL, &o), 0);
    assert_int_equal(r.err.code, ETL_E_NET);
    assert_false(r.err.retryable);
    assert_int_equal(r.attempts, 1);
    snprintf(expect, sizeof(expect),
             "GET %s: Protocol \"ftp\" not supported or disabled in libcurl", url);
    assert_string_equal(r.err.msg, expect);
    etl_http_req_clear(&r);

    url_of(url, sizeof(url), "/to-file.csv");
    assert_int_equal(fetch_one(&r, url, NULL, NULL, &o), 0);
    assert_int_equal(r.err.code, ETL_E_NET);
    snprintf(expect, sizeof(expect),
             "GET %s: Protocol \"file\" not supported or disabled in libcurl", url);
    assert_string_equal(r.err.msg, expect);
    assert_null(r.spool_path);
    etl_http_req_clear(&r);
}

static void
test_max_bytes(void **state)
{
    struct etl_http_opts o;
    struct etl_http_req r;
    char url[128], expect[256];
    int tmps, before = count_dir(srv.spool, &tmps);

    (void)state;
    put_file("big.csv", "0123456789abcdefghij");
    quick_opts(&o);
    o.max_bytes = 10;
    url_of(url, sizeof(url), "/big.csv");
    assert_int_equal(fetch_one(&r, url, NULL, NULL, &o), 0);
    assert_int_equal(r.err.code, ETL_E_DATA);
    assert_false(r.err.retryable);
    snprintf(expect, sizeof(expect), "GET %s: body larger than max_bytes (10 bytes)", url);
    assert_string_equal(r.err.msg, expect);
    assert_int_equal(r.attempts, 1);
    assert_null(r.spool_path);
    etl_http_req_clear(&r);

    /* exactly max_bytes is fine */
    o.max_bytes = 20;
    assert_int_equal(fetch_one(&r, url, NULL, NULL, &o), 0);
    assert_int_equal(r.err.code, ETL_E_NONE);
    assert_int_equal(r.bytes, 20);
    etl_http_req_clear(&r);
    assert_int_equal(count_dir(srv.spool, &tmps), before + 1);
    assert_int_equal(tmps, 0);
}

/* A port on 127.0.0.1 that nobody listens on (bound, then closed). */
static int
closed_port(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int port;

    assert_true(fd >= 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static void
test_connection_refused(void **state)
{
    struct etl_http_opts o;
    struct etl_http_req r;
    char url[128], expect[256];
    int port = closed_port();

    (void)state;
    quick_opts(&o);
    o.retries = 2;
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/x.csv", port);
    assert_int_equal(fetch_one(&r, url, NULL, NULL, &o), 0);
    assert_int_equal(r.err.code, ETL_E_NET);
    assert_true(r.err.retryable);
    assert_int_equal(r.attempts, 3);
    assert_int_equal(r.status, 0);
    snprintf(expect, sizeof(expect), "GET %s: Failed to connect to 127.0.0.1 port %d", url,
             port);
    assert_int_equal(strncmp(r.err.msg, expect, strlen(expect)), 0);
    assert_string_equal(r.err.detail, "gave up after 3 attempts");
    etl_http_req_clear(&r);
}

static void
test_timeout(void **state)
{
    struct etl_http_opts o;
    struct etl_http_req r;
    char url[128], expect[256];
    int64_t t0, elapsed;

    (void)state;
    put_file("stall.csv", "abc");
    set_script("{\"/stall.csv\": {\"delay\": 3}}");
    quick_opts(&o);
    o.retries = 0;
    o.timeout = 1;
    url_of(url, sizeof(url), "/stall.csv");
    t0 = mono_ms();
    assert_int_equal(fetch_one(&r, url, NULL, NULL, &o), 0);
    elapsed = mono_ms() - t0;
    assert_int_equal(r.err.code, ETL_E_NET);
    assert_true(r.err.retryable);
    snprintf(expect, sizeof(expect), "GET %s: Operation too slow", url);
    assert_int_equal(strncmp(r.err.msg, expect, strlen(expect)), 0);
    assert_true(elapsed < 2900);
    etl_http_req_clear(&r);
}

static void
test_truncated_then_ok(void **state)
{
    struct etl_http_opts o;
    struct etl_http_req r;
    char url[128];
    int tmps;

    (void)state;
    put_file("cut.csv", "0123456789");
    set_script("{\"/cut.csv\": [{\"truncate\": 4}]}");
    quick_opts(&o);
    url_of(url, sizeof(url), "/cut.csv");
    assert_int_equal(fetch_one(&r, url, NULL, NULL, &o), 0);
    assert_int_equal(r.err.code, ETL_E_NONE);
    assert_int_equal(r.attempts, 2);
    assert_int_equal(r.bytes, 10);
    etl_http_req_clear(&r);
    count_dir(srv.spool, &tmps);
    assert_int_equal(tmps, 0);
}

static void
test_dropped_gives_up(void **state)
{
    struct etl_http_opts o;
    struct etl_http_req r;
    char url[128], expect[256];

    (void)state;
    set_script("{\"/drop.csv\": {\"drop\": true}}");
    quick_opts(&o);
    o.retries = 1;
    url_of(url, sizeof(url), "/drop.csv");
    assert_int_equal(fetch_one(&r, url, NULL, NULL, &o), 0);
    assert_int_equal(r.err.code, ETL_E_NET);
    assert_true(r.err.retryable);
    assert_int_equal(r.attempts, 2);
    snprintf(expect, sizeof(expect), "GET %s: Empty reply from server", url);
    assert_string_equal(r.err.msg, expect);
    etl_http_req_clear(&r);
}

static void
test_empty_body(void **state)
{
    struct etl_http_opts o;
    struct etl_http_req r;
    char url[128], expect[256];

    (void)state;
    set_script("{\"/empty.csv\": {\"status\": 200, \"body\": \"\"}}");
    quick_opts(&o);
    url_of(url, sizeof(url), "/empty.csv");
    assert_int_equal(fetch_one(&r, url, NULL, NULL, &o), 0);
    assert_int_equal(r.err.code, ETL_E_NONE);
    assert_int_equal(r.bytes, 0);
    assert_string_equal(r.sha256, SHA_EMPTY);
    snprintf(expect, sizeof(expect), "%s/" SHA_EMPTY, srv.spool);
    assert_string_equal(r.spool_path, expect);
    assert_null(r.resp_etag);
    etl_http_req_clear(&r);
}

static void
test_spool_unwritable(void **state)
{
    struct etl_http_opts o;
    struct etl_http_req r;
    char url[128], dir[200], prefix[300];

    (void)state;
    put_file("nowhere.csv", "abc");
    quick_opts(&o);
    snprintf(dir, sizeof(dir), "%s/not-there", srv.dir);
    o.spool_dir = dir;
    url_of(url, sizeof(url), "/nowhere.csv");
    assert_int_equal(fetch_one(&r, url, NULL, NULL, &o), 0);
    assert_int_equal(r.err.code, ETL_E_IO);
    assert_false(r.err.retryable);
    snprintf(prefix, sizeof(prefix), "could not create spool file \"%s/.tmp-", dir);
    assert_int_equal(strncmp(r.err.msg, prefix, strlen(prefix)), 0);
    snprintf(prefix, sizeof(prefix), "GET %s", url);
    assert_string_equal(r.err.where, prefix);
    etl_http_req_clear(&r);
}

/* A one-shot HTTP/1.0 server in a thread: a body of unknown length. */
struct raw_server {
    int fd;
    int port;
    size_t body_len;
};

static void *
raw_server_main(void *arg)
{
    struct raw_server *rs = arg;
    char req[4096], body[1024];
    int c = accept(rs->fd, NULL, NULL);
    const char *head = "HTTP/1.0 200 OK\r\nContent-Type: text/csv\r\n\r\n";

    if (c < 0) {
        return NULL;
    }
    (void)!read(c, req, sizeof(req));
    memset(body, 'x', sizeof(body));
    (void)!write(c, head, strlen(head));
    for (size_t left = rs->body_len; left > 0;) {
        size_t n = left < sizeof(body) ? left : sizeof(body);
        ssize_t w = write(c, body, n);

        if (w <= 0) {
            break;                  /* the client hung up: expected */
        }
        left -= (size_t)w;
    }
    close(c);
    return NULL;
}

static void
test_max_bytes_streamed(void **state)
{
    struct raw_server rs = { .body_len = 100000 };
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    struct etl_http_opts o;
    struct etl_http_req r;
    char url[128], expect[256];
    pthread_t th;
    int tmps, before = count_dir(srv.spool, &tmps);

    (void)state;
    rs.fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(rs.fd >= 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(rs.fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(rs.fd, 1), 0);
    assert_int_equal(getsockname(rs.fd, (struct sockaddr *)&a, &len), 0);
    rs.port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&th, NULL, raw_server_main, &rs), 0);

    quick_opts(&o);
    o.max_bytes = 50000;
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/stream.csv", rs.port);
    assert_int_equal(fetch_one(&r, url, NULL, NULL, &o), 0);
    pthread_join(th, NULL);
    close(rs.fd);
    assert_int_equal(r.err.code, ETL_E_DATA);
    assert_false(r.err.retryable);
    assert_int_equal(r.attempts, 1);
    snprintf(expect, sizeof(expect), "GET %s: body larger than max_bytes (50000 bytes)", url);
    assert_string_equal(r.err.msg, expect);
    assert_null(r.spool_path);
    etl_http_req_clear(&r);
    /* the partial temp file is gone */
    assert_int_equal(count_dir(srv.spool, &tmps), before);
    assert_int_equal(tmps, 0);
}

static void
test_spool_write_errors(void **state)
{
    struct etl_spool_file sf;
    struct etl_err err;
    char dir[160], expect[800], tmp[200], *path = (char *)"x";
    char sha[ETL_SHA256_HEX];

    (void)state;
    snprintf(dir, sizeof(dir), "%s/werr", srv.dir);
    etl_err_clear(&err);
    assert_int_equal(etl_spool_prepare(dir, &err), 0);

    /* write(2) fails: a closed descriptor */
    assert_int_equal(etl_spool_open(&sf, dir, &err), 0);
    close(sf.fd);
    assert_int_equal(etl_spool_write(&sf, "abc", 3, &err), -1);
    assert_int_equal(err.code, ETL_E_IO);
    assert_false(err.retryable);
    snprintf(expect, sizeof(expect), "could not write spool file \"%s\": Bad file descriptor",
             sf.tmp_path);
    assert_string_equal(err.msg, expect);
    sf.fd = -1;
    etl_spool_abort(&sf);

    /* rename fails: the temp file vanished under us */
    etl_err_clear(&err);
    assert_int_equal(etl_spool_open(&sf, dir, &err), 0);
    assert_int_equal(etl_spool_write(&sf, "abc", 3, &err), 0);
    snprintf(tmp, sizeof(tmp), "%s", sf.tmp_path);
    assert_int_equal(unlink(sf.tmp_path), 0);
    assert_int_equal(etl_spool_commit(&sf, dir, &path, sha, &err), -1);
    assert_null(path);
    assert_int_equal(err.code, ETL_E_IO);
    snprintf(expect, sizeof(expect),
             "could not rename spool file \"%s\" to \"%s/" SHA_ABC "\": "
             "No such file or directory", tmp, dir);
    assert_string_equal(err.msg, expect);
    assert_int_equal(sf.fd, -1);
    assert_null(sf.tmp_path);
    assert_null(sf.md);
}

static void
test_nothing_to_do(void **state)
{
    struct etl_http_opts o;
    struct etl_err err;

    (void)state;
    quick_opts(&o);
    etl_err_clear(&err);
    assert_int_equal(etl_http_fetch(NULL, 0, &o, &err), 0);
    assert_int_equal(err.code, ETL_E_NONE);
}

/* ---- cancel and watchdog ---- */

/* A cancel predicate: true once 'ms' of the monotonic clock have passed. */
struct cancel_after {
    int64_t at_ms;
    int calls;
};

static bool
cancel_after_pred(void *arg)
{
    struct cancel_after *c = arg;

    c->calls++;
    return mono_ms() >= c->at_ms;
}

/* Datagrams on 'fd' that read "WATCHDOG=1"; the rest are failures. */
static int
count_watchdog(int fd)
{
    char buf[64];
    ssize_t n;
    int count = 0;

    while ((n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT)) > 0) {
        buf[n] = '\0';
        assert_string_equal(buf, "WATCHDOG=1");
        count++;
    }
    return count;
}

/*
 * A server that accepts and then sends nothing: the predicate turns true
 * after 400 ms and the fetch ends within a bound, the stalled URL with an
 * error, the finished one kept; no temp file is left in the spool.  The
 * watchdog is fed while it waits.
 */
static void
test_cancel_stalled(void **state)
{
    struct etl_http_opts o;
    struct etl_http_req r[2];
    struct cancel_after c;
    struct sockaddr_un sa;
    struct etl_err err;
    char url[2][128], expect[256];
    int64_t t0, elapsed;
    int fd, tmps;

    (void)state;
    put_file("quick.csv", "abc");
    set_script("{\"/hang.csv\": {\"delay\": 30}}");
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/notify.sock", srv.dir);
    fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    setenv("NOTIFY_SOCKET", sa.sun_path, 1);
    setenv("WATCHDOG_USEC", "200000", 1);

    quick_opts(&o);
    o.timeout = 60;
    o.cancelled = cancel_after_pred;
    o.cancel_arg = &c;
    url_of(url[0], sizeof(url[0]), "/hang.csv");
    url_of(url[1], sizeof(url[1]), "/quick.csv");
    etl_http_req_init(&r[0], url[0], NULL, NULL);
    etl_http_req_init(&r[1], url[1], NULL, NULL);
    etl_err_clear(&err);
    t0 = mono_ms();
    c.at_ms = t0 + 400;
    c.calls = 0;
    assert_int_equal(etl_http_fetch(r, 2, &o, &err), -1);
    elapsed = mono_ms() - t0;
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");

    assert_true(elapsed >= 400);
    assert_true(elapsed < 1000);
    assert_true(c.calls >= 2);              /* asked while it waited */
    assert_int_equal(err.code, ETL_E_NET);
    assert_true(err.retryable);
    assert_string_equal(err.msg, "download cancelled");
    assert_string_equal(err.detail, "1 of 2 URLs not done");
    snprintf(expect, sizeof(expect), "GET %s: download cancelled", url[0]);
    assert_int_equal(r[0].err.code, ETL_E_NET);
    assert_string_equal(r[0].err.msg, expect);
    assert_true(r[0].err.retryable);
    assert_null(r[0].spool_path);
    assert_int_equal(r[1].err.code, ETL_E_NONE);
    assert_non_null(r[1].spool_path);
    assert_string_equal(r[1].sha256, SHA_ABC);
    count_dir(srv.spool, &tmps);
    assert_int_equal(tmps, 0);
    /* 400 ms with a ping due every 100 ms */
    assert_true(count_watchdog(fd) >= 2);
    close(fd);
    unlink(sa.sun_path);
    etl_http_req_clear(&r[0]);
    etl_http_req_clear(&r[1]);
}

static volatile sig_atomic_t stop_flag;

static void
on_alarm_stop(int sig)
{
    (void)sig;
    stop_flag = 1;
}

/*
 * etl_http_flag_set on a flag a signal handler sets, as fetch.c passes
 * etl_stop_requested: the signal ends the wait at once.  A flag already
 * set stops before any request.
 */
static void
test_cancel_on_signal(void **state)
{
    struct itimerval it = { { 0, 0 }, { 0, 300000 } };
    struct sigaction sa, old;
    struct etl_http_opts o;
    struct etl_http_req r;
    struct etl_err err;
    char url[128];
    int64_t t0, elapsed;

    (void)state;
    set_script("{\"/hang2.csv\": {\"delay\": 30}}");
    quick_opts(&o);
    o.timeout = 60;
    o.cancelled = etl_http_flag_set;
    o.cancel_arg = (void *)&stop_flag;
    url_of(url, sizeof(url), "/hang2.csv");

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_alarm_stop;
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGALRM, &sa, &old), 0);
    stop_flag = 0;
    etl_http_req_init(&r, url, NULL, NULL);
    etl_err_clear(&err);
    t0 = mono_ms();
    assert_int_equal(setitimer(ITIMER_REAL, &it, NULL), 0);
    assert_int_equal(etl_http_fetch(&r, 1, &o, &err), -1);
    elapsed = mono_ms() - t0;
    sigaction(SIGALRM, &old, NULL);
    assert_true(elapsed >= 300);
    assert_true(elapsed < 800);
    assert_string_equal(err.msg, "download cancelled");
    assert_string_equal(err.detail, "1 of 1 URLs not done");
    assert_int_equal(r.attempts, 1);
    etl_http_req_clear(&r);

    /* already set: no request at all */
    etl_http_req_init(&r, url, NULL, NULL);
    etl_err_clear(&err);
    assert_int_equal(etl_http_fetch(&r, 1, &o, &err), -1);
    assert_string_equal(err.msg, "download cancelled");
    assert_int_equal(r.attempts, 0);
    etl_http_req_clear(&r);
    stop_flag = 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha256_hex),
        cmocka_unit_test(test_spool_commit),
        cmocka_unit_test(test_spool_prepare),
        cmocka_unit_test(test_spool_open_fails),
        cmocka_unit_test(test_retry_after),
        cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_get_200),
        cmocka_unit_test(test_conditional_304),
        cmocka_unit_test(test_retry_503_retry_after),
        cmocka_unit_test(test_503_gives_up),
        cmocka_unit_test(test_429_is_retried),
        cmocka_unit_test(test_404_not_retried),
        cmocka_unit_test(test_concurrent),
        cmocka_unit_test(test_parallel_one),
        cmocka_unit_test(test_refused_scheme),
        cmocka_unit_test(test_redirect),
        cmocka_unit_test(test_max_bytes),
        cmocka_unit_test(test_connection_refused),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_truncated_then_ok),
        cmocka_unit_test(test_dropped_gives_up),
        cmocka_unit_test(test_empty_body),
        cmocka_unit_test(test_spool_unwritable),
        cmocka_unit_test(test_max_bytes_streamed),
        cmocka_unit_test(test_spool_write_errors),
        cmocka_unit_test(test_nothing_to_do),
        cmocka_unit_test(test_cancel_stalled),
        cmocka_unit_test(test_cancel_on_signal),
    };

    /* as ewc-etl's main does: a peer that closed its socket is an error
     * return from send(), not the death of the process */
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
