/*
 * normalize.c
 *    The normalize stage: turns the raw fields of each row (as parse left
 *    them in row->f[]) into the canonical ones: region and partner codes,
 *    the indicator's catalog code, the period as [start, end), and the value
 *    as an exact decimal in the indicator's canonical unit with its
 *    qualifier.  An indicator text starting with an of-which marker ("#",
 *    "＃", "其中:", "其中") names a sub-item: the marker is dropped, the rest
 *    resolved as usual, and row->of_which set (load keeps it, views never add
 *    such rows into totals).  A row that cannot be normalized is rejected
 *    with a short reason naming the column and the text (unknown region
 *    "火星"); rejected rows travel on, for validate to count and load to
 *    keep.
 *
 *    YAML keys:
 *      as_of           YYYY-MM-DD: the date relative periods (今年, 1-7月,
 *                      一年多来) are read against; without it they reject
 *      catalog_strict  true: only exact catalog names, codes and aliases;
 *                      false (default): also a region with 省/市/自治区/地区/
 *                      自治州 appended or dropped ("广西省"), and an indicator
 *                      name with spaces removed and full-width brackets as
 *                      ASCII ones
 *
 *    Per row: hash lookups in the catalog and parsing on the stack; nothing
 *    is allocated.  Next door: validate.c checks the normalized rows,
 *    etl/ewc/num.c, etl/ewc/period.c and etl/ewc/catalog.c do the work.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etl/date.h"
#include "etl/ewc/catalog.h"
#include "etl/ewc/ewc.h"
#include "etl/ewc/num.h"
#include "etl/ewc/period.h"
#include "etl/pipeline.h"
#include "etl/stage.h"
#include "etl/text.h"

/* Texts quoted in reasons are cut to this many bytes (a reason is 200). */
#define NORMALIZE_QUOTE 60
/* Longest indicator name retried in its lenient form. */
#define NORMALIZE_NAME_MAX 256

struct normalize {
    int32_t as_of;              /* yyyymmdd, 0 = none */
    bool strict;
    /*
     * Per file, for the table's total rows (合计) whose region the YAML
     * does not give: where the table's other rows are.  'scope' is "" (no
     * region row yet), a province's code (every region row so far is one
     * of its prefectures: the total is that province's) or "000000"
     * (provinces, or several: the total is the nation's).  The first total
     * read is remembered; if the rows after it change the scope, the file
     * is refused at its end rather than loaded with a total misplaced.
     */
    char scope[8];
    unsigned long total_line;   /* 0: no total read yet */
    char total_region[8];       /* the region that total was read as */
};

static const struct etl_key normalize_keys[] = {
    { "as_of", ETL_KEY_STR, false, "date relative periods are read against (YYYY-MM-DD)" },
    { "catalog_strict", ETL_KEY_BOOL, false, "only exact catalog names (default false)" },
    { NULL, 0, false, NULL }
};

/* Suffixes tried on and off region names when not strict. */
static const char *const region_suffixes[] = {
    "省", "市", "自治区", "地区", "自治州", NULL
};

/*
 * Read as_of and catalog_strict (already checked against normalize_keys).
 * The context is st->ctx, freed by normalize_destroy() even on failure.
 */
static int
normalize_configure(struct etl_stage *st, const struct etl_node *node, struct etl_err *err)
{
    struct normalize *nz = calloc(1, sizeof(*nz));
    const struct etl_node *v;

    if (nz == NULL) {
        return etl_err_nomem(err);
    }
    st->ctx = nz;
    if (etl_node_bool(node, "catalog_strict", false, &nz->strict, err) < 0) {
        return -1;
    }
    if ((v = etl_node_get(node, "as_of")) != NULL &&
        (v->type != ETL_NODE_SCALAR || etl_date_parse(v->str, &nz->as_of) < 0)) {
        return etl_node_fail(v, err, ETL_E_CONFIG, "as_of \"%s\" is not a date (YYYY-MM-DD)",
                             v->type == ETL_NODE_SCALAR ? v->str : "");
    }
    return 0;
}

