/*
 * test_stage_fetch.c
 *    Unit tests of the http_fetch stage (stages/fetch.c): configure() errors
 *    with their file:line:col, URL template expansion (vars, years, ranges,
 *    --year), credentials in URLs (redacted in the files' URLs and errors,
 *    sent to the server), offline mode without a ledger, and a run against
 *    the loopback server tests/lib/httpd.py (fork/exec on 127.0.0.1, stopped
 *    by PID).
 *    The run, pipeline and config are built by hand with db = NULL.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "etl/config.h"
#include "etl/http.h"
#include "support.h"
#include "etl/pg.h"
#include "etl/pipeline.h"
#include "etl/spool.h"
#include "etl/stage.h"

extern const struct etl_stage_kind etl_stage_http_fetch;

#define SHA_ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

static struct test_httpd srv;

/* One configured stage with its hand-built pipeline, config and run. */
struct fx {
    struct etl_doc *doc;
    struct etl_config cfg;
    struct etl_pipeline pl;
    struct etl_stage st;
    struct etl_run run;
    struct etl_err err;
};

static void
write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
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
    if (test_httpd_start(&srv, "fetch") < 0) {
        return -1;
    }
    /* not created: a run makes it */
    snprintf(srv.spool, sizeof(srv.spool), "%s/var/spool", srv.dir);
    return 0;
}

static int
group_teardown(void **state)
{
    (void)state;
    test_httpd_stop(&srv);
    etl_http_global_cleanup();
    return 0;
}

/*
 * Parse 'yaml' (one stage mapping, file name "p.yaml") and configure the
 * stage from it; returns configure()'s result, the error in fx->err.
 */
static int
fx_init(struct fx *fx, const char *yaml)
{
    memset(fx, 0, sizeof(*fx));
    etl_err_clear(&fx->err);
    fx->doc = etl_doc_parse("p.yaml", yaml, strlen(yaml), &fx->err);
    assert_non_null(fx->doc);
    fx->cfg.spool_dir = srv.spool;
    fx->pl.name = "nightly";
    fx->pl.config = &fx->cfg;
    fx->st.kind = &etl_stage_http_fetch;
    fx->st.name = "fetch";
    fx->st.node = fx->doc->root;
    fx->st.pipeline = &fx->pl;
    fx->run.pipeline = &fx->pl;
    fx->run.kind = "manual";
    return etl_stage_http_fetch.configure(&fx->st, fx->doc->root, &fx->err);
}

static void
fx_free(struct fx *fx)
{
    for (size_t i = 0; i < fx->run.nfiles; i++) {
        free(fx->run.files[i].url);
        free(fx->run.files[i].spool_path);
        free(fx->run.files[i].etag);
        free(fx->run.files[i].last_modified);
    }
    free(fx->run.files);
    etl_stage_http_fetch.destroy(&fx->st);
    assert_null(fx->st.ctx);
    etl_doc_free(fx->doc);
}

/* Configure, which must fail, and check code, message and location. */
static void
expect_config_error(const char *yaml, const char *msg, const char *where)
{
    struct fx fx;

    assert_int_equal(fx_init(&fx, yaml), -1);
    assert_int_equal(fx.err.code, ETL_E_CONFIG);
    assert_string_equal(fx.err.msg, msg);
    assert_string_equal(fx.err.where, where);
    fx_free(&fx);
}

/* Configure and run offline (no ledger): every file fails "not in the spool". */
static void
run_offline(struct fx *fx, const char *yaml, int year)
{
    assert_int_equal(fx_init(fx, yaml), 0);
    fx->run.offline = true;
    fx->run.year = year;
    assert_int_equal(etl_stage_http_fetch.run(&fx->st, &fx->run, &fx->err), 0);
    assert_int_equal(fx->err.code, ETL_E_NONE);
}

/* ---- descriptor and configure ---- */

static void
test_descriptor(void **state)
{
    (void)state;
    assert_string_equal(etl_stage_http_fetch.name, "http_fetch");
    assert_int_equal(etl_stage_http_fetch.consumes, ETL_FLOW_RUN);
    assert_int_equal(etl_stage_http_fetch.produces, ETL_FLOW_FILE);
    assert_non_null(etl_stage_http_fetch.run);
    assert_null(etl_stage_http_fetch.process);
    assert_string_equal(etl_stage_http_fetch.keys[0].name, "urls");
    assert_true(etl_stage_http_fetch.keys[0].required);
}

