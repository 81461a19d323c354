/*
 * parse.h
 *    Inside the parse_csv stage (not for other stages): its configured
 *    state and the functions its files share.  The stage is a chain of
 *    links, each a struct etl_stage that pushes chunks to the next:
 *
 *      bytes -> decode (etl/decode.c: inflate, BOM, UTF-8/GB18030)
 *            -> text (parse_read.c: chooses the text reader)
 *            -> csv (etl/csv.c) or json (etl/json.c): records of fields
 *            -> rows (parse_rows.c: the table found and its header mapped
 *               (parse_shape.c), records into row batches; SDMX-CSV
 *               headers and rows in parse_sdmx.c)
 *            -> the stage's next stage (normalize)
 *
 *    A workbook (.xlsx, .xls) skips decode and text: its reader opens the
 *    spool file at the end of the file and pushes records to rows.
 *    parse.c reads the YAML keys, builds the chain and is the stage kind;
 *    its process() and finish() go to parse_read.c, the head of the chain.
 */
#ifndef STAGES_PARSE_H
#define STAGES_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "etl/csv.h"
#include "etl/json.h"
#include "etl/xls.h"
#include "etl/xlsx.h"
#include "etl/decode.h"
#include "etl/ewc/row.h"
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

/* Records looked at for a header before the file is given up on. */
#define PARSE_HEADER_SCAN 40
/* Bytes of preamble lines and footnotes kept as a file's notes. */
#define PARSE_NOTES_MAX 4096

enum parse_layout {
    PARSE_LAYOUT_AUTO = 0,          /* long, or wide when the header says so */
    PARSE_LAYOUT_LONG,              /* one observation per record */
    PARSE_LAYOUT_WIDE               /* one observation per value cell */
};

/*
 * A value column of a wide table: its header is a period ("2021年"), an
 * indicator ("新增引导企业(家)") or, declared wide, any other name.
 */
struct parse_wide {
    size_t field;                   /* index of the column in a record */
    const char *header;             /* the header as written (file text) */
    const char *indicator;          /* the header as the indicator, or NULL */
    const char *period;             /* the header as the period, or NULL */
    const char *unit;               /* the unit in the header's brackets, or NULL */
};

/* What a table says once for all of its rows: YAML keys and preamble. */
struct parse_given {
    const char *f[ETL_NCOLS];       /* region, period, indicator constants, or NULL */
    const char *from[ETL_NCOLS];    /* where each came from: "the YAML", "the title" */
    const char *unit;               /* default unit(s): "万元" or "亿元、个", or NULL */
    const char *unit_from;          /* "the unit line", "the YAML" */
};

enum parse_format {
    PARSE_FORMAT_AUTO = 0,          /* from the bytes (parse_read.c) */
    PARSE_FORMAT_CSV,
    PARSE_FORMAT_SDMX,
    PARSE_FORMAT_JSON,
    PARSE_FORMAT_XLSX,
    PARSE_FORMAT_XLS
};