/* Free the context; accepts a half-configured stage. */
static void
normalize_destroy(struct etl_stage *st)
{
    free(st->ctx);
    st->ctx = NULL;
}

/* A field trimmed of blanks (etl_text_trim): [*b, *e). */
static void
field(const struct etl_row *row, enum etl_col col, const char **b, const char **e)
{
    const char *s = row->f[col] != NULL ? row->f[col] : "";

    *b = s;
    *e = s + strlen(s);
    etl_text_trim(b, e);
}

/* How many bytes of s (n bytes) to quote: at most NORMALIZE_QUOTE, whole characters. */
static int
qlen(const char *s, size_t n)
{
    return (int)etl_text_cut(s, n, NORMALIZE_QUOTE);
}

/* A region by any of its names; not strict: with a suffix added or dropped. */
static const struct etl_region *
find_region(const struct etl_catalog *cat, const struct normalize *nz, const char *s,
            size_t n, int32_t date)
{
    const struct etl_region *r = etl_catalog_region(cat, s, n, date);
    char buf[NORMALIZE_NAME_MAX];

    if (r != NULL || nz->strict) {
        return r;
    }
    for (const char *const *x = region_suffixes; *x != NULL; x++) {
        size_t k = strlen(*x);

        if (n > k && memcmp(s + n - k, *x, k) == 0 &&
            (r = etl_catalog_region(cat, s, n - k, date)) != NULL) {
            return r;
        }
        if (n + k < sizeof(buf)) {
            memcpy(buf, s, n);
            memcpy(buf + n, *x, k);
            if ((r = etl_catalog_region(cat, buf, n + k, date)) != NULL) {
                return r;
            }
        }
    }
    return NULL;
}

/*
 * Skip the of-which markers at the start of an indicator text [b, e): "#",
 * "＃", "其中" with an optional ":" or "：", in any sequence, and the blanks
 * around them ("#其中:建档立卡脱贫劳动力", "# 吸纳脱贫劳动力就业").
 * Returns the start of the name (b itself when there is no marker).
 */
static const char *
skip_of_which(const char *b, const char *e)
{
    const char *p = b, *name = b;
    size_t n;

    for (;;) {
        if ((n = etl_text_blank(p, e)) > 0) {
            p += n;
        } else if (etl_text_fold(p, e, &n) == '#') {        /* # or ＃ */
            name = p += n;
        } else if (e - p >= 6 && memcmp(p, "其中", 6) == 0) {
            p += 6;
            if (etl_text_fold(p, e, &n) == ':') {           /* : or ： */
                p += n;
            }
            name = p;
        } else {
            break;
        }
    }
    /* the white space after the last marker, not before a first one */
    return name == b ? b : p;
}

/* An indicator; not strict: retried without blanks, with （） as (). */
static const struct etl_indicator *
find_indicator(const struct etl_catalog *cat, const struct normalize *nz, const char *b,
               const char *e, const char **unit, size_t *unit_len, char *buf)
{
    const struct etl_indicator *ind;
    size_t o = 0;

    /* etl_catalog_indicator wants a NUL-terminated text: use buf */
    if ((size_t)(e - b) >= NORMALIZE_NAME_MAX) {
        return NULL;
    }
    memcpy(buf, b, (size_t)(e - b));
    buf[e - b] = '\0';
    if ((ind = etl_catalog_indicator(cat, buf, unit, unit_len)) != NULL || nz->strict) {
        return ind;
    }
    /* the wording folded (新增/累计…, 人数/数量…, 党政/挂职…): one indicator only */
    if ((ind = etl_catalog_indicator_folded(cat, b, (size_t)(e - b), unit, unit_len)) != NULL) {
        return ind;
    }
    for (const char *p = b; p < e; ) {
        size_t n = etl_text_blank(p, e);
        int c;

        if (n > 0) {
            p += n;
        } else if ((c = etl_text_fold(p, e, &n)) == '(' || c == ')') {  /* and （ ） */
            buf[o++] = (char)c;
            p += n;
        } else {
            buf[o++] = *p++;
        }
    }
    buf[o] = '\0';
    return etl_catalog_indicator(cat, buf, unit, unit_len);
}

