/*
 * ledger_file.c
 *    The ledger's statements on files and tasks: what the run registers
 *    and what a worker claims, records and ends per file (in as few round
 *    trips as etl_pg_batch allows).  See ledger.h; the runs', sources' and
 *    status reads are in ledger.c.
 */
#include "ledger.h"
#include "ledger_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* strdup of a field, NULL for SQL NULL (or when out of memory). */
static char *
dup_or_null(PGresult *res, int col)
{
    return PQgetisnull(res, 0, col) ? NULL : strdup(PQgetvalue(res, 0, col));
}

/*
 * The parameters of a ledger.file row as both INSERTs below number them:
 * $1 run, $3 url ... $12 rows_in ($2 is the caller's); 'b' holds the
 * numbers.
 */
static void
file_params(const char **params, char (*b)[24], int64_t run_id, const struct etl_file *f,
            const char *status, const char *error)
{
    params[0] = num_param(b[0], sizeof(b[0]), run_id, true);
    params[1] = NULL;
    params[2] = f->url;
    params[3] = f->spool_path;
    params[4] = f->sha256[0] != '\0' ? f->sha256 : NULL;
    params[5] = num_param(b[1], sizeof(b[1]), f->bytes, f->sha256[0] != '\0');
    params[6] = f->etag;
    params[7] = f->last_modified;
    params[8] = num_param(b[2], sizeof(b[2]), f->http_status, f->http_status > 0);
    params[9] = status;
    params[10] = error;
    params[11] = num_param(b[3], sizeof(b[3]), f->rows_in, true);
}

/* Insert a file row; see ledger.h. */
int
etl_ledger_file_insert(struct pg_conn *db, int64_t run_id, int64_t source_id,
                       const struct etl_file *f, const char *status, const char *error,
                       int64_t *file_id, struct etl_err *err)
{
    char b[5][24];
    const char *params[12];
    PGresult *res;

    file_params(params, b, run_id, f, status, error);
    params[1] = num_param(b[4], sizeof(b[4]), source_id, source_id > 0);
    if (etl_pg_query(db,
                     "INSERT INTO ledger.file (run_id, source_id, url, spool_path, sha256, bytes, "
                     "etag, last_modified, http_status, status, error, rows_in) "
                     "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
                     12, params, &res, err) < 0) {
        return -1;
    }
    *file_id = result_id(res);
    return 0;
}

static void
file_finish_stmt(struct ledger_stmt *st, int64_t file_id, const struct etl_file *f,
                 const char *error)
{
    char (*b)[24] = st->num;
    const char **params = st->params;
    /* a refused file changed nothing; a first version has no changes to count */
    bool changes = f->status == ETL_FILE_LOADED && f->rows_added >= 0;

    params[0] = num_param(b[0], sizeof(b[0]), file_id, true);
    params[1] = etl_file_status_names[f->status];
    params[2] = error;
    params[3] = num_param(b[1], sizeof(b[1]), f->rows_in, true);
    params[4] = num_param(b[2], sizeof(b[2]), f->rows_loaded, true);
    params[5] = num_param(b[3], sizeof(b[3]), f->rows_rejected, true);
    params[6] = num_param(b[4], sizeof(b[4]), f->rows_deleted, true);
    params[7] = f->notes;
    params[8] = num_param(b[5], sizeof(b[5]), f->rows_added, changes);
    params[9] = num_param(b[6], sizeof(b[6]), f->rows_changed, changes);
    params[10] = num_param(b[7], sizeof(b[7]), f->rows_removed, changes);
    params[11] = changes && f->max_change_pct[0] != '\0' ? f->max_change_pct : NULL;
    st->s = (struct etl_pg_stmt){
        "UPDATE ledger.file SET status = $2, error = $3, rows_in = $4, "
        "rows_loaded = $5, rows_rejected = $6, rows_deleted = $7, "
        "notes = $8, rows_added = $9, rows_changed = $10, rows_removed = $11, "
        "max_change_pct = $12, finished_at = clock_timestamp() WHERE id = $1",
        12, st->params, NULL };
}

/* End a load's file row; see ledger.h. */
int
etl_ledger_file_finish(struct pg_conn *db, int64_t file_id, const struct etl_file *f,
                       const char *error, struct etl_err *err)
{
    struct ledger_stmt st;

    file_finish_stmt(&st, file_id, f, error);
    return stmt_query(db, &st, err);
}

