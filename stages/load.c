/*
 * load.c
 *    The pg_load stage: the end of a file's row chain.  Accepted rows go by
 *    binary COPY into warehouse.observation; rejected rows (text COPY)
 *    are spooled to a temporary file and COPY'd into ledger.reject once the
 *    observation COPY has ended (one connection carries one COPY at a time).
 *
 *    All of it happens inside the file's transaction, opened by the runner,
 *    after a SAVEPOINT.  A source's first version is COPY'd straight into
 *    the warehouse; a re-published one into a temporary table, and finish()
 *    applies only the keys it changes and records them (revise.h); when the
 *    file is refused (reject ratio), finish() rolls back to the savepoint
 *    and keeps only the rejects.  The worker writes the ledger row and
 *    commits.
 *
 *    Per row: one binary COPY tuple (etl/copybin.h: the server parses no
 *    numbers or dates) is encoded into a buffer reused for the whole file;
 *    the buffer is sent when it passes LOAD_SEND_BYTES (16 KiB: small
 *    enough that the server always has queued rows while we parse).
 *
 *    A file that repeats a key (indicator, region, partner, period) breaks
 *    the unique key at the end of the COPY (SQLSTATE 23505).  The kind
 *    declares what that means (on_unique_violation: retry with dedupe), and
 *    the worker loads the file again with job->dedupe set: rows go to a
 *    temporary staging table first, every
 *    repeat after the first becomes a reject ("same figure as line 3" or
 *    "duplicate of line 3 with another value"), and the rest is inserted.
 *    Clean files never pay for that.
 *
 *    Reconciliation (key "reconcile"): each national row of an additive
 *    indicator is compared with the sum of the same file's province rows
 *    for that indicator and period, added up as the rows stream past
 *    (reconcile.h: no query, no second pass); a difference above the
 *    tolerance is written to ledger.reconcile, and with "fail" the file is
 *    refused.
 *
 *    Magnitudes (key "magnitude_check", default true): the rows loaded are
 *    weighed against the catalog's plausible figures (plausible.h); a file
 *    a unit was lost from ("about 10000× too small: unit?") is refused.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "etl/buf.h"
#include "etl/copybin.h"
#include "etl/date.h"
#include "etl/ewc/ewc.h"
#include "etl/ewc/row.h"
#include "etl/log.h"
#include "etl/pg.h"
#include "etl/pipeline.h"
#include "etl/stage.h"
#include "plausible.h"
#include "reconcile.h"
#include "revise.h"

/* Send COPY data in pieces of about this size.  libpq (blocking) returns
 * from PQputCopyData only once the whole piece is in the socket, and the
 * kernel wakes a writer of a full unix socket only when it has drained to a
 * quarter: with 256 KiB pieces the server ran dry while we parsed the next
 * one (1M rows: 5.6 s wall for 4.2 s of server CPU); with 16 KiB the
 * socket never empties (4.3 s).  8 KiB measured the same, 32 KiB 4.4-4.7 s. */
#define LOAD_SEND_BYTES (16 * 1024)
/* Longest COPY line we build; a raw record is at most 1 MiB by default. */
#define LOAD_MAX_LINE ((size_t)16 << 20)

enum load_reconcile { LOAD_RECONCILE_OFF, LOAD_RECONCILE_WARN, LOAD_RECONCILE_FAIL };

struct load {
    enum load_reconcile reconcile;
    bool magnitude;             /* refuse files of implausible magnitude */
    struct plausible *pl;       /* its counts, made for the first file */
    char tolerance[32];         /* relative, as text for the query */
    int64_t tolerance_ppm;      /* the same in millionths, for reconcile.h */
    struct reconcile *rc;       /* the sums of the file's rows */
    struct etl_buf out;         /* COPY lines for the observations */
    struct etl_buf rej;         /* one reject line at a time */
    FILE *rejects;              /* spooled reject lines, COPY text format */
    FILE *diffs;                /* spooled ledger.reconcile lines */
    long differences;           /* national figures off their provinces' sum */
    int64_t national_rows;      /* loaded rows of the nation, not of a pair */
    int64_t repeats;            /* dedupe: repeated keys rejected in the database */
    char ids[3][24];            /* source_id, file_id, run_id as text */
    int64_t id[3];              /* the same as numbers */
    const char *target;         /* the table the rows go to (revise_begin) */
    int64_t rows_in, rows_loaded, rows_rejected, rows_deleted;
};

