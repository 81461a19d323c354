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
#include "url.h"

#include <stdlib.h>
#include <string.h>

/* No query parameter is secret here: the stage's own names made the row. */
static const char *const status_no_params[] = { NULL };

/* The table (or JSON) of recent runs; see status.h. */
int
etl_status_print(struct pg_conn *db, const struct etl_status_opts *opts, FILE *out,
                 struct etl_err *err)
{
    long limit = opts->limit > 0 ? opts->limit : 10;
    char ids[4096] = "{";
    PGresult *runs, *files;

    if (opts->json) {
        if (etl_ledger_runs_json(db, opts->pipeline, limit, opts->failed_only, &runs,
                                 err) < 0) {
            return -1;
        }
        fprintf(out, "%s\n", PQgetvalue(runs, 0, 0));
        PQclear(runs);
        return 0;
    }
    if (etl_ledger_runs_recent(db, opts->pipeline, limit, opts->failed_only, &runs, err) < 0) {
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