/* A load's source and file rows in one statement; see ledger.h. */
int
etl_ledger_file_open(struct pg_conn *db, int64_t run_id, const char *pipeline,
                     const char *priority, const struct etl_file *f, const char *status,
                     const char *error, int64_t *source_id, bool *replaces, int64_t *file_id,
                     struct etl_err *err)
{
    char b[4][24];
    const char *params[13];
    PGresult *res;

    file_params(params, b, run_id, f, status, error);
    params[1] = pipeline;
    params[12] = priority;
    /* etl_ledger_source_upsert's statement feeding etl_ledger_file_insert's */
    if (etl_pg_query(db,
                     "WITH s AS (INSERT INTO ledger.source (pipeline, url, priority) "
                     "  VALUES ($2, $3, coalesce($13::integer, 0)) "
                     "  ON CONFLICT (pipeline, url) DO UPDATE "
                     "  SET priority = coalesce($13::integer, ledger.source.priority) "
                     "  RETURNING id, file_id IS NOT NULL AS replaces) "
                     "INSERT INTO ledger.file (run_id, source_id, url, spool_path, sha256, bytes, "
                     "etag, last_modified, http_status, status, error, rows_in) "
                     "SELECT $1, s.id, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12 FROM s "
                     "RETURNING id, source_id, (SELECT replaces FROM s)",
                     13, params, &res, err) < 0) {
        return -1;
    }
    *source_id = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
    if (replaces != NULL) {
        *replaces = PQgetvalue(res, 0, 2)[0] == 't';
    }
    *file_id = result_id(res);
    return 0;
}

/* Record a file that did not go down the chain; see ledger.h. */
int
etl_ledger_file_record(struct pg_conn *db, int64_t run_id, const char *pipeline,
                       const struct etl_file *f, int64_t *file_id, struct etl_err *err)
{
    char msg[1024] = "";
    int64_t source_id = 0, id;

    if (file_id == NULL) {
        file_id = &id;
    }
    if (f->status == ETL_FILE_FAILED) {
        etl_err_format(&f->err, msg, sizeof(msg));
    }
    if (etl_ledger_source_upsert(db, pipeline, f->url, NULL, &source_id, NULL, err) < 0) {
        return -1;
    }
    if (f->status == ETL_FILE_UNCHANGED && (f->etag != NULL || f->last_modified != NULL) &&
        etl_ledger_source_validators(db, source_id, f->etag, f->last_modified, err) < 0) {
        /* same body under new validators: keep them, so the next GET is conditional */
        return -1;
    }
    if (ledger_source_refusal_after(db, source_id, f, err) < 0) {
        return -1;
    }
    return etl_ledger_file_insert(db, run_id, source_id, f, etl_file_status_names[f->status],
                                  msg[0] != '\0' ? msg : NULL, file_id, err);
}

static void
task_add_stmt(struct ledger_stmt *st, int64_t run_id, const char *stage,
              const struct etl_file *f)
{
    const char **params = st->params;

    params[0] = num_param(st->num[0], sizeof(st->num[0]), run_id, true);
    params[1] = stage;
    params[2] = f->url;
    params[3] = num_param(st->num[1], sizeof(st->num[1]), f->year, true);
    params[4] = f->spool_path;
    params[5] = f->sha256;
    params[6] = num_param(st->num[2], sizeof(st->num[2]), f->bytes, true);
    params[7] = f->etag;
    params[8] = f->last_modified;
    params[9] = num_param(st->num[3], sizeof(st->num[3]), f->http_status, f->http_status > 0);
    st->s = (struct etl_pg_stmt){
        "INSERT INTO ledger.task (run_id, stage, url, year, spool_path, "
        "sha256, bytes, etag, last_modified, http_status) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)", 10, st->params, NULL };
}

/* Register a task; see ledger.h. */
int
etl_ledger_task_add(struct pg_conn *db, int64_t run_id, const char *stage,
                    const struct etl_file *f, struct etl_err *err)
{
    struct ledger_stmt st;

    task_add_stmt(&st, run_id, stage, f);
    return stmt_query(db, &st, err);
}

/* Statements of etl_ledger_tasks_add per round trip. */
#define LEDGER_TASKS_BATCH 256