static void
test_unknown_placeholder(void **state)
{
    struct fx fx;

    (void)state;
    assert_int_equal(fx_init(&fx,
                             "name: fetch\n"
                             "kind: http_fetch\n"
                             "vars:\n"
                             "  region: [gd, gx]\n"
                             "urls:\n"
                             "  - http://h/{year}/{region}.csv\n"
                             "  - http://h/{regoin}.csv\n"), -1);
    assert_int_equal(fx.err.code, ETL_E_CONFIG);
    assert_string_equal(fx.err.msg,
                        "unknown placeholder {regoin} in URL template \"http://h/{regoin}.csv\"");
    assert_string_equal(fx.err.where, "p.yaml:7:5");
    assert_string_equal(fx.err.hint,
                        "placeholders: year, region (define others under \"vars\")");
    fx_free(&fx);
}

static void
test_config_errors(void **state)
{
    (void)state;
    expect_config_error("name: f\nurls: http://h/{}.csv\n",
                        "invalid placeholder at \"{}.csv\" in URL template \"http://h/{}.csv\"",
                        "p.yaml:2:7");
    expect_config_error("name: f\nurls: http://h/{year.csv\n",
                        "invalid placeholder at \"{year.csv\" in URL template "
                        "\"http://h/{year.csv\"", "p.yaml:2:7");
    expect_config_error("name: f\nurls: ftp://h/a.csv\n",
                        "URL \"ftp://h/a.csv\" must start with http:// or https://",
                        "p.yaml:2:7");
    expect_config_error("name: f\nurls: []\n", "\"urls\" is an empty list", "p.yaml:2:7");
    expect_config_error("name: f\nurls: [http://h/a, [x]]\n",
                        "a URL must be a non-empty string", "p.yaml:2:20");
    expect_config_error("name: f\nurls: {a: b}\n",
                        "\"urls\" must be a string or a list", "p.yaml:2:7");
    expect_config_error("name: f\n", "stage has no \"urls\"", "p.yaml:1:1");
    /* vars */
    expect_config_error("urls: http://h/a\nvars:\n  year: [1]\n",
                        "\"year\" cannot be a variable", "p.yaml:3:3");
    expect_config_error("urls: http://h/a\nvars:\n  p-q: [1]\n",
                        "invalid variable name \"p-q\" (letters, digits, _)", "p.yaml:3:3");
    expect_config_error("urls: http://h/a\nvars:\n  p: []\n",
                        "variable \"p\" must be a non-empty list", "p.yaml:3:6");
    expect_config_error("urls: http://h/a\nvars:\n  p: gd\n",
                        "variable \"p\" must be a non-empty list", "p.yaml:3:6");
    expect_config_error("urls: http://h/a\nvars:\n  p: [gd, {a: 1}]\n",
                        "values of variable \"p\" must be strings or integers", "p.yaml:3:11");
    /* years */
    expect_config_error("urls: http://h/{year}\nyears: \"2022..2020\"\n",
                        "year range \"2022..2020\" ends before it starts", "p.yaml:2:8");
    expect_config_error("urls: http://h/{year}\nyears: [2020, 1800]\n",
                        "year 1800 is out of range (1900 to 2100)", "p.yaml:2:15");
    expect_config_error("urls: http://h/{year}\nyears: 2020..x\n",
                        "invalid \"years\"", "p.yaml:2:8");
    expect_config_error("urls: http://h/{year}\nyears: soon\n",
                        "expected an integer, found \"soon\"", "p.yaml:2:8");
    expect_config_error("urls: http://h/{year}\nyears: [2020, x]\n",
                        "expected an integer, found \"x\"", "p.yaml:2:15");
    expect_config_error("urls: http://h/{year}\nyears: []\n",
                        "\"years\" is an empty list", "p.yaml:2:8");
    expect_config_error("urls: http://h/{year}\nyears: \"1900..2100\"\n",
                        "too many years (at most 200)", "p.yaml:2:8");
    expect_config_error("urls: http://h/{year}\nyears: {a: 1}\n",
                        "invalid \"years\"", "p.yaml:2:8");
    /* numbers */
    expect_config_error("urls: http://h/a\nparallel: 0\n",
                        "0 is out of range (1 to 32)", "p.yaml:2:11");
    expect_config_error("urls: http://h/a\nretries: 21\n",
                        "21 is out of range (0 to 20)", "p.yaml:2:10");
    expect_config_error("urls: http://h/a\nbackoff_ms: 1000\nbackoff_max_ms: 10\n",
                        "backoff_max_ms (10) is less than backoff_ms (1000)", "p.yaml:3:17");
    expect_config_error("urls: http://h/a\nmax_bytes: 0\n",
                        "0 is out of range (1 to 9223372036854775807)", "p.yaml:2:12");
    /* headers */
    expect_config_error("urls: http://h/a\nheaders:\n  \"Bad Name\": x\n",
                        "invalid header name \"Bad Name\"", "p.yaml:3:3");
    expect_config_error("urls: http://h/a\nheaders:\n  If-None-Match: x\n",
                        "header \"If-None-Match\" is set from the ledger, not the YAML",
                        "p.yaml:3:3");
    expect_config_error("urls: http://h/a\nheaders:\n  X-A: \"a\\r\\nb\"\n",
                        "header \"X-A\" must not contain a line break", "p.yaml:3:8");
    expect_config_error("urls: http://h/a\nheaders:\n  X-A: [a]\n",
                        "header \"X-A\" must be a string", "p.yaml:3:8");
    /* secret_params */
    expect_config_error("urls: http://h/a\nsecret_params: token\n",
                        "\"secret_params\" must be a list of parameter names", "p.yaml:2:16");
    expect_config_error("urls: http://h/a\nsecret_params: [token, \"a=b\"]\n",
                        "invalid secret parameter name (no '=', '&', ';', '?', '#'; "
                        "at most 64 bytes)", "p.yaml:2:24");
    expect_config_error("urls: http://h/a\nsecret_params: [\"\"]\n",
                        "invalid secret parameter name (no '=', '&', ';', '?', '#'; "
                        "at most 64 bytes)", "p.yaml:2:17");
    /* a template in an error is shown redacted */
    expect_config_error("urls: ftp://u:pw@h/a.csv?token=t&y=1\n",
                        "URL \"ftp://***@h/a.csv?token=***&y=1\" must start with http:// or "
                        "https://", "p.yaml:1:7");
    expect_config_error("urls: http://h/{p}.csv?sig=s\nsecret_params: [sig]\n",
                        "unknown placeholder {p} in URL template \"http://h/{p}.csv?sig=***\"",
                        "p.yaml:1:7");
}

