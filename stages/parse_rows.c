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

#include "etl/ewc/num.h"
#include "etl/pipeline.h"

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
    ps->raw_kept = NULL;
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

/* The texts of one row before they are kept: a label or value per column. */
struct parse_cells {
    const char *p[ETL_NCOLS];       /* NULL: no such column */
    size_t n[ETL_NCOLS];
    bool kept[ETL_NCOLS];           /* p outlives the batch (a constant): not copied */
    const char *unit_header, *unit_header_of;
    unsigned col;                   /* a wide table's cell: its column from 1, else 0 */
    bool of_which, total;
};

/* Room in the arena for 'need' bytes, flushing or growing it.  0 or -1. */
static int
parse_room(struct parse *ps, size_t need, struct etl_err *err)
{
    if (need <= ps->arena_cap - ps->arena_len) {
        return 0;
    }
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
    return 0;
}

/*
 * Does record 'rec' have the header's width?  A workbook leaves the blank
 * cells at the end of a row out (its record ends at the last cell with
 * text), so a shorter record of a workbook is whole: its missing fields
 * are empty.  A text file's record must have the header's field count.
 */
static bool
parse_width_ok(const struct parse *ps, const struct etl_csv_record *rec)
{
    return rec->nfields == ps->nheader || (ps->book != 0 && rec->nfields < ps->nheader);
}

/* Add one row of record 'rec' with texts 'cl'; maybe rejected. */
static int
parse_emit(struct parse *ps, const struct etl_csv_record *rec, const struct parse_cells *cl,
           struct etl_err *err)
{
    struct etl_row *row;
    bool raw_kept = ps->raw_kept != NULL && ps->raw_seq == ps->rec_seq;
    size_t need = rec->raw_len + 1 + (ps->sdmx > 0 ? ETL_VALUE_MAX : 0);

