/*
 * ledger.c
 *    The ledger's statements; see ledger.h.  Parameters go as text: numbers
 *    through num_param(), an absent optional one as SQL NULL.
 */
#include "ledger.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Text of an optional int64 for a parameter (NULL when not present). */
static const char *
num_param(char *buf, size_t size, int64_t v, bool present)
{
    if (!present) {
        return NULL;
    }
    snprintf(buf, size, "%" PRId64, v);
    return buf;
}

/* The int64 in the first column of a one-row result, which is cleared. */
static int64_t
result_id(PGresult *res)
{
    int64_t id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);

    PQclear(res);
    return id;
}

/* strdup of a field, NULL for SQL NULL (or when out of memory). */
static char *
dup_or_null(PGresult *res, int col)
{
    return PQgetisnull(res, 0, col) ? NULL : strdup(PQgetvalue(res, 0, col));
}

/* Roll back whatever is open, ignoring errors (the first one is kept). */
static void
rollback(struct pg_conn *db)
{
    struct etl_err ignore;

    etl_err_clear(&ignore);
    (void)!etl_pg_exec(db, "ROLLBACK", &ignore);
}

/* Try the pipeline's lock once; see ledger.h. */
int
etl_ledger_lock_try(struct pg_conn *db, const char *pipeline, bool *got, struct etl_err *err)
{
    const char *params[1] = { pipeline };
    PGresult *res;

    *got = false;
    if (etl_pg_query(db, "SELECT pg_try_advisory_lock(hashtext('ewc-etl'), hashtext($1))",
                     1, params, &res, err) < 0) {
        return -1;
    }
    *got = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return 0;
}

/*
 * Close the pending tasks of the runs WHERE 'runs' selects (a subquery on
 * ledger.run with $1 its parameter): each becomes a failed ledger.file row
 * with error $2 and its task 'failed' pointing at it.
 */
#define LEDGER_FAIL_PENDING(runs)                                                         \
    "WITH f AS (INSERT INTO ledger.file (run_id, source_id, url, spool_path, sha256, "      \
    "                                    bytes, etag, last_modified, http_status, "       \
    "                                    status, error) "                                  \
    "  SELECT t.run_id, s.id, t.url, t.spool_path, t.sha256, t.bytes, t.etag, "            \
    "         t.last_modified, t.http_status, 'failed', $2 "                                \
    "  FROM ledger.task t JOIN ledger.run r ON r.id = t.run_id "                            \
    "  LEFT JOIN ledger.source s ON s.pipeline = r.pipeline AND s.url = t.url "             \
    "  WHERE t.state = 'pending' AND t.run_id IN (" runs ") "                               \
    "  RETURNING id, run_id, url) "                                                        \
    "UPDATE ledger.task t SET state = 'failed', file_id = f.id FROM f "                     \
    "WHERE t.run_id = f.run_id AND t.url = f.url AND t.state = 'pending'"

/* Close the dead runs, open a new one; see ledger.h. */
int
etl_ledger_run_open(struct pg_conn *db, const char *pipeline, const char *kind,
                    const char *params_json, int64_t *run_id, struct etl_err *err)
{
    const char *params[1] = { pipeline };
    /*
     * Holding the pipeline's lock, no other run of it is alive: a run still
     * 'running' died (kill -9, lost connection).  Close it and its pending
     * tasks, so that no worker ever loads its old files over newer ones.
     */
    if (etl_pg_exec(db, "BEGIN", err) < 0 ||
        etl_pg_query(db,
                     LEDGER_FAIL_PENDING("SELECT id FROM ledger.run WHERE pipeline = $1 "
                                         "AND status = 'running'"),
                     2, (const char *[]){ pipeline, "the run ended without loading it: the "
                                          "process running it died" }, NULL, err) < 0 ||
        etl_pg_query(db,
                     "UPDATE ledger.run SET status = 'failed', finished_at = now(), "
                     "error = 'the process running it ended without finishing it' "
                     "WHERE pipeline = $1 AND status = 'running'",
                     1, params, NULL, err) < 0 ||
        etl_pg_exec(db, "COMMIT", err) < 0 ||
        etl_ledger_run_insert(db, pipeline, kind, params_json, run_id, err) < 0) {
        rollback(db);
        etl_err_hint(err, "has the schema been created? run: ewc-etl migrate");
        return -1;
    }
    return 0;
}

