/*
 * migrate.c
 *    Apply the embedded migrations; see migrate.h.  The dimension tables are
 *    refreshed by the domain (etl/ewc/dimensions.c), through its resource
 *    kind's sync hook.
 */
#include "migrate.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static const char migrate_bootstrap[] =
    "CREATE SCHEMA IF NOT EXISTS ledger;"
    "CREATE TABLE IF NOT EXISTS ledger.migration ("
    "  version integer PRIMARY KEY, name text NOT NULL,"
    "  applied_at timestamptz NOT NULL DEFAULT now())";

int
etl_migrate(struct pg_conn *db, int *applied, struct etl_err *err)
{
    struct etl_err ignore;

    *applied = 0;
    if (etl_pg_exec(db, "SET client_min_messages = warning", err) < 0 ||
        etl_pg_exec(db, "SELECT pg_advisory_lock(hashtext('ewc-etl'), 0)", err) < 0) {
        return -1;
    }
    if (etl_pg_exec(db, migrate_bootstrap, err) < 0) {
        goto fail;
    }
    for (const struct etl_migration *m = etl_migrations; m->version != 0; m++) {
        char v[16];
        const char *params[2] = { v, m->name };
        PGresult *res;
        bool done;

        snprintf(v, sizeof(v), "%d", m->version);
        if (etl_pg_query(db, "SELECT 1 FROM ledger.migration WHERE version = $1", 1, params,
                         &res, err) < 0) {
            goto fail;
        }
        done = PQntuples(res) > 0;
        PQclear(res);
        if (done) {
            continue;
        }
        if (etl_pg_exec(db, "BEGIN", err) < 0) {
            goto fail;
        }
        if (etl_pg_exec(db, m->sql, err) < 0 ||
            etl_pg_query(db, "INSERT INTO ledger.migration (version, name) VALUES ($1, $2)",
                         2, params, NULL, err) < 0 ||
            etl_pg_exec(db, "COMMIT", err) < 0) {
            etl_err_context(err, "migration %s", m->name);
            etl_err_clear(&ignore);
            (void)!etl_pg_exec(db, "ROLLBACK", &ignore);
            goto fail;
        }
        etl_log(ETL_LOG_INFO, "applied migration %s", m->name);
        (*applied)++;
    }
    etl_err_clear(&ignore);
    (void)!etl_pg_exec(db, "SELECT pg_advisory_unlock(hashtext('ewc-etl'), 0)", &ignore);
    return 0;
fail:
    etl_err_clear(&ignore);
    (void)!etl_pg_exec(db, "SELECT pg_advisory_unlock(hashtext('ewc-etl'), 0)", &ignore);
    return -1;
}