#define LOAD_COLUMNS REVISE_COLUMNS

/* %s = where the rows go: warehouse.observation, or etl_new (revise.h).
 * Binary: the server parses no numbers or dates (load_row). */
static const char load_copy_sql[] =
    "COPY %s (" LOAD_COLUMNS ") FROM STDIN WITH (FORMAT binary)";
/* The fields of a row (LOAD_COLUMNS), and the raw record after them in
 * dedupe mode. */
#define LOAD_NFIELDS 17

/* dedupe mode: the same columns plus the raw record, into a temp table */
static const char load_stage_sql[] =
    "SET LOCAL client_min_messages = warning; "
    "CREATE TEMP TABLE IF NOT EXISTS etl_dedupe ON COMMIT DELETE ROWS AS "
    "SELECT " LOAD_COLUMNS ", ''::text AS raw FROM warehouse.observation WITH NO DATA; "
    "TRUNCATE etl_dedupe";
static const char load_stage_copy_sql[] =
    "COPY etl_dedupe (" LOAD_COLUMNS ", raw) FROM STDIN WITH (FORMAT binary)";
/*
 * Every repeat of a key after its first line becomes a reject, and the rest
 * goes into the warehouse.  $1 = file_id.  Returns the number of repeats.
 */
static const char load_dedupe_sql[] =
    "WITH ranked AS ("
    "  SELECT ctid AS id, line, col, value,"
    "         row_number() OVER w AS rn, first_value(line) OVER w AS first_line,"
    "         first_value(value) OVER w AS first_value"
    "  FROM etl_dedupe"
    "  WINDOW w AS (PARTITION BY indicator, region, partner, period_start, period_end,"
    "                            of_which"
    "               ORDER BY line, col)),"
    " gone AS ("
    "  DELETE FROM etl_dedupe d USING ranked r WHERE d.ctid = r.id AND r.rn > 1"
    "  RETURNING d.line, d.col, d.raw, r.first_line, r.first_value, d.value),"
    " rej AS ("
    "  INSERT INTO ledger.reject (file_id, line, col, raw, reason)"
    "  SELECT $1::bigint, line, col, raw,"
    "         CASE WHEN value IS NOT DISTINCT FROM first_value"
    "              THEN format('same figure as line %s', first_line)"
    "              ELSE format('duplicate of line %s with another value (%s, not %s)',"
    "                          first_line, coalesce(value::text, 'missing'),"
    "                          coalesce(first_value::text, 'missing')) END"
    "  FROM gone RETURNING 1)"
    "SELECT count(*) FROM rej";
static const char load_dedupe_insert_sql[] =
    "INSERT INTO %s (" LOAD_COLUMNS ") SELECT " LOAD_COLUMNS " FROM etl_dedupe";

/*
 * National rows of this source against the sum of its province rows, per
 * additive indicator and period, where they differ by more than the
 * tolerance (relative, at least 1 unit).  Only for what the streamed sums
 * cannot do (load_reconcile).  %s = the table the rows went to,
 * $1 = source_id, $2 = tolerance.
 */
static const char load_reconcile_sql[] =
    "SELECT indicator, period_kind, period_start, period_end, national, total, regions "
    "FROM (SELECT o.indicator, o.period_kind, o.period_start, o.period_end,"
    "             min(o.value) FILTER (WHERE o.region = '000000') AS national,"
    "             sum(o.value) FILTER (WHERE r.level = 'province') AS total,"
    "             count(*) FILTER (WHERE r.level = 'province') AS regions"
    "      FROM %s o"
    "      JOIN warehouse.indicator i ON i.code = o.indicator AND i.additive"
    "      LEFT JOIN warehouse.region r ON r.code = o.region"
    "      WHERE o.source_id = $1 AND o.partner IS NULL AND NOT o.of_which"
    "        AND o.value IS NOT NULL"
    "      GROUP BY 1, 2, 3, 4) s "
    "WHERE national IS NOT NULL AND regions > 0"
    "  AND abs(total - national) > greatest(abs(national) * $2::numeric, 1) "
    "ORDER BY 1, 3, 4";

