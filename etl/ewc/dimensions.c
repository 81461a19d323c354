/*
 * dimensions.c
 *    The catalog into the warehouse's dimension tables (warehouse.region,
 *    .unit, .indicator, .pairing): all rows replaced in one transaction, at
 *    migrate time, after the numbered migrations (etl/migrate.c) have run.
 *    See dimensions.h.
 */
#include "dimensions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etl/buf.h"
#include "catalog.h"

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

/* A year as text, or NULL for 0 (none) */
static const char *
year_or_null(char out[16], int y)
{
    if (y == 0) {
        return NULL;
    }
    snprintf(out, 16, "%d", y);
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

/* The COPY text of warehouse.region, one line per region, into 'b'. */
static int
region_lines(struct etl_buf *b, const struct etl_catalog *cat, struct etl_err *err)
{
    char d1[16], d2[16];

    for (size_t i = 0; i < cat->nregions; i++) {
        const struct etl_region *r = &cat->regions[i];

        if (etl_copy_field(b, r->code, false, err) < 0 ||
            etl_copy_field(b, r->name_zh, false, err) < 0 ||
            etl_copy_field(b, nz(r->short_zh), false, err) < 0 ||
            etl_copy_field(b, nz(r->name_en), false, err) < 0 ||
            etl_copy_field(b, nz(r->abbrev), false, err) < 0 ||
            etl_copy_field(b, r->level, false, err) < 0 ||
            etl_copy_field(b, nz(r->parent), false, err) < 0 ||
            etl_copy_field(b, nz(r->zone), false, err) < 0 ||
            etl_copy_field(b, date_or_null(d1, r->valid_from), false, err) < 0 ||
            etl_copy_field(b, date_or_null(d2, r->valid_to), false, err) < 0 ||
            etl_copy_field(b, nz(r->successor), true, err) < 0) {
            return -1;
        }
    }
    return 0;
}

/* The COPY text of warehouse.unit into 'b'. */
static int
unit_lines(struct etl_buf *b, const struct etl_catalog *cat, struct etl_err *err)
{
    for (size_t i = 0; i < cat->nunits; i++) {
        const struct etl_unit *u = &cat->units[i];

        if (etl_copy_field(b, u->code, false, err) < 0 ||
            etl_copy_field(b, nz(u->name_zh), false, err) < 0 ||
            etl_copy_field(b, nz(u->name_en), false, err) < 0 ||
            etl_copy_field(b, nz(u->kind), true, err) < 0) {
            return -1;
        }
    }
    return 0;
}

/* The COPY text of warehouse.indicator into 'b'. */
static int
indicator_lines(struct etl_buf *b, const struct etl_catalog *cat, struct etl_err *err)
{
    char y1[16], y2[16];

    for (size_t i = 0; i < cat->nindicators; i++) {
        const struct etl_indicator *ind = &cat->indicators[i];

        if (etl_copy_field(b, ind->code, false, err) < 0 ||
            etl_copy_field(b, ind->name_zh, false, err) < 0 ||
            etl_copy_field(b, nz(ind->name_en), false, err) < 0 ||
            etl_copy_field(b, ind->unit, false, err) < 0 ||
            etl_copy_field(b, ind->additive ? "t" : "f", false, err) < 0 ||
            etl_copy_field(b, ind->of_which, false, err) < 0 ||
            etl_copy_field(b, year_or_null(y1, ind->years[0]), false, err) < 0 ||
            etl_copy_field(b, year_or_null(y2, ind->years[1]), true, err) < 0) {
            return -1;
        }
    }
    return 0;
}

/* The COPY text of warehouse.pairing into 'b'. */
static int
pairing_lines(struct etl_buf *b, const struct etl_catalog *cat, struct etl_err *err)
{
    char d1[16], d2[16];

    for (size_t i = 0; i < cat->npairings; i++) {
        const struct etl_pairing *pr = &cat->pairings[i];

        if (etl_copy_field(b, pr->east, false, err) < 0 ||
            etl_copy_field(b, pr->west, false, err) < 0 ||
            etl_copy_field(b, pr->level, false, err) < 0 ||
            etl_copy_field(b, date_or_null(d1, pr->valid_from), false, err) < 0 ||
            etl_copy_field(b, date_or_null(d2, pr->valid_to), false, err) < 0 ||
            etl_copy_field(b, nz(pr->stage), true, err) < 0) {
            return -1;
        }
    }
    return 0;
}

/* The dimension tables in the order they are refilled, with their COPY. */
static const struct dimension {
    const char *copy;
    int (*lines)(struct etl_buf *b, const struct etl_catalog *cat, struct etl_err *err);
} dimensions[] = {
    { "COPY warehouse.region (code, name_zh, short_zh, name_en, abbrev, level, parent, "
      "zone, valid_from, valid_to, successor) FROM STDIN", region_lines },
    { "COPY warehouse.unit (code, name_zh, name_en, kind) FROM STDIN", unit_lines },
    { "COPY warehouse.indicator (code, name_zh, name_en, unit, additive, of_which, "
      "years_from, years_to) FROM STDIN", indicator_lines },
    { "COPY warehouse.pairing (east, west, level, valid_from, valid_to, stage) "
      "FROM STDIN", pairing_lines },
};

/*
 * Empty the four dimension tables and COPY the catalog into them, in one
 * transaction (rolled back on failure); see dimensions.h.
 */
int
etl_migrate_catalog(struct pg_conn *db, const struct etl_catalog *cat, struct etl_err *err)
{
    struct etl_buf b;
    struct etl_err ignore;

    etl_buf_init(&b, (size_t)64 << 20);
    if (etl_pg_exec(db, "BEGIN; DELETE FROM warehouse.region; DELETE FROM warehouse.indicator;"
                        " DELETE FROM warehouse.unit; DELETE FROM warehouse.pairing", err) < 0) {
        goto fail;
    }
    for (size_t i = 0; i < sizeof(dimensions) / sizeof(dimensions[0]); i++) {
        etl_buf_reset(&b);
        if (dimensions[i].lines(&b, cat, err) < 0 ||
            copy_all(db, dimensions[i].copy, &b, err) < 0) {
            goto fail;
        }
    }
    if (etl_pg_exec(db, "COMMIT", err) < 0) {
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
