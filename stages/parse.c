/*
 * parse.c
 *    The parse_csv stage: raw bytes of a spooled file in, batches of rows
 *    out, through a chain of links (parse.h).  A reader turns the file into
 *    records (parse_read.c chooses it: etl/decode.c then etl/csv.c for
 *    CSV/TSV and SDMX-CSV, etl/json.c for JSON, etl/xlsx.c and etl/xls.c for
 *    workbooks); the row builder (parse_rows.c) finds the table in the
 *    records (parse_shape.c), maps its header to the canonical columns and
 *    fills struct etl_row (line, raw text, trimmed fields f[], the units
 *    the table states).  SDMX-CSV 1.0 and 2.0 headers and rows are
 *    parse_sdmx.c's.  This file reads the YAML keys, builds the chain and is
 *    the stage kind.
 *
 *    YAML keys:
 *      delimiter         auto (default) | "," | "\t" | ";" | tab | comma |
 *                        semicolon
 *      encoding          auto (default) | utf-8 | gb18030 | gbk
 *      compression       auto (default) | none | gzip | deflate
 *      columns           per canonical column (region, partner, indicator,
 *                        period, value, unit, note), a header name or a list
 *                        of them; it replaces that column's default names; a
 *                        name with a unit in brackets is an error for any
 *                        column but value (the unit would be dropped)
 *      max_record_bytes  longest record (default 1048576); a longer one is a
 *                        rejected row
 *      format            auto (default): from the first bytes (a workbook,
 *                        JSON, an HTML page) and the header (SDMX-CSV) |
 *                        csv | sdmx (an SDMX-CSV header is required) | json
 *                        | xlsx | xls; "columns" does not apply to sdmx
 *      records           JSON: dot-separated keys to the records' array
 *      sheet             workbooks: a sheet's name, or its number from 1
 *      layout            auto (default) | long | wide (parse_shape.c)
 *      region, partner, indicator, period
 *                        the value of that column for every row of a table
 *                        that has no such column
 *      unit              the table's default unit(s): "万元", "亿元、个"
 *      ignore            header names never read as value columns
 *      total_region      the region a total row (合计) is about (default:
 *                        the nation, or the province of a table of its
 *                        prefectures: stages/normalize.c)
 *
 *    Per file (parse_shape.c has the rules for tables as printed):
 *      - the header is found among the first records; what is above it is
 *        the preamble (title, unit line, 指标/时间 lines), what follows the
 *        table (注：, 数据来源：) footnotes: both are the file's notes, not
 *        rows; header names are matched after trimming, with full-width
 *        ASCII folded and ASCII case ignored, with or without a bracketed
 *        unit;
 *      - records whose fields are all blank (spaces, tabs, U+3000) are
 *        skipped, ",,,,," rows of spreadsheets included: they hold nothing;
 *      - a record of a long table becomes exactly one row, of a wide table
 *        one row per value cell that holds a figure; a malformed record or
 *        one whose field count differs from the header's is a rejected row
 *        ("expected 7 fields, found 5"), never a failed file;
 *      - fields are trimmed of ASCII spaces, tabs and U+3000.
 *    File-level errors (ETL_E_DATA) have 'where' "line N"; the runner adds
 *    the file.
 *
 *    Memory: one batch of ETL_BATCH_ROWS rows and one text arena for its
 *    fields and raw texts, both reused batch after batch; the readers'
 *    fixed buffers (and an .xlsx file's shared strings).  Nothing is
 *    allocated per row and nothing grows with the file (the arena grows
 *    only to hold one longest record).
 *
 *    Next door: parse_read.c, parse_rows.c, parse_shape.c, parse_sdmx.c,
 *    etl/decode.c, etl/csv.c, etl/json.c, etl/xlsx.c, etl/xls.c;
 *    normalize.c takes the rows.
 */
#include "parse.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etl/ewc/catalog.h"
#include "etl/ewc/ewc.h"
#include "etl/pipeline.h"
#include "etl/text.h"

