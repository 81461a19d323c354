/*
 * validate.c
 *    The validate stage: per-row rules on normalized rows, and the file's
 *    reject ratio.  A row failing a rule is rejected with a short reason
 *    naming the value; rows already rejected by an earlier stage are only
 *    counted.  At the end of the file, a reject ratio above the maximum
 *    refuses the file (job->refused): its rejects and ledger row are still
 *    written, its rows are not merged.
 *
 *    YAML keys:
 *      required          canonical columns that must be non-empty
 *                        (default [region, indicator, period, value]); a
 *                        missing value passes only when value is not listed,
 *                        and is then stored as missing
 *      non_negative      reject negative values of additive indicators
 *                        (default true)
 *      max_reject_ratio  0..1, default 0.1
 *      min_year/max_year period bounds (default 1990 / 2100)
 *      pair_valid        a row with a partner must be an east-west pairing
 *                        valid at some time in its period: its own pair or
 *                        its provinces' pair (default true)
 *
 *    Per row: a few comparisons and at most a few hash lookups; nothing is
 *    allocated.  Next door: normalize.c before it, load.c after it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etl/catalog.h"
#include "etl/num.h"
#include "etl/pipeline.h"
#include "etl/stage.h"

/* Texts quoted in reasons are cut to this many bytes (a reason is 200). */
#define VALIDATE_QUOTE 60

struct validate {
    bool required[ETL_NCOLS];
    bool non_negative;
    bool pair_valid;
    double max_reject_ratio;
    long min_year, max_year;
    /* per file */
    long long rows, rejected;
};

static const struct etl_key validate_keys[] = {
    { "required", ETL_KEY_SEQ, false, "columns that must be non-empty" },
    { "non_negative", ETL_KEY_BOOL, false, "no negative values of additive indicators" },
    { "max_reject_ratio", ETL_KEY_NUM, false, "refuse the file above this ratio (0..1)" },
    { "min_year", ETL_KEY_INT, false, "earliest year of a period" },
    { "max_year", ETL_KEY_INT, false, "latest year of a period" },
    { "pair_valid", ETL_KEY_BOOL, false, "partner rows must be a valid pairing" },
    { NULL, 0, false, NULL }
};

/*
 * Read the rules (keys already checked against validate_keys).  The context
 * is st->ctx, freed by validate_destroy() even on failure.
 */
static int
validate_configure(struct etl_stage *st, const struct etl_node *node, struct etl_err *err)
{
    struct validate *v = calloc(1, sizeof(*v));
    const struct etl_node *req;

    if (v == NULL) {
        return etl_err_set(err, ETL_E_NOMEM, "out of memory");
    }
    st->ctx = v;
    if (etl_node_bool(node, "non_negative", true, &v->non_negative, err) < 0 ||
        etl_node_bool(node, "pair_valid", true, &v->pair_valid, err) < 0 ||
        etl_node_double(node, "max_reject_ratio", 0.1, 0.0, 1.0, &v->max_reject_ratio,
                        err) < 0 ||
        etl_node_long(node, "min_year", 1990, 1000, 9999, &v->min_year, err) < 0 ||
        etl_node_long(node, "max_year", 2100, 1000, 9999, &v->max_year, err) < 0) {
        return -1;
    }
    if (v->min_year > v->max_year) {
        return etl_node_fail(etl_node_get(node, "max_year"), err, ETL_E_CONFIG,
                             "max_year %ld is before min_year %ld", v->max_year, v->min_year);
    }
    if ((req = etl_node_get(node, "required")) == NULL) {
        v->required[ETL_COL_REGION] = true;
        v->required[ETL_COL_INDICATOR] = true;
        v->required[ETL_COL_PERIOD] = true;
        v->required[ETL_COL_VALUE] = true;
        return 0;
    }
    for (size_t i = 0; i < req->n; i++) {
        const struct etl_node *it = req->items[i];
        int col = -1;

        for (int c = 0; c < ETL_NCOLS && it->type == ETL_NODE_SCALAR; c++) {
            if (strcmp(etl_col_names[c], it->str) == 0) {
                col = c;
            }
        }
        if (col < 0) {
            return etl_node_fail(it, err, ETL_E_CONFIG, "unknown column \"%s\" in required "
                                 "(expected region, partner, indicator, period, value, "
                                 "unit or note)", it->type == ETL_NODE_SCALAR ? it->str : "");
        }
        v->required[col] = true;
    }
    return 0;
}

/* Free the context; accepts a half-configured stage. */
static void
validate_destroy(struct etl_stage *st)
{
    free(st->ctx);
    st->ctx = NULL;
}

/* A file starts: count its rows from zero. */
static int
validate_begin(struct etl_stage *st, struct etl_err *err)
{
    struct validate *v = st->ctx;

    (void)err;
    v->rows = v->rejected = 0;
    return 0;
}

/* The file failed: forget its counts. */
static void
validate_abort(struct etl_stage *st)
{
    struct validate *v = st->ctx;

    if (v != NULL) {
        v->rows = v->rejected = 0;
    }
}

/* How many bytes of s to quote: at most VALIDATE_QUOTE, whole characters. */
static int
qlen(const char *s)
{
    size_t n = strlen(s);

    if (n > VALIDATE_QUOTE) {
        n = VALIDATE_QUOTE;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) {
            n--;
        }
    }
    return (int)n;
}