/* Differences logged one by one per file; the rest are counted. */
#define LOAD_RECONCILE_LOG_MAX 5

/* Close the file's temporary spools (rejects, reconciliation). */
static void
load_close_spools(struct load *ld)
{
    if (ld->rejects != NULL) {
        fclose(ld->rejects);
        ld->rejects = NULL;
    }
    if (ld->diffs != NULL) {
        fclose(ld->diffs);
        ld->diffs = NULL;
    }
}

static int
load_configure(struct etl_stage *st, const struct etl_node *node, struct etl_err *err)
{
    struct load *ld = calloc(1, sizeof(*ld));
    const char *mode;
    double tol;

    if (ld == NULL) {
        return etl_err_nomem(err);
    }
    etl_buf_init(&ld->out, LOAD_MAX_LINE + LOAD_SEND_BYTES);
    etl_buf_init(&ld->rej, LOAD_MAX_LINE);
    st->ctx = ld;
    if (etl_node_str(node, "reconcile", "warn", &mode, err) < 0 ||
        etl_node_double(node, "reconcile_tolerance", 0.005, 0, 1, &tol, err) < 0 ||
        etl_node_bool(node, "magnitude_check", true, &ld->magnitude, err) < 0) {
        return -1;
    }
    if (strcmp(mode, "off") == 0) {
        ld->reconcile = LOAD_RECONCILE_OFF;
    } else if (strcmp(mode, "warn") == 0) {
        ld->reconcile = LOAD_RECONCILE_WARN;
    } else if (strcmp(mode, "fail") == 0) {
        ld->reconcile = LOAD_RECONCILE_FAIL;
    } else {
        return etl_node_fail(etl_node_get(node, "reconcile"), err, ETL_E_CONFIG,
                             "\"reconcile\" must be off, warn or fail, not \"%s\"", mode);
    }
    snprintf(ld->tolerance, sizeof(ld->tolerance), "%.6f", tol);
    ld->tolerance_ppm = llround(tol * 1e6);
    return 0;
}

static void
load_destroy(struct etl_stage *st)
{
    struct load *ld = st->ctx;

    if (ld == NULL) {
        return;
    }
    etl_buf_free(&ld->out);
    etl_buf_free(&ld->rej);
    load_close_spools(ld);
    plausible_free(ld->pl);
    reconcile_free(ld->rc);
    free(ld);
    st->ctx = NULL;
}

static int
load_begin(struct etl_stage *st, struct etl_err *err)
{
    struct load *ld = st->ctx;
    struct etl_job *job = st->job;
    char sql[4096];
    const char *setup;

    ld->rows_in = ld->rows_loaded = ld->rows_rejected = ld->rows_deleted = 0;
    ld->national_rows = 0;
    ld->repeats = 0;
    if (ld->magnitude && ld->pl == NULL && etl_stage_catalog(st) != NULL &&
        (ld->pl = plausible_new(etl_stage_catalog(st), err)) == NULL) {
        return -1;
    }
    if (ld->pl != NULL) {
        plausible_reset(ld->pl);
    }
    if (ld->reconcile != LOAD_RECONCILE_OFF && ld->rc == NULL &&
        etl_stage_catalog(st) != NULL &&
        (ld->rc = reconcile_new(etl_stage_catalog(st), err)) == NULL) {
        return -1;
    }
    if (ld->rc != NULL) {
        reconcile_reset(ld->rc);
    }
    etl_buf_reset(&ld->out);
    if (etl_copybin_header(&ld->out, err) < 0) {
        return -1;
    }
    snprintf(ld->ids[0], sizeof(ld->ids[0]), "%" PRId64, job->source_id);
    snprintf(ld->ids[1], sizeof(ld->ids[1]), "%" PRId64, job->file_id);
    snprintf(ld->ids[2], sizeof(ld->ids[2]), "%" PRId64, job->run->id);
    ld->id[0] = job->source_id;
    ld->id[1] = job->file_id;
    ld->id[2] = job->run->id;
    load_close_spools(ld);
    /* the savepoint, any temporary tables and the COPY: one round trip */
    revise_begin(job, &ld->target, &setup);
    if (job->dedupe) {
        snprintf(sql, sizeof(sql), "SAVEPOINT etl_load; %s%s%s; %s", setup != NULL ? setup : "",
                 setup != NULL ? "; " : "", load_stage_sql, load_stage_copy_sql);
    } else {
        snprintf(sql, sizeof(sql), "SAVEPOINT etl_load; %s%s", setup != NULL ? setup : "",
                 setup != NULL ? "; " : "");
        snprintf(sql + strlen(sql), sizeof(sql) - strlen(sql), load_copy_sql, ld->target);
    }
    return etl_pg_copy_begin(job->db, sql, err);
}