/*
 * Reject a row whose indicator [b, e) the catalog does not know, with the
 * nearest catalog entries when some are near ("did you mean ...?"); never
 * a guess.  Costs a pass over the catalog's names: rejected rows only.
 */
static void
unknown_indicator(const struct etl_catalog *cat, struct etl_row *row, const char *b,
                  const char *e)
{
    char name[NORMALIZE_NAME_MAX], near[160];
    size_t n = (size_t)(e - b) < sizeof(name) ? (size_t)(e - b) : sizeof(name) - 1;

    memcpy(name, b, n);
    name[n] = '\0';
    if (etl_catalog_indicator_suggest(cat, name, near, sizeof(near)) > 0) {
        etl_row_reject(row, "unknown indicator \"%.*s\"; did you mean %s?",
                       qlen(b, (size_t)(e - b)), b, near);
    } else {
        etl_row_reject(row, "unknown indicator \"%.*s\"", qlen(b, (size_t)(e - b)), b);
    }
    row->unmatched = etl_col_names[ETL_COL_INDICATOR];
}

/* ---- total rows --------------------------------------------------------- */

/*
 * The region of row 'row', resolved as 'r', in the light of the table's
 * scope: a total row (合计) whose region the YAML does not give is the
 * nation's, or the province's when every region row before it was one of
 * that province's prefectures; any other row widens the scope.  Returns
 * the region to record.
 */
static const struct etl_region *
normalize_scope(struct normalize *nz, const struct etl_catalog *cat, const struct etl_row *row,
                const struct etl_region *r, int32_t date)
{
    const struct etl_region *prov;

    if (row->total && !row->total_given) {
        if (nz->scope[0] != '\0' && strcmp(nz->scope, "000000") != 0 &&
            (prov = etl_catalog_region(cat, nz->scope, 6, date)) != NULL) {
            r = prov;
        }
        if (nz->total_line == 0) {
            nz->total_line = row->line;
            memcpy(nz->total_region, r->code, sizeof(nz->total_region));
        }
        return r;
    }
    if (row->total || r->province == NULL || strcmp(nz->scope, "000000") == 0) {
        return r;               /* the nation, or the scope is wide already */
    }
    if (r->province != r && nz->scope[0] == '\0') {
        memcpy(nz->scope, r->province->code, sizeof(nz->scope));
    } else if (r->province == r || strcmp(nz->scope, r->province->code) != 0) {
        strcpy(nz->scope, "000000");
    }
    return r;
}

/* Forget the file: no scope, no total read. */
static void
normalize_forget(struct normalize *nz)
{
    nz->scope[0] = '\0';
    nz->total_line = 0;
    nz->total_region[0] = '\0';
}

/* A file starts. */
static int
normalize_begin(struct etl_stage *st, struct etl_err *err)
{
    (void)err;
    normalize_forget(st->ctx);
    return 0;
}

static void
normalize_abort(struct etl_stage *st)
{
    if (st->ctx != NULL) {
        normalize_forget(st->ctx);
    }
}

/* ---- units -------------------------------------------------------------- */

/*
 * A unit a row states somewhere: a word and where it was written.  Every
 * place a publisher writes one is read (normalize_value); none is dropped.
 */
struct unit_said {
    const char *word;
    size_t len;
    const struct etl_unit_word *w;  /* the catalog's word */
    char where[96];                 /* "the unit column", "the header \"数值（万元）\"" */
};

/* Most units one row can state: cell, unit column, name, header, 4 defaults. */
#define NORMALIZE_UNITS_MAX 8

