/*
 * parse_shape.c
 *    Tables as agencies print them, in the parse_csv stage: finding the
 *    header among the first records, reading the lines above it (title,
 *    unit line, the statistics portal's 数据库：/指标：/时间： lines) and the
 *    footnotes after it, telling a long table (one observation per record)
 *    from a wide one (one per value cell), and the label texts that are not
 *    names: total rows (合计) and of-which markers (#, 其中：).  Called by
 *    the row builder (parse_rows.c), which makes the rows.
 *
 *    The header is the first record, among the first PARSE_HEADER_SCAN that
 *    are not blank, that names every required column (region, indicator,
 *    period, value), counting those the YAML or the preamble gives as
 *    constants; or, for a wide table, that names the region (or partner)
 *    column and has value columns whose indicator and period are known:
 *    a column whose header is a period ("2021年", "2021年上半年"), an
 *    indicator of the catalog ("新增引导企业(家)"), or has a known unit word
 *    in brackets ("引导企业数(家)": an indicator the catalog may not know,
 *    so that its rows are rejected, never dropped); "layout: wide" makes
 *    every other named column a value column too, "ignore" names columns
 *    never read.  A header cell's bracketed unit ("数值（万元）", "(亿元)",
 *    full-width or ASCII brackets, 【】 and [] too) is the unit of its
 *    column: it is matched without its brackets and handed to normalize
 *    with each row, never dropped.  When no record qualifies, the file
 *    fails with what is wrong with the candidate that named most columns
 *    (the first of them): "missing column ...".
 *
 *    Records before the header are the preamble, kept as the file's notes:
 *      单位：万元 / 单位:亿元、个   the table's default unit(s), one per kind
 *      指标：X                      the indicator of every row, when no
 *                                   column holds one (X may carry a unit)
 *      时间：X                      the period, when X is one
 *      a title                      a period at its start ("2022年上半年…",
 *                                   "2012-2020年…") is the default period
 *      数据库：…, 地区：… and others kept as notes only.
 *    The YAML's region, period, indicator and unit win over the preamble's.
 *    After the header, a record whose first non-blank field starts with 注,
 *    说明, 备注：, 数据来源, 资料来源 or 来源： is a footnote: a note, not a
 *    row.  Notes are kept up to PARSE_NOTES_MAX bytes.
 *
 *    Costs: the header search folds and looks up each field of at most
 *    PARSE_HEADER_SCAN records; per file, the header's texts in one buffer.
 *    Nothing per row here but the label checks (a few memcmp).
 */
#include "parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etl/ewc/catalog.h"
#include "etl/ewc/ewc.h"
#include "etl/ewc/period.h"
#include "etl/pipeline.h"
#include "etl/text.h"

/* Header names that are never a value column of a wide table. */
static const char *const shape_never_values[] = {
    "序号", "编号", "排名", "排序", "no.", "no", "#", NULL
};

/* ---- texts -------------------------------------------------------------- */

/* Move a pointer into the text buffer along with it. */
static void
shape_rebase(const char **p, const char *old, size_t cap, char *new)
{
    if (*p != NULL && *p >= old && *p < old + cap) {
        *p = new + (*p - old);
    }
}

/*
 * Make room for 'need' more bytes of texts: the buffer may move, and every
 * text kept in it (constants, header units, value columns) moves along.
 * 0, or -1 with ETL_E_NOMEM.
 */
