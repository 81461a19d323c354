/*
 * parse_rows.c
 *    The row builder of the parse_csv stage, the last link of its chain:
 *    records from the CSV tokenizer in, batches of rows out to the stage's
 *    next stage.  The first record that is not blank is the header (mapped
 *    to the canonical columns here, or by parse_sdmx.c for SDMX-CSV); each
 *    later one becomes exactly one row, maybe rejected.  The rows' texts
 *    live in the arena, reused batch after batch.  See parse.c for the
 *    rules and parse.h for the chain.
 */
#include "parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const enum etl_col parse_required[PARSE_NREQUIRED] = {
    ETL_COL_REGION, ETL_COL_INDICATOR, ETL_COL_PERIOD, ETL_COL_VALUE
};

/* Hand the batch to the next stage and start an empty one. */
static int
parse_flush(struct parse *ps, struct etl_err *err)
{
    struct etl_chunk chunk = etl_chunk_rows(ps->batch);

    ps->downstream = true;
    if (etl_stage_push(&ps->rows, &chunk, err) < 0) {
        return -1;
    }
    ps->downstream = false;
    ps->batch->n = 0;
    ps->arena_len = 0;
    return 0;
}

/* Do all fields of 'rec' trim to nothing? */
static bool
parse_blank(const struct etl_csv_record *rec)
{
    for (size_t i = 0; i < rec->nfields; i++) {
        const char *p = rec->fields[i];
        size_t n = rec->lens[i];

        parse_trim(&p, &n);
        if (n > 0) {
            return false;
        }
    }
    return true;
}

/* Names of column 'c' as a list for a message. */
static void
parse_name_list(const struct parse *ps, enum etl_col c, char *out, size_t size)
{
    size_t o = 0;

    out[0] = '\0';
    for (size_t i = 0; i < ps->nnames[c] && o < size; i++) {
        int k = snprintf(out + o, size - o, "%s%s", i > 0 ? ", " : "",
                         ps->names[c][i].shown);

        if (k < 0) {
            break;
        }
        o += (size_t)k;
    }
}

/* The first record that is not blank: map its fields to the columns. */
static int
parse_header(struct parse *ps, const struct etl_csv_record *rec, struct etl_err *err)
{
    char fold[PARSE_NAME_MAX];

    if (rec->bad != NULL) {
        etl_err_set(err, ETL_E_DATA, "invalid header: %s", rec->bad);
        etl_err_where(err, "line %lu", rec->line);
        return -1;
    }
    if (ps->format != PARSE_FORMAT_CSV) {
        size_t merged;

        ps->sdmx = parse_sdmx_version(ps, rec, &merged, err);
        if (ps->sdmx < 0) {
            ps->sdmx = 0;
            return -1;
        }
        if (ps->sdmx > 0) {
            return parse_sdmx_header(ps, rec, merged, err);
        }
    }
    for (size_t i = 0; i < rec->nfields; i++) {
        if (parse_fold(rec->fields[i], rec->lens[i], fold) <= 0) {
            continue;
        }
        for (int c = 0; c < ETL_NCOLS; c++) {
            for (size_t j = 0; j < ps->nnames[c]; j++) {
                int prev = ps->map[c];

                if (strcmp(fold, ps->names[c][j].fold) != 0) {
                    continue;
                }
                if (prev >= 0) {
                    etl_err_set(err, ETL_E_DATA, "column \"%s\" is named twice in the "
                                "header: \"%s\" (field %d) and \"%s\" (field %zu)",
                                etl_col_names[c], rec->fields[prev], prev + 1,
                                rec->fields[i], i + 1);
                    etl_err_where(err, "line %lu", rec->line);
                    return -1;
                }
                ps->map[c] = (int)i;
            }
        }
    }
    for (size_t k = 0; k < PARSE_NREQUIRED; k++) {
        enum etl_col c = parse_required[k];
        char list[200];

        if (ps->map[c] >= 0) {
            continue;
        }
        parse_name_list(ps, c, list, sizeof(list));
        etl_err_set(err, ETL_E_DATA,
                    "missing column \"%s\" (expected a header named one of: %s)",
                    etl_col_names[c], list);
        etl_err_detail(err, "the header is \"%s\"", rec->raw);
        etl_err_where(err, "line %lu", rec->line);
        return -1;
    }
    ps->have_header = true;
    ps->nheader = rec->nfields;
    return 0;
}