/* Insert a run row only; see ledger.h. */
int
etl_ledger_run_insert(struct pg_conn *db, const char *pipeline, const char *kind,
                      const char *params_json, int64_t *run_id, struct etl_err *err)
{
    char pid[16], host[256] = "";
    const char *params[5] = { pipeline, kind, params_json, host, pid };
    PGresult *res;

    snprintf(pid, sizeof(pid), "%ld", (long)getpid());
    (void)gethostname(host, sizeof(host) - 1);
    if (etl_pg_query(db,
                     "INSERT INTO ledger.run (pipeline, kind, params, host, pid) "
                     "VALUES ($1, $2, $3, $4, $5) RETURNING id", 5, params, &res, err) < 0) {
        return -1;
    }
    *run_id = result_id(res);
    return 0;
}

/* Sum a run up; see ledger.h. */
int
etl_ledger_run_tally(struct pg_conn *db, int64_t run_id, struct etl_ledger_tally *t,
                     struct etl_err *err)
{
    char b[24];
    const char *params[1] = { num_param(b, sizeof(b), run_id, true) };
    PGresult *res;

    memset(t, 0, sizeof(*t));
    if (etl_pg_query(db,
                     "SELECT count(*) + (SELECT count(*) FROM ledger.task t WHERE t.run_id = $1 "
                     "                   AND (t.state = 'pending' OR t.file_id IS NULL AND "
                     "                        t.state = 'failed')),"
                     "       count(*) FILTER (WHERE status = 'loaded'),"
                     "       count(*) FILTER (WHERE status = 'unchanged'),"
                     "       coalesce(sum(rows_loaded), 0), coalesce(sum(rows_rejected), 0), "
                     "       coalesce(sum(rows_added), 0), coalesce(sum(rows_changed), 0), "
                     "       coalesce(sum(rows_removed), 0) "
                     "FROM ledger.file WHERE run_id = $1", 1, params, &res, err) < 0) {
        return -1;
    }
    t->files_total = strtoul(PQgetvalue(res, 0, 0), NULL, 10);
    t->files_loaded = strtoul(PQgetvalue(res, 0, 1), NULL, 10);
    t->files_unchanged = strtoul(PQgetvalue(res, 0, 2), NULL, 10);
    t->files_failed = t->files_total - t->files_loaded - t->files_unchanged;
    t->rows_loaded = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
    t->rows_rejected = strtoll(PQgetvalue(res, 0, 4), NULL, 10);
    t->rows_added = strtoll(PQgetvalue(res, 0, 5), NULL, 10);
    t->rows_changed = strtoll(PQgetvalue(res, 0, 6), NULL, 10);
    t->rows_removed = strtoll(PQgetvalue(res, 0, 7), NULL, 10);
    PQclear(res);
    return 0;
}

/* Close a run; see ledger.h. */
int
etl_ledger_run_close(struct pg_conn *db, int64_t run_id, const struct etl_ledger_tally *t,
                     const char *status, const char *error, struct etl_err *err)
{
    char v[10][24];
    const char *params[12];

    snprintf(v[0], sizeof(v[0]), "%" PRId64, run_id);
    snprintf(v[1], sizeof(v[1]), "%zu", t->files_total);
    snprintf(v[2], sizeof(v[2]), "%zu", t->files_loaded);
    snprintf(v[3], sizeof(v[3]), "%zu", t->files_unchanged);
    snprintf(v[4], sizeof(v[4]), "%zu", t->files_failed);
    snprintf(v[5], sizeof(v[5]), "%" PRId64, t->rows_loaded);
    snprintf(v[6], sizeof(v[6]), "%" PRId64, t->rows_rejected);
    snprintf(v[7], sizeof(v[7]), "%" PRId64, t->rows_added);
    snprintf(v[8], sizeof(v[8]), "%" PRId64, t->rows_changed);
    snprintf(v[9], sizeof(v[9]), "%" PRId64, t->rows_removed);
    for (int i = 0; i < 7; i++) {
        params[i] = v[i];
    }
    params[7] = status;
    params[8] = error;
    params[9] = v[7];
    params[10] = v[8];
    params[11] = v[9];
    return etl_pg_query(db,
                        "UPDATE ledger.run SET finished_at = now(), files_total = $2, "
                        "files_loaded = $3, files_unchanged = $4, files_failed = $5, "
                        "rows_loaded = $6, rows_rejected = $7, status = $8, error = $9, "
                        "rows_added = $10, rows_changed = $11, rows_removed = $12 "
                        "WHERE id = $1", 12, params, NULL, err);
}