/*
 * One row as a binary COPY tuple (etl/copybin.h): text as is, the value's
 * exact decimal as numeric digits, dates as day numbers, ids as integers.
 * Appended whole or not at all.
 */
static int
load_row(struct load *ld, const struct etl_row *r, bool with_raw, struct etl_err *err)
{
    struct etl_buf *b = &ld->out;
    size_t mark = b->len;
    const char *note = r->f[ETL_COL_NOTE] != NULL && r->f[ETL_COL_NOTE][0] != '\0'
                       ? r->f[ETL_COL_NOTE] : NULL;

    if (etl_copybin_tuple(b, LOAD_NFIELDS + with_raw, err) < 0 ||
        etl_copybin_text(b, r->indicator, err) < 0 ||
        etl_copybin_text(b, r->region, err) < 0 ||
        etl_copybin_text(b, r->partner[0] != '\0' ? r->partner : NULL, err) < 0 ||
        etl_copybin_text(b, etl_period_kind_names[r->period.kind], err) < 0 ||
        etl_copybin_date_ymd(b, r->period.start, err) < 0 ||
        etl_copybin_date_ymd(b, r->period.end, err) < 0 ||
        etl_copybin_numeric(b, r->value[0] != '\0' ? r->value : NULL, err) < 0 ||
        etl_copybin_text(b, r->unit, err) < 0 ||
        etl_copybin_text(b, etl_qualifier_names[r->qualifier], err) < 0 ||
        etl_copybin_text(b, r->f[ETL_COL_VALUE], err) < 0 ||
        etl_copybin_text(b, note, err) < 0 ||
        etl_copybin_int8(b, ld->id[0], err) < 0 ||
        etl_copybin_int8(b, ld->id[1], err) < 0 ||
        etl_copybin_int8(b, ld->id[2], err) < 0 ||
        etl_copybin_int8(b, (int64_t)r->line, err) < 0 ||
        etl_copybin_int4(b, (int32_t)r->col, err) < 0 ||
        etl_copybin_bool(b, r->of_which, err) < 0 ||
        (with_raw && etl_copybin_text_n(b, r->raw != NULL ? r->raw : "",
                                        r->raw != NULL ? r->raw_len : 0, err) < 0)) {
        b->len = mark;
        return -1;
    }
    return 0;
}

/* The column and text of a name the catalog did not know, or two NULLs. */
static int
load_unmatched(struct etl_buf *b, const struct etl_row *r, struct etl_err *err)
{
    const char *name = NULL;

    for (int c = 0; r->unmatched != NULL && c < ETL_NCOLS; c++) {
        if (r->unmatched == etl_col_names[c]) {
            name = r->f[c];
        }
    }
    if (name == NULL) {
        return etl_copy_field(b, NULL, false, err) < 0 ? -1 : etl_copy_field(b, NULL, true, err);
    }
    if (etl_copy_field(b, r->unmatched, false, err) < 0) {
        return -1;
    }
    return etl_copy_field(b, name, true, err);
}

static int
load_reject(struct load *ld, const struct etl_row *r, struct etl_err *err)
{
    char line[24], col[12];

    snprintf(line, sizeof(line), "%lu", r->line);
    snprintf(col, sizeof(col), "%u", r->col);
    if (ld->rejects == NULL && (ld->rejects = tmpfile()) == NULL) {
        return etl_err_errno(err, ETL_E_IO, "could not create a temporary file for rejects");
    }
    etl_buf_reset(&ld->rej);
    if (etl_copy_field(&ld->rej, ld->ids[1], false, err) < 0 ||
        etl_copy_field(&ld->rej, line, false, err) < 0 ||
        etl_copy_field(&ld->rej, col, false, err) < 0 ||
        etl_copy_field_n(&ld->rej, r->raw != NULL ? r->raw : "", r->raw != NULL ? r->raw_len : 0,
                         false, err) < 0 ||
        etl_copy_field(&ld->rej, r->reason[0] != '\0' ? r->reason : "rejected", false, err) < 0 ||
        load_unmatched(&ld->rej, r, err) < 0) {
        return -1;
    }
    if (fwrite(ld->rej.data, 1, ld->rej.len, ld->rejects) != ld->rej.len) {
        return etl_err_errno(err, ETL_E_IO, "could not write rejects to a temporary file");
    }
    return 0;
}

