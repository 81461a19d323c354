/*
 * migrate.h
 *    Numbered schema migrations (sql/NNN_name.sql, embedded in the binary at
 *    build time) applied once each, in order, each in its own transaction
 *    with its row in ledger.migration.  The dimension tables are the
 *    domain's (etl/ewc/dimensions.c), written after the migrations.
 */
#ifndef ETL_MIGRATE_H
#define ETL_MIGRATE_H

#include "err.h"
#include "pg.h"

struct etl_migration {
    int version;
    const char *name;
    const char *sql;
};

extern const struct etl_migration etl_migrations[];   /* ends with version 0 */

/*
 * Apply the migrations not yet applied; *applied receives how many were.
 * Serialised by an advisory lock, so two concurrent migrates are safe.
 */
int etl_migrate(struct pg_conn *db, int *applied, struct etl_err *err) ETL_MUSTCHECK;

#endif