/* Fail the run's pending tasks; see ledger.h. */
int
etl_ledger_run_fail_pending(struct pg_conn *db, int64_t run_id, const char *error,
                            struct etl_err *err)
{
    char b[24];
    const char *params[2] = { num_param(b, sizeof(b), run_id, true), error };

    return etl_pg_query(db, LEDGER_FAIL_PENDING("SELECT $1::bigint"), 2, params, NULL, err);
}

/* The runs a worker may join; see ledger.h. */
int
etl_ledger_runs_alive(struct pg_conn *db, const char *pipeline, int64_t run_id, int64_t **ids,
                      size_t *n, struct etl_err *err)
{
    char b[24];
    const char *params[2] = { pipeline, num_param(b, sizeof(b), run_id, run_id > 0) };
    PGresult *res;
    int rows;

    *ids = NULL;
    *n = 0;
    /* a backfill holds its year in one transaction: nobody else can join it;
     * only runs alive: their process holds the pipeline's advisory lock */
    if (etl_pg_query(db, "SELECT id FROM ledger.run WHERE pipeline = $1 AND "
                     "status = 'running' AND ($2::bigint IS NULL OR id = $2) "
                     "AND kind <> 'backfill' AND EXISTS (SELECT 1 FROM pg_locks l "
                     "  WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2"
                     "    AND l.classid = hashtext('ewc-etl')::oid"
                     "    AND l.objid = hashtext($1)::oid) "
                     "ORDER BY id", 2, params, &res, err) < 0) {
        return -1;
    }
    rows = PQntuples(res);
    if (rows > 0) {
        *ids = calloc((size_t)rows, sizeof(**ids));
        if (*ids == NULL) {
            PQclear(res);
            return etl_err_nomem(err);
        }
    }
    for (int i = 0; i < rows; i++) {
        (*ids)[i] = strtoll(PQgetvalue(res, i, 0), NULL, 10);
    }
    *n = (size_t)rows;
    PQclear(res);
    return 0;
}

/* The last scheduled run's fire time; see ledger.h. */
int
etl_ledger_last_scheduled(struct pg_conn *db, const char *pipeline, int64_t *t,
                          struct etl_err *err)
{
    const char *params[1] = { pipeline };
    PGresult *res;

    *t = 0;
    /* a run that died or failed does not count as done */
    if (etl_pg_query(db, "SELECT coalesce(max((params->>'scheduled_for')::bigint), 0) "
                     "FROM ledger.run WHERE pipeline = $1 AND kind = 'nightly' "
                     "AND status NOT IN ('running', 'failed')", 1, params, &res, err) < 0) {
        return -1;
    }
    *t = result_id(res);
    return 0;
}

/* Find or create a source; see ledger.h. */
int
etl_ledger_source_upsert(struct pg_conn *db, const char *pipeline, const char *url,
                         const char *priority, int64_t *source_id, bool *replaces,
                         struct etl_err *err)
{
    const char *params[3] = { pipeline, url, priority };
    PGresult *res;

    if (etl_pg_query(db,
                     "INSERT INTO ledger.source (pipeline, url, priority) "
                     "VALUES ($1, $2, coalesce($3::integer, 0)) "
                     "ON CONFLICT (pipeline, url) DO UPDATE "
                     "SET priority = coalesce($3::integer, ledger.source.priority) "
                     "RETURNING id, file_id IS NOT NULL", 3, params, &res, err) < 0) {
        return -1;
    }
    if (replaces != NULL) {
        *replaces = PQgetvalue(res, 0, 1)[0] == 't';
    }
    *source_id = result_id(res);
    return 0;
}

/* Set a pipeline's source priority; see ledger.h. */
int
etl_ledger_sources_priority(struct pg_conn *db, const char *pipeline, long priority,
                            struct etl_err *err)
{
    char b[24];
    const char *params[2] = { pipeline, num_param(b, sizeof(b), priority, true) };

    return etl_pg_query(db, "UPDATE ledger.source SET priority = $2 "
                        "WHERE pipeline = $1 AND priority <> $2", 2, params, NULL, err);
}

/* New validators of an unchanged body; see ledger.h. */
int
etl_ledger_source_validators(struct pg_conn *db, int64_t source_id, const char *etag,
                             const char *last_modified, struct etl_err *err)
{
    char b[24];
    const char *params[3] = { num_param(b, sizeof(b), source_id, true), etag, last_modified };

    return etl_pg_query(db,
                        "UPDATE ledger.source SET etag = coalesce($2, etag), "
                        "last_modified = coalesce($3, last_modified) WHERE id = $1",
                        3, params, NULL, err);
}