/* Register many tasks in one transaction, batched; see ledger.h. */
int
etl_ledger_tasks_add(struct pg_conn *db, int64_t run_id, const char *stage,
                     const struct etl_file *const *files, size_t n, struct etl_err *err)
{
    struct ledger_stmt *st;
    struct etl_pg_stmt *batch;
    int rc = 0;

    if (n == 0) {
        return 0;
    }
    st = calloc(LEDGER_TASKS_BATCH, sizeof(*st));
    batch = calloc(LEDGER_TASKS_BATCH + 2, sizeof(*batch));
    if (st == NULL || batch == NULL) {
        free(st);
        free(batch);
        return etl_err_nomem(err);
    }
    for (size_t i = 0; i < n && rc == 0;) {
        size_t k = 0;

        if (i == 0) {
            batch[k++] = (struct etl_pg_stmt){ "BEGIN", 0, NULL, NULL };
        }
        for (size_t j = 0; j < LEDGER_TASKS_BATCH && i < n; j++, i++) {
            task_add_stmt(&st[j], run_id, stage, files[i]);
            batch[k++] = st[j].s;
        }
        if (i == n) {
            batch[k++] = (struct etl_pg_stmt){ "COMMIT", 0, NULL, NULL };
        }
        rc = etl_pg_batch(db, batch, k, err);
    }
    if (rc < 0) {
        rollback(db);
    }
    free(st);
    free(batch);
    return rc;
}

/* Claim the next task; see ledger.h. */
int
etl_ledger_task_claim(struct pg_conn *db, int64_t run_id, int64_t *task_id, char *stage,
                      size_t stage_size, struct etl_file *f, bool *got, struct etl_err *err)
{
    return etl_ledger_task_claim_tx(db, NULL, NULL, run_id, task_id, stage, stage_size, f, got,
                                    err);
}

/* Claim the next task between two statements, in one round trip; see ledger.h. */
int
etl_ledger_task_claim_tx(struct pg_conn *db, const char *before, const char *after,
                         int64_t run_id, int64_t *task_id, char *stage, size_t stage_size,
                         struct etl_file *f, bool *got, struct etl_err *err)
{
    char b[24];
    const char *params[1] = { num_param(b, sizeof(b), run_id, true) };
    PGresult *res;
    struct etl_pg_stmt batch[3];
    size_t n = 0;

    *got = false;
    if (before != NULL) {
        batch[n++] = (struct etl_pg_stmt){ before, 0, NULL, NULL };
    }
    batch[n++] = (struct etl_pg_stmt){
        "SELECT id, stage, url, year, spool_path, sha256, bytes, etag, "
        "last_modified, http_status FROM ledger.task "
        "WHERE run_id = $1 AND state = 'pending' ORDER BY id "
        "LIMIT 1 FOR UPDATE SKIP LOCKED", 1, params, &res };
    if (after != NULL) {
        batch[n++] = (struct etl_pg_stmt){ after, 0, NULL, NULL };
    }
    if (etl_pg_batch(db, batch, n, err) < 0) {
        return -1;
    }
    if (PQntuples(res) == 0) {
        PQclear(res);
        return 0;
    }
    memset(f, 0, sizeof(*f));
    *task_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    etl_strlcpy(stage, PQgetvalue(res, 0, 1), stage_size);
    f->url = dup_or_null(res, 2);
    f->year = atoi(PQgetvalue(res, 0, 3));
    f->spool_path = dup_or_null(res, 4);
    etl_strlcpy(f->sha256, PQgetvalue(res, 0, 5), sizeof(f->sha256));
    f->bytes = strtoll(PQgetvalue(res, 0, 6), NULL, 10);
    f->etag = dup_or_null(res, 7);
    f->last_modified = dup_or_null(res, 8);
    f->http_status = PQgetisnull(res, 0, 9) ? 0 : atol(PQgetvalue(res, 0, 9));
    f->status = ETL_FILE_PENDING;
    if (f->url == NULL || f->spool_path == NULL ||
        (f->etag == NULL && !PQgetisnull(res, 0, 7)) ||
        (f->last_modified == NULL && !PQgetisnull(res, 0, 8))) {
        PQclear(res);
        etl_file_clear(f);
        return etl_err_nomem(err);
    }
    PQclear(res);
    *got = true;
    return 0;
}

/* "host:pid" of this process, for ledger.task.worker (computed once per process). */
static const char *
task_worker_name(void)
{
    static char who[300];
    static pid_t pid;

    if (pid != getpid()) {
        char host[256] = "";

        /* a forked worker is another process: named again */
        pid = getpid();
        (void)gethostname(host, sizeof(host) - 1);
        snprintf(who, sizeof(who), "%s:%ld", host, (long)pid);
    }
    return who;
}