/* Whether the canonical column 'col' of a normalized row is empty. */
static bool
is_empty(const struct etl_row *row, int col)
{
    switch (col) {
    case ETL_COL_REGION: return row->region[0] == '\0';
    case ETL_COL_PARTNER: return row->partner[0] == '\0';
    case ETL_COL_INDICATOR: return row->indicator == NULL;
    case ETL_COL_PERIOD: return row->period.kind == ETL_PERIOD_NONE;
    case ETL_COL_VALUE: return row->value[0] == '\0' || row->qualifier == ETL_Q_MISSING;
    case ETL_COL_UNIT: return row->unit == NULL;
    default: return row->f[col] == NULL || row->f[col][0] == '\0';
    }
}

/* The last year a period [start, end) touches. */
static int
last_year(const struct etl_period *p)
{
    int y = p->end / 10000;

    return (p->end % 10000 == 101) ? y - 1 : y;
}

/* A region's short name for messages, the code itself if unknown. */
static const char *
region_name(const struct etl_catalog *cat, const char *code)
{
    const struct etl_region *r = etl_catalog_region_code(cat, code);

    return r != NULL ? r->short_zh : code;
}

/* Apply the rules to one row not yet rejected; the first failing rule rejects it. */
static void
validate_row(const struct validate *v, const struct etl_catalog *cat, struct etl_row *row)
{
    const char *pt = row->f[ETL_COL_PERIOD] != NULL ? row->f[ETL_COL_PERIOD] : "";
    const struct etl_indicator *ind;

    for (int c = 0; c < ETL_NCOLS; c++) {
        if (v->required[c] && is_empty(row, c)) {
            const char *raw = row->f[c];

            if (raw != NULL && raw[0] != '\0') {
                etl_row_reject(row, "missing %s \"%.*s\"", etl_col_names[c], qlen(raw), raw);
            } else {
                etl_row_reject(row, "missing %s", etl_col_names[c]);
            }
            return;
        }
    }
    if (row->period.kind != ETL_PERIOD_NONE) {
        if (row->period.start / 10000 < v->min_year) {
            etl_row_reject(row, "period \"%.*s\" before min_year %ld", qlen(pt), pt,
                           v->min_year);
            return;
        }
        if (last_year(&row->period) > v->max_year) {
            etl_row_reject(row, "period \"%.*s\" after max_year %ld", qlen(pt), pt,
                           v->max_year);
            return;
        }
    }
    if (v->non_negative && row->indicator != NULL && etl_num_sign(row->value) < 0 &&
        (ind = etl_catalog_indicator_find(cat, row->indicator, strlen(row->indicator))) != NULL &&
        ind->additive) {
        etl_row_reject(row, "negative value %s of additive indicator %s", row->value,
                       row->indicator);
        return;
    }
    if (v->pair_valid && row->partner[0] != '\0' && row->region[0] != '\0' &&
        etl_catalog_paired(cat, row->region, row->partner, row->period.start,
                           row->period.end) == NULL) {
        int y0 = row->period.start / 10000, y1 = last_year(&row->period);

        if (row->period.kind == ETL_PERIOD_NONE) {
            etl_row_reject(row, "no east–west pairing %s–%s", region_name(cat, row->region),
                           region_name(cat, row->partner));
        } else if (y1 > y0) {
            etl_row_reject(row, "no east–west pairing %s–%s in %d–%d",
                           region_name(cat, row->region), region_name(cat, row->partner),
                           y0, y1);
        } else {
            etl_row_reject(row, "no east–west pairing %s–%s in %d",
                           region_name(cat, row->region), region_name(cat, row->partner), y0);
        }
    }
}

/* Check and count the rows of a batch, then push it on. */
static int
validate_process(struct etl_stage *st, struct etl_chunk *in, struct etl_err *err)
{
    struct validate *v = st->ctx;
    const struct etl_catalog *cat = etl_stage_catalog(st);
    struct etl_batch *batch = in->batch;

    if (cat == NULL) {
        return etl_err_set(err, ETL_E_INTERNAL, "stage %s has no catalog", st->name);
    }
    for (size_t i = 0; i < batch->n; i++) {
        struct etl_row *row = &batch->rows[i];

        if (!row->rejected) {
            validate_row(v, cat, row);
        }
        v->rows++;
        if (row->rejected) {
            v->rejected++;
        }
    }
    return etl_stage_push(st, in, err);
}

/*
 * End of the file: refuse it if the reject ratio is above the maximum
 * (unless a stage refused it already), reset the counts, finish the next.
 */
static int
validate_finish(struct etl_stage *st, struct etl_err *err)
{
    struct validate *v = st->ctx;
    struct etl_job *job = st->job;

    if (v->rows > 0 && job != NULL && !job->refused) {
        double ratio = (double)v->rejected / (double)v->rows;

        if (ratio > v->max_reject_ratio) {
            job->refused = true;
            snprintf(job->refuse_reason, sizeof(job->refuse_reason),
                     "reject ratio %.2f above max_reject_ratio %.2f (%lld of %lld rows)",
                     ratio, v->max_reject_ratio, v->rejected, v->rows);
        }
    }
    v->rows = v->rejected = 0;
    return etl_stage_finish_next(st, err);
}

const struct etl_stage_kind etl_stage_validate = {
    .name = "validate",
    .consumes = ETL_FLOW_ROWS,
    .produces = ETL_FLOW_ROWS,
    .keys = validate_keys,
    .summary = "per-row rules and the file's reject ratio",
    .configure = validate_configure,
    .begin = validate_begin,
    .process = validate_process,
    .finish = validate_finish,
    .abort = validate_abort,
    .destroy = validate_destroy,
};
