/*
 * load.c
 *    The pg_load stage: the end of a file's row chain.  Accepted rows go by
 *    COPY (text format) straight into warehouse.observation; rejected rows
 *    are spooled to a temporary file and COPY'd into ledger.reject once the
 *    observation COPY has ended (one connection carries one COPY at a time).
 *
 *    All of it happens inside the file's transaction, opened by the runner,
 *    after a SAVEPOINT: begin() deletes the rows the previous version of the
 *    same source loaded, so a re-published file replaces them; when the file
 *    is refused (reject ratio), finish() rolls back to the savepoint and
 *    keeps only the rejects.  The runner writes the ledger row and commits.
 *
 *    Per row: one COPY line is encoded into a buffer reused for the whole
 *    file; the buffer is sent when it passes LOAD_SEND_BYTES.  libpq queues
 *    the data and the server works while we parse the next chunk.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etl/buf.h"
#include "etl/log.h"
#include "etl/pg.h"
#include "etl/pipeline.h"
#include "etl/stage.h"

/* Send COPY data in pieces of about this size: big enough to amortise the
 * call, small enough to keep the server busy while we parse. */
#define LOAD_SEND_BYTES (256 * 1024)
/* Longest COPY line we build; a raw record is at most 1 MiB by default. */
#define LOAD_MAX_LINE ((size_t)16 << 20)

struct load {
    struct etl_buf out;         /* COPY lines for the observations */
    struct etl_buf rej;         /* one reject line at a time */
    FILE *rejects;              /* spooled reject lines, COPY text format */
    char ids[3][24];            /* source_id, file_id, run_id as text */
    int64_t rows_in, rows_loaded, rows_rejected;
};

static const char load_copy_sql[] =
    "COPY warehouse.observation (indicator, region, partner, period_kind, period_start, "
    "period_end, value, unit, qualifier, raw_value, note, source_id, file_id, run_id, line, "
    "of_which) "
    "FROM STDIN";

static int
load_configure(struct etl_stage *st, const struct etl_node *node, struct etl_err *err)
{
    struct load *ld = calloc(1, sizeof(*ld));

    (void)node;
    if (ld == NULL) {
        return etl_err_set(err, ETL_E_NOMEM, "out of memory");
    }
    etl_buf_init(&ld->out, LOAD_MAX_LINE + LOAD_SEND_BYTES);
    etl_buf_init(&ld->rej, LOAD_MAX_LINE);
    st->ctx = ld;
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
    if (ld->rejects != NULL) {
        fclose(ld->rejects);
    }
    free(ld);
    st->ctx = NULL;
}

static int
load_begin(struct etl_stage *st, struct etl_err *err)
{
    struct load *ld = st->ctx;
    struct etl_job *job = st->job;
    const char *params[1];

    ld->rows_in = ld->rows_loaded = ld->rows_rejected = 0;
    etl_buf_reset(&ld->out);
    snprintf(ld->ids[0], sizeof(ld->ids[0]), "%" PRId64, job->source_id);
    snprintf(ld->ids[1], sizeof(ld->ids[1]), "%" PRId64, job->file_id);
    snprintf(ld->ids[2], sizeof(ld->ids[2]), "%" PRId64, job->run->id);
    if (ld->rejects != NULL) {
        fclose(ld->rejects);
    }
    ld->rejects = tmpfile();
    if (ld->rejects == NULL) {
        return etl_err_errno(err, ETL_E_IO, "could not create a temporary file for rejects");
    }
    params[0] = ld->ids[0];
    if (etl_pg_exec(job->db, "SAVEPOINT etl_load", err) < 0 ||
        etl_pg_query(job->db, "DELETE FROM warehouse.observation WHERE source_id = $1",
                     1, params, NULL, err) < 0 ||
        etl_pg_copy_begin(job->db, load_copy_sql, err) < 0) {
        return -1;
    }
    return 0;
}

/* 20210101 -> "2021-01-01" (dates from normalize are in 0001..9999) */
static void
fmt_date(char out[11], int32_t d)
{
    unsigned v = d > 0 ? (unsigned)d : 0;
    static const int pos[8] = { 0, 1, 2, 3, 5, 6, 8, 9 };

    for (int i = 7; i >= 0; i--) {
        out[pos[i]] = (char)('0' + v % 10);
        v /= 10;
    }
    out[4] = out[7] = '-';
    out[10] = '\0';
}

static int
load_row(struct load *ld, const struct etl_row *r, struct etl_err *err)
{
    char start[11], end[11], line[24];
    struct etl_buf *b = &ld->out;

    fmt_date(start, r->period.start);
    fmt_date(end, r->period.end);
    snprintf(line, sizeof(line), "%lu", r->line);
    if (etl_copy_field(b, r->indicator, false, err) < 0 ||
        etl_copy_field(b, r->region, false, err) < 0 ||
        etl_copy_field(b, r->partner[0] != '\0' ? r->partner : NULL, false, err) < 0 ||
        etl_copy_field(b, etl_period_kind_names[r->period.kind], false, err) < 0 ||
        etl_copy_field(b, start, false, err) < 0 ||
        etl_copy_field(b, end, false, err) < 0 ||
        etl_copy_field(b, r->value[0] != '\0' ? r->value : NULL, false, err) < 0 ||
        etl_copy_field(b, r->unit, false, err) < 0 ||
        etl_copy_field(b, etl_qualifier_names[r->qualifier], false, err) < 0 ||
        etl_copy_field(b, r->f[ETL_COL_VALUE], false, err) < 0 ||
        etl_copy_field(b, r->f[ETL_COL_NOTE] != NULL && r->f[ETL_COL_NOTE][0] != '\0'
                          ? r->f[ETL_COL_NOTE] : NULL, false, err) < 0 ||
        etl_copy_field(b, ld->ids[0], false, err) < 0 ||
        etl_copy_field(b, ld->ids[1], false, err) < 0 ||
        etl_copy_field(b, ld->ids[2], false, err) < 0 ||
        etl_copy_field(b, line, false, err) < 0 ||
        etl_copy_field(b, r->of_which ? "t" : "f", true, err) < 0) {
        return -1;
    }
    return 0;
}

