/*
 * parse.c
 *    The parse_csv stage: raw bytes of a spooled file in, batches of rows
 *    out.  decode.c inflates and turns the bytes into UTF-8, csv.c cuts the
 *    text into records, and this file maps the header to the canonical
 *    columns and fills struct etl_row (line, raw text, trimmed fields f[]).
 *    It reads plain CSV/TSV and SDMX-CSV 1.0 and 2.0 (see below): one kind,
 *    "parse_csv", for both, the header telling which (format: auto).
 *
 *    YAML keys:
 *      delimiter         auto (default) | "," | "\t" | ";" | tab | comma |
 *                        semicolon
 *      encoding          auto (default) | utf-8 | gb18030 | gbk
 *      compression       auto (default) | none | gzip | deflate
 *      columns           per canonical column (region, partner, indicator,
 *                        period, value, unit, note), a header name or a list
 *                        of them; it replaces that column's default names
 *      max_record_bytes  longest record (default 1048576); a longer one is a
 *                        rejected row
 *      format            auto (default): SDMX-CSV when the header says so,
 *                        else CSV | csv: never SDMX | sdmx: an SDMX-CSV
 *                        header is required (else a file error); "columns"
 *                        does not apply to sdmx
 *
 *    Per file:
 *      - the first record that is not blank is the header; header names are
 *        matched after trimming, with full-width ASCII folded and ASCII case
 *        ignored; region, indicator, period and value are required; other
 *        header columns are ignored; two header columns for one canonical
 *        column is an error;
 *      - records whose fields are all blank (spaces, tabs, U+3000) are
 *        skipped, ",,,,," rows of spreadsheets included: they hold nothing;
 *      - every other record becomes exactly one row; a malformed record or
 *        one whose field count differs from the header's is a rejected row
 *        ("expected 7 fields, found 5"), never a failed file;
 *      - fields are trimmed of ASCII spaces, tabs and U+3000.
 *    File-level errors (ETL_E_DATA) have 'where' "line N"; the runner adds
 *    the file.
 *
 *    SDMX-CSV (the statistics agencies' exchange format):
 *      - detected from the first non-blank record (after decoding, names
 *        compared case-insensitively): DATAFLOW as column 1 is SDMX-CSV 1.0;
 *        STRUCTURE (or STRUCTURE[;], with a sub-field separator) as column 1
 *        is 2.0, and then column 2 must be STRUCTURE_ID (a file error
 *        otherwise);
 *      - the component columns map to the canonical ones by their SDMX IDs,
 *        the "columns" key playing no part: REF_AREA -> region,
 *        COUNTERPART_AREA -> partner, INDICATOR -> indicator, TIME_PERIOD ->
 *        period, OBS_VALUE -> value, UNIT_MEASURE -> unit, OBS_COMMENT (or
 *        else COMMENT) -> note; UNIT_MULT, OBS_STATUS and (2.0 only) ACTION
 *        are read here; every other column (DATAFLOW, FREQ, DECIMALS, ...)
 *        is ignored.  REF_AREA, INDICATOR, TIME_PERIOD and OBS_VALUE are
 *        required.  Header cells "ID: name" (labels=both) match by their ID;
 *        with labels=name (STRUCTURE_NAME as column 3) the name column after
 *        each mapped column is skipped;
 *      - coded values written "ID: name" (labels=both) keep their ID: in
 *        REF_AREA, COUNTERPART_AREA, INDICATOR, TIME_PERIOD, UNIT_MEASURE,
 *        UNIT_MULT, OBS_STATUS and ACTION;
 *      - ACTION: empty, I, A or R -> loaded; D -> row->deleted (the load
 *        stage skips and counts it); anything else -> rejected row
 *        'unknown ACTION "X"';
 *      - OBS_STATUS: empty or A -> exact; E -> ETL_Q_ESTIMATE; P ->
 *        ETL_Q_PROVISIONAL; M -> missing (the value is dropped: normalize
 *        takes a blank value as missing); anything else -> rejected row
 *        'unknown OBS_STATUS "X"'.  An OBS_VALUE of NaN or #N/A is missing
 *        too;
 *      - UNIT_MULT (a power of ten, an integer from -24 to 24, e.g. 8 for
 *        亿) multiplies OBS_VALUE here, exactly (etl_num_shift), so that the
 *        value text is in UNIT_MEASURE's base unit: 220 with UNIT_MULT 8 is
 *        "22000000000".  An OBS_VALUE that is a plain decimal (sign, digits,
 *        point, an exponent as in 1.5E3) is rewritten that way with or
 *        without UNIT_MULT; any other OBS_VALUE with a UNIT_MULT is a
 *        rejected row, without one it is left to normalize.
 *    Codes in REF_AREA ("440000"), INDICATOR ("cadres_exchanged") and
 *    UNIT_MEASURE ("CNY") are looked up by normalize in the catalog.
 *
 *    Memory: one batch of ETL_BATCH_ROWS rows and one text arena for its
 *    fields and raw texts, both reused batch after batch; the decoder's and
 *    tokenizer's fixed buffers.  Nothing is allocated per row and nothing
 *    grows with the file (the arena grows only to hold one longest record).
 *
 *    Next door: etl/decode.c, etl/csv.c; normalize.c takes the rows.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etl/buf.h"
#include "etl/csv.h"
#include "etl/decode.h"
#include "etl/ewc/num.h"
#include "etl/ewc/row.h"
#include "etl/pipeline.h"
#include "etl/stage.h"

/* First size of the text arena of a batch: 512 rows of ~500 bytes. */
#define PARSE_ARENA_MIN (256 * 1024)
/* Limits of max_record_bytes: a header must fit; 64 MiB is absurd already. */
#define PARSE_RECORD_MIN 1024L
#define PARSE_RECORD_MAX (64L * 1024 * 1024)
/* Longest header name compared (folded); longer ones match nothing. */
#define PARSE_NAME_MAX 256
/* UNIT_MULT range: SDMX's CL_UNIT_MULT stays well inside; a value of 64
   characters (ETL_VALUE_MAX) leaves room for 24 zeros. */