/*
 * Add unit word [p, +n) stated in 'where' (printf-style) to 'said'; a word
 * the catalog does not know or that does not fit the indicator rejects the
 * row (-1).  'soft': a table's default, whose words serve several kinds of
 * unit ("单位：亿元、个"): one that does not fit is not this row's, skipped.
 */
static int
unit_add(const struct etl_catalog *cat, struct etl_row *row, const struct etl_indicator *ind,
         struct unit_said *said, size_t *n, const char *p, size_t len, bool soft,
         const char *where)
{
    const struct etl_unit_word *w = etl_catalog_unit_word(cat, p, len);

    if (w == NULL) {
        if (soft) {
            etl_row_reject(row, "unknown unit \"%.*s\" in %s", qlen(p, len), p, where);
        } else {
            etl_row_reject(row, "unknown unit \"%.*s\"%s%s", qlen(p, len), p,
                           where[0] != '\0' ? " in " : "", where);
        }
        return -1;
    }
    if (ind != NULL && !etl_catalog_unit_fits(w, ind->unit_def)) {
        if (soft) {
            return 0;
        }
        etl_row_reject(row, "unit \"%.*s\" (%s)%s%s does not fit indicator %s (%s)",
                       qlen(p, len), p, w->units[0]->code, where[0] != '\0' ? " of " : "",
                       where, ind->code, ind->unit_def->code);
        return -1;
    }
    if (*n == NORMALIZE_UNITS_MAX) {
        return 0;                   /* the first ones decide already */
    }
    said[*n] = (struct unit_said){ .word = p, .len = len, .w = w };
    snprintf(said[*n].where, sizeof(said[*n].where), "%s", where);
    (*n)++;
    return 0;
}

/*
 * The table's default units (a unit line "单位：亿元、个", the YAML's unit:):
 * words separated by 、 , ， ; or blanks, each a statement for the rows
 * whose indicator it fits.
 */
static int
unit_defaults(const struct etl_catalog *cat, struct etl_row *row, const struct etl_indicator *ind,
              struct unit_said *said, size_t *n)
{
    const char *p = row->unit_default, *e;

    if (p == NULL) {
        return 0;
    }
    e = p + strlen(p);
    while (p < e) {
        const char *q = p;
        size_t k;

        while (q < e && (k = etl_text_blank(q, e)) == 0 && *q != ',' && *q != ';' &&
               !(e - q >= 3 && (memcmp(q, "、", 3) == 0 || memcmp(q, "，", 3) == 0 ||
                                memcmp(q, "；", 3) == 0))) {
            q++;
        }
        if (q > p && unit_add(cat, row, ind, said, n, p, (size_t)(q - p), true,
                              row->unit_default_from != NULL ? row->unit_default_from
                                                             : "the table") < 0) {
            return -1;
        }
        if (q >= e) {
            break;
        }
        k = etl_text_blank(q, e);
        p = q + (k > 0 ? k : (*q == ',' || *q == ';') ? 1 : 3);
    }
    return 0;
}

/*
 * Every unit row 'row' states, in 'said' (*n of them): after the number
 * (then said[0], *cell set), the unit column, the name's brackets (bu), the
 * value column's header, the table's defaults.  0, or -1 with the row
 * rejected (unknown, or not fitting the indicator).
 */
