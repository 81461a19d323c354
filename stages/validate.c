/*
 * validate.c
 *    The validate stage: per-row rules on normalized rows, and the file's
 *    reject ratio.  A row failing a rule is rejected with a short reason
 *    naming the value; rows already rejected by an earlier stage are only
 *    counted.  At the end of the file, a reject ratio above the maximum
 *    refuses the file (its verdict, etl/stage.h): its rejects and ledger
 *    row are still written, its rows are not merged.
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
 *      known_codes       region, partner, indicator and unit must be codes of
 *                        the catalog (default true): normalize only writes
 *                        such codes, this keeps a later stage from slipping
 *                        another one through
 *      ranges            indicator code -> {min: N, max: N}: bounds of the
 *                        value in the indicator's canonical unit, compared
 *                        exactly on the decimal text (1e13 is read as
 *                        10000000000000, never through a double)
 *      accepted          column -> list of accepted values, after
 *                        normalization: region, partner (codes), indicator,
 *                        unit (codes), period_kind (year, half, ...),
 *                        qualifier (exact, lower_bound, ...)
 *
 *    The rules run in this order and the first failing one rejects the row:
 *    required, known_codes, accepted, min_year/max_year, non_negative,
 *    ranges, pair_valid.
 *
 *    Per row: a few comparisons, two hash lookups (region and partner codes;
 *    the indicator and unit are found by the catalog pointer normalize
 *    stored), and for a pair figure up to eight pairing lookups; the ranges
 *    and accepted sets are arrays indexed by catalog position, built once at
 *    configure time.  Nothing is allocated per row.  Next door: normalize.c
 *    before it, load.c after it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etl/ewc/catalog.h"
#include "etl/ewc/ewc.h"
#include "etl/ewc/num.h"
#include "etl/pipeline.h"
#include "etl/stage.h"
#include "etl/suggest.h"
#include "etl/text.h"

/* Texts quoted in reasons are cut to this many bytes (a reason is 200). */
#define VALIDATE_QUOTE 60
/*
 * The accepted values listed in a reason are cut to this many bytes: with
 * the column, the value and the words around them a reason stays within
 * ETL_REASON_MAX.
 */
#define VALIDATE_LIST_MAX 100

/* The columns of "accepted", in the order of accept_keys. */
enum validate_acol {
    ACC_REGION, ACC_PARTNER, ACC_INDICATOR, ACC_UNIT, ACC_PERIOD_KIND, ACC_QUALIFIER,
    ACC_NCOLS
};

/* What a column's values are, for messages: "region", "period kind" ... */
static const char *const accept_labels[ACC_NCOLS] = {
    "region", "partner", "indicator", "unit", "period kind", "qualifier"
};

static const struct etl_key accept_keys[] = {
    { "region", ETL_KEY_SEQ, false, "region codes" },
    { "partner", ETL_KEY_SEQ, false, "partner region codes" },
    { "indicator", ETL_KEY_SEQ, false, "indicator codes" },
    { "unit", ETL_KEY_SEQ, false, "canonical unit codes" },
    { "period_kind", ETL_KEY_SEQ, false, "year, half, quarter, month, months, range" },
    { "qualifier", ETL_KEY_SEQ, false,
      "exact, lower_bound, approximate, estimate, provisional, missing" },
    { NULL, 0, false, NULL }
};

static const struct etl_key range_keys[] = {
    { "min", ETL_KEY_ANY, false, "lowest value accepted, in the canonical unit" },
    { "max", ETL_KEY_ANY, false, "highest value accepted, in the canonical unit" },
    { NULL, 0, false, NULL }
};

/* The accepted values of one column: flags by catalog position or enum value. */
struct validate_accept {
    bool *ok;                       /* NULL: every value is accepted */
    size_t n;
    char list[VALIDATE_LIST_MAX + 8];   /* "year, half", for reasons */
};

