/*
 * support.c
 *    Shared unit test helpers; see support.h.
 */
#include "support.h"

#include "etl/ewc/catalog.h"
#include "etl/migrate.h"
#include "etl/pg.h"

#include <ftw.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *
httpd_path(void)
{
    const char *p = getenv("EWC_HTTPD");

    if (p != NULL) {
        return p;
    }
    if (access("tests/lib/httpd.py", R_OK) == 0) {
        return "tests/lib/httpd.py";
    }
    return "../../tests/lib/httpd.py";
}

int
test_httpd_start(struct test_httpd *s, const char *tag)
{
    char portfile[160];

    memset(s, 0, sizeof(*s));
    snprintf(s->dir, sizeof(s->dir), "/tmp/ewc-test-%s.XXXXXX", tag);
    if (mkdtemp(s->dir) == NULL) {
        return -1;
    }
    snprintf(s->root, sizeof(s->root), "%s/root", s->dir);
    snprintf(s->script, sizeof(s->script), "%s/script.json", s->dir);
    snprintf(s->log, sizeof(s->log), "%s/requests.jsonl", s->dir);
    snprintf(portfile, sizeof(portfile), "%s/port", s->dir);
    if (mkdir(s->root, 0755) < 0) {
        return -1;
    }
    s->pid = fork();
    if (s->pid < 0) {
        return -1;
    }
    if (s->pid == 0) {
        execlp("python3", "python3", httpd_path(), portfile, "--root", s->root,
               "--script", s->script, "--log", s->log, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 200; i++) {
        FILE *f = fopen(portfile, "r");

        if (f != NULL) {
            int ok = fscanf(f, "%d", &s->port) == 1;

            fclose(f);
            if (ok) {
                return 0;
            }
        }
        usleep(50000);
    }
    return -1;
}

void
test_httpd_stop(struct test_httpd *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        waitpid(s->pid, NULL, 0);
        s->pid = 0;
    }
    if (s->dir[0] != '\0') {
        test_rmtree(s->dir);
        s->dir[0] = '\0';
    }
}

static int
rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int
test_rmtree(const char *dir)
{
    return nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

struct test_record test_record;

static int
record_process(struct etl_stage *st, struct etl_chunk *in, struct etl_err *err)
{
    struct etl_batch *b = etl_chunk_batch(st, in, err);

    if (b == NULL) {
        return -1;
    }
    test_record.batches++;
    test_record.rows += b->n;
    test_record.last = b;
    return 0;
}

static int
record_finish(struct etl_stage *st, struct etl_verdict *v, struct etl_err *err)
{
    (void)st;
    (void)err;
    test_record.finished++;
    test_record.verdict = v->kind;
    snprintf(test_record.reason, sizeof(test_record.reason), "%s", v->reason);
    return 0;
}

static const struct etl_stage_kind record_kind = {
    .name = "record", .consumes = ETL_FLOW_ROWS, .produces = ETL_FLOW_NONE,
    .process = record_process, .finish = record_finish,
};

struct etl_stage test_record_stage = { .kind = &record_kind, .name = (char *)"record" };

/* Is $EWC_TEST_DB set?  See support.h. */
int
test_pg_required(const char *binary)
{
    const char *ci = getenv("EWC_TEST_DB");

    if (ci == NULL || ci[0] == '\0') {
        fprintf(stderr, "%s: EWC_TEST_DB is not set: this test needs a PostgreSQL "
                "database (run it through make unit, which starts one)\n", binary);
        return -1;
    }
    return 0;
}

/* Run 'sql' on the cluster's default database of $EWC_TEST_DB. */
static int
admin_exec(const char *sql)
{
    struct etl_err err;
    struct pg_conn *db;
    int rc;

    etl_err_clear(&err);
    db = etl_pg_connect(getenv("EWC_TEST_DB"), "ewc-etl unit test", &err);
    if (db == NULL) {
        fprintf(stderr, "test database: %s\n", err.msg);
        return -1;
    }
    /* no NOTICE for an IF EXISTS that finds nothing */
    rc = etl_pg_exec(db, "SET client_min_messages = warning", &err);
    if (rc == 0) {
        rc = etl_pg_exec(db, sql, &err);
    }
    if (rc < 0) {
        fprintf(stderr, "test database: %s\n", err.msg);
    }
    etl_pg_close(db);
    return rc;
}

/* A fresh database, migrated when 'migrate'. */
static struct pg_conn *
pg_open(const char *tag, bool migrate, char *conninfo, size_t size)
{
    const char *ci = getenv("EWC_TEST_DB");
    char sql[256];
    struct etl_err err;
    struct pg_conn *db;
    int applied = 0;

    if (test_pg_required("test") < 0) {
        return NULL;
    }
    snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS ewc_test_%s", tag);
    if (admin_exec(sql) < 0) {
        return NULL;
    }
    snprintf(sql, sizeof(sql), "CREATE DATABASE ewc_test_%s", tag);
    if (admin_exec(sql) < 0) {
        return NULL;
    }
    /* a keyword given twice: libpq takes the last */
    snprintf(conninfo, size, "%s dbname=ewc_test_%s", ci, tag);
    etl_err_clear(&err);
    db = etl_pg_connect(conninfo, "ewc-etl unit test", &err);
    if (db == NULL || (migrate && etl_migrate(db, &applied, &err) < 0)) {
        fprintf(stderr, "test database ewc_test_%s: %s\n", tag, err.msg);
        etl_pg_close(db);
        return NULL;
    }
    return db;
}

/* A fresh, migrated database; see support.h. */
struct pg_conn *
test_pg_open(const char *tag, char *conninfo, size_t size)
{
    return pg_open(tag, true, conninfo, size);
}

/* A fresh database without the schema; see support.h. */
struct pg_conn *
test_pg_open_bare(const char *tag, char *conninfo, size_t size)
{
    return pg_open(tag, false, conninfo, size);
}

/* Close and drop; see support.h. */
void
test_pg_drop(struct pg_conn *db, const char *tag)
{
    char sql[256];

    etl_pg_close(db);
    snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS ewc_test_%s WITH (FORCE)", tag);
    (void)admin_exec(sql);
}

struct etl_catalog *
test_catalog_load(void)
{
    struct etl_err err;
    struct etl_catalog *cat;

    etl_err_clear(&err);
    cat = etl_catalog_load("config/catalog", &err);
    if (cat == NULL) {
        fprintf(stderr, "cannot load the catalog: %s %s\n", err.where, err.msg);
    }
    return cat;
}

void
test_row(struct etl_row *r, const struct etl_catalog *cat, const char *code, const char *region,
         enum etl_period_kind kind, int32_t start, int32_t end, const char *value)
{
    const struct etl_indicator *ind = etl_catalog_indicator_find(cat, code, strlen(code));

    memset(r, 0, sizeof(*r));
    r->indicator = ind != NULL ? ind->code : NULL;
    snprintf(r->region, sizeof(r->region), "%s", region);
    r->period.kind = kind;
    r->period.start = start;
    r->period.end = end;
    snprintf(r->value, sizeof(r->value), "%s", value);
}