static int
load_reject(struct load *ld, const struct etl_row *r, struct etl_err *err)
{
    char line[24];

    snprintf(line, sizeof(line), "%lu", r->line);
    etl_buf_reset(&ld->rej);
    if (etl_copy_field(&ld->rej, ld->ids[1], false, err) < 0 ||
        etl_copy_field(&ld->rej, line, false, err) < 0 ||
        etl_copy_field_n(&ld->rej, r->raw != NULL ? r->raw : "", r->raw != NULL ? r->raw_len : 0,
                         false, err) < 0 ||
        etl_copy_field(&ld->rej, r->reason[0] != '\0' ? r->reason : "rejected", true, err) < 0) {
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
    struct etl_batch *b = in->batch;

    for (size_t i = 0; i < b->n; i++) {
        const struct etl_row *r = &b->rows[i];

        ld->rows_in++;
        if (r->rejected) {
            ld->rows_rejected++;
            if (load_reject(ld, r, err) < 0) {
                return -1;
            }
            continue;
        }
        ld->rows_loaded++;
        if (load_row(ld, r, err) < 0) {
            etl_err_context(err, "line %lu", r->line);
            return -1;
        }
    }
    if (ld->out.len >= LOAD_SEND_BYTES) {
        if (etl_pg_copy_put(st->job->db, ld->out.data, ld->out.len, err) < 0) {
            return -1;
        }
        etl_buf_reset(&ld->out);
    }
    return 0;
}

/* COPY the spooled rejects into ledger.reject. */
static int
load_send_rejects(struct load *ld, struct pg_conn *db, struct etl_err *err)
{
    char block[65536];
    size_t n;

    if (ld->rows_rejected == 0) {
        return 0;
    }
    if (fflush(ld->rejects) != 0 || fseek(ld->rejects, 0, SEEK_SET) != 0) {
        return etl_err_errno(err, ETL_E_IO, "could not read back the rejects");
    }
    if (etl_pg_copy_begin(db, "COPY ledger.reject (file_id, line, raw, reason) FROM STDIN",
                          err) < 0) {
        return -1;
    }
    while ((n = fread(block, 1, sizeof(block), ld->rejects)) > 0) {
        if (etl_pg_copy_put(db, block, n, err) < 0) {
            etl_pg_copy_end(db, "write failed", err);
            return -1;
        }
    }
    if (ferror(ld->rejects)) {
        etl_err_errno(err, ETL_E_IO, "could not read back the rejects");
        etl_pg_copy_end(db, "read failed", err);
        return -1;
    }
    return etl_pg_copy_end(db, NULL, err);
}

static int
load_finish(struct etl_stage *st, struct etl_err *err)
{
    struct load *ld = st->ctx;
    struct etl_job *job = st->job;
    struct etl_file *f = job->file;

    if (ld->out.len > 0) {
        if (etl_pg_copy_put(job->db, ld->out.data, ld->out.len, err) < 0) {
            return -1;
        }
        etl_buf_reset(&ld->out);
    }
    if (etl_pg_copy_end(job->db, NULL, err) < 0) {
        if (strstr(err->detail, "SQLSTATE 23505") != NULL) {
            etl_err_hint(err, "the file has the same indicator, region, partner and period twice");
        }
        return -1;
    }
    if (job->refused) {
        /* keep the previous version's rows: undo the delete and the copy */
        if (etl_pg_exec(job->db, "ROLLBACK TO SAVEPOINT etl_load", err) < 0) {
            return -1;
        }
        ld->rows_loaded = 0;
    }
    if (etl_pg_exec(job->db, "RELEASE SAVEPOINT etl_load", err) < 0 ||
        load_send_rejects(ld, job->db, err) < 0) {
        return -1;
    }
    f->rows_in = ld->rows_in;
    f->rows_loaded = ld->rows_loaded;
    f->rows_rejected = ld->rows_rejected;
    if (!job->refused && f->rows_in != f->rows_loaded + f->rows_rejected) {
        return etl_err_set(err, ETL_E_INTERNAL,
                           "row count mismatch: %" PRId64 " in, %" PRId64 " loaded, %" PRId64
                           " rejected", f->rows_in, f->rows_loaded, f->rows_rejected);
    }
    fclose(ld->rejects);
    ld->rejects = NULL;
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
    if (ld->rejects != NULL) {
        fclose(ld->rejects);
        ld->rejects = NULL;
    }
    etl_buf_reset(&ld->out);
}

static const struct etl_key load_keys[] = {
    { 0 }
};

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
    .destroy = load_destroy,
};