/* The bounds of one indicator's values, normalized decimals. */
struct validate_range {
    bool set;                       /* named in ranges */
    bool has_min, has_max;
    char min[ETL_VALUE_MAX], max[ETL_VALUE_MAX];
};

struct validate {
    bool required[ETL_NCOLS];
    bool non_negative;
    bool pair_valid;
    bool known_codes;
    double max_reject_ratio;
    long min_year, max_year;
    const struct etl_catalog *cat;  /* the catalog the arrays below index */
    struct validate_range *ranges;  /* by indicator position; NULL: none */
    struct validate_accept accept[ACC_NCOLS];
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
    { "known_codes", ETL_KEY_BOOL, false, "codes must be in the catalog (default true)" },
    { "ranges", ETL_KEY_MAP, false, "indicator code -> {min, max} of its values" },
    { "accepted", ETL_KEY_MAP, false, "column -> list of accepted values" },
    { NULL, 0, false, NULL }
};

/*
 * The indicator of code 'name' (exactly a code, not a name or alias), or
 * NULL with the error at 'at': 'unknown indicator code "x" in <what>', with
 * a hint when it is the name of one, else "did you mean" the nearest codes.
 */
static const struct etl_indicator *
config_indicator(const struct etl_catalog *cat, const struct etl_node *at, const char *what,
                 struct etl_err *err)
{
    const char *name = at->type == ETL_NODE_SCALAR ? at->str : "";
    const struct etl_indicator *ind = etl_catalog_indicator_find(cat, name, strlen(name));

    if (ind != NULL && strcmp(ind->code, name) == 0) {
        return ind;
    }
    etl_node_fail(at, err, ETL_E_CONFIG, "unknown indicator code \"%s\" in %s", name, what);
    if (ind != NULL) {
        etl_err_hint(err, "\"%s\" is a name of indicator %s: use its code", name, ind->code);
    } else {
        struct etl_suggest sg;
        char near[256];

        etl_suggest_begin(&sg, name);
        for (size_t i = 0; i < cat->nindicators; i++) {
            etl_suggest_add(&sg, cat->indicators[i].code);
        }
        if (etl_suggest_end(&sg, near, sizeof(near)) > 0) {
            etl_err_hint(err, "did you mean %s?", near);
        }
    }
    return NULL;
}

/*
 * Read "ranges" into v->ranges (allocated by indicator position; freed by
 * validate_destroy() even on failure).  Errors point at the offending key
 * or value.
 */
static int
configure_ranges(struct validate *v, const struct etl_node *map, struct etl_err *err)
{
    const struct etl_catalog *cat = v->cat;

    if ((v->ranges = calloc(cat->nindicators + 1, sizeof(*v->ranges))) == NULL) {
        return etl_err_nomem(err);
    }
    for (size_t i = 0; i < map->n; i++) {
        const struct etl_node *k = map->keys[i], *m = map->items[i];
        const struct etl_indicator *ind = config_indicator(cat, k, "ranges", err);
        struct validate_range *r;
        char what[128];

        if (ind == NULL) {
            return -1;
        }
        r = &v->ranges[ind - cat->indicators];
        if (r->set) {
            return etl_node_fail(k, err, ETL_E_CONFIG, "indicator %s given twice in ranges",
                                 ind->code);
        }
        r->set = true;
        snprintf(what, sizeof(what), "range of %s", ind->code);
        if (etl_node_check(m, range_keys, what, err) < 0) {
            return -1;
        }
        for (size_t j = 0; j < m->n; j++) {
            const struct etl_node *val = m->items[j];
            const char *key = m->keys[j]->str;
            bool is_max = strcmp(key, "max") == 0;
            int rc;

            if (val->type != ETL_NODE_SCALAR) {
                return etl_node_fail(val, err, ETL_E_CONFIG, "\"%s\" must be a number", key);
            }
            rc = etl_num_decimal(val->str, is_max ? r->max : r->min, ETL_VALUE_MAX);
            if (rc == -2) {
                return etl_node_fail(val, err, ETL_E_CONFIG, "\"%s\" %s does not fit %d "
                                     "characters", key, val->str, ETL_VALUE_MAX - 1);
            }
            if (rc < 0) {
                return etl_node_fail(val, err, ETL_E_CONFIG,
                                     "\"%s\" must be a number, found \"%s\"", key, val->str);
            }
            if (is_max) {
                r->has_max = true;
            } else {
                r->has_min = true;
            }
        }
        if (!r->has_min && !r->has_max) {
            return etl_node_fail(m, err, ETL_E_CONFIG, "range of %s has neither min nor max",
                                 ind->code);
        }
        if (r->has_min && r->has_max && etl_num_cmp(r->max, r->min) < 0) {
            return etl_node_fail(etl_node_get(m, "max"), err, ETL_E_CONFIG,
                                 "max %s of %s is below its min %s", r->max, ind->code,
                                 r->min);
        }
    }
    return 0;
}

