/*
 * status.c
 *    Print the ledger's recent runs; see status.h.  The JSON is built by
 *    PostgreSQL (json_agg), so its quoting is right by construction.
 */
#include "status.h"

#include <stdlib.h>
#include <string.h>

static const char status_runs_sql[] =
    "SELECT r.id, r.pipeline, r.kind, r.status, "
    "       to_char(r.started_at, 'YYYY-MM-DD HH24:MI:SS'), "
    "       coalesce(to_char(r.finished_at - r.started_at, 'HH24:MI:SS'), 'running'), "
    "       r.files_total, r.files_loaded, r.files_unchanged, r.files_failed, "
    "       r.rows_loaded, r.rows_rejected, coalesce(r.error, '') "
    "FROM ledger.run r "
    "WHERE ($1::text IS NULL OR r.pipeline = $1) "
    "  AND (NOT $3::boolean OR r.status NOT IN ('ok', 'running')) "
    "ORDER BY r.id DESC LIMIT $2";

static const char status_files_sql[] =
    "SELECT f.run_id, f.status, f.rows_in, f.rows_loaded, f.rows_rejected, "
    "       coalesce(left(f.sha256, 8), ''), f.url, coalesce(f.error, '') "
    "FROM ledger.file f WHERE f.run_id = ANY($1::bigint[]) ORDER BY f.run_id DESC, f.id";

static const char status_json_sql[] =
    "SELECT coalesce(json_agg(j ORDER BY (j->>'id')::bigint DESC), '[]') FROM ("
    "  SELECT to_jsonb(r) || jsonb_build_object('files', coalesce(("
    "      SELECT jsonb_agg(to_jsonb(f) - 'run_id' ORDER BY f.id) FROM ledger.file f "
    "      WHERE f.run_id = r.id), '[]')) AS j "
    "  FROM ledger.run r "
    "  WHERE ($1::text IS NULL OR r.pipeline = $1) "
    "    AND (NOT $3::boolean OR r.status NOT IN ('ok', 'running')) "
    "  ORDER BY r.id DESC LIMIT $2) s";

int
etl_status_print(struct pg_conn *db, const struct etl_status_opts *opts, FILE *out,
                 struct etl_err *err)
{
    char limit[24], ids[4096] = "{";
    const char *params[3];
    PGresult *runs, *files;

    snprintf(limit, sizeof(limit), "%ld", opts->limit > 0 ? opts->limit : 10);
    params[0] = opts->pipeline;
    params[1] = limit;
    params[2] = opts->failed_only ? "true" : "false";
    if (opts->json) {
        if (etl_pg_query(db, status_json_sql, 3, params, &runs, err) < 0) {
            return -1;
        }
        fprintf(out, "%s\n", PQgetvalue(runs, 0, 0));
        PQclear(runs);
        return 0;
    }
    if (etl_pg_query(db, status_runs_sql, 3, params, &runs, err) < 0) {
        return -1;
    }
    if (PQntuples(runs) == 0) {
        fprintf(out, "no runs recorded\n");
        PQclear(runs);
        return 0;
    }
    fprintf(out, "%6s  %-14s %-8s %-16s %-19s %8s  %5s %6s %9s %6s %10s %9s\n", "run",
            "pipeline", "kind", "status", "started", "took", "files", "loaded", "unchanged",
            "failed", "rows", "rejected");
    for (int i = 0; i < PQntuples(runs); i++) {
        fprintf(out, "%6s  %-14s %-8s %-16s %-19s %8s  %5s %6s %9s %6s %10s %9s\n",
                PQgetvalue(runs, i, 0), PQgetvalue(runs, i, 1), PQgetvalue(runs, i, 2),
                PQgetvalue(runs, i, 3), PQgetvalue(runs, i, 4), PQgetvalue(runs, i, 5),
                PQgetvalue(runs, i, 6), PQgetvalue(runs, i, 7), PQgetvalue(runs, i, 8),
                PQgetvalue(runs, i, 9), PQgetvalue(runs, i, 10), PQgetvalue(runs, i, 11));
        if (PQgetvalue(runs, i, 12)[0] != '\0') {
            fprintf(out, "        error: %s\n", PQgetvalue(runs, i, 12));
        }
        if (i > 0) {
            etl_strlcat(ids, ",", sizeof(ids));
        }
        etl_strlcat(ids, PQgetvalue(runs, i, 0), sizeof(ids));
    }
    etl_strlcat(ids, "}", sizeof(ids));
    PQclear(runs);
    params[0] = ids;
    if (etl_pg_query(db, status_files_sql, 1, params, &files, err) < 0) {
        return -1;
    }
    if (PQntuples(files) > 0) {
        fprintf(out, "\n%6s  %-9s %9s %9s %9s  %-8s  %s\n", "run", "file", "rows", "loaded",
                "rejected", "sha256", "url");
    }
    for (int i = 0; i < PQntuples(files); i++) {
        fprintf(out, "%6s  %-9s %9s %9s %9s  %-8s  %s\n", PQgetvalue(files, i, 0),
                PQgetvalue(files, i, 1), PQgetvalue(files, i, 2), PQgetvalue(files, i, 3),
                PQgetvalue(files, i, 4), PQgetvalue(files, i, 5), PQgetvalue(files, i, 6));
        if (PQgetvalue(files, i, 7)[0] != '\0') {
            fprintf(out, "        error: %s\n", PQgetvalue(files, i, 7));
        }
    }
    PQclear(files);
    return 0;
}