static const struct etl_key parse_keys[] = {
    { "delimiter", ETL_KEY_STR, false,
      "auto, \",\", \"\\t\", \";\", tab, comma or semicolon" },
    { "encoding", ETL_KEY_STR, false, "auto, utf-8, gb18030 or gbk" },
    { "compression", ETL_KEY_STR, false, "auto, none, gzip or deflate" },
    { "columns", ETL_KEY_MAP, false,
      "header names per column, e.g. region: [地区, 省份]" },
    { "max_record_bytes", ETL_KEY_INT, false,
      "longest record in bytes (default 1048576)" },
    { "format", ETL_KEY_STR, false,
      "auto (from the bytes and the header), csv, sdmx, json, xlsx or xls" },
    { "records", ETL_KEY_STR, false,
      "JSON: dot-separated keys to the records' array (data.list)" },
    { "sheet", ETL_KEY_STR, false,
      "workbooks: the sheet's name or number from 1 (default: the first)" },
    { "layout", ETL_KEY_STR, false,
      "auto (default: wide when the header says so), long or wide" },
    { "region", ETL_KEY_STR, false, "the region of every row without a region column" },
    { "partner", ETL_KEY_STR, false, "the partner of every row without a partner column" },
    { "indicator", ETL_KEY_STR, false,
      "the indicator of every row without an indicator column" },
    { "period", ETL_KEY_STR, false, "the period of every row without a period column" },
    { "unit", ETL_KEY_STR, false,
      "the table's default unit(s), e.g. 万元 or 亿元、个" },
    { "ignore", ETL_KEY_STR_OR_SEQ, false, "header names never read as value columns" },
    { "total_region", ETL_KEY_STR, false,
      "the region of a total row (合计) (default: the nation, or the province of a table of its cities)" },
    { NULL, 0, false, NULL }
};

/* Default header names, in the order of enum etl_col; NULL-terminated. */
static const char *const parse_defaults[ETL_NCOLS][6] = {
    [ETL_COL_REGION] = { "地区", "region", "省份", "省(区、市)", NULL },
    [ETL_COL_PARTNER] = { "结对地区", "partner", "counterpart", NULL },
    [ETL_COL_INDICATOR] = { "指标", "indicator", "指标名称", NULL },
    [ETL_COL_PERIOD] = { "时期", "period", "年份", "time", "时间", NULL },
    [ETL_COL_VALUE] = { "数值", "value", "值", NULL },
    [ETL_COL_UNIT] = { "单位", "unit", NULL },
    [ETL_COL_NOTE] = { "备注", "note", "notes", NULL },
};

/* ---- text helpers ------------------------------------------------------- */

/* Trim blanks (etl_text_blank) from both ends of [*p, +*n). */
void
parse_trim(const char **p, size_t *n)
{
    const char *b = *p, *e = *p + *n;

    etl_text_trim(&b, &e);
    *p = b;
    *n = (size_t)(e - b);
}

/*
 * Fold a header name for matching into 'out' (of PARSE_NAME_MAX bytes):
 * trimmed, full-width ASCII (U+FF01..FF5E) and U+3000 to ASCII
 * (etl_text_fold), ASCII upper case to lower; other characters are kept
 * as they are.  Returns the length, or -1 if it does not fit.
 */
long
parse_fold(const char *s, size_t n, char *out)
{
    const char *e;
    size_t o = 0;

    parse_trim(&s, &n);
    e = s + n;
    while (s < e) {
        size_t len;
        int ch = etl_text_fold(s, e, &len);

        if (ch < 0) {
            if (o + len >= PARSE_NAME_MAX) {
                return -1;
            }
            memcpy(out + o, s, len);
            o += len;
        } else {
            if (o + 1 >= PARSE_NAME_MAX) {
                return -1;
            }
            if (ch >= 'A' && ch <= 'Z') {
                ch += 'a' - 'A';
            }
            out[o++] = (char)ch;
        }
        s += len;
    }
    out[o] = '\0';
    return (long)o;
}