/* ---- expansion (offline, no ledger: each file fails, in order) ---- */

static void
test_expand_vars_years(void **state)
{
    static const struct { const char *url; int year; } want[] = {
        { "http://h/2020/gd-1.csv", 2020 }, { "http://h/2021/gd-1.csv", 2021 },
        { "http://h/2020/gd-2.csv", 2020 }, { "http://h/2021/gd-2.csv", 2021 },
        { "http://h/2020/gx-1.csv", 2020 }, { "http://h/2021/gx-1.csv", 2021 },
        { "http://h/2020/gx-2.csv", 2020 }, { "http://h/2021/gx-2.csv", 2021 },
        { "http://h/static.csv", 0 },
        { "http://h/gd/gd.csv", 0 }, { "http://h/gx/gx.csv", 0 },
    };
    struct fx fx;

    (void)state;
    run_offline(&fx,
                "name: fetch\n"
                "urls:\n"
                "  - http://h/{year}/{p}-{k}.csv\n"
                "  - http://h/static.csv\n"
                "  - http://h/{p}/{p}.csv\n"
                "  - http://h/static.csv\n"
                "vars:\n"
                "  p: [gd, gx]\n"
                "  k: [1, 2]\n"
                "years: [2020, 2021]\n", 0);
    assert_int_equal(fx.run.nfiles, sizeof(want) / sizeof(want[0]));
    for (size_t i = 0; i < fx.run.nfiles; i++) {
        const struct etl_file *f = &fx.run.files[i];
        char msg[256];

        assert_string_equal(f->url, want[i].url);
        assert_int_equal(f->year, want[i].year);
        assert_int_equal(f->status, ETL_FILE_FAILED);
        assert_ptr_equal(f->from, &fx.st);
        assert_int_equal(f->err.code, ETL_E_IO);
        snprintf(msg, sizeof(msg), "%s: not in the spool", want[i].url);
        assert_string_equal(f->err.msg, msg);
        assert_string_equal(f->err.detail, "the ledger has no download of it");
        assert_null(f->spool_path);
    }
    fx_free(&fx);
}

/*
 * Several --year (run->years) replace "years"; a backfill expands only the
 * templates with {year}; a plan's listing appends pending files, no I/O.
 */