static int
load_process(struct etl_stage *st, struct etl_chunk *in, struct etl_err *err)
{
    struct load *ld = st->ctx;
    struct etl_batch *b = etl_chunk_batch(st, in, err);

    if (b == NULL) {
        return -1;
    }
    for (size_t i = 0; i < b->n; i++) {
        const struct etl_row *r = &b->rows[i];

        ld->rows_in++;
        if (r->deleted && !r->rejected) {
            ld->rows_deleted++;
            continue;
        }
        if (r->rejected) {
            ld->rows_rejected++;
            if (load_reject(ld, r, err) < 0) {
                return -1;
            }
            continue;
        }
        ld->rows_loaded++;
        if (ld->pl != NULL) {
            plausible_add(ld->pl, r);
        }
        if (r->partner[0] == '\0' && strcmp(r->region, "000000") == 0) {
            ld->national_rows++;
        }
        /* a deduplicated file is reconciled by the database (load_reconcile) */
        if (ld->rc != NULL && !st->job->dedupe && reconcile_add(ld->rc, r, err) < 0) {
            return -1;
        }
        if (load_row(ld, r, st->job->dedupe, err) < 0) {
            etl_err_context(err, "line %lu", r->line);
            return -1;
        }
        if (ld->out.len >= LOAD_SEND_BYTES) {
            if (etl_pg_copy_put(st->job->db, ld->out.data, ld->out.len, err) < 0) {
                return -1;
            }
            etl_buf_reset(&ld->out);
        }
    }
    return 0;
}

/* COPY what was spooled to 'fp' (complete COPY text lines) with 'copy_sql'. */
static int
load_send_spooled(FILE *fp, struct pg_conn *db, const char *copy_sql, struct etl_err *err)
{
    char block[65536];
    size_t n;

    if (fflush(fp) != 0 || fseek(fp, 0, SEEK_SET) != 0) {
        return etl_err_errno(err, ETL_E_IO, "could not read back a temporary file");
    }
    if (etl_pg_copy_begin(db, copy_sql, err) < 0) {
        return -1;
    }
    while ((n = fread(block, 1, sizeof(block), fp)) > 0) {
        if (etl_pg_copy_put(db, block, n, err) < 0) {
            etl_pg_copy_end(db, "write failed", err);
            return -1;
        }
    }
    if (ferror(fp)) {
        etl_err_errno(err, ETL_E_IO, "could not read back a temporary file");
        etl_pg_copy_end(db, "read failed", err);
        return -1;
    }
    return etl_pg_copy_end(db, NULL, err);
}

/* COPY the spooled rejects into ledger.reject. */
static int
load_send_rejects(struct load *ld, struct pg_conn *db, struct etl_err *err)
{
    if (ld->rejects == NULL) {
        return 0;       /* none spooled (a repeat's reject is written by the database) */
    }
    return load_send_spooled(ld->rejects, db,
                             "COPY ledger.reject (file_id, line, col, raw, reason, unmatched_column, "
                             "unmatched) FROM STDIN", err);
}

/* Move repeated keys to the rejects and the rest into the warehouse. */
static int
load_dedupe(struct load *ld, struct etl_job *job, struct etl_err *err)
{
    const char *params[1] = { ld->ids[1] };
    char sql[sizeof(load_dedupe_insert_sql) + 32];
    PGresult *res;
    int64_t repeats;

    if (etl_pg_query(job->db, load_dedupe_sql, 1, params, &res, err) < 0) {
        return -1;
    }
    repeats = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    snprintf(sql, sizeof(sql), load_dedupe_insert_sql, ld->target);
    if (etl_pg_exec(job->db, sql, err) < 0) {
        return -1;
    }
    ld->rows_loaded -= repeats;
    ld->rows_rejected += repeats;
    ld->repeats = repeats;
    return 0;
}