/*
 * One statement built for etl_pg_batch, with the storage of its
 * parameters: the functions below that run one statement build it with a
 * *_stmt() function, and the batches of the worker (etl_ledger_file_end,
 * etl_ledger_task_claim_tx) put several in one round trip.
 */
struct ledger_stmt {
    struct etl_pg_stmt s;
    const char *params[12];
    char num[8][24];
};

/* Run one built statement on its own. */
static int
stmt_query(struct pg_conn *db, const struct ledger_stmt *st, struct etl_err *err)
{
    return etl_pg_query(db, st->s.sql, st->s.nparams, st->s.params, NULL, err);
}

static void
source_loaded_stmt(struct ledger_stmt *st, int64_t source_id, const struct etl_file *f,
                   int64_t file_id)
{
    st->params[0] = num_param(st->num[0], sizeof(st->num[0]), source_id, true);
    st->params[1] = f->etag;
    st->params[2] = f->last_modified;
    st->params[3] = f->sha256;
    st->params[4] = num_param(st->num[1], sizeof(st->num[1]), file_id, true);
    st->s = (struct etl_pg_stmt){
        "UPDATE ledger.source SET etag = $2, last_modified = $3, sha256 = $4, "
        "file_id = $5, refused_file_id = NULL, refused_etag = NULL, "
        "refused_last_modified = NULL, refused_config = NULL WHERE id = $1",
        5, st->params, NULL };
}

/* The source's new current version; see ledger.h. */
int
etl_ledger_source_loaded(struct pg_conn *db, int64_t source_id, const struct etl_file *f,
                         int64_t file_id, struct etl_err *err)
{
    struct ledger_stmt st;

    source_loaded_stmt(&st, source_id, f, file_id);
    return stmt_query(db, &st, err);
}

static void
source_refused_stmt(struct ledger_stmt *st, int64_t source_id, const struct etl_file *f,
                    int64_t file_id, const char *config)
{
    st->params[0] = num_param(st->num[0], sizeof(st->num[0]), source_id, true);
    st->params[1] = num_param(st->num[1], sizeof(st->num[1]), file_id, true);
    st->params[2] = f->etag;
    st->params[3] = f->last_modified;
    st->params[4] = config;
    st->s = (struct etl_pg_stmt){
        "UPDATE ledger.source SET refused_file_id = $2, refused_etag = $3, "
        "refused_last_modified = $4, refused_config = $5 WHERE id = $1",
        5, st->params, NULL };
}

/* A refused version to remember; see ledger.h. */
int
etl_ledger_source_refused(struct pg_conn *db, int64_t source_id, const struct etl_file *f,
                          int64_t file_id, const char *config, struct etl_err *err)
{
    struct ledger_stmt st;

    source_refused_stmt(&st, source_id, f, file_id, config);
    return stmt_query(db, &st, err);
}

/*
 * After a file recorded without a load: new validators of the refused
 * version, or (an unchanged body is the loaded version) no refusal left.
 */
static int
source_refusal_after(struct pg_conn *db, int64_t source_id, const struct etl_file *f,
                     struct etl_err *err)
{
    char b[24];
    const char *params[3] = { num_param(b, sizeof(b), source_id, true), f->etag,
                              f->last_modified };

    if (f->still_refused) {
        return etl_pg_query(db,
                            "UPDATE ledger.source SET refused_etag = coalesce($2, refused_etag), "
                            "refused_last_modified = coalesce($3, refused_last_modified) "
                            "WHERE id = $1", 3, params, NULL, err);
    }
    if (f->status != ETL_FILE_UNCHANGED) {
        return 0;
    }
    return etl_pg_query(db,
                        "UPDATE ledger.source SET refused_file_id = NULL, refused_etag = NULL, "
                        "refused_last_modified = NULL, refused_config = NULL "
                        "WHERE id = $1 AND refused_file_id IS NOT NULL", 1, params, NULL, err);
}

static int
source_cmp(const void *a, const void *b)
{
    return strcmp(((const struct etl_ledger_source *)a)->url,
                  ((const struct etl_ledger_source *)b)->url);
}