static int
unit_collect(const struct etl_catalog *cat, struct etl_row *row, const struct etl_indicator *ind,
             const struct etl_num *num, const char *bu, size_t bul, struct unit_said *said,
             size_t *n, bool *cell)
{
    const char *b, *e;
    char where[96];

    *n = 0;
    *cell = false;
    if (num->unit_len > 0) {
        if (unit_add(cat, row, ind, said, n, num->unit, num->unit_len, false, "") < 0) {
            return -1;
        }
        *cell = true;
    }
    field(row, ETL_COL_UNIT, &b, &e);
    if (b < e && unit_add(cat, row, ind, said, n, b, (size_t)(e - b), false,
                          "the unit column") < 0) {
        return -1;
    }
    if (bu != NULL && bul > 0 &&
        unit_add(cat, row, ind, said, n, bu, bul, false, "the indicator's name") < 0) {
        return -1;
    }
    if (row->unit_header != NULL) {
        snprintf(where, sizeof(where), "the header \"%.*s\"",
                 qlen(row->unit_header_of, strlen(row->unit_header_of)),
                 row->unit_header_of);
        if (unit_add(cat, row, ind, said, n, row->unit_header, strlen(row->unit_header),
                     false, where) < 0) {
            return -1;
        }
    }
    return unit_defaults(cat, row, ind, said, n);
}

/*
 * The value of a row in its canonical unit, from the number 'num' and
 * every unit the row states: after the number in the cell, in the unit
 * column, in brackets in the indicator's name ('bu'), in brackets in the
 * value column's header (row->unit_header), and the table's defaults
 * (row->unit_default).  The rules:
 *   - each stated word must be known and fit the indicator (a default word
 *     that does not fit is another column's, skipped);
 *   - the words outside the cell must agree on their power of ten: two that
 *     disagree reject the row, naming both ("万元" of the header
 *     "数值（万元）" and "亿元" of the unit column);
 *   - the cell's own scale (its multiplier 万/亿 and word, "926.3万人")
 *     stands when nothing outside it scales; when something does, a cell
 *     with a unit word must say the same ("220亿元" under "(亿元)") and a
 *     bare multiplier ("78.6亿" beside unit 亿元) is ambiguous: the row is
 *     rejected.  A number is never scaled twice, and never left unscaled.
 * Sets row->value and row->unit; 0, or -1 with the row rejected.
 */
static int
normalize_value(const struct etl_catalog *cat, struct etl_row *row,
                const struct etl_indicator *ind, const struct etl_num *num, const char *bu,
                size_t bul)
{
    struct unit_said said[NORMALIZE_UNITS_MAX];
    size_t n = 0, first;
    const struct unit_said *cell = NULL, *table = NULL;
    const char *b, *e;
    int scale = 0;
    struct etl_err err;
    bool in_cell;

    if (unit_collect(cat, row, ind, num, bu, bul, said, &n, &in_cell) < 0) {
        return -1;
    }
    cell = in_cell ? &said[0] : NULL;
    first = in_cell ? 1 : 0;
    for (size_t i = first; i < n; i++) {
        if (table == NULL) {
            table = &said[i];
        } else if (said[i].w->pow10 != table->w->pow10) {
            etl_row_reject(row, "unit \"%.*s\" of %s disagrees with \"%.*s\" of %s",
                           qlen(table->word, table->len), table->word, table->where,
                           qlen(said[i].word, said[i].len), said[i].word, said[i].where);
            return -1;
        }
    }
    memcpy(row->value, num->value, sizeof(row->value));
    if (table != NULL && table->w->pow10 != 0 &&
        ((num->mult > 0 && cell == NULL) ||
         (cell != NULL && num->mult + cell->w->pow10 != table->w->pow10))) {
        field(row, ETL_COL_VALUE, &b, &e);
        row->value[0] = '\0';
        if (cell != NULL) {
            etl_row_reject(row, "unit \"%.*s\" of the value \"%.*s\" disagrees with "
                           "\"%.*s\" of %s", qlen(cell->word, cell->len), cell->word,
                           qlen(b, (size_t)(e - b)), b, qlen(table->word, table->len),
                           table->word, table->where);
        } else {
            etl_row_reject(row, "value \"%.*s\" and unit \"%.*s\" of %s both scale the "
                           "number", qlen(b, (size_t)(e - b)), b,
                           qlen(table->word, table->len), table->word, table->where);
        }
        return -1;
    }
    if (cell != NULL) {
        scale = cell->w->pow10;
    } else if (table != NULL && num->mult == 0) {
        scale = table->w->pow10;
    }
    if (ind == NULL) {
        row->unit = cell != NULL ? cell->w->units[0]->code
                    : table != NULL ? table->w->units[0]->code : NULL;
    }
    err.code = ETL_E_NONE;
    err.msg[0] = '\0';
    if (etl_num_shift(row->value, sizeof(row->value), scale, &err) < 0) {
        row->value[0] = '\0';
        etl_row_reject(row, "%s", err.msg);
        return -1;
    }
    return 0;
}