static int
shape_room(struct parse *ps, size_t need, struct etl_err *err)
{
    size_t cap = ps->ftext_cap > 0 ? ps->ftext_cap : 4096;
    char *old = ps->ftext, *buf;

    if (ps->ftext_len + need <= ps->ftext_cap) {
        return 0;
    }
    while (cap < ps->ftext_len + need) {
        cap *= 2;
    }
    /* a new block, not realloc: the old one is read while rebasing */
    if ((buf = malloc(cap)) == NULL) {
        return etl_err_nomem(err);
    }
    if (ps->ftext_len > 0) {
        memcpy(buf, old, ps->ftext_len);
    }
    for (int c = 0; c < ETL_NCOLS; c++) {
        shape_rebase(&ps->given.f[c], old, ps->ftext_cap, buf);
        shape_rebase(&ps->hunit[c], old, ps->ftext_cap, buf);
        shape_rebase(&ps->hname[c], old, ps->ftext_cap, buf);
    }
    shape_rebase(&ps->given.unit, old, ps->ftext_cap, buf);
    for (size_t i = 0; i < ps->nwide; i++) {
        shape_rebase(&ps->wide[i].header, old, ps->ftext_cap, buf);
        shape_rebase(&ps->wide[i].indicator, old, ps->ftext_cap, buf);
        shape_rebase(&ps->wide[i].period, old, ps->ftext_cap, buf);
        shape_rebase(&ps->wide[i].unit, old, ps->ftext_cap, buf);
    }
    free(old);
    ps->ftext = buf;
    ps->ftext_cap = cap;
    return 0;
}

/*
 * Copy [p, +n) into the file's text buffer.  Room was made (shape_room
 * with at least twice the record's size): NULL only if it was not.
 */
static const char *
shape_keep(struct parse *ps, const char *p, size_t n)
{
    char *s;

    if (ps->ftext_len + n + 1 > ps->ftext_cap) {
        return NULL;
    }
    s = ps->ftext + ps->ftext_len;
    memcpy(s, p, n);
    s[n] = '\0';
    ps->ftext_len += n + 1;
    return s;
}

/* Room for the texts one record may leave in the buffer. */
static int
shape_room_for(struct parse *ps, const struct etl_csv_record *rec, struct etl_err *err)
{
    return shape_room(ps, 3 * rec->raw_len + 2 * rec->nfields + 512, err);
}

/*
 * Add a record to the file's notes as one line: its fields that are not
 * blank, separated by a space, a field equal to the one before it once (a
 * merged title cell of a workbook repeats its text across the range).  Cut
 * to what fits; a line that does not is counted in notes_dropped.
 */
static void
shape_note(struct parse *ps, const struct etl_csv_record *rec)
{
    size_t start = ps->notes_len, o = start, cap = sizeof(ps->notes) - 2;
    const char *prev = NULL;
    size_t prev_n = 0;

    for (size_t i = 0; i < rec->nfields; i++) {
        const char *p = rec->fields[i];
        size_t n = rec->lens[i];

        parse_trim(&p, &n);
        if (n == 0 || (prev != NULL && n == prev_n && memcmp(p, prev, n) == 0)) {
            continue;
        }
        if (o + n + 1 > cap) {
            ps->notes_len = start;
            ps->notes[start] = '\0';
            ps->notes_dropped++;
            return;
        }
        if (o > start) {
            ps->notes[o++] = ' ';
        }
        memcpy(ps->notes + o, p, n);
        o += n;
        prev = p;
        prev_n = n;
    }
    ps->notes[o++] = '\n';
    ps->notes[o] = '\0';
    ps->notes_len = o;
}

/* Does [p, +n) start with 'prefix'? */
static bool
starts(const char *p, size_t n, const char *prefix)
{
    size_t k = strlen(prefix);

    return n >= k && memcmp(p, prefix, k) == 0;
}

/* A footnote after the table (注：…, 数据来源：…): kept as a note. */
bool
parse_shape_footnote(struct parse *ps, const struct etl_csv_record *rec)
{
    if (!parse_label_footnote(rec)) {
        return false;
    }
    shape_note(ps, rec);
    return true;
}

/* ---- the preamble ------------------------------------------------------- */

/* Set constant 'c' from the preamble unless the YAML (or an earlier line) did. */
static void
shape_give(struct parse *ps, enum etl_col c, const char *p, size_t n, const char *from)
{
    const char *s;

    if (ps->given.f[c] != NULL || n == 0 || (s = shape_keep(ps, p, n)) == NULL) {
        return;
    }
    ps->given.f[c] = s;
    ps->given.from[c] = from;
}