/* ---- configuration ------------------------------------------------------ */

/* Add a name to column 'c'. */
static int
parse_name_add(struct parse *ps, enum etl_col c, const char *shown,
               const struct etl_node *node, struct etl_err *err)
{
    char fold[PARSE_NAME_MAX];
    struct parse_name *v;

    if (parse_fold(shown, strlen(shown), fold) <= 0) {
        return etl_node_fail(node, err, ETL_E_CONFIG,
                             "header name for column \"%s\" is empty or longer "
                             "than %d bytes", etl_col_names[c], PARSE_NAME_MAX - 1);
    }
    v = realloc(ps->names[c], (ps->nnames[c] + 1) * sizeof(*v));
    if (v == NULL) {
        return etl_err_nomem(err);
    }
    ps->names[c] = v;
    v += ps->nnames[c];
    v->shown = shown;
    v->node = node;
    v->fold = strdup(fold);
    if (v->fold == NULL) {
        return etl_err_nomem(err);
    }
    ps->nnames[c]++;
    return 0;
}

/* Forget column 'c''s names. */
static void
parse_names_clear(struct parse *ps, enum etl_col c)
{
    for (size_t i = 0; i < ps->nnames[c]; i++) {
        free(ps->names[c][i].fold);
    }
    free(ps->names[c]);
    ps->names[c] = NULL;
    ps->nnames[c] = 0;
}

/*
 * A configured header name with a unit in brackets ("地区（万元）") for a
 * column that cannot apply it: only the value column's header unit is
 * applied (to every value of the column), so for any other column the unit
 * would be dropped in silence.  An error at configuration (check) time.
 * Without a catalog any bracketed word counts; with one, a unit word.
 */
static int
parse_name_unit(const struct parse *ps, enum etl_col c, const struct etl_node *s,
                struct etl_err *err)
{
    const struct etl_catalog *cat = etl_stage_catalog(ps->st);
    const char *u;
    size_t name_len, ul;

    if (c == ETL_COL_VALUE) {
        return 0;
    }
    parse_label_bracket(s->str, strlen(s->str), &name_len, &u, &ul);
    if (u == NULL || (cat != NULL && etl_catalog_unit_word(cat, u, ul) == NULL)) {
        return 0;
    }
    etl_node_fail(s, err, ETL_E_CONFIG, "header name \"%s\" for column \"%s\" carries the "
                  "unit \"%.*s\", which that column cannot apply", s->str, etl_col_names[c],
                  (int)ul, u);
    etl_err_hint(err, "map the header to \"value\" (its unit is then applied to every "
                 "value), or set unit: for the source");
    return -1;
}

/* Read "columns:": each key a canonical column, each value a name or a list. */
static int
parse_columns(struct parse *ps, const struct etl_node *map, struct etl_err *err)
{
    bool seen[ETL_NCOLS] = { false };

    for (size_t i = 0; i < map->n; i++) {
        const struct etl_node *k = map->keys[i], *v = map->items[i];
        int c = -1;

        for (int j = 0; j < ETL_NCOLS; j++) {
            if (strcmp(k->str, etl_col_names[j]) == 0) {
                c = j;
            }
        }
        if (c < 0) {
            etl_node_fail(k, err, ETL_E_CONFIG, "unknown column \"%s\" in \"columns\"",
                          k->str);
            etl_err_hint(err, "columns: region, partner, indicator, period, value, "
                         "unit, note");
            return -1;
        }
        if (seen[c]) {
            return etl_node_fail(k, err, ETL_E_CONFIG,
                                 "column \"%s\" given twice in \"columns\"", k->str);
        }
        seen[c] = true;
        if (v->type == ETL_NODE_MAP || (v->type == ETL_NODE_SEQ && v->n == 0)) {
            return etl_node_fail(v, err, ETL_E_CONFIG,
                                 "column \"%s\" needs a header name or a list of them",
                                 k->str);
        }
        parse_names_clear(ps, (enum etl_col)c);
        for (size_t j = 0; j < (v->type == ETL_NODE_SEQ ? v->n : 1); j++) {
            const struct etl_node *s = v->type == ETL_NODE_SEQ ? v->items[j] : v;

            if (s->type != ETL_NODE_SCALAR) {
                return etl_node_fail(s, err, ETL_E_CONFIG,
                                     "column \"%s\" needs a header name or a list of "
                                     "them", k->str);
            }
            if (parse_name_add(ps, (enum etl_col)c, s->str, s, err) < 0 ||
                parse_name_unit(ps, (enum etl_col)c, s, err) < 0) {
                return -1;
            }
        }
    }
    return 0;
}