static void
task_finish_stmt(struct ledger_stmt *st, int64_t task_id, const char *state, int64_t file_id)
{
    st->params[0] = num_param(st->num[0], sizeof(st->num[0]), task_id, true);
    st->params[1] = state;
    st->params[2] = task_worker_name();
    st->params[3] = num_param(st->num[1], sizeof(st->num[1]), file_id, file_id > 0);
    st->s = (struct etl_pg_stmt){
        "UPDATE ledger.task SET state = $2, worker = $3, file_id = $4 WHERE id = $1",
        4, st->params, NULL };
}

/* Close a task; see ledger.h. */
int
etl_ledger_task_finish(struct pg_conn *db, int64_t task_id, const char *state, int64_t file_id,
                       struct etl_err *err)
{
    struct ledger_stmt st;

    task_finish_stmt(&st, task_id, state, file_id);
    return stmt_query(db, &st, err);
}

/* A file's ledger writes after its chain, and what follows, in one round trip; see ledger.h. */
int
etl_ledger_file_end(struct pg_conn *db, const struct etl_ledger_end *e, const char *const *tail,
                    size_t ntail, struct etl_err *err)
{
    struct ledger_stmt st[3 + LEDGER_TAIL_MAX];
    struct etl_pg_stmt batch[3 + LEDGER_TAIL_MAX];
    size_t n = 0;

    if (ntail > LEDGER_TAIL_MAX) {
        return etl_err_set(err, ETL_E_INTERNAL, "etl_ledger_file_end: %zu statements after "
                           "the file's, more than %d", ntail, LEDGER_TAIL_MAX);
    }
    file_finish_stmt(&st[n++], e->file_id, e->file, e->error);
    if (e->refused) {
        ledger_source_refused_stmt(&st[n++], e->source_id, e->file, e->file_id, e->config);
    } else {
        ledger_source_loaded_stmt(&st[n++], e->source_id, e->file, e->file_id);
    }
    if (e->task_id > 0) {
        task_finish_stmt(&st[n++], e->task_id, e->task_state, e->file_id);
    }
    for (size_t i = 0; i < n; i++) {
        batch[i] = st[i].s;
    }
    for (size_t i = 0; i < ntail; i++) {
        batch[n++] = (struct etl_pg_stmt){ tail[i], 0, NULL, NULL };
    }
    return etl_pg_batch(db, batch, n, err);
}

/* Close a task whose claim was lost; see ledger.h. */
int
etl_ledger_task_fail_unclaimed(struct pg_conn *db, int64_t run_id, const char *pipeline,
                               const struct etl_file *f, int64_t task_id, struct etl_err *err)
{
    char b[24];
    const char *params[1] = { num_param(b, sizeof(b), task_id, true) };
    PGresult *res;
    int64_t file_id = 0;
    bool ours;

    if (etl_pg_exec(db, "BEGIN", err) < 0 ||
        etl_pg_query(db, "SELECT 1 FROM ledger.task WHERE id = $1 AND state = 'pending' "
                     "FOR UPDATE", 1, params, &res, err) < 0) {
        rollback(db);
        return -1;
    }
    ours = PQntuples(res) > 0;
    PQclear(res);
    if (ours && (etl_ledger_file_record(db, run_id, pipeline, f, &file_id, err) < 0 ||
                 etl_ledger_task_finish(db, task_id, "failed", file_id, err) < 0)) {
        rollback(db);
        return -1;
    }
    if (etl_pg_exec(db, "COMMIT", err) < 0) {
        rollback(db);
        return -1;
    }
    return 0;
}

/* Wait for the claims of other sessions; see ledger.h. */
int
etl_ledger_tasks_wait_held(struct pg_conn *db, int64_t run_id, int64_t *left,
                           struct etl_err *err)
{
    char b[24];
    const char *params[1] = { num_param(b, sizeof(b), run_id, true) };
    PGresult *res;

    /* FOR UPDATE without SKIP LOCKED blocks on their claims, and re-checks
     * each row once they commit */
    *left = 0;
    if (etl_pg_exec(db, "BEGIN", err) < 0) {
        return -1;
    }
    if (etl_pg_query(db, "SELECT id FROM ledger.task WHERE run_id = $1 AND state = 'pending' "
                     "FOR UPDATE", 1, params, &res, err) < 0) {
        rollback(db);
        return -1;
    }
    *left = PQntuples(res);
    PQclear(res);
    if (etl_pg_exec(db, "COMMIT", err) < 0) {
        rollback(db);
        return -1;
    }
    return 0;
}