/*
 * A period near the start of a title ("2022年上半年东西部协作…", "表1 2021年…"):
 * from a digit in its first 24 bytes, the longest text of at most 40 bytes
 * that is a period.
 */
static void
shape_title_period(struct parse *ps, const char *p, size_t n)
{
    char buf[48];
    size_t i = 0;
    struct etl_period per;
    struct etl_err e;

    /* from each digit in the first 24 bytes ("表1 2021年…" has two) */
    for (; i < n && i <= 24; i++) {
        /* a year: four digits, not inside a longer number ("表1" is none) */
        if ((i > 0 && p[i - 1] >= '0' && p[i - 1] <= '9') || i + 4 > n ||
            !(p[i] == '1' || p[i] == '2') || !(p[i + 1] >= '0' && p[i + 1] <= '9') ||
            !(p[i + 2] >= '0' && p[i + 2] <= '9') || !(p[i + 3] >= '0' && p[i + 3] <= '9') ||
            (i + 4 < n && p[i + 4] >= '0' && p[i + 4] <= '9')) {
            continue;
        }
        for (size_t len = n - i < 40 ? n - i : 40; len >= 4; len--) {
            memcpy(buf, p + i, len);
            buf[len] = '\0';
            e.code = ETL_E_NONE;
            if (etl_period_parse(buf, 0, &per, &e) == 0) {
                shape_give(ps, ETL_COL_PERIOD, p + i, len, "the title");
                return;
            }
        }
    }
}

/* The text after a "key：" or "key:" prefix, trimmed; false if not so. */
static bool
shape_keyed(const char *p, size_t n, const char *key, const char **v, size_t *vn)
{
    size_t k = strlen(key);
    const char *b, *e = p + n;

    if (!starts(p, n, key)) {
        return false;
    }
    b = p + k;
    if (starts(b, (size_t)(e - b), "：")) {
        b += 3;
    } else if (b < e && *b == ':') {
        b++;
    } else {
        return false;
    }
    etl_text_trim(&b, &e);
    *v = b;
    *vn = (size_t)(e - b);
    return true;
}

/* Where in [p, +n) "单位：" or "单位:" starts, or NULL. */
static const char *
shape_unit_line(const char *p, size_t n)
{
    for (size_t i = 0; i + 7 <= n; i++) {
        if (memcmp(p + i, "单位", 6) == 0 &&
            (p[i + 6] == ':' || (i + 9 <= n && memcmp(p + i + 6, "：", 3) == 0))) {
            return p + i;
        }
    }
    return NULL;
}

/* A record before the header: what it tells about the table, then a note. */
static void
shape_preamble(struct parse *ps, const struct etl_csv_record *rec)
{
    bool titled = ps->notes_len > 0;

    for (size_t i = 0; i < rec->nfields; i++) {
        const char *p = rec->fields[i], *v, *u;
        size_t n = rec->lens[i], vn;

        parse_trim(&p, &n);
        if (n == 0) {
            continue;
        }
        if ((u = shape_unit_line(p, n)) != NULL &&
            shape_keyed(u, n - (size_t)(u - p), "单位", &v, &vn) && vn > 0) {
            if (ps->given.unit == NULL) {
                ps->given.unit = shape_keep(ps, v, vn);
                ps->given.unit_from = "the unit line";
            } else if (ps->given.unit_from != NULL &&
                       strcmp(ps->given.unit_from, "the YAML") == 0) {
                /* both: normalize takes the words of both and rejects the
                 * rows whose two fitting words disagree */
                char both[256];
                int k = snprintf(both, sizeof(both), "%s、%.*s", ps->given.unit, (int)vn, v);

                if (k > 0 && (size_t)k < sizeof(both)) {
                    ps->given.unit = shape_keep(ps, both, (size_t)k);
                    ps->given.unit_from = "the YAML and the unit line";
                }
            }
            if (u == p) {
                continue;       /* the line is only the unit */
            }
            n = (size_t)(u - p);
            parse_trim(&p, &n);
        }
        if (shape_keyed(p, n, "指标", &v, &vn)) {
            shape_give(ps, ETL_COL_INDICATOR, v, vn, "the 指标 line");
        } else if (shape_keyed(p, n, "时间", &v, &vn) || shape_keyed(p, n, "时期", &v, &vn)) {
            char buf[48];
            struct etl_period per;
            struct etl_err e;

            if (vn < sizeof(buf)) {
                memcpy(buf, v, vn);
                buf[vn] = '\0';
                e.code = ETL_E_NONE;
                if (etl_period_parse(buf, 0, &per, &e) == 0) {
                    shape_give(ps, ETL_COL_PERIOD, v, vn, "the 时间 line");
                }
            }
        } else if (!titled && i == 0 && memchr(p, ':', n) == NULL &&
                   strstr(p, "：") == NULL) {
            shape_title_period(ps, p, n);
        }
        titled = true;
    }
    shape_note(ps, rec);
}

