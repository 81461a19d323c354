/*
 * sql.c
 *    The sql stage: runs a SQL file (or inline SQL) once per run, after all
 *    of its needs, on the run's connection, in its own transaction.  For
 *    reconciliation queries and refreshing views; its failure fails the run.
 *    The file is read when the stage runs, not at configure time, so `check`
 *    reports a missing file as a config error but a run sees the current text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "etl/buf.h"
#include "etl/log.h"
#include "etl/pg.h"
#include "etl/pipeline.h"
#include "etl/stage.h"

#define SQL_MAX_BYTES ((size_t)16 << 20)

struct sqlstage {
    char *path;     /* resolved file path, or NULL */
    char *text;     /* inline SQL, or NULL */
};

static int
sql_configure(struct etl_stage *st, const struct etl_node *node, struct etl_err *err)
{
    const struct etl_node *file = etl_node_get(node, "file");
    const struct etl_node *text = etl_node_get(node, "sql");
    struct sqlstage *s;
    struct stat sb;

    if ((file == NULL) == (text == NULL)) {
        return etl_node_fail(node, err, ETL_E_CONFIG,
                             "stage \"%s\" (sql) needs exactly one of \"file\" or \"sql\"",
                             st->name);
    }
    s = calloc(1, sizeof(*s));
    if (s == NULL) {
        return etl_err_nomem(err);
    }
    st->ctx = s;
    if (file != NULL) {
        s->path = etl_path_relative(node->file, file->str);
        if (s->path == NULL) {
            return etl_err_nomem(err);
        }
        if (stat(s->path, &sb) < 0) {
            etl_node_fail(file, err, ETL_E_CONFIG, "SQL file \"%s\" not found", s->path);
            return -1;
        }
    } else if ((s->text = strdup(text->str)) == NULL) {
        return etl_err_nomem(err);
    }
    return 0;
}

static void
sql_destroy(struct etl_stage *st)
{
    struct sqlstage *s = st->ctx;

    if (s != NULL) {
        free(s->path);
        free(s->text);
        free(s);
        st->ctx = NULL;
    }
}

static int
sql_read(const char *path, struct etl_buf *b, struct etl_err *err)
{
    char block[65536];
    FILE *fp = fopen(path, "rb");
    size_t n;

    if (fp == NULL) {
        return etl_err_errno(err, ETL_E_IO, "could not open SQL file \"%s\"", path);
    }
    while ((n = fread(block, 1, sizeof(block), fp)) > 0) {
        if (etl_buf_add(b, block, n, err) < 0) {
            fclose(fp);
            return -1;
        }
    }
    if (ferror(fp)) {
        fclose(fp);
        return etl_err_errno(err, ETL_E_IO, "could not read SQL file \"%s\"", path);
    }
    fclose(fp);
    return 0;
}

static int
sql_run(struct etl_stage *st, struct etl_run *run, struct etl_err *err)
{
    struct sqlstage *s = st->ctx;
    struct etl_buf text;
    int rc;

    etl_buf_init(&text, SQL_MAX_BYTES);
    if (s->path != NULL && sql_read(s->path, &text, err) < 0) {
        etl_buf_free(&text);
        return -1;
    }
    if (etl_pg_exec(run->db, "BEGIN", err) < 0) {
        etl_buf_free(&text);
        return -1;
    }
    rc = etl_pg_exec(run->db, s->path != NULL ? text.data : s->text, err);
    if (rc == 0) {
        rc = etl_pg_exec(run->db, "COMMIT", err);
    } else {
        struct etl_err ignore;

        etl_err_clear(&ignore);
        (void)!etl_pg_exec(run->db, "ROLLBACK", &ignore);
        if (s->path != NULL) {
            etl_err_context(err, "%s", s->path);
        }
    }
    if (rc == 0) {
        etl_log(ETL_LOG_INFO, "[%s/%s] ran %s", st->pipeline->name, st->name,
                s->path != NULL ? s->path : "inline SQL");
    }
    etl_buf_free(&text);
    return rc;
}

static const struct etl_key sql_keys[] = {
    { "file", ETL_KEY_STR, false, "SQL file, relative to the YAML file" },
    { "sql", ETL_KEY_STR, false, "inline SQL" },
    { 0 }
};

const struct etl_stage_kind etl_stage_sql = {
    .name = "sql",
    .consumes = ETL_FLOW_RUN,
    .produces = ETL_FLOW_RUN,
    .keys = sql_keys,
    .summary = "run a SQL file after its needs, in one transaction",
    .configure = sql_configure,
    .run = sql_run,
    .destroy = sql_destroy,
};