    for (int c = 0; c < ETL_NCOLS; c++) {
        if (cl->p[c] != NULL && !cl->kept[c]) {
            need += cl->n[c] + 1;
        }
    }
    if (raw_kept && need - (rec->raw_len + 1) <= ps->arena_cap - ps->arena_len) {
        need -= rec->raw_len + 1;       /* the record's raw text is there already */
    }
    if (parse_room(ps, need, err) < 0) {
        return -1;
    }
    if (ps->raw_kept == NULL || ps->raw_seq != ps->rec_seq) {
        ps->raw_kept = parse_keep(ps, rec->raw, rec->raw_len);
        ps->raw_seq = ps->rec_seq;
    }
    row = &ps->batch->rows[ps->batch->n];
    memset(row, 0, sizeof(*row));
    row->line = rec->line;
    row->col = cl->col;
    row->raw = ps->raw_kept;
    row->raw_len = rec->raw_len;
    for (int c = 0; c < ETL_NCOLS; c++) {
        if (cl->p[c] != NULL) {
            row->f[c] = cl->kept[c] ? cl->p[c] : parse_keep(ps, cl->p[c], cl->n[c]);
        }
    }
    row->unit_header = cl->unit_header;
    row->unit_header_of = cl->unit_header_of;
    row->unit_default = ps->given.unit;
    row->unit_default_from = ps->given.unit_from;
    row->of_which_mark = cl->of_which;
    row->total = cl->total;
    row->total_given = cl->total && ps->total_region != NULL;
    if (rec->bad != NULL) {
        etl_row_reject(row, "%s", rec->bad);
    } else if (!parse_width_ok(ps, rec)) {
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

/* A constant of the table for column c, when the header has no such column. */
static void
parse_given(const struct parse *ps, struct parse_cells *cl, enum etl_col c)
{
    if (cl->p[c] == NULL && ps->given.f[c] != NULL) {
        cl->p[c] = ps->given.f[c];
        cl->n[c] = strlen(ps->given.f[c]);
        cl->kept[c] = true;
    }
}

/* Drop of-which markers from the region and the partner; a total's label
 * (合计) becomes the region it is about. */
static void
parse_label_marks(const struct parse *ps, struct parse_cells *cl)
{
    for (int c = ETL_COL_REGION; c <= ETL_COL_PARTNER; c++) {
        size_t k;

        if (cl->p[c] != NULL && (k = parse_label_of_which(cl->p[c], cl->n[c])) > 0) {
            cl->p[c] += k;
            cl->n[c] -= k;
            cl->of_which = true;
        }
    }
    if (cl->p[ETL_COL_REGION] != NULL &&
        parse_label_total(cl->p[ETL_COL_REGION], cl->n[ETL_COL_REGION])) {
        /* the YAML's, else the nation (normalize may find the table is
         * one province's) */
        cl->p[ETL_COL_REGION] = ps->total_region != NULL ? ps->total_region : "全国";
        cl->n[ETL_COL_REGION] = strlen(cl->p[ETL_COL_REGION]);
        cl->kept[ETL_COL_REGION] = true;
        cl->total = true;
    } else if (cl->p[ETL_COL_PARTNER] != NULL &&
               parse_label_total(cl->p[ETL_COL_PARTNER], cl->n[ETL_COL_PARTNER])) {
        /* 广东, 合计: 广东's figure over all of its partners */
        cl->p[ETL_COL_PARTNER] = "";
        cl->n[ETL_COL_PARTNER] = 0;
        cl->kept[ETL_COL_PARTNER] = true;
        cl->total = true;
    }
}

/*
 * The label columns of a record: trimmed (an SDMX code without its label),
 * marks read (parse_label_marks) and constants where the header has no
 * such column.
 */
static void
parse_labels(const struct parse *ps, const struct etl_csv_record *rec, struct parse_cells *cl)
{
    memset(cl, 0, sizeof(*cl));
    for (int c = 0; c < ETL_NCOLS; c++) {
        int i = ps->map[c];

        if (i >= 0 && (size_t)i < rec->nfields) {
            const char *p = rec->fields[i];
            size_t n = rec->lens[i];

            parse_trim(&p, &n);
            if (ps->sdmx > 0 && parse_sdmx_coded(c)) {
                n = parse_label_cut(p, n);
            }
            cl->p[c] = p;
            cl->n[c] = n;
        }
    }
    if (ps->sdmx > 0) {
        return;
    }
    parse_label_marks(ps, cl);
    parse_given(ps, cl, ETL_COL_REGION);
    parse_given(ps, cl, ETL_COL_PARTNER);
    parse_given(ps, cl, ETL_COL_INDICATOR);
    parse_given(ps, cl, ETL_COL_PERIOD);
}

/* A record of a long table: one row. */
static int
parse_row_long(struct parse *ps, const struct etl_csv_record *rec, struct parse_cells *cl,
               struct etl_err *err)
{
    cl->unit_header = ps->hunit[ETL_COL_VALUE];
    cl->unit_header_of = ps->hname[ETL_COL_VALUE];
    return parse_emit(ps, rec, cl, err);
}

/* Is a value cell's text a missing marker (—, …, NA): no figure? */
static bool
parse_missing(const char *p, size_t n)
{
    char buf[32];
    struct etl_num num;
    struct etl_err e;

    if (n >= sizeof(buf) || (p[0] >= '0' && p[0] <= '9')) {
        return false;
    }
    memcpy(buf, p, n);
    buf[n] = '\0';
    e.code = ETL_E_NONE;
    e.msg[0] = '\0';
    return etl_num_parse(buf, &num, &e) == 0 && num.qualifier == ETL_Q_MISSING;
}

/*
 * A record of a wide table: one row per value cell that holds a figure.  A
 * blank cell or a missing marker ("—", "…") holds none: a table prints
 * them where a region has no such figure, so they are no rows (a long
 * table's missing value is a row, which validate's "required" judges).
 * A malformed record is one rejected row.
 */
static int
parse_row_wide(struct parse *ps, const struct etl_csv_record *rec, struct parse_cells *cl,
               struct etl_err *err)
{
    if (rec->bad != NULL || !parse_width_ok(ps, rec)) {
        return parse_emit(ps, rec, cl, err);
    }
    for (size_t k = 0; k < ps->nwide; k++) {
        const struct parse_wide *w = &ps->wide[k];
        const char *p = w->field < rec->nfields ? rec->fields[w->field] : "";
        size_t n = w->field < rec->nfields ? rec->lens[w->field] : 0;
        struct parse_cells row = *cl;

        parse_trim(&p, &n);
        if (n == 0 || parse_missing(p, n)) {
            continue;
        }
        row.p[ETL_COL_VALUE] = p;
        row.n[ETL_COL_VALUE] = n;
        if (w->indicator != NULL) {
            row.p[ETL_COL_INDICATOR] = w->indicator;
            row.n[ETL_COL_INDICATOR] = strlen(w->indicator);
            row.kept[ETL_COL_INDICATOR] = true;
        }
        if (w->period != NULL) {
            row.p[ETL_COL_PERIOD] = w->period;
            row.n[ETL_COL_PERIOD] = strlen(w->period);
            row.kept[ETL_COL_PERIOD] = true;
        }
        row.unit_header = w->unit;
        row.unit_header_of = w->header;
        row.col = (unsigned)w->field + 1;
        if (parse_emit(ps, rec, &row, err) < 0) {
            return -1;
        }
    }
    return 0;
}

/* Is the record only of-which markers and blanks (a "其中：" heading)? */
static bool
parse_heading(const struct etl_csv_record *rec, const struct parse_cells *cl)
{
    if (!cl->of_which || rec->bad != NULL) {
        return false;
    }
    for (size_t i = 0; i < rec->nfields; i++) {
        const char *p = rec->fields[i];
        size_t n = rec->lens[i];

        parse_trim(&p, &n);
        if (n > 0 && parse_label_of_which(p, n) != n) {
            return false;
        }
    }
    return true;
}

/* A record after the header: a footnote, or one row or (wide) several. */
static int
parse_row(struct parse *ps, const struct etl_csv_record *rec, struct etl_err *err)
{
    struct parse_cells cl;

    ps->rec_seq++;
    if (ps->sdmx == 0 && parse_shape_footnote(ps, rec)) {
        return 0;
    }
    parse_labels(ps, rec, &cl);
    if (parse_heading(rec, &cl)) {
        return 0;
    }
    if (ps->layout == PARSE_LAYOUT_WIDE) {
        return parse_row_wide(ps, rec, &cl, err);
    }
    return parse_row_long(ps, rec, &cl, err);
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
        return parse_shape_record(ps, rec, err);
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
        return parse_shape_end(ps, err);
    }
    if (ps->batch->n > 0 && parse_flush(ps, err) < 0) {
        return -1;
    }
    if (link->job != NULL && link->job->file != NULL) {
        link->job->file->notes = ps->notes_len > 0 ? ps->notes : NULL;
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