/* Copy [p, +n) into the arena as a NUL-terminated text (room was made). */
const char *
parse_keep(struct parse *ps, const char *p, size_t n)
{
    char *s = ps->arena + ps->arena_len;

    memcpy(s, p, n);
    s[n] = '\0';
    ps->arena_len += n + 1;
    return s;
}

/* A record after the header: one row, maybe rejected. */
static int
parse_row(struct parse *ps, const struct etl_csv_record *rec, struct etl_err *err)
{
    struct etl_row *row;
    size_t need = rec->raw_len + 1 + (ps->sdmx > 0 ? ETL_VALUE_MAX : 0);

    for (int c = 0; c < ETL_NCOLS; c++) {
        if (ps->map[c] >= 0 && (size_t)ps->map[c] < rec->nfields) {
            need += rec->lens[ps->map[c]] + 1;
        }
    }
    if (need > ps->arena_cap - ps->arena_len) {
        if (ps->batch->n > 0 && parse_flush(ps, err) < 0) {
            return -1;
        }
        if (need > ps->arena_cap) {
            /* no row points into it now: it may move */
            char *a = realloc(ps->arena, need);

            if (a == NULL) {
                return etl_err_nomem(err);
            }
            ps->arena = a;
            ps->arena_cap = need;
        }
    }
    row = &ps->batch->rows[ps->batch->n];
    memset(row, 0, sizeof(*row));
    row->line = rec->line;
    row->raw = parse_keep(ps, rec->raw, rec->raw_len);
    row->raw_len = rec->raw_len;
    for (int c = 0; c < ETL_NCOLS; c++) {
        int i = ps->map[c];

        if (i >= 0 && (size_t)i < rec->nfields) {
            const char *p = rec->fields[i];
            size_t n = rec->lens[i];

            parse_trim(&p, &n);
            if (ps->sdmx > 0 && parse_sdmx_coded(c)) {
                n = parse_label_cut(p, n);
            }
            row->f[c] = parse_keep(ps, p, n);
        }
    }
    if (rec->bad != NULL) {
        etl_row_reject(row, "%s", rec->bad);
    } else if (rec->nfields != ps->nheader) {
        etl_row_reject(row, "expected %zu fields, found %zu", ps->nheader,
                       rec->nfields);
    } else if (ps->sdmx > 0) {
        parse_sdmx_row(ps, rec, row);
    }
    ps->batch->n++;
    if (ps->batch->n == ETL_BATCH_ROWS) {
        return parse_flush(ps, err);
    }
    return 0;
}

/* Each record from the tokenizer: skipped if blank, else header or row. */
static int
rows_process(struct etl_stage *link, struct etl_chunk *in, struct etl_err *err)
{
    struct parse *ps = link->ctx;
    const struct etl_csv_record *rec = in->data;

    if (in->type != &etl_chunk_record_type) {
        return etl_err_set(err, ETL_E_INTERNAL, "the row builder expects records, not %s",
                           etl_chunk_type_name(in));
    }
    if (rec->bad == NULL && parse_blank(rec)) {
        return 0;
    }
    if (!ps->have_header) {
        return parse_header(ps, rec, err);
    }
    return parse_row(ps, rec, err);
}

/* The end of the records: a file without a header is an error; else the
 * last batch goes on and the next stage is finished. */
static int
rows_finish(struct etl_stage *link, struct etl_verdict *v, struct etl_err *err)
{
    struct parse *ps = link->ctx;

    if (!ps->have_header) {
        etl_err_set(err, ETL_E_DATA, "no header: the file is empty");
        etl_err_where(err, "line 1");
        return -1;
    }
    if (ps->batch->n > 0 && parse_flush(ps, err) < 0) {
        return -1;
    }
    ps->downstream = true;
    return etl_stage_finish_next(link, v, err);
}

const struct etl_stage_kind parse_rows_kind = {
    .name = "rows",
    .consumes = ETL_FLOW_ROWS,
    .produces = ETL_FLOW_ROWS,
    .process = rows_process,
    .finish = rows_finish,
};