/* No header name may belong to two columns. */
static int
parse_names_check(const struct parse *ps, struct etl_err *err)
{
    for (int a = 0; a < ETL_NCOLS; a++) {
        for (int b = a; b < ETL_NCOLS; b++) {
            for (size_t i = 0; i < ps->nnames[a]; i++) {
                for (size_t j = a == b ? i + 1 : 0; j < ps->nnames[b]; j++) {
                    const struct parse_name *x = &ps->names[a][i];
                    const struct parse_name *y = &ps->names[b][j];

                    if (strcmp(x->fold, y->fold) != 0) {
                        continue;
                    }
                    if (a == b) {
                        return etl_node_fail(y->node, err, ETL_E_CONFIG,
                                             "header name \"%s\" is given twice "
                                             "for column \"%s\"", y->shown,
                                             etl_col_names[a]);
                    }
                    if (y->node == NULL) {
                        y = x;      /* blame the configured one */
                    }
                    return etl_node_fail(y->node, err, ETL_E_CONFIG,
                                         "header name \"%s\" is given for both "
                                         "\"%s\" and \"%s\"", y->shown,
                                         etl_col_names[a], etl_col_names[b]);
                }
            }
        }
    }
    return 0;
}

static void parse_reset(struct parse *ps);

/* Read delimiter, encoding, compression, max_record_bytes and format. */
static int
parse_configure_keys(struct parse *ps, const struct etl_node *node, struct etl_err *err)
{
    const char *s;
    long max;

    if (etl_node_str(node, "delimiter", "auto", &s, err) < 0) {
        return -1;
    }
    if (strcmp(s, "auto") == 0) {
        ps->delim = 0;
    } else if (strcmp(s, ",") == 0 || strcmp(s, "comma") == 0) {
        ps->delim = ',';
    } else if (strcmp(s, "\t") == 0 || strcmp(s, "\\t") == 0 || strcmp(s, "tab") == 0) {
        ps->delim = '\t';
    } else if (strcmp(s, ";") == 0 || strcmp(s, "semicolon") == 0) {
        ps->delim = ';';
    } else {
        return etl_node_fail(etl_node_get(node, "delimiter"), err, ETL_E_CONFIG,
                             "unknown delimiter \"%s\" (expected auto, \",\", \"\\t\", "
                             "\";\", tab, comma or semicolon)", s);
    }
    if (etl_node_str(node, "encoding", "auto", &s, err) < 0) {
        return -1;
    }
    if (etl_encoding_parse(s, &ps->enc) < 0) {
        return etl_node_fail(etl_node_get(node, "encoding"), err, ETL_E_CONFIG,
                             "unknown encoding \"%s\" (expected auto, utf-8, gb18030 "
                             "or gbk)", s);
    }
    if (etl_node_str(node, "compression", "auto", &s, err) < 0) {
        return -1;
    }
    if (etl_compression_parse(s, &ps->comp) < 0) {
        return etl_node_fail(etl_node_get(node, "compression"), err, ETL_E_CONFIG,
                             "unknown compression \"%s\" (expected auto, none, gzip "
                             "or deflate)", s);
    }
    if (etl_node_long(node, "max_record_bytes", ETL_CSV_MAX_RECORD, PARSE_RECORD_MIN,
                      PARSE_RECORD_MAX, &max, err) < 0) {
        return -1;
    }
    ps->max_record = (size_t)max;
    if (etl_node_str(node, "format", "auto", &s, err) < 0) {
        return -1;
    }
    if (strcmp(s, "auto") == 0) {
        ps->format = PARSE_FORMAT_AUTO;
    } else if (strcmp(s, "csv") == 0) {
        ps->format = PARSE_FORMAT_CSV;
    } else if (strcmp(s, "sdmx") == 0) {
        ps->format = PARSE_FORMAT_SDMX;
    } else if (strcmp(s, "json") == 0) {
        ps->format = PARSE_FORMAT_JSON;
    } else if (strcmp(s, "xlsx") == 0) {
        ps->format = PARSE_FORMAT_XLSX;
    } else if (strcmp(s, "xls") == 0) {
        ps->format = PARSE_FORMAT_XLS;
    } else {
        return etl_node_fail(etl_node_get(node, "format"), err, ETL_E_CONFIG,
                             "unknown format \"%s\" (expected auto, csv, sdmx, json, xlsx "
                             "or xls)", s);
    }
    if (etl_node_str(node, "records", NULL, &ps->records, err) < 0 ||
        etl_node_str(node, "sheet", NULL, &ps->sheet, err) < 0) {
        return -1;
    }
    return 0;
}