static void
test_expand_years_backfill_list(void **state)
{
    static const int years[] = { 2019, 2021 };
    const char *yaml = "urls: [\"http://h/{year}.csv\", http://h/static.csv]\n"
                       "years: [2020]\n";
    struct fx fx;

    (void)state;
    assert_int_equal(fx_init(&fx, yaml), 0);
    fx.run.offline = true;
    fx.run.years = years;
    fx.run.nyears = 2;
    assert_int_equal(etl_stage_http_fetch.run(&fx.st, &fx.run, &fx.err), 0);
    assert_int_equal(fx.run.nfiles, 3);
    assert_string_equal(fx.run.files[0].url, "http://h/2019.csv");
    assert_string_equal(fx.run.files[1].url, "http://h/2021.csv");
    assert_int_equal(fx.run.files[1].year, 2021);
    assert_string_equal(fx.run.files[2].url, "http://h/static.csv");
    fx_free(&fx);

    /* a backfill: the template without {year} is left out */
    assert_int_equal(fx_init(&fx, yaml), 0);
    fx.run.offline = true;
    fx.run.backfill = true;
    fx.run.year = 2021;
    assert_int_equal(etl_stage_http_fetch.run(&fx.st, &fx.run, &fx.err), 0);
    assert_int_equal(fx.run.nfiles, 1);
    assert_string_equal(fx.run.files[0].url, "http://h/2021.csv");
    fx_free(&fx);

    /* a plan's listing: pending files, nothing read or downloaded */
    assert_int_equal(fx_init(&fx, yaml), 0);
    fx.run.list_only = true;
    assert_int_equal(etl_stage_http_fetch.run(&fx.st, &fx.run, &fx.err), 0);
    assert_int_equal(fx.run.nfiles, 2);
    assert_string_equal(fx.run.files[0].url, "http://h/2020.csv");
    assert_int_equal(fx.run.files[0].status, ETL_FILE_PENDING);
    assert_null(fx.run.files[0].spool_path);
    assert_int_equal(fx.run.files[1].year, 0);
    assert_ptr_equal(fx.run.files[1].from, &fx.st);
    fx_free(&fx);
}

static void
test_expand_range_and_override(void **state)
{
    const char *yaml = "urls: http://h/{year}.csv\nyears: \"2020..2022\"\n";
    struct fx fx;

    (void)state;
    run_offline(&fx, yaml, 0);
    assert_int_equal(fx.run.nfiles, 3);
    assert_string_equal(fx.run.files[0].url, "http://h/2020.csv");
    assert_string_equal(fx.run.files[1].url, "http://h/2021.csv");
    assert_string_equal(fx.run.files[2].url, "http://h/2022.csv");
    assert_int_equal(fx.run.files[2].year, 2022);
    fx_free(&fx);

    /* --year replaces "years" */
    run_offline(&fx, yaml, 2019);
    assert_int_equal(fx.run.nfiles, 1);
    assert_string_equal(fx.run.files[0].url, "http://h/2019.csv");
    assert_int_equal(fx.run.files[0].year, 2019);
    fx_free(&fx);

    /* --year without "years"; a single year as a scalar */
    run_offline(&fx, "urls: http://h/{year}.csv\n", 2021);
    assert_int_equal(fx.run.nfiles, 1);
    assert_string_equal(fx.run.files[0].url, "http://h/2021.csv");
    fx_free(&fx);
    run_offline(&fx, "urls: http://h/{year}.csv\nyears: 2018\n", 0);
    assert_int_equal(fx.run.nfiles, 1);
    assert_string_equal(fx.run.files[0].url, "http://h/2018.csv");
    fx_free(&fx);
}

static void
test_expand_no_year(void **state)
{
    struct fx fx;

    (void)state;
    assert_int_equal(fx_init(&fx, "name: fetch\nurls:\n  - http://h/a.csv\n"
                                  "  - http://h/{year}.csv\n"), 0);
    fx.run.offline = true;
    assert_int_equal(etl_stage_http_fetch.run(&fx.st, &fx.run, &fx.err), -1);
    assert_int_equal(fx.err.code, ETL_E_CONFIG);
    assert_string_equal(fx.err.msg,
                        "URL template \"http://h/{year}.csv\" uses {year} but no year is given");
    assert_string_equal(fx.err.where, "p.yaml:4:5");
    assert_string_equal(fx.err.hint, "list \"years\" in the stage or run with --year");
    assert_int_equal(fx.run.nfiles, 0);
    fx_free(&fx);
}