/*
 * The position of accepted value 'it' of column 'col' (a catalog position
 * or an enum value), or -1 with the error at 'it'.
 */
static long
accept_index(const struct etl_catalog *cat, enum validate_acol col, const struct etl_node *it,
             struct etl_err *err)
{
    const char *s = it->type == ETL_NODE_SCALAR ? it->str : "";
    const struct etl_region *r;
    const struct etl_unit *u;
    char what[64];

    switch (col) {
    case ACC_REGION:
    case ACC_PARTNER:
        if ((r = etl_catalog_region_code(cat, s)) != NULL && strcmp(r->code, s) == 0) {
            return r - cat->regions;
        }
        etl_node_fail(it, err, ETL_E_CONFIG, "unknown region code \"%s\" in accepted.%s", s,
                      accept_keys[col].name);
        if ((r = etl_catalog_region(cat, s, strlen(s), 0)) != NULL) {
            etl_err_hint(err, "\"%s\" is region %s: use its code", s, r->code);
        }
        return -1;
    case ACC_INDICATOR: {
        const struct etl_indicator *ind;

        snprintf(what, sizeof(what), "accepted.%s", accept_keys[col].name);
        ind = config_indicator(cat, it, what, err);
        return ind != NULL ? ind - cat->indicators : -1;
    }
    case ACC_UNIT:
        if ((u = etl_catalog_unit(cat, s)) != NULL && strcmp(u->code, s) == 0) {
            return u - cat->units;
        }
        return etl_node_fail(it, err, ETL_E_CONFIG, "unknown unit code \"%s\" in "
                             "accepted.unit", s);
    case ACC_PERIOD_KIND:
        for (int k = ETL_PERIOD_YEAR; k <= ETL_PERIOD_RANGE; k++) {
            if (strcmp(etl_period_kind_names[k], s) == 0) {
                return k;
            }
        }
        return etl_node_fail(it, err, ETL_E_CONFIG, "unknown period kind \"%s\" in "
                             "accepted.period_kind (expected year, half, quarter, month, "
                             "months or range)", s);
    default:
        for (int q = ETL_Q_EXACT; q <= ETL_Q_MISSING; q++) {
            if (strcmp(etl_qualifier_names[q], s) == 0) {
                return q;
            }
        }
        return etl_node_fail(it, err, ETL_E_CONFIG, "unknown qualifier \"%s\" in "
                             "accepted.qualifier (expected exact, lower_bound, approximate, "
                             "estimate, provisional or missing)", s);
    }
}

/* Append 'word' to an accepted list for reasons, "…" once it is full. */
static void
list_add(char *list, const char *word)
{
    size_t n = strlen(list), w = strlen(word);

    if (n >= 3 && strcmp(list + n - 3, "…") == 0) {
        return;
    }
    if (n + 2 + w > VALIDATE_LIST_MAX) {
        etl_strlcat(list, n > 0 ? ", …" : "…", VALIDATE_LIST_MAX + 8);
        return;
    }
    if (n > 0) {
        etl_strlcat(list, ", ", VALIDATE_LIST_MAX + 8);
    }
    etl_strlcat(list, word, VALIDATE_LIST_MAX + 8);
}

