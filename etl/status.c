/*
 * status.c
 *    Print the ledger's recent runs; see status.h.  The queries are the
 *    ledger's (etl/ledger.c); the JSON is built by PostgreSQL (json_agg), so
 *    its quoting is right by construction.  URLs are stored redacted (url.h,
 *    stages/fetch.c); the table redacts their userinfo once more, so that a
 *    password never shows whatever wrote the row.
 */
#include "status.h"

#include "ledger.h"
#include "prune.h"
#include "url.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* No query parameter is secret here: the stage's own names made the row. */
static const char *const status_no_params[] = { NULL };

/* What the ledger and the spool hold, for the size line and the JSON. */
struct status_sizes {
    int64_t ledger_bytes, runs, files;
    int64_t spool_bytes, spool_files;
};

static int
status_sizes(struct pg_conn *db, const struct etl_status_opts *opts, struct status_sizes *z,
             struct etl_err *err)
{
    memset(z, 0, sizeof(*z));
    if (etl_prune_ledger_size(db, &z->ledger_bytes, &z->runs, &z->files, err) < 0) {
        return -1;
    }
    return opts->spool_dir != NULL
           ? etl_prune_spool_usage(opts->spool_dir, &z->spool_files, &z->spool_bytes, err) : 0;
}

/* "ledger 1.2 MB (3 runs, 9 files); spool 45.1 kB in 4 files (/var/...)" */
static void
status_size_line(const struct etl_status_opts *opts, const struct status_sizes *z, FILE *out)
{
    char lb[32], sb[32];

    etl_prune_size_text(z->ledger_bytes, lb, sizeof(lb));
    etl_prune_size_text(z->spool_bytes, sb, sizeof(sb));
    fprintf(out, "ledger %s (%" PRId64 " runs, %" PRId64 " files); ", lb, z->runs, z->files);
    if (opts->spool_dir != NULL) {
        fprintf(out, "spool %s in %" PRId64 " files (%s)\n\n", sb, z->spool_files,
                opts->spool_dir);
    } else {
        fprintf(out, "spool not known without the YAML (-c)\n\n");
    }
}

/* The runs' JSON array inside an object with the sizes, built by the server. */
static int
status_json(struct pg_conn *db, const struct etl_status_opts *opts,
            const struct status_sizes *z, const char *runs, FILE *out, struct etl_err *err)
{
    char v[5][24];
    const char *params[7];
    PGresult *res;

    snprintf(v[0], sizeof(v[0]), "%" PRId64, z->ledger_bytes);
    snprintf(v[1], sizeof(v[1]), "%" PRId64, z->runs);
    snprintf(v[2], sizeof(v[2]), "%" PRId64, z->files);
    snprintf(v[3], sizeof(v[3]), "%" PRId64, z->spool_bytes);
    snprintf(v[4], sizeof(v[4]), "%" PRId64, z->spool_files);
    for (int i = 0; i < 5; i++) {
        params[i] = v[i];
    }
    params[5] = opts->spool_dir;
    params[6] = runs;
    if (etl_pg_query(db,
                     "SELECT json_build_object("
                     "  'ledger', json_build_object('bytes', $1::bigint, 'runs', $2::bigint, "
                     "                              'files', $3::bigint), "
                     "  'spool', CASE WHEN $6::text IS NOT NULL THEN json_build_object("
                     "                'dir', $6::text, 'bytes', $4::bigint, 'files', $5::bigint) "
                     "           END, "
                     "  'runs', $7::json)", 7, params, &res, err) < 0) {
        return -1;
    }
    fprintf(out, "%s\n", PQgetvalue(res, 0, 0));
    PQclear(res);
    return 0;
}

/* The table (or JSON) of recent runs; see status.h. */
int
etl_status_print(struct pg_conn *db, const struct etl_status_opts *opts, FILE *out,
                 struct etl_err *err)
{
    long limit = opts->limit > 0 ? opts->limit : 10;
    char ids[4096] = "{";
    PGresult *runs, *files;

    struct status_sizes z;
    int rc;

    if (status_sizes(db, opts, &z, err) < 0) {
        return -1;
    }
    if (opts->json) {
        if (etl_ledger_runs_json(db, opts->pipeline, limit, opts->failed_only, &runs,
                                 err) < 0) {
            return -1;
        }
        rc = status_json(db, opts, &z, PQgetvalue(runs, 0, 0), out, err);
        PQclear(runs);
        return rc;
    }
    if (etl_ledger_runs_recent(db, opts->pipeline, limit, opts->failed_only, &runs, err) < 0) {
        return -1;
    }
    status_size_line(opts, &z, out);
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
    if (etl_ledger_runs_files(db, ids, &files, err) < 0) {
        return -1;
    }
    if (PQntuples(files) > 0) {
        fprintf(out, "\n%6s  %-9s %9s %9s %9s  %-14s  %-8s  %s\n", "run", "file", "rows",
                "loaded", "rejected", "revised", "sha256", "url");
    }
    for (int i = 0; i < PQntuples(files); i++) {
        char *url = etl_url_redact_dup(PQgetvalue(files, i, 6), status_no_params);

        if (url == NULL) {
            PQclear(files);
            return etl_err_nomem(err);
        }
        fprintf(out, "%6s  %-9s %9s %9s %9s  %-14s  %-8s  %s\n", PQgetvalue(files, i, 0),
                PQgetvalue(files, i, 1), PQgetvalue(files, i, 2), PQgetvalue(files, i, 3),
                PQgetvalue(files, i, 4), PQgetvalue(files, i, 8), PQgetvalue(files, i, 5), url);
        free(url);
        if (PQgetvalue(files, i, 7)[0] != '\0') {
            fprintf(out, "        error: %s\n", PQgetvalue(files, i, 7));
        }
    }
    PQclear(files);
    return 0;
}

/* The unknown names, one per line; see status.h. */
int
etl_status_unmatched(struct pg_conn *db, FILE *out, struct etl_err *err)
{
    PGresult *res;

    if (etl_ledger_unmatched(db, &res, err) < 0) {
        return -1;
    }
    if (PQntuples(res) == 0) {
        fprintf(out, "no unmatched names\n");
        PQclear(res);
        return 0;
    }
    fprintf(out, "column\tname\trows\tfiles\tdid you mean\turls\n");
    for (int i = 0; i < PQntuples(res); i++) {
        fprintf(out, "%s\t%s\t%s\t%s\t%s\t%s\n", PQgetvalue(res, i, 0),
                PQgetvalue(res, i, 1), PQgetvalue(res, i, 2), PQgetvalue(res, i, 3),
                PQgetvalue(res, i, 5), PQgetvalue(res, i, 4));
    }
    PQclear(res);
    return 0;
}