#define PARSE_UNIT_MULT_MAX 24
/* Texts quoted in reject reasons are cut to this many bytes. */
#define PARSE_QUOTE 60

enum parse_format {
    PARSE_FORMAT_AUTO = 0,
    PARSE_FORMAT_CSV,
    PARSE_FORMAT_SDMX
};

/* SDMX-only columns, numbered after the canonical ones in map[]. */
enum {
    PARSE_COL_UNIT_MULT = ETL_NCOLS,
    PARSE_COL_OBS_STATUS,
    PARSE_COL_ACTION,
    PARSE_NMAP
};

/* A header name one canonical column answers to. */
struct parse_name {
    char *fold;                     /* folded for matching (owned) */
    const char *shown;              /* as written (static or the YAML's) */
    const struct etl_node *node;    /* the YAML value, NULL for a default */
};

struct parse {
    struct etl_stage *st;
    char delim;                     /* 0: sniff */
    enum etl_compression comp;
    enum etl_encoding enc;
    size_t max_record;
    enum parse_format format;
    struct parse_name *names[ETL_NCOLS];
    size_t nnames[ETL_NCOLS];

    struct etl_decode *dec;
    struct etl_csv *csv;
    struct etl_batch *batch;
    char *arena;                    /* field and raw texts of the batch */
    size_t arena_len, arena_cap;

    /* per file */
    bool have_header;
    int sdmx;                       /* SDMX-CSV version: 10, 20; 0 = CSV */
    int map[PARSE_NMAP];            /* field index of each column, -1 */
    size_t nheader;                 /* fields in the header */
    bool downstream;                /* the error came from a later stage */
};

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
      "auto (default: SDMX-CSV if the header says so), csv or sdmx" },
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

static const enum etl_col parse_required[] = {
    ETL_COL_REGION, ETL_COL_INDICATOR, ETL_COL_PERIOD, ETL_COL_VALUE
};