/*
 * The region and partner of 'row' at 'date' (the period's start: old codes
 * map to their successors), a pair nickname (京蒙) naming both.  0, or -1
 * with the row rejected.
 */
static int
normalize_regions(struct normalize *nz, const struct etl_catalog *cat, struct etl_row *row,
                  int32_t date)
{
    const struct etl_region *r, *p;
    const struct etl_nickname *nick = NULL;
    const char *b, *e;

    field(row, ETL_COL_REGION, &b, &e);
    if (b < e) {
        r = find_region(cat, nz, b, (size_t)(e - b), date);
        if (r == NULL && (nick = etl_catalog_nickname(cat, b, (size_t)(e - b))) != NULL) {
            r = nick->east;
        }
        if (r == NULL) {
            etl_row_reject(row, "unknown region \"%.*s\"", qlen(b, (size_t)(e - b)), b);
            row->unmatched = etl_col_names[ETL_COL_REGION];
            return -1;
        }
        r = normalize_scope(nz, cat, row, r, date);
        memcpy(row->region, r->code, sizeof(r->code));
    }
    field(row, ETL_COL_PARTNER, &b, &e);
    if (b < e) {
        if ((p = find_region(cat, nz, b, (size_t)(e - b), date)) == NULL) {
            etl_row_reject(row, "unknown partner \"%.*s\"", qlen(b, (size_t)(e - b)), b);
            row->unmatched = etl_col_names[ETL_COL_PARTNER];
            return -1;
        }
        memcpy(row->partner, p->code, sizeof(p->code));
    } else if (nick != NULL) {
        memcpy(row->partner, nick->west->code, sizeof(nick->west->code));
    }
    return 0;
}

/*
 * The indicator of 'row' (an of-which marker before it makes the row a
 * sub-item), and the unit in its name's brackets in *bu / *bul, which may
 * point into 'name' (NORMALIZE_NAME_MAX bytes, the caller's: it must
 * outlive the unit's use).  0, or -1 with the row rejected ("did you
 * mean").
 */
static int
normalize_indicator(const struct normalize *nz, const struct etl_catalog *cat,
                    struct etl_row *row, const struct etl_indicator **ind, const char **bu,
                    size_t *bul, char *name)
{
    const char *b, *e, *nb;

    *ind = NULL;
    field(row, ETL_COL_INDICATOR, &b, &e);
    if (b == e) {
        return 0;
    }
    nb = skip_of_which(b, e);
    row->of_which = row->of_which || nb != b;     /* parse: a marked region */
    *ind = nb < e ? find_indicator(cat, nz, nb, e, bu, bul, name) : NULL;
    if (*ind == NULL) {
        unknown_indicator(cat, row, b, e);
        return -1;
    }
    row->indicator = (*ind)->code;
    row->unit = (*ind)->unit_def->code;
    return 0;
}

/*
 * Normalize one row, or reject it with the first problem found.  'row' is
 * not rejected on entry.  The period first: its start date maps old region
 * codes.
 */