/* A NULL or empty text field as NULL. */
static const char *
text_or_null(PGresult *res, int row, int col)
{
    const char *s;

    if (PQgetisnull(res, row, col)) {
        return NULL;
    }
    s = PQgetvalue(res, row, col);
    return s[0] != '\0' ? s : NULL;
}

/* The pipeline's sources; see ledger.h. */
int
etl_ledger_sources_read(struct pg_conn *db, const char *pipeline, struct etl_ledger_sources *s,
                        struct etl_err *err)
{
    const char *params[1] = { pipeline };
    int rows;

    memset(s, 0, sizeof(*s));
    if (db == NULL) {
        return 0;
    }
    if (etl_pg_query(db,
                     "SELECT s.url, s.etag, s.last_modified, s.sha256, s.refused_file_id, "
                     "       r.sha256, s.refused_etag, s.refused_last_modified, r.error, "
                     "       s.refused_config "
                     "FROM ledger.source s LEFT JOIN ledger.file r ON r.id = s.refused_file_id "
                     "WHERE s.pipeline = $1", 1, params, &s->res, err) < 0) {
        etl_err_context(err, "reading the ledger's sources");
        return -1;
    }
    rows = PQntuples(s->res);
    if (rows == 0) {
        return 0;
    }
    s->v = calloc((size_t)rows, sizeof(*s->v));
    if (s->v == NULL) {
        etl_ledger_sources_free(s);
        return etl_err_nomem(err);
    }
    for (int i = 0; i < rows; i++) {
        s->v[i].url = PQgetvalue(s->res, i, 0);
        s->v[i].etag = text_or_null(s->res, i, 1);
        s->v[i].last_modified = text_or_null(s->res, i, 2);
        s->v[i].sha256 = text_or_null(s->res, i, 3);
        s->v[i].refused_file_id = text_or_null(s->res, i, 4);
        s->v[i].refused_sha256 = text_or_null(s->res, i, 5);
        s->v[i].refused_etag = text_or_null(s->res, i, 6);
        s->v[i].refused_last_modified = text_or_null(s->res, i, 7);
        s->v[i].refused_reason = text_or_null(s->res, i, 8);
        s->v[i].refused_config = text_or_null(s->res, i, 9);
    }
    qsort(s->v, (size_t)rows, sizeof(*s->v), source_cmp);
    s->n = (size_t)rows;
    return 0;
}

/* bsearch by URL; see ledger.h. */
const struct etl_ledger_source *
etl_ledger_sources_find(const struct etl_ledger_sources *s, const char *url)
{
    struct etl_ledger_source key = { .url = url };

    if (s->n == 0) {
        return NULL;
    }
    return bsearch(&key, s->v, s->n, sizeof(*s->v), source_cmp);
}

/* Free a read; see ledger.h. */
void
etl_ledger_sources_free(struct etl_ledger_sources *s)
{
    free(s->v);
    PQclear(s->res);
    memset(s, 0, sizeof(*s));
}

/* The sources' current versions; see ledger.h. */
int
etl_ledger_sources_versions(struct pg_conn *db, const char *pipeline, PGresult **res,
                            struct etl_err *err)
{
    const char *params[1] = { pipeline };

    return etl_pg_query(db,
                        "SELECT s.url, coalesce(left(s.sha256, 8), ''), coalesce(s.etag, ''), "
                        "  coalesce(s.last_modified, ''), coalesce(f.rows_loaded::text, ''), "
                        "  coalesce(to_char(f.finished_at, 'YYYY-MM-DD HH24:MI:SS'), ''), "
                        "  (SELECT count(*) FROM warehouse.observation o "
                        "    WHERE o.source_id = s.id), coalesce(f.run_id::text, '') "
                        "FROM ledger.source s LEFT JOIN ledger.file f ON f.id = s.file_id "
                        "WHERE s.pipeline = $1 ORDER BY s.url COLLATE \"C\"",
                        1, params, res, err);
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

    params[0] = num_param(b[0], sizeof(b[0]), run_id, true);
    params[1] = num_param(b[1], sizeof(b[1]), source_id, source_id > 0);
    params[2] = f->url;
    params[3] = f->spool_path;
    params[4] = f->sha256[0] != '\0' ? f->sha256 : NULL;
    params[5] = num_param(b[2], sizeof(b[2]), f->bytes, f->sha256[0] != '\0');
    params[6] = f->etag;
    params[7] = f->last_modified;
    params[8] = num_param(b[3], sizeof(b[3]), f->http_status, f->http_status > 0);
    params[9] = status;
    params[10] = error;
    params[11] = num_param(b[4], sizeof(b[4]), f->rows_in, true);
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