/* ---- the header --------------------------------------------------------- */

/* The canonical column a header name answers to, or -1. */
static int
shape_column(const struct parse *ps, const char *fold)
{
    for (int c = 0; c < ETL_NCOLS; c++) {
        for (size_t j = 0; j < ps->nnames[c]; j++) {
            if (strcmp(fold, ps->names[c][j].fold) == 0) {
                return c;
            }
        }
    }
    return -1;
}

static bool
shape_ignored(const struct parse *ps, const char *fold)
{
    for (size_t i = 0; i < ps->nignore; i++) {
        if (strcmp(fold, ps->ignore[i]) == 0) {
            return true;
        }
    }
    for (size_t i = 0; shape_never_values[i] != NULL; i++) {
        if (strcmp(fold, shape_never_values[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* Add a value column; -1 when out of memory. */
static int
shape_wide_add(struct parse *ps, size_t field, const char *header, const char *indicator,
               const char *period, const char *unit, struct etl_err *err)
{
    if (ps->nwide == ps->wide_cap) {
        size_t cap = ps->wide_cap > 0 ? 2 * ps->wide_cap : 16;
        struct parse_wide *w = realloc(ps->wide, cap * sizeof(*w));

        if (w == NULL) {
            return etl_err_nomem(err);
        }
        ps->wide = w;
        ps->wide_cap = cap;
    }
    ps->wide[ps->nwide++] = (struct parse_wide){
        .field = field, .header = header, .indicator = indicator, .period = period,
        .unit = unit,
    };
    return 0;
}

/*
 * A header field no canonical column answers to: a value column of a wide
 * table when its header is a period, an indicator or carries a unit word
 * (or, declared wide, any name).  0, or -1 out of memory.
 */
static int
shape_classify(struct parse *ps, size_t i, const char *p, size_t n, const char *fold,
               struct etl_err *err)
{
    const struct etl_catalog *cat = etl_stage_catalog(ps->st);
    const char *shown, *u = NULL, *per = NULL, *ind = NULL;
    size_t name_len, ul;
    char buf[PARSE_NAME_MAX];
    struct etl_period period;
    struct etl_err e;

    if (ps->layout_cfg == PARSE_LAYOUT_LONG || shape_ignored(ps, fold) ||
        n >= sizeof(buf) || (shown = shape_keep(ps, p, n)) == NULL) {
        return 0;
    }
    memcpy(buf, p, n);
    buf[n] = '\0';
    e.code = ETL_E_NONE;
    if (n >= 4 && p[0] >= '0' && p[0] <= '9' && etl_period_parse(buf, 0, &period, &e) == 0) {
        per = shown;
    } else {
        parse_label_bracket(p, n, &name_len, &u, &ul);
        if (cat != NULL && etl_catalog_indicator(cat, buf, &u, &ul) != NULL) {
            ind = shown;
        } else if (u != NULL && cat != NULL && etl_catalog_unit_word(cat, u, ul) != NULL) {
            ind = shown;
        } else if (ps->layout_cfg == PARSE_LAYOUT_WIDE) {
            ind = shown;
        } else {
            return 0;
        }
        if (u != NULL && (u = shape_keep(ps, u, ul)) == NULL) {
            return 0;
        }
    }
    return shape_wide_add(ps, i, shown, ind, per, u, err);
}

/* Map header field i to column c, with the unit in its brackets. */
static int
shape_map(struct parse *ps, const struct etl_csv_record *rec, int c, size_t i,
          const char *unit, size_t unit_len, struct etl_err *err)
{
    int prev = ps->map[c];

    if (prev >= 0) {
        etl_err_set(err, ETL_E_DATA, "column \"%s\" is named twice in the "
                    "header: \"%s\" (field %d) and \"%s\" (field %zu)",
                    etl_col_names[c], rec->fields[prev], prev + 1,
                    rec->fields[i], i + 1);
        etl_err_where(err, "line %lu", rec->line);
        return -1;
    }
    ps->map[c] = (int)i;
    if (unit != NULL) {
        ps->hunit[c] = shape_keep(ps, unit, unit_len);
        ps->hname[c] = shape_keep(ps, rec->fields[i], rec->lens[i]);
    }
    return 0;
}

/* Each field of a header candidate: a canonical column or a value column. */
static int
shape_fields(struct parse *ps, const struct etl_csv_record *rec, size_t *hits,
             struct etl_err *err)
{
    char fold[PARSE_NAME_MAX];

    for (size_t i = 0; i < rec->nfields; i++) {
        const char *p = rec->fields[i], *u;
        size_t n = rec->lens[i], name_len, ul;
        int c;

        parse_trim(&p, &n);
        if (n == 0 || parse_fold(p, n, fold) <= 0) {
            continue;
        }
        parse_label_bracket(p, n, &name_len, &u, &ul);
        /* the name with its brackets, else without: either way a unit in
         * the brackets is the column's (a configured "数值（万元）" too) */
        if ((c = shape_column(ps, fold)) < 0 && u != NULL &&
            parse_fold(p, name_len, fold) > 0) {
            c = shape_column(ps, fold);
        }
        if (c >= 0) {
            (*hits)++;
            if (shape_map(ps, rec, c, i, c == ETL_COL_VALUE ? u : NULL, ul, err) < 0) {
                return -1;
            }
        } else if (shape_classify(ps, i, p, n, fold, err) < 0) {
            return -1;
        }
    }
    return 0;
}

/* Names of column 'c' as a list for a message. */
static void
shape_name_list(const struct parse *ps, enum etl_col c, char *out, size_t size)
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

/* Is column c in the header, or given for the whole table? */
static bool
shape_has(const struct parse *ps, enum etl_col c)
{
    return ps->map[c] >= 0 || ps->given.f[c] != NULL;
}

/* Can every value column of a wide table tell its indicator and period? */
static bool
shape_wide_complete(const struct parse *ps)
{
    if (ps->nwide == 0 || ps->map[ETL_COL_VALUE] >= 0 ||
        !(shape_has(ps, ETL_COL_REGION) || ps->map[ETL_COL_PARTNER] >= 0)) {
        return false;
    }
    for (size_t i = 0; i < ps->nwide; i++) {
        const struct parse_wide *w = &ps->wide[i];

        if ((w->indicator == NULL && !shape_has(ps, ETL_COL_INDICATOR)) ||
            (w->period == NULL && !shape_has(ps, ETL_COL_PERIOD))) {
            return false;
        }
    }
    return true;
}

/* Forget what a header candidate mapped. */
static void
shape_unmap(struct parse *ps, size_t ftext_len)
{
    for (int c = 0; c < PARSE_NMAP; c++) {
        ps->map[c] = -1;
    }
    for (int c = 0; c < ETL_NCOLS; c++) {
        ps->hunit[c] = NULL;
        ps->hname[c] = NULL;
    }
    ps->nwide = 0;
    ps->ftext_len = ftext_len;
}

/*
 * Is 'rec' the header of a CSV (not SDMX-CSV) table?  0 and the columns
 * mapped (ps->layout set); 1 when it is not, with why in 'err'; -1 for a
 * header that is wrong beyond doubt (a column named twice).
 */
int
parse_header_map(struct parse *ps, const struct etl_csv_record *rec, size_t *hits,
                 struct etl_err *err)
{
    size_t mark = ps->ftext_len;

    *hits = 0;
    shape_unmap(ps, mark);
    if (shape_room_for(ps, rec, err) < 0) {
        return -1;
    }
    if (shape_fields(ps, rec, hits, err) < 0) {
        shape_unmap(ps, mark);
        return -1;
    }
    if (ps->layout_cfg != PARSE_LAYOUT_WIDE && ps->map[ETL_COL_VALUE] >= 0) {
        bool complete = true;

        for (size_t k = 0; k < PARSE_NREQUIRED; k++) {
            complete = complete && shape_has(ps, parse_required[k]);
        }
        if (complete) {
            ps->layout = PARSE_LAYOUT_LONG;
            ps->nwide = 0;
            return 0;
        }
    }
    if (shape_wide_complete(ps)) {
        ps->layout = PARSE_LAYOUT_WIDE;
        return 0;
    }
    for (size_t k = 0; k < PARSE_NREQUIRED; k++) {
        enum etl_col c = parse_required[k];
        char list[200];

        if (shape_has(ps, c)) {
            continue;
        }
        shape_name_list(ps, c, list, sizeof(list));
        etl_err_set(err, ETL_E_DATA,
                    "missing column \"%s\" (expected a header named one of: %s)",
                    etl_col_names[c], list);
        etl_err_detail(err, "the header is \"%s\"", rec->raw);
        if (ps->nwide > 0) {
            etl_err_hint(err, "a wide table needs its region column, and an indicator "
                         "and a period for each value column (in the header, or "
                         "indicator: and period: in the YAML)");
        }
        etl_err_where(err, "line %lu", rec->line);
        break;
    }
    if (err->code == ETL_E_NONE) {
        etl_err_set(err, ETL_E_DATA, "no header: no record names the columns");
        etl_err_where(err, "line %lu", rec->line);
    }
    shape_unmap(ps, mark);
    return 1;
}

/*
 * A record that is not blank, before the header: the header, or preamble
 * (kept as a note), or, after PARSE_HEADER_SCAN records, the end of the
 * search: the file fails with why the best candidate was no header.
 */
int
parse_shape_record(struct parse *ps, const struct etl_csv_record *rec, struct etl_err *err)
{
    size_t hits = 0;
    struct etl_err why;
    int rc;

    if (rec->bad != NULL) {
        etl_err_set(err, ETL_E_DATA, "invalid header: %s", rec->bad);
        etl_err_where(err, "line %lu", rec->line);
        return -1;
    }
    if ((ps->format == PARSE_FORMAT_AUTO || ps->format == PARSE_FORMAT_SDMX) &&
        ps->scanned == 0) {
        size_t merged;

        ps->scanned++;
        ps->sdmx = parse_sdmx_version(ps, rec, &merged, err);
        if (ps->sdmx < 0) {
            ps->sdmx = 0;
            return -1;
        }
        if (ps->sdmx > 0) {
            return parse_sdmx_header(ps, rec, merged, err);
        }
    } else {
        ps->scanned++;
    }
    etl_err_clear(&why);
    rc = parse_header_map(ps, rec, &hits, &why);
    if (rc <= 0) {
        if (rc < 0) {
            *err = why;
            return -1;
        }
        ps->have_header = true;
        ps->nheader = rec->nfields;
        return 0;
    }
    if (!ps->have_best || hits > ps->best_hits) {
        ps->best = why;
        ps->best_hits = hits;
        ps->have_best = true;
    }
    if (ps->scanned >= PARSE_HEADER_SCAN) {
        *err = ps->best;
        return -1;
    }
    if (shape_room_for(ps, rec, err) < 0) {
        return -1;
    }
    shape_preamble(ps, rec);
    return 0;
}

/* The end of the file before a header: the best candidate's error. */
int
parse_shape_end(struct parse *ps, struct etl_err *err)
{
    if (ps->have_best) {
        *err = ps->best;
        return -1;
    }
    etl_err_set(err, ETL_E_DATA, "no header: the file is empty");
    etl_err_where(err, "line 1");
    return -1;
}

/* ---- configuration and per file ----------------------------------------- */

/* Keys layout, region, period, indicator, unit, ignore, total_region. */
int
parse_shape_configure(struct parse *ps, const struct etl_node *node, struct etl_err *err)
{
    static const enum etl_col constants[] = {
        ETL_COL_REGION, ETL_COL_PARTNER, ETL_COL_INDICATOR, ETL_COL_PERIOD
    };
    const struct etl_node *ig;
    const char *s;

    if (etl_node_str(node, "layout", "auto", &s, err) < 0) {
        return -1;
    }
    if (strcmp(s, "auto") == 0) {
        ps->layout_cfg = PARSE_LAYOUT_AUTO;
    } else if (strcmp(s, "long") == 0) {
        ps->layout_cfg = PARSE_LAYOUT_LONG;
    } else if (strcmp(s, "wide") == 0) {
        ps->layout_cfg = PARSE_LAYOUT_WIDE;
    } else {
        return etl_node_fail(etl_node_get(node, "layout"), err, ETL_E_CONFIG,
                             "unknown layout \"%s\" (expected auto, long or wide)", s);
    }
    for (size_t i = 0; i < sizeof(constants) / sizeof(constants[0]); i++) {
        const struct etl_node *v = etl_node_get(node, etl_col_names[constants[i]]);

        if (v != NULL && v->type == ETL_NODE_SCALAR && v->str[0] != '\0') {
            ps->cfg.f[constants[i]] = v->str;
            ps->cfg.from[constants[i]] = "the YAML";
        }
    }
    if (etl_node_str(node, "unit", NULL, &ps->cfg.unit, err) < 0) {
        return -1;
    }
    if (ps->cfg.unit != NULL) {
        ps->cfg.unit_from = "the YAML";
    }
    if (etl_node_str(node, "total_region", NULL, &ps->total_region, err) < 0) {
        return -1;
    }
    if ((ig = etl_node_get(node, "ignore")) != NULL) {
        size_t n = ig->type == ETL_NODE_SEQ ? ig->n : 1;

        ps->ignore = calloc(n, sizeof(*ps->ignore));
        if (ps->ignore == NULL) {
            return etl_err_nomem(err);
        }
        for (size_t i = 0; i < n; i++) {
            const struct etl_node *x = ig->type == ETL_NODE_SEQ ? ig->items[i] : ig;
            char fold[PARSE_NAME_MAX];

            if (x->type != ETL_NODE_SCALAR || parse_fold(x->str, strlen(x->str), fold) <= 0) {
                return etl_node_fail(x, err, ETL_E_CONFIG,
                                     "\"ignore\" needs header names");
            }
            if ((ps->ignore[i] = strdup(fold)) == NULL) {
                return etl_err_nomem(err);
            }
            ps->nignore++;
        }
    }
    return 0;
}

/* A new file: the YAML's constants, no header, no notes. */
void
parse_shape_reset(struct parse *ps)
{
    ps->layout = PARSE_LAYOUT_LONG;
    ps->given = ps->cfg;
    for (int c = 0; c < ETL_NCOLS; c++) {
        ps->hunit[c] = NULL;
        ps->hname[c] = NULL;
    }
    ps->nwide = 0;
    ps->ftext_len = 0;
    ps->scanned = 0;
    ps->best_hits = 0;
    ps->have_best = false;
    ps->raw_kept = NULL;
    ps->notes_len = 0;
    ps->notes[0] = '\0';
    ps->notes_dropped = 0;
}

void
parse_shape_free(struct parse *ps)
{
    for (size_t i = 0; i < ps->nignore; i++) {
        free(ps->ignore[i]);
    }
    free(ps->ignore);
    free(ps->wide);
    free(ps->ftext);
}