/* The SDMX-CSV columns read (see the file header), by their folded IDs. */
struct parse_sdmx_name {
    const char *fold;               /* lower case, as parse_fold() makes it */
    const char *shown;              /* the SDMX ID */
    int col;                        /* enum etl_col or PARSE_COL_* */
    int rank;                       /* of two names for a column, the higher wins */
    int version;                    /* lowest SDMX-CSV version having it */
};

static const struct parse_sdmx_name parse_sdmx_names[] = {
    { "ref_area", "REF_AREA", ETL_COL_REGION, 0, 10 },
    { "counterpart_area", "COUNTERPART_AREA", ETL_COL_PARTNER, 0, 10 },
    { "indicator", "INDICATOR", ETL_COL_INDICATOR, 0, 10 },
    { "time_period", "TIME_PERIOD", ETL_COL_PERIOD, 0, 10 },
    { "obs_value", "OBS_VALUE", ETL_COL_VALUE, 0, 10 },
    { "unit_measure", "UNIT_MEASURE", ETL_COL_UNIT, 0, 10 },
    { "obs_comment", "OBS_COMMENT", ETL_COL_NOTE, 1, 10 },
    { "comment", "COMMENT", ETL_COL_NOTE, 0, 10 },
    { "unit_mult", "UNIT_MULT", PARSE_COL_UNIT_MULT, 0, 10 },
    { "obs_status", "OBS_STATUS", PARSE_COL_OBS_STATUS, 0, 10 },
    { "action", "ACTION", PARSE_COL_ACTION, 0, 20 },
};
#define PARSE_NSDMX (sizeof(parse_sdmx_names) / sizeof(parse_sdmx_names[0]))

/* Is column 'c' of an SDMX-CSV file coded ("ID: name" values)? */
static const bool parse_sdmx_coded[PARSE_NMAP] = {
    [ETL_COL_REGION] = true, [ETL_COL_PARTNER] = true,
    [ETL_COL_INDICATOR] = true, [ETL_COL_PERIOD] = true,
    [ETL_COL_UNIT] = true, [PARSE_COL_UNIT_MULT] = true,
    [PARSE_COL_OBS_STATUS] = true, [PARSE_COL_ACTION] = true,
};

/* ---- text helpers ------------------------------------------------------- */

/* Trim ASCII spaces, tabs and U+3000 (e3 80 80) from both ends of [*p, +*n). */
static void
parse_trim(const char **p, size_t *n)
{
    const char *s = *p;
    size_t len = *n;

    for (;;) {
        if (len > 0 && (s[0] == ' ' || s[0] == '\t')) {
            s++;
            len--;
        } else if (len >= 3 && memcmp(s, "\xe3\x80\x80", 3) == 0) {
            s += 3;
            len -= 3;
        } else {
            break;
        }
    }
    for (;;) {
        if (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t')) {
            len--;
        } else if (len >= 3 && memcmp(s + len - 3, "\xe3\x80\x80", 3) == 0) {
            len -= 3;
        } else {
            break;
        }
    }
    *p = s;
    *n = len;
}

/*
 * Fold a header name for matching into 'out' (of PARSE_NAME_MAX bytes):
 * trimmed, full-width ASCII (U+FF01..FF5E) and U+3000 to ASCII, ASCII upper
 * case to lower.  Returns the length, or -1 if it does not fit.
 */