/* Rows of the reconciliation fetched from its cursor at a time. */
#define LOAD_RECONCILE_FETCH 1000

/*
 * One difference found: logged (the first few), its COPY line for
 * ledger.reconcile appended to ld->diffs, and under "fail" the first one
 * refuses the file.  'f' = indicator, period kind, start, end, national,
 * sum of the provinces, provinces counted (the columns of ledger.reconcile
 * after file_id).
 */
static int
load_reconcile_found(struct load *ld, struct etl_stage *st, struct etl_verdict *v,
                     const char *const f[7], struct etl_err *err)
{
    const char *outcome = ld->reconcile == LOAD_RECONCILE_FAIL ? "failed" : "warned";
    struct etl_job *job = st->job;

    if (ld->differences < LOAD_RECONCILE_LOG_MAX) {
        etl_log(ETL_LOG_WARNING, "[%s/%s] %s: national %s of %s %s..%s differs from the sum "
                "of %s province rows, %s", st->pipeline->name, st->name, job->file->url,
                f[4], f[0], f[2], f[3], f[6], f[5]);
    }
    if (ld->differences == 0 && ld->reconcile == LOAD_RECONCILE_FAIL) {
        etl_verdict_refuse(v, "national %s of %s %s..%s differs from the sum of %s province "
                           "rows, %s (reconcile: fail)", f[4], f[0], f[2], f[3], f[6], f[5]);
    }
    ld->differences++;
    if (ld->diffs == NULL && (ld->diffs = tmpfile()) == NULL) {
        return etl_err_errno(err, ETL_E_IO, "could not create a temporary file");
    }
    etl_buf_reset(&ld->rej);
    if (etl_copy_field(&ld->rej, ld->ids[1], false, err) < 0) {
        return -1;
    }
    for (int c = 0; c < 7; c++) {
        if (etl_copy_field(&ld->rej, f[c], false, err) < 0) {
            return -1;
        }
    }
    if (etl_copy_field(&ld->rej, outcome, true, err) < 0) {
        return -1;
    }
    if (fwrite(ld->rej.data, 1, ld->rej.len, ld->diffs) != ld->rej.len) {
        return etl_err_errno(err, ETL_E_IO, "could not write a temporary file");
    }
    return 0;
}

/* What load_reconcile_one needs. */
struct load_found {
    struct load *ld;
    struct etl_stage *st;
    struct etl_verdict *v;
};

static int
load_reconcile_one(void *ctx, const struct reconcile_diff *d, struct etl_err *err)
{
    struct load_found *c = ctx;
    char start[11], end[11], regions[24];
    const char *f[7] = { d->indicator, etl_period_kind_names[d->kind], start, end,
                         d->national, d->total, regions };

    etl_date_format(start, d->start);
    etl_date_format(end, d->end);
    snprintf(regions, sizeof(regions), "%" PRId64, d->regions);
    return load_reconcile_found(c->ld, c->st, c->v, f, err);
}

/*
 * The differences of the sums added up while the rows streamed
 * (reconcile.h).  1 when they are not exact: the caller asks the database.
 */
static int
load_reconcile_streamed(struct load *ld, struct etl_stage *st, struct etl_verdict *v,
                        struct etl_err *err)
{
    struct load_found ctx = { ld, st, v };
    struct etl_err e;

    etl_err_clear(&e);
    if (reconcile_each_difference(ld->rc, ld->tolerance_ppm, load_reconcile_one, &ctx, &e) == 0) {
        return 0;
    }
    if (e.code == ETL_E_INTERNAL && ld->differences == 0) {
        return 1;
    }
    *err = e;
    return -1;
}

/* The differences from the database: the rows of a deduplicated file, or
 * sums too long for the streamed ones. */
static int
load_reconcile_query(struct load *ld, struct etl_stage *st, struct etl_verdict *v,
                     struct etl_err *err)
{
    static const char declare[] = "DECLARE etl_reconcile NO SCROLL CURSOR FOR ";
    const char *params[2] = { ld->ids[0], ld->tolerance };
    struct etl_job *job = st->job;
    char sql[sizeof(declare) + sizeof(load_reconcile_sql) + 32];
    char fetch[64];
    int n;