/*
 * Read "accepted" into v->accept[] (flag arrays allocated; freed by
 * validate_destroy() even on failure).
 */
static int
configure_accepted(struct validate *v, const struct etl_node *map, struct etl_err *err)
{
    const struct etl_catalog *cat = v->cat;

    if (etl_node_check(map, accept_keys, "accepted", err) < 0) {
        return -1;
    }
    for (int c = 0; c < ACC_NCOLS; c++) {
        const struct etl_node *seq = etl_node_get(map, accept_keys[c].name);
        struct validate_accept *a = &v->accept[c];

        if (seq == NULL) {
            continue;
        }
        if (seq->n == 0) {
            return etl_node_fail(seq, err, ETL_E_CONFIG, "accepted.%s is empty (no row "
                                 "would pass)", accept_keys[c].name);
        }
        switch (c) {
        case ACC_REGION:
        case ACC_PARTNER: a->n = cat->nregions; break;
        case ACC_INDICATOR: a->n = cat->nindicators; break;
        case ACC_UNIT: a->n = cat->nunits; break;
        case ACC_PERIOD_KIND: a->n = ETL_PERIOD_RANGE + 1; break;
        default: a->n = ETL_Q_MISSING + 1; break;
        }
        if ((a->ok = calloc(a->n + 1, sizeof(*a->ok))) == NULL) {
            return etl_err_nomem(err);
        }
        for (size_t i = 0; i < seq->n; i++) {
            long k = accept_index(cat, (enum validate_acol)c, seq->items[i], err);

            if (k < 0) {
                return -1;
            }
            if (!a->ok[k]) {
                a->ok[k] = true;
                list_add(a->list, seq->items[i]->str);
            }
        }
    }
    return 0;
}

/* Free the flag arrays of v; v itself stays. */
static void
free_rules(struct validate *v)
{
    free(v->ranges);
    v->ranges = NULL;
    for (int c = 0; c < ACC_NCOLS; c++) {
        free(v->accept[c].ok);
        v->accept[c].ok = NULL;
    }
}

/*
 * Read the rules (keys already checked against validate_keys).  The context
 * is st->ctx, freed by validate_destroy() even on failure.
 */