/* Blank text held before the first byte that tells the format. */
#define PARSE_HELD_MAX 4096

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

    const char *records;            /* JSON: the path of the records' array, or NULL */
    const char *sheet;              /* workbooks: a sheet's name or number, or NULL */

    /* the chain: dec -> text -> csv or json -> rows -> st->next */
    struct etl_decode *dec;
    struct etl_stage text;          /* chooses the text reader (parse_read.c) */
    struct etl_csv *csv;
    struct etl_json *json;
    struct etl_xlsx *xlsx;          /* workbooks: read from the spool file by path */
    struct etl_xls *xls;
    struct etl_stage *reader;       /* per file: the text reader chosen, or NULL */
    enum parse_format book;         /* per file: XLSX or XLS when a workbook, else 0 */
    bool started;                   /* per file: its first bytes were seen */
    char held[PARSE_HELD_MAX];      /* per file: blank text before the choice */
    size_t held_len;
    struct etl_stage rows;          /* the row builder link (parse_rows.c) */
    struct etl_batch *batch;
    char *arena;                    /* field and raw texts of the batch */
    size_t arena_len, arena_cap;

    /* the table's shape (parse_shape.c): YAML, then per file */
    enum parse_layout layout_cfg;   /* the YAML's "layout" */
    struct parse_given cfg;         /* the YAML's region/period/indicator/unit */
    char **ignore;                  /* header names never read (folded, owned) */
    size_t nignore;
    const char *total_region;       /* what a 合计 row is about: the YAML's, or NULL */

    /* per file */
    enum parse_layout layout;       /* LONG or WIDE once the header is found */
    struct parse_given given;       /* cfg, then what the preamble added */
    const char *hunit[ETL_NCOLS];   /* a unit in a mapped column's header brackets */
    const char *hname[ETL_NCOLS];   /* that header, as written */
    struct parse_wide *wide;        /* the value columns of a wide table */
    size_t nwide, wide_cap;
    char *ftext;                    /* the file's header and preamble texts */
    size_t ftext_len, ftext_cap;
    size_t scanned;                 /* records looked at for the header */
    size_t best_hits;               /* columns the best header candidate named */
    struct etl_err best;            /* why the best candidate is no header */
    bool have_best;
    const char *raw_kept;           /* the record's raw text in the arena, or NULL */
    unsigned long raw_seq;          /* the record it was kept for */
    unsigned long rec_seq;          /* records seen */
    char notes[PARSE_NOTES_MAX];    /* preamble and footnote lines, one per line */
    size_t notes_len;
    size_t notes_dropped;           /* lines that did not fit */
    bool have_header;
    int sdmx;                       /* SDMX-CSV version: 10, 20; 0 = CSV */
    int map[PARSE_NMAP];            /* field index of each column, -1 */
    size_t nheader;                 /* fields in the header */
    bool downstream;                /* the error came from a later stage */
};

/* The columns every file must have, CSV or SDMX-CSV. */
#define PARSE_NREQUIRED 4
extern const enum etl_col parse_required[PARSE_NREQUIRED];

/* The row builder link's kind: records in, row batches out (parse_rows.c). */
extern const struct etl_stage_kind parse_rows_kind;

/* parse_shape.c: the header among the first records, preamble and footnotes */
int parse_shape_record(struct parse *ps, const struct etl_csv_record *rec,
                       struct etl_err *err);
int parse_shape_end(struct parse *ps, struct etl_err *err);
bool parse_shape_footnote(struct parse *ps, const struct etl_csv_record *rec);
void parse_shape_reset(struct parse *ps);
void parse_shape_free(struct parse *ps);
int parse_shape_configure(struct parse *ps, const struct etl_node *node, struct etl_err *err);
/* parse_label.c: labels that are not names; a header's bracketed unit */
bool parse_label_total(const char *p, size_t n);
size_t parse_label_of_which(const char *p, size_t n);
bool parse_label_footnote(const struct etl_csv_record *rec);
/* "数值（万元）" -> name length of "数值", unit "万元"; *unit NULL if none */
void parse_label_bracket(const char *p, size_t n, size_t *name_len, const char **unit,
                         size_t *unit_len);
/* the header of a canonical-column record: 0, 1 not one, -1 a file error */
int parse_header_map(struct parse *ps, const struct etl_csv_record *rec, size_t *hits,
                     struct etl_err *err);

/* parse_read.c: the readers and the link that chooses one per file */
int parse_read_new(struct parse *ps, struct etl_err *err);
void parse_read_reset(struct parse *ps);
void parse_read_free(struct parse *ps);
int parse_read_bytes(struct parse *ps, const struct etl_chunk *in, struct etl_err *err);
int parse_read_finish(struct parse *ps, struct etl_verdict *v, struct etl_err *err);

/* parse.c: text helpers */
void parse_trim(const char **p, size_t *n);
long parse_fold(const char *s, size_t n, char *out);

/* parse_rows.c: copy [p, +n) into the batch's arena (room was made). */
const char *parse_keep(struct parse *ps, const char *p, size_t n);

/* parse_sdmx.c */
size_t parse_label_cut(const char *p, size_t n);
bool parse_sdmx_coded(int col);
int parse_sdmx_version(const struct parse *ps, const struct etl_csv_record *rec,
                       size_t *merged, struct etl_err *err);
int parse_sdmx_header(struct parse *ps, const struct etl_csv_record *rec,
                      size_t merged, struct etl_err *err);
void parse_sdmx_row(struct parse *ps, const struct etl_csv_record *rec, struct etl_row *row);

#endif