    snprintf(sql, sizeof(sql), "%s", declare);
    snprintf(sql + strlen(sql), sizeof(sql) - strlen(sql), load_reconcile_sql, ld->target);
    snprintf(fetch, sizeof(fetch), "FETCH %d FROM etl_reconcile", LOAD_RECONCILE_FETCH);
    /* The rows' partitions have no statistics yet: unguided, the planner
     * sorted 10M rows twice on disk (merge join with the indicators, then
     * group), 21 s; hashed, 7 s.  And no JIT: LLVM would spend seconds
     * compiling a plan over 51 partitions where the database's jit = off
     * (migration 009) is missing. */
    if (etl_pg_exec(job->db, "SET LOCAL jit = off; SET LOCAL enable_mergejoin = off; "
                    "SET LOCAL enable_nestloop = off; SET LOCAL enable_sort = off; "
                    "SET LOCAL work_mem = '64MB'", err) < 0 ||
        etl_pg_query(job->db, sql, 2, params, NULL, err) < 0) {
        return -1;
    }
    do {
        PGresult *res;

        if (etl_pg_query(job->db, fetch, 0, NULL, &res, err) < 0) {
            return -1;
        }
        n = PQntuples(res);
        for (int i = 0; i < n; i++) {
            const char *f[7];

            for (int c = 0; c < 7; c++) {
                f[c] = PQgetvalue(res, i, c);
            }
            if (load_reconcile_found(ld, st, v, f, err) < 0) {
                PQclear(res);
                return -1;
            }
        }
        PQclear(res);
    } while (n == LOAD_RECONCILE_FETCH);
    return etl_pg_exec(job->db, "CLOSE etl_reconcile; RESET jit; RESET enable_mergejoin; "
                       "RESET enable_nestloop; RESET enable_sort; RESET work_mem", err);
}

/*
 * Compare national rows with the sum of province rows: the sums added up
 * while the rows streamed, or, for a deduplicated file (its repeats left
 * the database, not the stream) or sums too long to be exact, a query.
 * The differences are spooled as COPY lines for ledger.reconcile to a
 * temporary file, written after any rollback so that they stay.  With
 * reconcile: fail, the first difference refuses the file (in 'v').
 */
static int
load_reconcile(struct load *ld, struct etl_stage *st, struct etl_verdict *v, struct etl_err *err)
{
    struct etl_job *job = st->job;
    int rc = 1;

    ld->differences = 0;
    if (ld->reconcile == LOAD_RECONCILE_OFF || ld->national_rows == 0 ||
        v->kind == ETL_VERDICT_REFUSED) {
        return 0;       /* nothing to reconcile, or rows about to be rolled back */
    }
    /* per file, like the rejects: nothing of another file (or of another
     * process, after a fork) can be in it; made at the first difference */
    if (ld->diffs != NULL) {
        fclose(ld->diffs);
        ld->diffs = NULL;
    }
    if (ld->rc != NULL && !job->dedupe) {
        rc = load_reconcile_streamed(ld, st, v, err);
    }
    if (rc == 1) {
        ld->differences = 0;
        rc = load_reconcile_query(ld, st, v, err);
    }
    if (rc < 0) {
        return -1;
    }
    if (ld->differences > LOAD_RECONCILE_LOG_MAX) {
        etl_log(ETL_LOG_WARNING, "[%s/%s] %s: %ld more national figures differ from their "
                "provinces (see ledger.reconcile)", st->pipeline->name, st->name,
                job->file->url, ld->differences - LOAD_RECONCILE_LOG_MAX);
    }
    return 0;
}

/*
 * End of the file: the last COPY data, dedupe and reconciliation; a file
 * refused (by an earlier stage or the reconciliation) keeps only its
 * rejects.  The end of the chain: 'v' is the file's verdict.
 */
