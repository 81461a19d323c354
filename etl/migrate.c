/*
 * migrate.c
 *    Apply the embedded migrations and refresh the dimensions; see migrate.h.
 */
#include "migrate.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "catalog.h"
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

/* yyyymmdd -> "yyyy-mm-dd", or NULL for 0 (open) */
static const char *
date_or_null(char out[16], int32_t d)
{
    if (d == 0) {
        return NULL;
    }
    snprintf(out, 16, "%04d-%02d-%02d", (int)(d / 10000 % 10000), (int)(d / 100 % 100),
             (int)(d % 100));
    return out;
}

static const char *
nz(const char *s)
{
    return s != NULL && s[0] != '\0' ? s : NULL;
}

/* COPY 'b' (complete lines) with 'sql'. */
static int
copy_all(struct pg_conn *db, const char *sql, struct etl_buf *b, struct etl_err *err)
{
    if (etl_pg_copy_begin(db, sql, err) < 0) {
        return -1;
    }
    if (b->len > 0 && etl_pg_copy_put(db, b->data, b->len, err) < 0) {
        etl_pg_copy_end(db, "failed", err);
        return -1;
    }
    return etl_pg_copy_end(db, NULL, err);
}

int
etl_migrate_catalog(struct pg_conn *db, const struct etl_catalog *cat, struct etl_err *err)
{
    struct etl_buf b;
    struct etl_err ignore;
    char d1[16], d2[16];

    etl_buf_init(&b, (size_t)64 << 20);
    if (etl_pg_exec(db, "BEGIN; DELETE FROM warehouse.region; DELETE FROM warehouse.indicator;"
                        " DELETE FROM warehouse.unit; DELETE FROM warehouse.pairing", err) < 0) {
        goto fail;
    }
    for (size_t i = 0; i < cat->nregions; i++) {
        const struct etl_region *r = &cat->regions[i];

        if (etl_copy_field(&b, r->code, false, err) < 0 ||
            etl_copy_field(&b, r->name_zh, false, err) < 0 ||
            etl_copy_field(&b, nz(r->short_zh), false, err) < 0 ||
            etl_copy_field(&b, nz(r->name_en), false, err) < 0 ||
            etl_copy_field(&b, nz(r->abbrev), false, err) < 0 ||
            etl_copy_field(&b, r->level, false, err) < 0 ||
            etl_copy_field(&b, nz(r->parent), false, err) < 0 ||
            etl_copy_field(&b, nz(r->zone), false, err) < 0 ||
            etl_copy_field(&b, date_or_null(d1, r->valid_from), false, err) < 0 ||
            etl_copy_field(&b, date_or_null(d2, r->valid_to), false, err) < 0 ||
            etl_copy_field(&b, nz(r->successor), true, err) < 0) {
            goto fail;
        }
    }
    if (copy_all(db, "COPY warehouse.region (code, name_zh, short_zh, name_en, abbrev, level, "
                     "parent, zone, valid_from, valid_to, successor) FROM STDIN", &b, err) < 0) {
        goto fail;
    }
    etl_buf_reset(&b);
    for (size_t i = 0; i < cat->nunits; i++) {
        const struct etl_unit *u = &cat->units[i];

        if (etl_copy_field(&b, u->code, false, err) < 0 ||
            etl_copy_field(&b, nz(u->name_zh), false, err) < 0 ||
            etl_copy_field(&b, nz(u->name_en), false, err) < 0 ||
            etl_copy_field(&b, nz(u->kind), true, err) < 0) {
            goto fail;
        }
    }
    if (copy_all(db, "COPY warehouse.unit (code, name_zh, name_en, kind) FROM STDIN", &b,
                 err) < 0) {
        goto fail;
    }
    etl_buf_reset(&b);
    for (size_t i = 0; i < cat->nindicators; i++) {
        const struct etl_indicator *ind = &cat->indicators[i];

        if (etl_copy_field(&b, ind->code, false, err) < 0 ||
            etl_copy_field(&b, ind->name_zh, false, err) < 0 ||
            etl_copy_field(&b, nz(ind->name_en), false, err) < 0 ||
            etl_copy_field(&b, ind->unit, false, err) < 0 ||
            etl_copy_field(&b, ind->additive ? "t" : "f", false, err) < 0 ||
            etl_copy_field(&b, ind->of_which, true, err) < 0) {
            goto fail;
        }
    }
    if (copy_all(db, "COPY warehouse.indicator (code, name_zh, name_en, unit, additive, of_which) "
                     "FROM STDIN", &b, err) < 0) {
        goto fail;
    }
    etl_buf_reset(&b);
    for (size_t i = 0; i < cat->npairings; i++) {
        const struct etl_pairing *pr = &cat->pairings[i];

        if (etl_copy_field(&b, pr->east, false, err) < 0 ||
            etl_copy_field(&b, pr->west, false, err) < 0 ||
            etl_copy_field(&b, pr->level, false, err) < 0 ||
            etl_copy_field(&b, date_or_null(d1, pr->valid_from), false, err) < 0 ||
            etl_copy_field(&b, date_or_null(d2, pr->valid_to), false, err) < 0 ||
            etl_copy_field(&b, nz(pr->stage), true, err) < 0) {
            goto fail;
        }
    }
    if (copy_all(db, "COPY warehouse.pairing (east, west, level, valid_from, valid_to, stage) "
                     "FROM STDIN", &b, err) < 0 ||
        etl_pg_exec(db, "COMMIT", err) < 0) {
        goto fail;
    }
    etl_buf_free(&b);
    return 0;
fail:
    etl_err_context(err, "catalog");
    etl_err_clear(&ignore);
    (void)!etl_pg_exec(db, "ROLLBACK", &ignore);
    etl_buf_free(&b);
    return -1;
}