static int
validate_configure(struct etl_stage *st, const struct etl_node *node, struct etl_err *err)
{
    struct validate *v = calloc(1, sizeof(*v));
    const struct etl_node *req, *rules;

    if (v == NULL) {
        return etl_err_nomem(err);
    }
    st->ctx = v;
    if (etl_node_bool(node, "non_negative", true, &v->non_negative, err) < 0 ||
        etl_node_bool(node, "pair_valid", true, &v->pair_valid, err) < 0 ||
        etl_node_bool(node, "known_codes", true, &v->known_codes, err) < 0 ||
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
    v->cat = etl_stage_catalog(st);
    if (v->cat == NULL && (etl_node_get(node, "ranges") != NULL ||
                           etl_node_get(node, "accepted") != NULL)) {
        return etl_err_set(err, ETL_E_INTERNAL, "stage %s has no catalog", st->name);
    }
    if ((rules = etl_node_get(node, "ranges")) != NULL &&
        configure_ranges(v, rules, err) < 0) {
        return -1;
    }
    if ((rules = etl_node_get(node, "accepted")) != NULL &&
        configure_accepted(v, rules, err) < 0) {
        return -1;
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
    if (st->ctx != NULL) {
        free_rules(st->ctx);
    }
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
    return (int)etl_text_cut(s, strlen(s), VALIDATE_QUOTE);
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
region_name(const struct etl_region *r, const char *code)
{
    return r != NULL ? r->short_zh : code;
}

/*
 * Whether value 'k' (a catalog position or enum value, -1 when not in the
 * catalog) of a column passes its accepted set; reject the row if not.
 */
static bool
accepted(const struct validate *v, enum validate_acol col, long k, const char *text,
         struct etl_row *row)
{
    const struct validate_accept *a = &v->accept[col];

    if (a->ok == NULL || (k >= 0 && (size_t)k < a->n && a->ok[k])) {
        return true;
    }
    etl_row_reject(row, "%s \"%.*s\" not accepted (accepted: %s)", accept_labels[col],
                   qlen(text), text, a->list);
    return false;
}

/*
 * The indicator whose code is exactly 'code', or NULL.  Normalize stores the
 * catalog's own code string, so the pointer is looked for first (a scan of
 * a few dozen pointers, cheaper than hashing the text); any other string is
 * looked up by text and must be a code, not a name.
 */
static const struct etl_indicator *
indicator_of_code(const struct etl_catalog *cat, const char *code)
{
    const struct etl_indicator *ind;

    for (size_t i = 0; i < cat->nindicators; i++) {
        if (cat->indicators[i].code == code) {
            return &cat->indicators[i];
        }
    }
    ind = etl_catalog_indicator_find(cat, code, strlen(code));
    return ind != NULL && strcmp(ind->code, code) == 0 ? ind : NULL;
}

/* The unit whose code is exactly 'code', or NULL; as indicator_of_code(). */
static const struct etl_unit *
unit_of_code(const struct etl_catalog *cat, const char *code)
{
    const struct etl_unit *u;

    for (size_t i = 0; i < cat->nunits; i++) {
        if (cat->units[i].code == code) {
            return &cat->units[i];
        }
    }
    u = etl_catalog_unit(cat, code);
    return u != NULL && strcmp(u->code, code) == 0 ? u : NULL;
}

/* The position of a catalog entry found by a lookup, -1 if none. */
#define POS(p, base) ((p) != NULL ? (long)((p) - (base)) : -1L)

/* The catalog entries of a row's codes; NULL when not looked up or unknown. */
struct validate_found {
    const struct etl_indicator *ind;
    const struct etl_region *reg, *par;
    const struct etl_unit *unit;
};

/* Whether every required column of 'row' is filled; reject it if not. */
static bool
validate_required(const struct validate *v, struct etl_row *row)
{
    for (int c = 0; c < ETL_NCOLS; c++) {
        if (v->required[c] && is_empty(row, c)) {
            const char *raw = row->f[c];

            if (raw != NULL && raw[0] != '\0') {
                etl_row_reject(row, "missing %s \"%.*s\"", etl_col_names[c], qlen(raw), raw);
            } else {
                etl_row_reject(row, "missing %s", etl_col_names[c]);
            }
            return false;
        }
    }
    return true;
}

/*
 * The catalog entries of the row's codes into 'f', looked up only where a
 * rule needs them: a name is not a code.
 */
static void
validate_lookup(const struct validate *v, const struct etl_catalog *cat,
                const struct etl_row *row, struct validate_found *f)
{
    memset(f, 0, sizeof(*f));
    if (row->region[0] != '\0' && (v->known_codes || v->accept[ACC_REGION].ok != NULL ||
                                   (v->pair_valid && row->partner[0] != '\0'))) {
        f->reg = etl_catalog_region_code(cat, row->region);
    }
    if (row->partner[0] != '\0' && (v->known_codes || v->accept[ACC_PARTNER].ok != NULL ||
                                    v->pair_valid)) {
        f->par = etl_catalog_region_code(cat, row->partner);
    }
    if (row->indicator != NULL) {
        f->ind = indicator_of_code(cat, row->indicator);
    }
    if (row->unit != NULL && (v->known_codes || v->accept[ACC_UNIT].ok != NULL)) {
        f->unit = unit_of_code(cat, row->unit);
    }
}

/* Rule known_codes: every code of the row is in the catalog; reject it if not. */
static bool
validate_known(const struct validate *v, struct etl_row *row,
               const struct validate_found *f)
{
    if (!v->known_codes) {
        return true;
    }
    if (row->region[0] != '\0' && f->reg == NULL) {
        etl_row_reject(row, "unknown region code \"%.*s\"", qlen(row->region),
                       row->region);
        return false;
    }
    if (row->partner[0] != '\0' && f->par == NULL) {
        etl_row_reject(row, "unknown partner code \"%.*s\"", qlen(row->partner),
                       row->partner);
        return false;
    }
    if (row->indicator != NULL && f->ind == NULL) {
        etl_row_reject(row, "unknown indicator code \"%.*s\"", qlen(row->indicator),
                       row->indicator);
        return false;
    }
    if (row->unit != NULL && f->unit == NULL) {
        etl_row_reject(row, "unknown unit code \"%.*s\"", qlen(row->unit), row->unit);
        return false;
    }
    return true;
}

/* The accepted sets, column by column; accepted() rejects the row. */
static bool
validate_accepted(const struct validate *v, const struct etl_catalog *cat,
                  struct etl_row *row, const struct validate_found *f)
{
    return !((row->region[0] != '\0' &&
              !accepted(v, ACC_REGION, POS(f->reg, cat->regions), row->region, row)) ||
             (row->partner[0] != '\0' &&
              !accepted(v, ACC_PARTNER, POS(f->par, cat->regions), row->partner, row)) ||
             (row->indicator != NULL &&
              !accepted(v, ACC_INDICATOR, POS(f->ind, cat->indicators), row->indicator,
                        row)) ||
             (row->unit != NULL &&
              !accepted(v, ACC_UNIT, POS(f->unit, cat->units), row->unit, row)) ||
             (row->period.kind != ETL_PERIOD_NONE &&
              !accepted(v, ACC_PERIOD_KIND, row->period.kind,
                        etl_period_kind_names[row->period.kind], row)) ||
             !accepted(v, ACC_QUALIFIER, row->qualifier,
                       etl_qualifier_names[row->qualifier], row));
}

/* Rules min_year and max_year on the row's period; reject it if outside. */
static bool
validate_years(const struct validate *v, struct etl_row *row)
{
    const char *pt = row->f[ETL_COL_PERIOD] != NULL ? row->f[ETL_COL_PERIOD] : "";

    if (row->period.kind == ETL_PERIOD_NONE) {
        return true;
    }
    if (row->period.start / 10000 < v->min_year) {
        etl_row_reject(row, "period \"%.*s\" before min_year %ld", qlen(pt), pt,
                       v->min_year);
        return false;
    }
    if (last_year(&row->period) > v->max_year) {
        etl_row_reject(row, "period \"%.*s\" after max_year %ld", qlen(pt), pt,
                       v->max_year);
        return false;
    }
    return true;
}

/*
 * Rules non_negative (additive indicators) and ranges (per indicator) on
 * the row's value, 'ind' its indicator or NULL; reject the row if broken.
 */
static bool
validate_value(const struct validate *v, const struct etl_catalog *cat,
               struct etl_row *row, const struct etl_indicator *ind)
{
    const struct validate_range *rg;

    if (v->non_negative && ind != NULL && ind->additive && etl_num_sign(row->value) < 0) {
        etl_row_reject(row, "negative value %s of additive indicator %s", row->value,
                       row->indicator);
        return false;
    }
    if (v->ranges != NULL && ind != NULL && row->value[0] != '\0' &&
        row->qualifier != ETL_Q_MISSING && (rg = &v->ranges[ind - cat->indicators])->set) {
        if (rg->has_min && etl_num_cmp(row->value, rg->min) < 0) {
            etl_row_reject(row, "value %s of %s below minimum %s", row->value, ind->code,
                           rg->min);
            return false;
        }
        if (rg->has_max && etl_num_cmp(row->value, rg->max) > 0) {
            etl_row_reject(row, "value %s of %s above maximum %s", row->value, ind->code,
                           rg->max);
            return false;
        }
    }
    return true;
}

/* Rule pair_valid: region and partner are paired in the period; reject if not. */
static void
validate_pairing(const struct validate *v, const struct etl_catalog *cat,
                 struct etl_row *row, const struct validate_found *f)
{
    if (v->pair_valid && row->partner[0] != '\0' && row->region[0] != '\0' &&
        etl_catalog_paired(cat, row->region, row->partner, row->period.start,
                           row->period.end) == NULL) {
        int y0 = row->period.start / 10000, y1 = last_year(&row->period);
        const char *rn = region_name(f->reg, row->region);
        const char *pn = region_name(f->par, row->partner);

        if (row->period.kind == ETL_PERIOD_NONE) {
            etl_row_reject(row, "no east–west pairing %s–%s", rn, pn);
        } else if (y1 > y0) {
            etl_row_reject(row, "no east–west pairing %s–%s in %d–%d", rn, pn, y0, y1);
        } else {
            etl_row_reject(row, "no east–west pairing %s–%s in %d", rn, pn, y0);
        }
    }
}

/*
 * Apply the rules to one row not yet rejected, in this order: required
 * columns, known codes, accepted sets, years, value, pairing.  The first
 * failing rule rejects the row (etl_row_reject) and ends the checks.
 */
static void
validate_row(const struct validate *v, const struct etl_catalog *cat, struct etl_row *row)
{
    struct validate_found f;

    if (!validate_required(v, row)) {
        return;
    }
    validate_lookup(v, cat, row, &f);
    if (!validate_known(v, row, &f) || !validate_accepted(v, cat, row, &f) ||
        !validate_years(v, row) || !validate_value(v, cat, row, f.ind)) {
        return;
    }
    validate_pairing(v, cat, row, &f);
}

/* Check and count the rows of a batch, then push it on. */
static int
validate_process(struct etl_stage *st, struct etl_chunk *in, struct etl_err *err)
{
    struct validate *v = st->ctx;
    const struct etl_catalog *cat = etl_stage_catalog(st);
    struct etl_batch *batch = etl_chunk_batch(st, in, err);

    if (batch == NULL) {
        return -1;
    }
    if (cat == NULL) {
        return etl_err_set(err, ETL_E_INTERNAL, "stage %s has no catalog", st->name);
    }
    if (cat != v->cat && v->cat != NULL) {
        /* ranges and accepted index the catalog of configure time */
        return etl_err_set(err, ETL_E_INTERNAL, "stage %s: catalog changed since it was "
                           "configured", st->name);
    }
    for (size_t i = 0; i < batch->n; i++) {
        struct etl_row *row = &batch->rows[i];

        if (!row->rejected && !row->deleted) {
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
validate_finish(struct etl_stage *st, struct etl_verdict *verdict, struct etl_err *err)
{
    struct validate *v = st->ctx;

    if (v->rows > 0 && verdict->kind != ETL_VERDICT_REFUSED) {
        double ratio = (double)v->rejected / (double)v->rows;

        if (ratio > v->max_reject_ratio) {
            etl_verdict_refuse(verdict, "reject ratio %.2f above max_reject_ratio %.2f "
                               "(%lld of %lld rows)", ratio, v->max_reject_ratio,
                               v->rejected, v->rows);
        }
    }
    v->rows = v->rejected = 0;
    return etl_stage_finish_next(st, verdict, err);
}

/* check's line: the reject ratio that refuses a file. */
static void
validate_describe(const struct etl_stage *st, char *buf, size_t size)
{
    const struct validate *v = st->ctx;

    snprintf(buf, size, "max_reject_ratio %.2f%s", v->max_reject_ratio,
             etl_stage_default_mark(st, "max_reject_ratio"));
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
    .describe = validate_describe,
};