    params[0] = num_param(b[0], sizeof(b[0]), run_id, true);
    params[1] = pipeline;
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
    if (source_refusal_after(db, source_id, f, err) < 0) {
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
        source_refused_stmt(&st[n++], e->source_id, e->file, e->file_id, e->config);
    } else {
        source_loaded_stmt(&st[n++], e->source_id, e->file, e->file_id);
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

static const char ledger_runs_sql[] =
    "SELECT r.id, r.pipeline, r.kind, r.status, "
    "       to_char(r.started_at, 'YYYY-MM-DD HH24:MI:SS'), "
    "       coalesce(to_char(r.finished_at - r.started_at, 'HH24:MI:SS'), 'running'), "
    "       r.files_total, r.files_loaded, r.files_unchanged, r.files_failed, "
    "       r.rows_loaded, r.rows_rejected, coalesce(r.error, '') "
    "FROM ledger.run r "
    "WHERE ($1::text IS NULL OR r.pipeline = $1) "
    "  AND (NOT $3::boolean OR r.status NOT IN ('ok', 'running')) "
    "ORDER BY r.id DESC LIMIT $2";

static const char ledger_files_sql[] =
    "SELECT f.run_id, f.status, f.rows_in, f.rows_loaded, f.rows_rejected, "
    "       coalesce(left(f.sha256, 8), ''), f.url, coalesce(f.error, ''), "
    "       CASE WHEN f.status <> 'loaded' THEN '' WHEN f.rows_added IS NULL THEN 'first' "
    "            ELSE format('+%s ~%s -%s', f.rows_added, f.rows_changed, f.rows_removed) "
    "       END "
    "FROM ledger.file f WHERE f.run_id = ANY($1::bigint[]) ORDER BY f.run_id DESC, f.id";

static const char ledger_json_sql[] =
    "SELECT coalesce(json_agg(j ORDER BY (j->>'id')::bigint DESC), '[]') FROM ("
    "  SELECT to_jsonb(r) || jsonb_build_object('files', coalesce(("
    "      SELECT jsonb_agg(to_jsonb(f) - 'run_id' ORDER BY f.id) FROM ledger.file f "
    "      WHERE f.run_id = r.id), '[]')) AS j "
    "  FROM ledger.run r "
    "  WHERE ($1::text IS NULL OR r.pipeline = $1) "
    "    AND (NOT $3::boolean OR r.status NOT IN ('ok', 'running')) "
    "  ORDER BY r.id DESC LIMIT $2) s";

/* The runs' query with its three parameters. */
static int
runs_query(struct pg_conn *db, const char *sql, const char *pipeline, long limit,
           bool failed_only, PGresult **res, struct etl_err *err)
{
    char lim[24];
    const char *params[3];

    snprintf(lim, sizeof(lim), "%ld", limit);
    params[0] = pipeline;
    params[1] = lim;
    params[2] = failed_only ? "true" : "false";
    return etl_pg_query(db, sql, 3, params, res, err);
}

/* The latest runs; see ledger.h. */
int
etl_ledger_runs_recent(struct pg_conn *db, const char *pipeline, long limit, bool failed_only,
                       PGresult **res, struct etl_err *err)
{
    return runs_query(db, ledger_runs_sql, pipeline, limit, failed_only, res, err);
}

/* The files of some runs; see ledger.h. */
int
etl_ledger_runs_files(struct pg_conn *db, const char *ids, PGresult **res, struct etl_err *err)
{
    const char *params[1] = { ids };

    return etl_pg_query(db, ledger_files_sql, 1, params, res, err);
}

/* The names the catalog does not know; see ledger.h. */
int
etl_ledger_unmatched(struct pg_conn *db, PGresult **res, struct etl_err *err)
{
    return etl_pg_query(db,
                        "SELECT column_name, name, rows, files, array_to_string(urls, ' '), "
                        "coalesce(suggestion, '') FROM ledger.unmatched",
                        0, NULL, res, err);
}

/* The latest runs as JSON; see ledger.h. */
int
etl_ledger_runs_json(struct pg_conn *db, const char *pipeline, long limit, bool failed_only,
                     PGresult **res, struct etl_err *err)
{
    return runs_query(db, ledger_json_sql, pipeline, limit, failed_only, res, err);
}
