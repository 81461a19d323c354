/*
 * cell.h
 *    What the spreadsheet readers (xlsx.c, xls.c) share: the text of a
 *    numeric cell, and the row builder that turns the cells of one sheet row
 *    into the record the CSV tokenizer would make of it (struct
 *    etl_csv_record, etl_chunk_record_type, see csv.h), so that the stages
 *    after the parse stage cannot tell a workbook from a CSV file.
 *
 *    A row's record:
 *      - field i is column i, from column A: a missing cell is an empty
 *        field; the fields end at the last non-empty cell;
 *      - 'raw' is the fields joined by '\t', 'line' the sheet's row number;
 *      - 'bad' is the first reason given with etl_cell_row_bad(), or
 *        "record longer than N bytes" when the raw text passes the limit
 *        (the raw text is then cut to N bytes at a character boundary and
 *        the fields that end past the cut are dropped, as csv.c does);
 *      - a row without any text (pushed only when bad) is one empty field,
 *        as csv.c's blank line.
 *    Nothing is allocated per row: the buffers are reset, not freed, and
 *    grow up to the record limit and ETL_CELL_MAX_COLS columns.
 */
#ifndef ETL_CELL_H
#define ETL_CELL_H

#include <stdbool.h>
#include <stddef.h>
#include "buf.h"
#include "err.h"
#include "stage.h"

/* Columns of a sheet: A to XFD, Excel's limit since 2007. */
#define ETL_CELL_MAX_COLS 16384
/* Room etl_cell_number_format() needs for any finite double (1e308 is
 * 309 digits, a minus sign and a NUL). */
#define ETL_CELL_NUMBER_SIZE 320

/*
 * The text of a numeric cell as a person reads it in Excel: rounded to 15
 * significant digits (Excel stores 342.3 as 342.30000000000001 and shows
 * "342.3"), written as a plain decimal without exponent and without
 * trailing zeros: "342.3", "2193", "0.000123", "1005400000000", "-5", "0"
 * (also for -0), 123456789012345678 as "123456789012346000".  Writes into
 * 'buf' of 'size' bytes (ETL_CELL_NUMBER_SIZE is always enough).  Returns
 * the length, or -1 (buf "" when size > 0) for an infinity or a NaN or a
 * buffer too small.
 */
int etl_cell_number_format(double v, char *buf, size_t size);

/* The letters of 0-based column 'col' ("A", "AB", "XFD") into buf[4]. */
void etl_cell_column_name(unsigned col, char buf[4]);

/* One row of a sheet being built; see the file comment. */
struct etl_cell_row {
    size_t max;                 /* longest raw text, bytes */
    unsigned long line;         /* the row number */
    struct etl_buf text;        /* the cells' texts, each NUL-terminated */
    size_t text_sum;            /* bytes of cell text, NULs not counted */
    size_t *off, *len;          /* per column: offset in 'text', length */
    const char **ptr;           /* per column: pointer, made at push */
    size_t cap;                 /* columns the arrays hold */
    size_t ncols;               /* columns touched in this row */
    long cut_col;               /* the column whose text was cut, or -1 */
    struct etl_buf raw;
    bool toolong;
    bool is_bad;
    char bad[160];
};

/* Start empty, for records of at most 'max' bytes (no allocation yet). */
void etl_cell_row_init(struct etl_cell_row *r, size_t max);

/* Free the buffers; the row may be initialised again. */
void etl_cell_row_free(struct etl_cell_row *r);

/* Start row 'line': forget the previous row's cells, keep the storage. */
void etl_cell_row_begin(struct etl_cell_row *r, unsigned long line);

/*
 * Set 0-based column 'col' (< ETL_CELL_MAX_COLS) to the 'n' bytes at 'p'
 * (copied).  A column set twice keeps the last text.  Text past the record
 * limit is cut (at a character boundary; later cells are dropped) and the
 * row marked too long.  0, or -1 with ETL_E_NOMEM.
 */
int etl_cell_row_set(struct etl_cell_row *r, unsigned col, const char *p, size_t n,
                     struct etl_err *err) ETL_MUSTCHECK;

/* The text of column 'col' of this row ("" if unset); *n its length. */
const char *etl_cell_row_get(const struct etl_cell_row *r, unsigned col, size_t *n);

/* Mark the row bad; the first reason wins. */
void etl_cell_row_bad(struct etl_cell_row *r, const char *fmt, ...) ETL_PRINTF(2, 3);

/* True when no cell of the row holds text (so far). */
bool etl_cell_row_empty(const struct etl_cell_row *r);

/*
 * Push the row as an etl_chunk_record_type chunk to 'next' (its process(),
 * if any).  Returns what it returns (0, or -1 with 'err' set), or -1 with
 * ETL_E_NOMEM.
 */
int etl_cell_row_push(struct etl_cell_row *r, struct etl_stage *next,
                      struct etl_err *err) ETL_MUSTCHECK;

/* Heap bytes the row holds (for the tests that show memory stays flat). */
size_t etl_cell_row_footprint(const struct etl_cell_row *r);

#endif