/* The header names of each column: the defaults, replaced by "columns". */
static int
parse_configure_names(struct parse *ps, const struct etl_node *node, struct etl_err *err)
{
    const struct etl_node *columns;

    for (int c = 0; c < ETL_NCOLS; c++) {
        for (size_t i = 0; parse_defaults[c][i] != NULL; i++) {
            if (parse_name_add(ps, (enum etl_col)c, parse_defaults[c][i], NULL,
                               err) < 0) {
                return -1;
            }
        }
    }
    columns = etl_node_get(node, "columns");
    if (columns != NULL) {
        if (columns->type != ETL_NODE_MAP) {
            return etl_node_fail(columns, err, ETL_E_CONFIG,
                                 "\"columns\" must be a mapping");
        }
        if (ps->format == PARSE_FORMAT_SDMX) {
            etl_node_fail(columns, err, ETL_E_CONFIG,
                          "\"columns\" does not apply to format sdmx");
            etl_err_hint(err, "SDMX-CSV columns are found by their SDMX IDs "
                         "(REF_AREA, INDICATOR, ...)");
            return -1;
        }
        if (parse_columns(ps, columns, err) < 0) {
            return -1;
        }
    }
    return parse_names_check(ps, err);
}

/*
 * Read the keys, make the chain (decoder -> tokenizer -> row builder, see
 * parse.h), the batch and the arena.
 */
static int
parse_configure(struct etl_stage *st, const struct etl_node *node, struct etl_err *err)
{
    struct parse *ps = calloc(1, sizeof(*ps));

    if (ps == NULL) {
        return etl_err_nomem(err);
    }
    st->ctx = ps;
    ps->st = st;
    if (parse_configure_keys(ps, node, err) < 0 || parse_configure_names(ps, node, err) < 0 ||
        parse_shape_configure(ps, node, err) < 0) {
        return -1;
    }
    ps->rows.kind = &parse_rows_kind;
    ps->rows.name = st->name;
    ps->rows.ctx = ps;
    if (parse_read_new(ps, err) < 0) {
        const struct etl_node *r = etl_node_get(node, "records");

        if (err->code == ETL_E_CONFIG && r != NULL) {
            etl_err_where(err, "%s:%u:%u", r->file, r->line, r->col);
        }
        return -1;
    }
    ps->batch = malloc(sizeof(*ps->batch));
    ps->arena = malloc(PARSE_ARENA_MIN);
    if (ps->batch == NULL || ps->arena == NULL) {
        return etl_err_nomem(err);
    }
    ps->arena_cap = PARSE_ARENA_MIN;
    parse_reset(ps);
    return 0;
}