static void
normalize_row(struct normalize *nz, const struct etl_catalog *cat, struct etl_row *row)
{
    const struct etl_indicator *ind = NULL;
    const char *b, *e, *bu = NULL;
    size_t bul = 0;
    char name[NORMALIZE_NAME_MAX];      /* the indicator's text; bu may point into it */
    struct etl_num num;
    struct etl_err err;
    int32_t date = 0;

    row->region[0] = '\0';
    row->partner[0] = '\0';
    row->indicator = NULL;
    memset(&row->period, 0, sizeof(row->period));
    row->value[0] = '\0';
    row->unit = NULL;
    row->of_which = row->of_which_mark;
    if (row->qualifier != ETL_Q_ESTIMATE && row->qualifier != ETL_Q_PROVISIONAL) {
        row->qualifier = ETL_Q_EXACT;
    }
    /* a per-row error: only what etl_err_set reads (a full clear is 1.7 kB) */
    err.code = ETL_E_NONE;
    err.msg[0] = '\0';

    field(row, ETL_COL_PERIOD, &b, &e);
    if (b < e) {
        if (etl_period_parse(row->f[ETL_COL_PERIOD], nz->as_of, &row->period, &err) < 0) {
            etl_row_reject(row, "%s", err.msg);
            return;
        }
        date = row->period.start;
    }
    if (normalize_regions(nz, cat, row, date) < 0 ||
        normalize_indicator(nz, cat, row, &ind, &bu, &bul, name) < 0) {
        return;
    }
    if (etl_num_parse(row->f[ETL_COL_VALUE] != NULL ? row->f[ETL_COL_VALUE] : "", &num,
                      &err) < 0) {
        etl_row_reject(row, "%s", err.msg);
        return;
    }
    if (num.qualifier == ETL_Q_MISSING) {
        row->qualifier = ETL_Q_MISSING;
        return;
    }
    if (normalize_value(cat, row, ind, &num, bu, bul) < 0) {
        return;
    }
    if (num.qualifier != ETL_Q_EXACT) {
        row->qualifier = num.qualifier;
    }
}

/* Normalize the rows of a batch not yet rejected, then push the batch on. */
static int
normalize_process(struct etl_stage *st, struct etl_chunk *in, struct etl_err *err)
{
    struct normalize *nz = st->ctx;
    const struct etl_catalog *cat = etl_stage_catalog(st);
    struct etl_batch *batch = etl_chunk_batch(st, in, err);

    if (batch == NULL) {
        return -1;
    }
    if (cat == NULL) {
        return etl_err_set(err, ETL_E_INTERNAL, "stage %s has no catalog", st->name);
    }
    for (size_t i = 0; i < batch->n; i++) {
        /* a withdrawn row (SDMX ACTION D) is only counted: it may name a key
         * with wildcards and need no value */
        if (!batch->rows[i].rejected && !batch->rows[i].deleted) {
            normalize_row(nz, cat, &batch->rows[i]);
        }
    }
    return etl_stage_push(st, in, err);
}

/*
 * Nothing buffered.  A total row read as one region while the table's rows
 * turned out to be another's (a 合计 first, a city table after it) refuses
 * the file; then the next stage is finished.
 */
static int
normalize_finish(struct etl_stage *st, struct etl_verdict *v, struct etl_err *err)
{
    struct normalize *nz = st->ctx;
    const char *should = nz->scope[0] == '\0' ? "000000" : nz->scope;

    if (nz->total_line > 0 && strcmp(nz->total_region, should) != 0) {
        etl_verdict_refuse(v, "the total row at line %lu was read as region %s, but the "
                           "table's rows are those of region %s: set total_region for "
                           "this source", nz->total_line, nz->total_region, should);
    }
    return etl_stage_finish_next(st, v, err);
}

const struct etl_stage_kind etl_stage_normalize = {
    .name = "normalize",
    .consumes = ETL_FLOW_ROWS,
    .produces = ETL_FLOW_ROWS,
    .keys = normalize_keys,
    .summary = "region, indicator, period, value and unit of each row to catalog codes",
    .configure = normalize_configure,
    .begin = normalize_begin,
    .process = normalize_process,
    .finish = normalize_finish,
    .abort = normalize_abort,
    .destroy = normalize_destroy,
};
