/*
 * parse.h
 *    Inside the parse_csv stage (not for other stages): its configured
 *    state and the functions its three files share.  The stage is a chain
 *    of links, each a struct etl_stage that pushes chunks to the next:
 *
 *      bytes -> decode (etl/decode.c: inflate, BOM, UTF-8/GB18030)
 *            -> csv (etl/csv.c: records of fields)
 *            -> rows (parse_rows.c: the header mapped to the canonical
 *               columns, records into row batches; SDMX-CSV headers and
 *               rows in parse_sdmx.c)
 *            -> the stage's next stage (normalize)
 *
 *    parse.c reads the YAML keys, builds the chain and is the stage kind;
 *    its process() and finish() go to the head of the chain.
 */
#ifndef STAGES_PARSE_H
#define STAGES_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "etl/csv.h"
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

    /* the chain: dec -> csv -> rows -> st->next */
    struct etl_decode *dec;
    struct etl_csv *csv;
    struct etl_stage rows;          /* the row builder link (parse_rows.c) */
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

/* The columns every file must have, CSV or SDMX-CSV. */
#define PARSE_NREQUIRED 4
extern const enum etl_col parse_required[PARSE_NREQUIRED];

/* The row builder link's kind: records in, row batches out (parse_rows.c). */
extern const struct etl_stage_kind parse_rows_kind;

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