static int
load_finish(struct etl_stage *st, struct etl_verdict *v, struct etl_err *err)
{
    struct load *ld = st->ctx;
    struct etl_job *job = st->job;
    struct etl_file *f = job->file;

    if (etl_copybin_trailer(&ld->out, err) < 0 ||
        etl_pg_copy_put(job->db, ld->out.data, ld->out.len, err) < 0) {
        return -1;
    }
    etl_buf_reset(&ld->out);
    if (etl_pg_copy_end(job->db, NULL, err) < 0) {
        return -1;
    }
    if (ld->pl != NULL) {
        plausible_verdict(ld->pl, v);
    }
    if ((job->dedupe && load_dedupe(ld, job, err) < 0) ||
        load_reconcile(ld, st, v, err) < 0) {
        return -1;
    }
    if (v->kind == ETL_VERDICT_REFUSED) {
        /* keep the previous version's rows: undo the delete and the rows */
        if (etl_pg_exec(job->db, "ROLLBACK TO SAVEPOINT etl_load", err) < 0) {
            return -1;
        }
        /* the repeats' reject rows went with it: count what ledger.reject keeps */
        ld->rows_rejected -= ld->repeats;
        ld->rows_loaded = 0;
    } else if (revise_record(job, ld->ids[0], ld->ids[1], ld->rows_loaded, err) < 0) {
        return -1;
    }
    /* etl_load ends with the worker's etl_file, released or committed */
    if (load_send_rejects(ld, job->db, err) < 0 ||
        (ld->differences > 0 &&
         load_send_spooled(ld->diffs, job->db, "COPY ledger.reconcile (file_id, indicator, "
                           "period_kind, period_start, period_end, national, sum_of_regions, "
                           "regions, outcome) FROM STDIN", err) < 0)) {
        return -1;
    }
    f->rows_in = ld->rows_in;
    f->rows_loaded = ld->rows_loaded;
    f->rows_rejected = ld->rows_rejected;
    f->rows_deleted = ld->rows_deleted;
    if (v->kind != ETL_VERDICT_REFUSED && f->rows_in != f->rows_loaded + f->rows_rejected + f->rows_deleted) {
        return etl_err_set(err, ETL_E_INTERNAL,
                           "row count mismatch: %" PRId64 " in, %" PRId64 " loaded, %" PRId64
                           " rejected, %" PRId64 " deleted", f->rows_in, f->rows_loaded,
                           f->rows_rejected, f->rows_deleted);
    }
    load_close_spools(ld);
    return 0;
}

static void
load_abort(struct etl_stage *st)
{
    struct load *ld = st->ctx;
    struct etl_err ignore;

    if (ld == NULL) {
        return;
    }
    etl_err_clear(&ignore);
    if (st->job != NULL && st->job->db != NULL) {
        etl_pg_copy_end(st->job->db, "file aborted", &ignore);
    }
    load_close_spools(ld);
    etl_buf_reset(&ld->out);
}

static const struct etl_key load_keys[] = {
    { "reconcile", ETL_KEY_STR, false,
      "national rows against the sum of province rows: off, warn (default) or fail" },
    { "reconcile_tolerance", ETL_KEY_NUM, false, "relative difference allowed (default 0.005)" },
    { "magnitude_check", ETL_KEY_BOOL, false,
      "refuse a file 1000x off the catalog's magnitudes: a unit lost (default true)" },
    { 0 }
};

/* check's line: the reconciliation and the magnitude check. */
static void
load_describe(const struct etl_stage *st, char *buf, size_t size)
{
    static const char *const modes[] = { "off", "warn", "fail" };
    const struct load *ld = st->ctx;

    snprintf(buf, size, "reconcile %s%s, reconcile_tolerance %g%s, magnitude_check %s%s",
             modes[ld->reconcile], etl_stage_default_mark(st, "reconcile"),
             strtod(ld->tolerance, NULL), etl_stage_default_mark(st, "reconcile_tolerance"),
             ld->magnitude ? "true" : "false", etl_stage_default_mark(st, "magnitude_check"));
}

const struct etl_stage_kind etl_stage_pg_load = {
    .name = "pg_load",
    .consumes = ETL_FLOW_ROWS,
    .produces = ETL_FLOW_NONE,
    .keys = load_keys,
    .summary = "COPY rows into warehouse.observation, rejects into ledger.reject",
    .configure = load_configure,
    .begin = load_begin,
    .process = load_process,
    .finish = load_finish,
    .abort = load_abort,
    .on_unique_violation = ETL_VERDICT_RETRY_DEDUPE,
    .destroy = load_destroy,
    .describe = load_describe,
};