static void
test_expand_encoding(void **state)
{
    struct fx fx;

    (void)state;
    run_offline(&fx, "urls: http://h/{p}.csv\nvars:\n  p: [\"广东 省\", a/b]\n", 0);
    assert_int_equal(fx.run.nfiles, 2);
    assert_string_equal(fx.run.files[0].url, "http://h/%E5%B9%BF%E4%B8%9C%20%E7%9C%81.csv");
    assert_string_equal(fx.run.files[1].url, "http://h/a/b.csv");
    fx_free(&fx);
}

/* Credentials in URLs: the files' URLs, errors and ledger keys are redacted. */
static void
test_expand_secrets(void **state)
{
    struct fx fx;

    (void)state;
    run_offline(&fx,
                "urls: http://user:pw@h/{p}.csv?token=s3cr3t&x=1&Key=k\n"
                "vars:\n  p: [a, b]\n", 0);
    assert_int_equal(fx.run.nfiles, 2);
    assert_string_equal(fx.run.files[0].url, "http://***@h/a.csv?token=***&x=1&Key=***");
    assert_string_equal(fx.run.files[1].url, "http://***@h/b.csv?token=***&x=1&Key=***");
    assert_string_equal(fx.run.files[1].err.msg,
                        "http://***@h/b.csv?token=***&x=1&Key=***: not in the spool");
    fx_free(&fx);

    /* the stage's names replace the defaults */
    run_offline(&fx,
                "urls: http://h/{k}.csv?key={k}&client_secret=c&token=t\n"
                "vars:\n  k: [gdp, cpi]\n"
                "secret_params: [client_secret]\n", 0);
    assert_int_equal(fx.run.nfiles, 2);
    assert_string_equal(fx.run.files[0].url, "http://h/gdp.csv?key=gdp&client_secret=***&token=t");
    assert_string_equal(fx.run.files[1].url, "http://h/cpi.csv?key=cpi&client_secret=***&token=t");
    fx_free(&fx);

    /* two URLs the redaction makes one: an error, not one source for both */
    assert_int_equal(fx_init(&fx, "urls: http://h/x.csv?key={k}\nvars:\n  k: [gdp, cpi]\n"),
                     0);
    fx.run.offline = true;
    assert_int_equal(etl_stage_http_fetch.run(&fx.st, &fx.run, &fx.err), -1);
    assert_int_equal(fx.err.code, ETL_E_CONFIG);
    assert_string_equal(fx.err.msg, "two URLs differ only in secret values, both shown as "
                                    "\"http://h/x.csv?key=***\"");
    assert_string_equal(fx.err.where, "p.yaml:1:7");
    assert_string_equal(fx.err.hint, "a parameter that tells sources apart is no secret: "
                                     "list the secret ones under \"secret_params\"");
    assert_int_equal(fx.run.nfiles, 0);
    fx_free(&fx);

    /* the template in the {year} error too */
    assert_int_equal(fx_init(&fx, "urls: http://u:p@h/{year}.csv?token=t\n"), 0);
    fx.run.offline = true;
    assert_int_equal(etl_stage_http_fetch.run(&fx.st, &fx.run, &fx.err), -1);
    assert_string_equal(fx.err.msg, "URL template \"http://***@h/{year}.csv?token=***\" uses "
                                    "{year} but no year is given");
    fx_free(&fx);
}

/* ---- runs against the server ---- */