static long
parse_fold(const char *s, size_t n, char *out)
{
    size_t o = 0;

    parse_trim(&s, &n);
    for (size_t i = 0; i < n;) {
        unsigned char b = (unsigned char)s[i];
        unsigned ch = b;

        if (b == 0xef && i + 2 < n) {
            unsigned b1 = (unsigned char)s[i + 1], b2 = (unsigned char)s[i + 2];
            unsigned cp = ((b & 0x0fu) << 12) | ((b1 & 0x3fu) << 6) | (b2 & 0x3fu);

            if (cp >= 0xff01 && cp <= 0xff5e) {
                ch = cp - 0xfee0;
                i += 2;
            }
        } else if (b == 0xe3 && i + 2 < n && memcmp(s + i, "\xe3\x80\x80", 3) == 0) {
            ch = ' ';
            i += 2;
        }
        i++;
        if (ch >= 'A' && ch <= 'Z') {
            ch += 'a' - 'A';
        }
        if (o + 1 >= PARSE_NAME_MAX) {
            return -1;
        }
        out[o++] = (char)ch;
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
        return etl_err_set(err, ETL_E_NOMEM, "out of memory");
    }
    ps->names[c] = v;
    v += ps->nnames[c];
    v->shown = shown;
    v->node = node;
    v->fold = strdup(fold);
    if (v->fold == NULL) {
        return etl_err_set(err, ETL_E_NOMEM, "out of memory");
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
            if (parse_name_add(ps, (enum etl_col)c, s->str, s, err) < 0) {
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

static int parse_text(void *arg, const char *p, size_t n, struct etl_err *err);
static int parse_sdmx_version(const struct parse *ps, const struct etl_csv_record *rec,
                              size_t *merged, struct etl_err *err);
static int parse_sdmx_header(struct parse *ps, const struct etl_csv_record *rec,
                             size_t merged, struct etl_err *err);
static int parse_record(void *arg, const struct etl_csv_record *rec,
                        struct etl_err *err);
static void parse_reset(struct parse *ps);

/* Read the keys, make the decoder, the tokenizer, the batch and the arena. */
static int
parse_configure(struct etl_stage *st, const struct etl_node *node, struct etl_err *err)
{
    struct parse *ps = calloc(1, sizeof(*ps));
    const struct etl_node *columns;
    const char *s;
    long max;

    if (ps == NULL) {
        return etl_err_set(err, ETL_E_NOMEM, "out of memory");
    }
    st->ctx = ps;
    ps->st = st;
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
    } else {
        return etl_node_fail(etl_node_get(node, "format"), err, ETL_E_CONFIG,
                             "unknown format \"%s\" (expected auto, csv or sdmx)", s);
    }
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
    if (parse_names_check(ps, err) < 0) {
        return -1;
    }
    ps->dec = etl_decode_new(ps->comp, ps->enc, parse_text, ps, err);
    if (ps->dec == NULL) {
        return -1;
    }
    ps->csv = etl_csv_new(ps->delim, ps->max_record, parse_record, ps, err);
    if (ps->csv == NULL) {
        return -1;
    }
    ps->batch = malloc(sizeof(*ps->batch));
    ps->arena = malloc(PARSE_ARENA_MIN);
    if (ps->batch == NULL || ps->arena == NULL) {
        return etl_err_set(err, ETL_E_NOMEM, "out of memory");
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
    etl_decode_reset(ps->dec);
    etl_csv_reset(ps->csv);
    ps->batch->n = 0;
    ps->arena_len = 0;
    ps->have_header = false;
    ps->sdmx = 0;
    ps->nheader = 0;
    ps->downstream = false;
    for (int c = 0; c < PARSE_NMAP; c++) {
        ps->map[c] = -1;
    }
}

/* Decoded text goes to the tokenizer. */
static int
parse_text(void *arg, const char *p, size_t n, struct etl_err *err)
{
    struct parse *ps = arg;

    return etl_csv_feed(ps->csv, p, n, err);
}

/* Hand the batch to the next stage and start an empty one. */
static int
parse_flush(struct parse *ps, struct etl_err *err)
{
    struct etl_chunk chunk = etl_chunk_rows(ps->batch);

    ps->downstream = true;
    if (etl_stage_push(ps->st, &chunk, err) < 0) {
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
    for (size_t k = 0; k < sizeof(parse_required) / sizeof(parse_required[0]); k++) {
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
static const char *
parse_keep(struct parse *ps, const char *p, size_t n)
{
    char *s = ps->arena + ps->arena_len;

    memcpy(s, p, n);
    s[n] = '\0';
    ps->arena_len += n + 1;
    return s;
}

/* ---- SDMX-CSV ------------------------------------------------------------ */

/*
 * The length of [p, +n) without a label: "ID: name" (SDMX labels=both)
 * gives the length of "ID".  Texts without ": " keep their length.
 */
static size_t
parse_label_cut(const char *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++) {
        if (p[i] == ':' && p[i + 1] == ' ') {
            while (i > 0 && (p[i - 1] == ' ' || p[i - 1] == '\t')) {
                i--;
            }
            return i;
        }
    }
    return n;
}

/* Field 'i' of a header, trimmed, without its label, folded into 'fold'. */
static long
parse_sdmx_fold(const struct etl_csv_record *rec, size_t i, char *fold)
{
    const char *p = rec->fields[i];
    size_t n = rec->lens[i];

    parse_trim(&p, &n);
    return parse_fold(p, parse_label_cut(p, n), fold);
}

/*
 * Which SDMX-CSV version a header announces: 10 (DATAFLOW first), 20
 * (STRUCTURE or STRUCTURE[x] first, then STRUCTURE_ID), 0 for none (a CSV
 * header, with format auto).  *merged: how many fields after the first one
 * belong to it, when the delimiter inside "STRUCTURE[;]" split it (the
 * data records have that many fields fewer).  -1 with ETL_E_DATA, 'where'
 * "line N": a 2.0 header without STRUCTURE_ID, or no SDMX header with
 * format sdmx.
 */
static int
parse_sdmx_version(const struct parse *ps, const struct etl_csv_record *rec,
                   size_t *merged, struct etl_err *err)
{
    char fold[PARSE_NAME_MAX];
    long n = parse_sdmx_fold(rec, 0, fold);

    *merged = 0;
    if (n > 0 && strcmp(fold, "dataflow") == 0) {
        return 10;
    }
    if (n >= 9 && memcmp(fold, "structure", 9) == 0 && (n == 9 || fold[9] == '[')) {
        bool closed = n == 9 || fold[n - 1] == ']';
        size_t id;

        while (!closed && *merged + 1 < rec->nfields) {
            long m = parse_sdmx_fold(rec, ++*merged, fold);

            closed = m > 0 && fold[m - 1] == ']';
        }
        id = 1 + *merged;
        if (!closed) {
            etl_err_set(err, ETL_E_DATA, "invalid SDMX-CSV 2.0 header: column 1 "
                        "opens \"[\" but never closes it");
            etl_err_detail(err, "the header is \"%s\"", rec->raw);
            etl_err_where(err, "line %lu", rec->line);
            return -1;
        }
        if (id < rec->nfields && parse_sdmx_fold(rec, id, fold) > 0 &&
            strcmp(fold, "structure_id") == 0) {
            return 20;
        }
        etl_err_set(err, ETL_E_DATA, "invalid SDMX-CSV 2.0 header: column 2 is "
                    "\"%s\", expected STRUCTURE_ID",
                    id < rec->nfields ? rec->fields[id] : "");
        etl_err_detail(err, "the header is \"%s\"", rec->raw);
        etl_err_where(err, "line %lu", rec->line);
        return -1;
    }
    if (ps->format == PARSE_FORMAT_SDMX) {
        etl_err_set(err, ETL_E_DATA, "not an SDMX-CSV header: column 1 is \"%s\", "
                    "expected DATAFLOW (SDMX-CSV 1.0) or STRUCTURE (2.0)",
                    rec->fields[0]);
        etl_err_detail(err, "the header is \"%s\"", rec->raw);
        etl_err_hint(err, "set format: auto or csv for a plain CSV file");
        etl_err_where(err, "line %lu", rec->line);
        return -1;
    }
    return 0;
}

/*
 * Map the columns of an SDMX-CSV header (ps->sdmx set) by their IDs; the
 * first field and 'merged' more are the STRUCTURE or DATAFLOW column.  A
 * column named twice is an error, except the note, where OBS_COMMENT beats
 * COMMENT; a required column missing is an error.  ETL_E_DATA, 'where'
 * "line N".  Field numbers in messages are those of the data records.
 */
static int
parse_sdmx_header(struct parse *ps, const struct etl_csv_record *rec,
                  size_t merged, struct etl_err *err)
{
    char fold[PARSE_NAME_MAX];
    int rank[PARSE_NMAP];
    bool labels_name = false, skip = false;

    for (int c = 0; c < PARSE_NMAP; c++) {
        rank[c] = 0;
    }
    if (ps->sdmx == 20 && rec->nfields >= 3 + merged &&
        parse_sdmx_fold(rec, 2 + merged, fold) > 0 &&
        strcmp(fold, "structure_name") == 0) {
        labels_name = true;
    }
    for (size_t i = 1 + merged; i < rec->nfields; i++) {
        size_t at = i - merged;     /* the field's index in the data records */

        if (skip) {
            skip = false;   /* labels=name: the name column of the last one */
            continue;
        }
        if (parse_sdmx_fold(rec, i, fold) <= 0) {
            continue;
        }
        for (size_t k = 0; k < PARSE_NSDMX; k++) {
            const struct parse_sdmx_name *e = &parse_sdmx_names[k];
            int prev = ps->map[e->col];

            if (strcmp(fold, e->fold) != 0 || e->version > ps->sdmx) {
                continue;
            }
            skip = labels_name && e->col != PARSE_COL_ACTION;
            if (prev >= 0 && rank[e->col] == e->rank) {
                etl_err_set(err, ETL_E_DATA, "column \"%s\" is named twice in the "
                            "header: \"%s\" (field %d) and \"%s\" (field %zu)",
                            e->shown, rec->fields[(size_t)prev + merged], prev + 1,
                            rec->fields[i], at + 1);
                etl_err_where(err, "line %lu", rec->line);
                return -1;
            }
            if (prev < 0 || rank[e->col] < e->rank) {
                ps->map[e->col] = (int)at;
                rank[e->col] = e->rank;
            }
            break;
        }
    }
    for (size_t k = 0; k < sizeof(parse_required) / sizeof(parse_required[0]); k++) {
        enum etl_col c = parse_required[k];
        const char *id = "";

        if (ps->map[c] >= 0) {
            continue;
        }
        for (size_t j = 0; j < PARSE_NSDMX; j++) {
            if (parse_sdmx_names[j].col == (int)c) {
                id = parse_sdmx_names[j].shown;
                break;
            }
        }
        etl_err_set(err, ETL_E_DATA, "missing column \"%s\" (SDMX-CSV %s needs "
                    "REF_AREA, INDICATOR, TIME_PERIOD and OBS_VALUE)", id,
                    ps->sdmx == 10 ? "1.0" : "2.0");
        etl_err_detail(err, "the header is \"%s\"", rec->raw);
        etl_err_where(err, "line %lu", rec->line);
        return -1;
    }
    ps->have_header = true;
    ps->nheader = rec->nfields - merged;
    return 0;
}

/* How many bytes of [p, +n) to quote in a reason: whole characters. */
static int
parse_qlen(const char *p, size_t n)
{
    if (n > PARSE_QUOTE) {
        n = PARSE_QUOTE;
        while (n > 0 && ((unsigned char)p[n] & 0xc0) == 0x80) {
            n--;
        }
    }
    return (int)n;
}

/*
 * An SDMX-only field of a record (UNIT_MULT, OBS_STATUS, ACTION): trimmed,
 * without its label, in [*p, +*n).  False if the file has no such column.
 */
static bool
parse_sdmx_field(const struct parse *ps, const struct etl_csv_record *rec, int col,
                 const char **p, size_t *n)
{
    int i = ps->map[col];

    if (i < 0 || (size_t)i >= rec->nfields) {
        return false;
    }
    *p = rec->fields[i];
    *n = rec->lens[i];
    parse_trim(p, n);
    *n = parse_label_cut(*p, *n);
    return true;
}

/*
 * An OBS_VALUE that is a plain decimal ([+-] digits [. digits] [e[+-]ddd],
 * or [+-] . digits ...) written into 'out' (of 'size' bytes) as etl_num_shift
 * wants it ("-0.5", "12.40"), its exponent in *exp.  Returns 0, -1 when it is
 * no plain decimal, -2 when it does not fit 'size'.
 */
static int
parse_decimal(const char *s, char *out, size_t size, int *exp)
{
    size_t o = 0, digits = 0;
    bool neg = false;

    *exp = 0;
    if (*s == '+' || *s == '-') {
        neg = *s == '-';
        s++;
    }
    if (neg) {
        out[o++] = '-';
    }
    if (*s == '.') {
        out[o++] = '0';
    }
    for (; *s >= '0' && *s <= '9'; s++, digits++) {
        if (o + 2 >= size) {
            return -2;
        }
        out[o++] = *s;
    }
    if (*s == '.') {
        s++;
        if (*s >= '0' && *s <= '9') {
            out[o++] = '.';
        }
        for (; *s >= '0' && *s <= '9'; s++, digits++) {
            if (o + 2 >= size) {
                return -2;
            }
            out[o++] = *s;
        }
    }
    if (digits == 0) {
        return -1;
    }
    if (*s == 'e' || *s == 'E') {
        bool eneg = false;
        int e = 0, k = 0;

        s++;
        if (*s == '+' || *s == '-') {
            eneg = *s == '-';
            s++;
        }
        for (; *s >= '0' && *s <= '9' && k < 4; s++, k++) {
            e = e * 10 + (*s - '0');
        }
        if (k == 0 || k > 3) {
            return -1;
        }
        *exp = eneg ? -e : e;
    }
    if (*s != '\0') {
        return -1;
    }
    out[o] = '\0';
    return 0;
}

/*
 * The SDMX part of a row that is not rejected: ACTION, OBS_STATUS,
 * UNIT_MULT applied to OBS_VALUE.  May reject the row.  The rewritten value
 * goes to the arena (parse_row made room for ETL_VALUE_MAX bytes).
 */
static void
parse_sdmx_row(struct parse *ps, const struct etl_csv_record *rec, struct etl_row *row)
{
    const char *p, *v = row->f[ETL_COL_VALUE];
    size_t n;
    long mult = 0;
    bool has_mult = false;
    char num[ETL_VALUE_MAX];
    struct etl_err e;
    int exp, rc;

    if (parse_sdmx_field(ps, rec, PARSE_COL_ACTION, &p, &n) && n > 0) {
        if (n == 1 && *p == 'D') {
            row->deleted = true;
        } else if (n != 1 || (*p != 'I' && *p != 'A' && *p != 'R')) {
            etl_row_reject(row, "unknown ACTION \"%.*s\"", parse_qlen(p, n), p);
            return;
        }
    }
    if (parse_sdmx_field(ps, rec, PARSE_COL_OBS_STATUS, &p, &n) && n > 0) {
        if (n == 1 && *p == 'E') {
            row->qualifier = ETL_Q_ESTIMATE;
        } else if (n == 1 && *p == 'P') {
            row->qualifier = ETL_Q_PROVISIONAL;
        } else if (n == 1 && *p == 'M') {
            v = "";
        } else if (n != 1 || *p != 'A') {
            etl_row_reject(row, "unknown OBS_STATUS \"%.*s\"", parse_qlen(p, n), p);
            return;
        }
    }
    if (parse_sdmx_field(ps, rec, PARSE_COL_UNIT_MULT, &p, &n) && n > 0) {
        char *end;

        memcpy(num, p, n < sizeof(num) ? n : sizeof(num) - 1);
        num[n < sizeof(num) ? n : sizeof(num) - 1] = '\0';
        mult = strtol(num, &end, 10);
        if (n >= sizeof(num) || end == num || *end != '\0' ||
            !((num[0] >= '0' && num[0] <= '9') || num[0] == '-' || num[0] == '+') ||
            mult < -PARSE_UNIT_MULT_MAX || mult > PARSE_UNIT_MULT_MAX) {
            etl_row_reject(row, "invalid UNIT_MULT \"%.*s\" (expected an integer "
                           "from %d to %d)", parse_qlen(p, n), p,
                           -PARSE_UNIT_MULT_MAX, PARSE_UNIT_MULT_MAX);
            return;
        }
        has_mult = true;
    }
    if (v[0] == '\0' || strcmp(v, "NaN") == 0 || strcmp(v, "#N/A") == 0) {
        row->f[ETL_COL_VALUE] = "";     /* missing */
        return;
    }
    rc = parse_decimal(v, num, sizeof(num), &exp);
    if (rc == -2) {
        etl_row_reject(row, "invalid OBS_VALUE \"%.*s\" (longer than %d characters)",
                       parse_qlen(v, strlen(v)), v, ETL_VALUE_MAX - 1);
        return;
    }
    if (rc < 0) {
        if (has_mult) {
            etl_row_reject(row, "invalid OBS_VALUE \"%.*s\" for UNIT_MULT %ld "
                           "(expected a decimal number)", parse_qlen(v, strlen(v)),
                           v, mult);
        }
        return;     /* normalize judges it */
    }
    e.code = ETL_E_NONE;
    e.msg[0] = '\0';
    if (etl_num_shift(num, sizeof(num), (int)mult + exp, &e) < 0) {
        etl_row_reject(row, "%s", e.msg);
        return;
    }
    row->f[ETL_COL_VALUE] = parse_keep(ps, num, strlen(num));
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
                return etl_err_set(err, ETL_E_NOMEM, "out of memory");
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
            if (ps->sdmx > 0 && parse_sdmx_coded[c]) {
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

/* Each record from the tokenizer. */
static int
parse_record(void *arg, const struct etl_csv_record *rec, struct etl_err *err)
{
    struct parse *ps = arg;

    if (rec->bad == NULL && parse_blank(rec)) {
        return 0;
    }
    if (!ps->have_header) {
        return parse_header(ps, rec, err);
    }
    return parse_row(ps, rec, err);
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

static int
parse_begin(struct etl_stage *st, struct etl_err *err)
{
    (void)err;
    parse_reset(st->ctx);
    return 0;
}

static int
parse_process(struct etl_stage *st, struct etl_chunk *in, struct etl_err *err)
{
    struct parse *ps = st->ctx;

    if (in->type != NULL) {
        return etl_err_set(err, ETL_E_INTERNAL, "stage %s (%s) expects bytes, not %s",
                           st->name, st->kind->name, etl_chunk_type_name(in));
    }
    if (in->len > 0 && etl_decode_feed(ps->dec, in->bytes, in->len, err) < 0) {
        return parse_fail(ps, err);
    }
    return 0;
}

static int
parse_finish(struct etl_stage *st, struct etl_err *err)
{
    struct parse *ps = st->ctx;

    if (etl_decode_finish(ps->dec, err) < 0 || etl_csv_finish(ps->csv, err) < 0) {
        return parse_fail(ps, err);
    }
    if (!ps->have_header) {
        etl_err_set(err, ETL_E_DATA, "no header: the file is empty");
        etl_err_where(err, "line 1");
        return -1;
    }
    if (ps->batch->n > 0 && parse_flush(ps, err) < 0) {
        return -1;
    }
    return etl_stage_finish_next(st, err);
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
    etl_decode_free(ps->dec);
    etl_csv_free(ps->csv);
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
           (ps->csv != NULL ? etl_csv_footprint(ps->csv) : 0);
}

const struct etl_stage_kind etl_stage_parse_csv = {
    .name = "parse_csv",
    .consumes = ETL_FLOW_FILE,
    .produces = ETL_FLOW_ROWS,
    .keys = parse_keys,
    .summary = "decode (gzip/deflate, UTF-8/GB18030) and split CSV/TSV into rows",
    .configure = parse_configure,
    .begin = parse_begin,
    .process = parse_process,
    .finish = parse_finish,
    .abort = parse_abort,
    .destroy = parse_destroy,
};
