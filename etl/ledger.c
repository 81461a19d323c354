/*
 * ledger.c
 *    The ledger's statements on runs, sources and for `ewc-etl status`;
 *    ledger_file.c has those of files and tasks, the worker's.  See
 *    ledger.h; what the two share, ledger_int.h.
 */
#include "ledger.h"
#include "ledger_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>





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

/* Give the pipeline's lock back; see ledger.h. */
void
etl_ledger_lock_release(struct pg_conn *db, const char *pipeline)
{
    const char *params[1] = { pipeline };
    struct etl_err ignore;

    etl_err_clear(&ignore);
    /* a transaction left open (or failed) would refuse the query: the
     * session is about to close, which would roll it back anyway */
    if (PQtransactionStatus(db->conn) != PQTRANS_IDLE) {
        (void)!etl_pg_exec(db, "ROLLBACK", &ignore);
    }
    (void)!etl_pg_query(db, "SELECT pg_advisory_unlock(hashtext('ewc-etl'), hashtext($1))", 1,
                        params, NULL, &ignore);
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


void
ledger_source_loaded_stmt(struct ledger_stmt *st, int64_t source_id, const struct etl_file *f,
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

    ledger_source_loaded_stmt(&st, source_id, f, file_id);
    return stmt_query(db, &st, err);
}

void
ledger_source_refused_stmt(struct ledger_stmt *st, int64_t source_id, const struct etl_file *f,
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

/*
 * After a file recorded without a load: new validators of the refused
 * version, or (an unchanged body is the loaded version) no refusal left.
 */
int
ledger_source_refusal_after(struct pg_conn *db, int64_t source_id, const struct etl_file *f,
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