static void
test_run_online(void **state)
{
    struct fx fx;
    char yaml[512], url[2][160], expect[400];
    struct stat sb;

    (void)state;
    snprintf(yaml, sizeof(yaml),
             "name: fetch\n"
             "urls: http://127.0.0.1:%d/{f}.csv\n"
             "vars:\n"
             "  f: [abc, gone]\n"
             "retries: 2\n"
             "backoff_ms: 10\n"
             "headers:\n"
             "  X-Test: yes\n", srv.port);
    snprintf(url[0], sizeof(url[0]), "http://127.0.0.1:%d/abc.csv", srv.port);
    snprintf(url[1], sizeof(url[1]), "http://127.0.0.1:%d/gone.csv", srv.port);
    snprintf(expect, sizeof(expect), "%s/abc.csv", srv.root);
    write_file(expect, "abc");
    assert_int_equal(fx_init(&fx, yaml), 0);
    /* the spool dir (srv.dir/var/spool) does not exist yet: run creates it */
    assert_int_equal(stat(srv.spool, &sb), -1);
    assert_int_equal(etl_stage_http_fetch.run(&fx.st, &fx.run, &fx.err), 0);
    assert_int_equal(fx.err.code, ETL_E_NONE);
    assert_int_equal(stat(srv.spool, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0750);
    assert_int_equal(fx.run.nfiles, 2);

    assert_string_equal(fx.run.files[0].url, url[0]);
    assert_int_equal(fx.run.files[0].status, ETL_FILE_PENDING);
    assert_int_equal(fx.run.files[0].http_status, 200);
    assert_string_equal(fx.run.files[0].sha256, SHA_ABC);
    assert_int_equal(fx.run.files[0].bytes, 3);
    snprintf(expect, sizeof(expect), "%s/" SHA_ABC, srv.spool);
    assert_string_equal(fx.run.files[0].spool_path, expect);
    assert_string_equal(fx.run.files[0].etag, "\"a9993e364706816aba3e25717850c26c9cd0d89d\"");
    assert_non_null(fx.run.files[0].last_modified);
    assert_int_equal(fx.run.files[0].err.code, ETL_E_NONE);
    assert_ptr_equal(fx.run.files[0].from, &fx.st);

    assert_string_equal(fx.run.files[1].url, url[1]);
    assert_int_equal(fx.run.files[1].status, ETL_FILE_FAILED);
    assert_int_equal(fx.run.files[1].http_status, 404);
    assert_int_equal(fx.run.files[1].err.code, ETL_E_NET);
    assert_false(fx.run.files[1].err.retryable);
    snprintf(expect, sizeof(expect), "GET %s: HTTP 404 Not Found", url[1]);
    assert_string_equal(fx.run.files[1].err.msg, expect);
    assert_null(fx.run.files[1].spool_path);
    assert_null(fx.run.files[1].etag);
    fx_free(&fx);
}

static void
test_run_spool_unwritable(void **state)
{
    struct fx fx;
    char file[160], dir[200], expect[400];

    (void)state;
    snprintf(file, sizeof(file), "%s/plain", srv.dir);
    write_file(file, "x");
    snprintf(dir, sizeof(dir), "%s/spool", file);
    assert_int_equal(fx_init(&fx, "urls: http://127.0.0.1:1/a.csv\n"), 0);
    fx.cfg.spool_dir = dir;
    assert_int_equal(etl_stage_http_fetch.run(&fx.st, &fx.run, &fx.err), -1);
    assert_int_equal(fx.err.code, ETL_E_IO);
    snprintf(expect, sizeof(expect),
             "could not create spool directory \"%s\": Not a directory", dir);
    assert_string_equal(fx.err.msg, expect);
    assert_int_equal(fx.run.nfiles, 0);
    fx_free(&fx);
}

/*
 * Credentials reach the server (basic auth from userinfo, the token in the
 * query) and nothing else: the files' URLs and errors are redacted.
 */
static void
test_run_secrets(void **state)
{
    struct fx fx;
    char yaml[512], expect[400], line[1024];
    FILE *log;
    int seen = 0;

    (void)state;
    snprintf(yaml, sizeof(yaml),
             "urls:\n"
             "  - http://user:pw@127.0.0.1:%d/sec.csv?token=s3cr3t&y=1\n"
             "  - http://127.0.0.1:%d/nosuch.csv?api_key=s3cr3t\n", srv.port, srv.port);
    snprintf(expect, sizeof(expect), "%s/sec.csv", srv.root);
    write_file(expect, "abc");
    assert_int_equal(fx_init(&fx, yaml), 0);
    assert_int_equal(etl_stage_http_fetch.run(&fx.st, &fx.run, &fx.err), 0);
    assert_int_equal(fx.run.nfiles, 2);
    snprintf(expect, sizeof(expect), "http://***@127.0.0.1:%d/sec.csv?token=***&y=1", srv.port);
    assert_string_equal(fx.run.files[0].url, expect);
    assert_int_equal(fx.run.files[0].status, ETL_FILE_PENDING);
    assert_string_equal(fx.run.files[0].sha256, SHA_ABC);
    snprintf(expect, sizeof(expect), "GET http://127.0.0.1:%d/nosuch.csv?api_key=***: HTTP 404 "
             "Not Found", srv.port);
    assert_string_equal(fx.run.files[1].err.msg, expect);
    fx_free(&fx);
    /* the server was asked with the token */
    usleep(200000);
    log = fopen(srv.log, "r");
    assert_non_null(log);
    while (fgets(line, sizeof(line), log) != NULL) {
        seen += strstr(line, "\"path\": \"/sec.csv?token=s3cr3t&y=1\"") != NULL;
    }
    fclose(log);
    assert_int_equal(seen, 1);
}

/* A run whose ledger connection is broken: the stage stops, naming the ledger. */
static void
test_ledger_query_fails(void **state)
{
    struct pg_conn db;
    struct fx fx;

    (void)state;
    db.in_copy = false;
    db.conn = PQconnectdb("host=/nonexistent-ewc-socket-dir connect_timeout=1");
    assert_non_null(db.conn);
    assert_int_equal(PQstatus(db.conn), CONNECTION_BAD);
    assert_int_equal(fx_init(&fx, "urls: http://127.0.0.1:1/a.csv\n"), 0);
    fx.run.db = &db;
    assert_int_equal(etl_stage_http_fetch.run(&fx.st, &fx.run, &fx.err), -1);
    assert_int_equal(fx.err.code, ETL_E_DB);
    assert_true(fx.err.retryable);
    assert_int_equal(strncmp(fx.err.msg, "query failed: ", 14), 0);
    assert_string_equal(fx.err.where, "reading the ledger's sources");
    assert_int_equal(fx.run.nfiles, 0);
    fx_free(&fx);
    PQfinish(db.conn);
}

/* Run the stage once more on a fresh run (files of the previous one freed). */
static void
fx_rerun(struct fx *fx, bool offline)
{
    for (size_t i = 0; i < fx->run.nfiles; i++) {
        free(fx->run.files[i].url);
        free(fx->run.files[i].spool_path);
        free(fx->run.files[i].etag);
        free(fx->run.files[i].last_modified);
    }
    free(fx->run.files);
    fx->run.files = NULL;
    fx->run.nfiles = fx->run.capfiles = 0;
    fx->run.offline = offline;
    assert_int_equal(etl_stage_http_fetch.run(&fx->st, &fx->run, &fx->err), 0);
    assert_int_equal(fx->err.code, ETL_E_NONE);
}

static void
ledger_put(struct pg_conn *db, const char *pipeline, const char *url, const char *etag,
           const char *sha)
{
    const char *params[4] = { pipeline, url, etag, sha };
    struct etl_err err;

    etl_err_clear(&err);
    assert_int_equal(etl_pg_query(db,
                                  "INSERT INTO ledger.source (pipeline, url, etag, sha256) "
                                  "VALUES ($1, $2, $3, $4)", 4, params, NULL, &err), 0);
}

/*
 * With a real ledger (EWC_TEST_DB, a conninfo; skipped without): validators
 * and hashes from ledger.source drive 304s, "unchanged" and offline runs.
 */
static void
test_ledger(void **state)
{
    const char *ci = getenv("EWC_TEST_DB");
    char pipeline[64], yaml[512], url[3][160], expect[400], line[1024];
    char etag_a[128], sha_b[ETL_SHA256_HEX];
    const char *params[1];
    struct pg_conn *db;
    struct fx fx;
    FILE *log;
    int n304 = 0;

    (void)state;
    if (ci == NULL || ci[0] == '\0') {
        skip();
    }
    etl_err_clear(&fx.err);
    db = etl_pg_connect(ci, "test_stage_fetch", &fx.err);
    assert_non_null(db);
    assert_int_equal(etl_pg_exec(db,
                                 "CREATE SCHEMA IF NOT EXISTS ledger;"
                                 "CREATE TABLE IF NOT EXISTS ledger.file ("
                                 " id bigserial PRIMARY KEY, sha256 text, error text);"
                                 "CREATE TABLE IF NOT EXISTS ledger.source ("
                                 " id bigserial PRIMARY KEY, pipeline text NOT NULL,"
                                 " url text NOT NULL, etag text, last_modified text,"
                                 " sha256 text, file_id bigint, refused_file_id bigint,"
                                 " refused_etag text, refused_last_modified text,"
                                 " refused_config text, UNIQUE (pipeline, url))",
                                 &fx.err), 0);
    snprintf(pipeline, sizeof(pipeline), "test-fetch-%d", (int)getpid());
    snprintf(yaml, sizeof(yaml),
             "urls: http://127.0.0.1:%d/l{f}.csv\nvars:\n  f: [a, b, c]\n", srv.port);
    for (int i = 0; i < 3; i++) {
        snprintf(url[i], sizeof(url[i]), "http://127.0.0.1:%d/l%c.csv", srv.port, 'a' + i);
        snprintf(expect, sizeof(expect), "%s/l%c.csv", srv.root, 'a' + i);
        write_file(expect, i == 0 ? "abc" : i == 1 ? "bbb" : "ccc");
    }
    assert_int_equal(fx_init(&fx, yaml), 0);
    fx.pl.name = pipeline;
    fx.run.db = db;

    /* 1: empty ledger, three new bodies */
    fx_rerun(&fx, false);
    assert_int_equal(fx.run.nfiles, 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(fx.run.files[i].status, ETL_FILE_PENDING);
    }
    snprintf(etag_a, sizeof(etag_a), "%s", fx.run.files[0].etag);
    snprintf(sha_b, sizeof(sha_b), "%s", fx.run.files[1].sha256);
    ledger_put(db, pipeline, url[0], etag_a, SHA_ABC);
    ledger_put(db, pipeline, url[1], NULL, sha_b);

    /* 2: a -> 304 (If-None-Match from the ledger), b -> same hash, c -> new */
    fx_rerun(&fx, false);
    assert_int_equal(fx.run.files[0].status, ETL_FILE_UNCHANGED);
    assert_int_equal(fx.run.files[0].http_status, 304);
    assert_string_equal(fx.run.files[0].sha256, SHA_ABC);
    assert_string_equal(fx.run.files[0].etag, etag_a);
    snprintf(expect, sizeof(expect), "%s/" SHA_ABC, srv.spool);
    assert_string_equal(fx.run.files[0].spool_path, expect);
    assert_int_equal(fx.run.files[0].bytes, 3);
    assert_int_equal(fx.run.files[1].status, ETL_FILE_UNCHANGED);
    assert_int_equal(fx.run.files[1].http_status, 200);
    assert_string_equal(fx.run.files[1].sha256, sha_b);
    assert_int_equal(fx.run.files[2].status, ETL_FILE_PENDING);
    /* the request log: la.csv asked with its ETag once, and got a 304 */
    usleep(200000);
    log = fopen(srv.log, "r");
    assert_non_null(log);
    while (fgets(line, sizeof(line), log) != NULL) {
        if (strstr(line, "\"path\": \"/la.csv\"") != NULL &&
            strstr(line, "\"status\": 304") != NULL &&
            strstr(line, "\"if_none_match\": null") == NULL) {
            n304++;
        }
    }
    fclose(log);
    assert_int_equal(n304, 1);

    /* 3: offline from the spool; b's body is not there, c has no ledger row */
    params[0] = pipeline;
    assert_int_equal(etl_pg_query(db,
                                  "UPDATE ledger.source SET sha256 = repeat('0', 64) "
                                  "WHERE pipeline = $1 AND url LIKE '%/lb.csv'", 1, params,
                                  NULL, &fx.err), 0);
    fx_rerun(&fx, true);
    assert_int_equal(fx.run.files[0].status, ETL_FILE_PENDING);
    assert_int_equal(fx.run.files[0].http_status, 0);
    assert_int_equal(fx.run.files[0].bytes, 3);
    assert_string_equal(fx.run.files[0].sha256, SHA_ABC);
    assert_string_equal(fx.run.files[0].spool_path, expect);
    assert_string_equal(fx.run.files[0].etag, etag_a);
    assert_int_equal(fx.run.files[1].status, ETL_FILE_FAILED);
    assert_int_equal(fx.run.files[1].err.code, ETL_E_IO);
    snprintf(expect, sizeof(expect), "%s: not in the spool", url[1]);
    assert_string_equal(fx.run.files[1].err.msg, expect);
    snprintf(expect, sizeof(expect), "spool file \"%s/%064d\" is missing", srv.spool, 0);
    assert_string_equal(fx.run.files[1].err.detail, expect);
    assert_null(fx.run.files[1].spool_path);
    assert_int_equal(fx.run.files[2].status, ETL_FILE_FAILED);
    assert_string_equal(fx.run.files[2].err.detail, "the ledger has no download of it");

    assert_int_equal(etl_pg_query(db, "DELETE FROM ledger.source WHERE pipeline = $1", 1,
                                  params, NULL, &fx.err), 0);
    fx_free(&fx);
    etl_pg_close(db);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_descriptor),
        cmocka_unit_test(test_unknown_placeholder),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_expand_vars_years),
        cmocka_unit_test(test_expand_range_and_override),
        cmocka_unit_test(test_expand_years_backfill_list),
        cmocka_unit_test(test_expand_no_year),
        cmocka_unit_test(test_expand_encoding),
        cmocka_unit_test(test_expand_secrets),
        cmocka_unit_test(test_run_online),
        cmocka_unit_test(test_run_secrets),
        cmocka_unit_test(test_run_spool_unwritable),
        cmocka_unit_test(test_ledger_query_fails),
        cmocka_unit_test(test_ledger),
    };

    /* as ewc-etl's main does: a peer that closed its socket is an error
     * return from send(), not the death of the process */
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