/* ---- per file ----------------------------------------------------------- */

/* Forget the current file; keep every buffer. */
static void
parse_reset(struct parse *ps)
{
    parse_read_reset(ps);
    ps->batch->n = 0;
    ps->arena_len = 0;
    ps->have_header = false;
    ps->sdmx = 0;
    ps->nheader = 0;
    ps->downstream = false;
    for (int c = 0; c < PARSE_NMAP; c++) {
        ps->map[c] = -1;
    }
    parse_shape_reset(ps);
}

/* An error of ours (not of a later stage) gets the line it happened on. */
static int
parse_fail(struct parse *ps, struct etl_err *err)
{
    if (!ps->downstream) {
        etl_err_where(err, "line %lu", etl_csv_line(ps->csv));
    }
    return -1;
}

/* A file starts: a clean chain whose last link feeds the next stage. */
static int
parse_begin(struct etl_stage *st, struct etl_err *err)
{
    struct parse *ps = st->ctx;

    (void)err;
    parse_reset(ps);
    ps->rows.next = st->next;
    ps->rows.job = st->job;
    return 0;
}

/* Bytes of the spooled file: into the head of the chain, the decoder. */
static int
parse_process(struct etl_stage *st, struct etl_chunk *in, struct etl_err *err)
{
    struct parse *ps = st->ctx;

    if (in->type != NULL) {
        return etl_err_set(err, ETL_E_INTERNAL, "stage %s (%s) expects bytes, not %s",
                           st->name, st->kind->name, etl_chunk_type_name(in));
    }
    if (in->len > 0 && parse_read_bytes(ps, in, err) < 0) {
        return parse_fail(ps, err);
    }
    return 0;
}

/*
 * The end of the file: finishing the head finishes each link in turn, the
 * row builder last, which flushes and finishes the next stage.
 */
static int
parse_finish(struct etl_stage *st, struct etl_verdict *v, struct etl_err *err)
{
    struct parse *ps = st->ctx;

    if (parse_read_finish(ps, v, err) < 0) {
        return ps->book != 0 ? -1 : parse_fail(ps, err);
    }
    return 0;
}

static void
parse_abort(struct etl_stage *st)
{
    if (st->ctx != NULL && ((struct parse *)st->ctx)->batch != NULL) {
        parse_reset(st->ctx);
    }
}

static void
parse_destroy(struct etl_stage *st)
{
    struct parse *ps = st->ctx;

    if (ps == NULL) {
        return;
    }
    for (int c = 0; c < ETL_NCOLS; c++) {
        parse_names_clear(ps, (enum etl_col)c);
    }
    parse_shape_free(ps);
    parse_read_free(ps);
    free(ps->batch);
    free(ps->arena);
    free(ps);
    st->ctx = NULL;
}

size_t
etl_stage_parse_csv_footprint(const struct etl_stage *st)
{
    const struct parse *ps = st->ctx;

    if (ps == NULL) {
        return 0;
    }
    return sizeof(*ps) + (ps->batch != NULL ? sizeof(*ps->batch) : 0) + ps->arena_cap +
           (ps->dec != NULL ? etl_decode_footprint(ps->dec) : 0) +
           (ps->csv != NULL ? etl_csv_footprint(ps->csv) : 0) +
           (ps->json != NULL ? etl_json_footprint(ps->json) : 0) +
           (ps->xlsx != NULL ? etl_xlsx_footprint(ps->xlsx) : 0);
}

const struct etl_stage_kind etl_stage_parse_csv = {
    .name = "parse_csv",
    .consumes = ETL_FLOW_FILE,
    .produces = ETL_FLOW_ROWS,
    .keys = parse_keys,
    .summary = "read CSV/TSV, SDMX-CSV, JSON, .xlsx or .xls tables (as printed, long or wide) into rows",
    .configure = parse_configure,
    .begin = parse_begin,
    .process = parse_process,
    .finish = parse_finish,
    .abort = parse_abort,
    .destroy = parse_destroy,
};
