/*
 * support.h
 *    What several unit tests share: the loopback HTTP test server
 *    (tests/lib/httpd.py) started and stopped by PID, removing a temp tree,
 *    a recording "next stage" for driving a row stage directly, the bundled
 *    catalog and normalized rows of it.
 *    support.c is linked into every unit test binary.
 */
#ifndef ETL_TEST_SUPPORT_H
#define ETL_TEST_SUPPORT_H

#include <stddef.h>
#include <sys/types.h>

#include "etl/ewc/row.h"
#include "etl/stage.h"

/* A tests/lib/httpd.py on 127.0.0.1, serving 'root' of its own temp dir. */
struct test_httpd {
    pid_t pid;
    char dir[64];           /* temp dir holding everything below */
    char root[128];         /* served files */
    char spool[128];        /* for the test's own use (not created) */
    char script[128];       /* scripted responses, re-read per request */
    char log[128];          /* one JSON line per request */
    int port;
};

/* Make /tmp/ewc-test-<tag>.XXXXXX with root/, start the server, wait for
 * its port.  0, or -1 (the caller's setup fails). */
int test_httpd_start(struct test_httpd *s, const char *tag);
/* Stop the server (by its PID) and remove the temp dir; safe to repeat. */
void test_httpd_stop(struct test_httpd *s);

/* rm -r 'dir'; 0 or -1. */
int test_rmtree(const char *dir);

struct pg_conn;

/*
 * A fresh database "ewc_test_<tag>" in the cluster of $EWC_TEST_DB (which
 * tests/run-unit sets), migrated as `ewc-etl migrate` does (etl_migrate);
 * its conninfo in 'conninfo'.  NULL when impossible, with the reason on
 * stderr: a test that needs it fails.
 */
struct pg_conn *test_pg_open(const char *tag, char *conninfo, size_t size);
/* As test_pg_open, without the migrations: an empty database. */
struct pg_conn *test_pg_open_bare(const char *tag, char *conninfo, size_t size);
/* Close 'db' and drop its database "ewc_test_<tag>". */
void test_pg_drop(struct pg_conn *db, const char *tag);
/* For main(): 0 when $EWC_TEST_DB is set, else -1 after saying so on stderr. */
int test_pg_required(const char *binary);

/* A row stage's next stage that counts what reaches it. */
struct test_record {
    int batches, finished;
    enum etl_verdict_kind verdict;  /* as the last finish() received it */
    char reason[256];
    size_t rows;
    const struct etl_batch *last;
};
extern struct test_record test_record;
extern struct etl_stage test_record_stage;

struct etl_catalog;

/* The bundled catalog (config/catalog: the tests run in the repository);
 * NULL after saying why on stderr (the caller's setup fails). */
struct etl_catalog *test_catalog_load(void);
/*
 * 'r' zeroed, then a normalized row: the catalog's indicator 'code' (NULL
 * in r->indicator when the catalog has no such code: the caller asserts
 * it), a region code, a period of 'kind' from 'start' to 'end' (YYYYMMDD)
 * and an exact decimal value.
 */
void test_row(struct etl_row *r, const struct etl_catalog *cat, const char *code,
              const char *region, enum etl_period_kind kind, int32_t start, int32_t end,
              const char *value);

#endif
