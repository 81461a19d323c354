/*
 * xls.h
 *    A BIFF workbook (.xls, Excel 97-2003; BIFF5 too) reader, the same shape
 *    as xlsx.h: one sheet becomes records (struct etl_csv_record chunks of
 *    etl_chunk_record_type, csv.h) pushed to a next link, one per row that
 *    holds some text.  Built on libfreexl.
 *
 *    A record (see cell.h): 'line' is the row number from 1; field i is
 *    column i from A, empty cells empty, up to the last non-empty cell;
 *    'raw' the fields joined by '\t'.  A cell's text:
 *      - text: as freexl gives it (UTF-8, converted from the workbook's
 *        code page or UTF-16);
 *      - integer: decimal;
 *      - floating point: rounded to 15 significant digits, plain decimal
 *        (etl_cell_number_format(), cell.h, as xlsx.c);
 *      - date, date-time, time (a number with a date format): freexl's text,
 *        "2021-06-30", "2021-06-30 12:00:00", "12:00:00".
 *    freexl reads booleans and error values (BOOLERR records) as integers
 *    0/1 or not at all, does not report merged ranges (a merged header is
 *    in its top-left cell only) and gives formulas' cached values.  Rows
 *    without any text are not pushed.  Bad records: "record longer than N
 *    bytes" (as csv.c) and "cell B3 could not be read: ..." (freexl's
 *    error; the cell is empty).
 *
 *    Errors that fail the read: the file cannot be opened (ETL_E_IO); it is
 *    not a readable BIFF workbook, or is password-protected (ETL_E_DATA,
 *    with freexl's reason); the sheet asked for does not exist ("no sheet
 *    \"X\" in the workbook (sheets: 汇总, 分省)", ETL_E_DATA).  An error of
 *    the next link stops the read and is returned as it is.
 *
 *    Memory: freexl_open() loads every cell of every sheet of the workbook
 *    into memory (a limitation of the library: it has no streaming
 *    interface), about 24 bytes a cell plus the shared strings.  A BIFF8
 *    sheet has at most 65536 rows and 256 columns, which bounds it.  The
 *    reader's own buffers hold one row.
 *
 *    freexl 1.0.6 (Debian 12) is not hardened against damaged files: with
 *    random bytes changed in a valid workbook, AddressSanitizer saw it leak
 *    a few hundred bytes inside freexl_open() (freexl_close() returns OK)
 *    and, once, read past a stack buffer in its iconv conversion.  So it
 *    runs in a child process (fork): the child reads the workbook and sends
 *    each record through a pipe; a child that dies or is killed fails the
 *    file ("the .xls reader died reading the workbook"), and what it leaks
 *    or overwrites is its own.  Costs a fork per file and a copy per
 *    record.
 *
 *    Next door: xlsx.c (the OOXML reader), cell.c (row builder, numbers).
 */
#ifndef ETL_XLS_H
#define ETL_XLS_H

#include <stdbool.h>
#include <stddef.h>
#include "err.h"
#include "stage.h"

struct etl_xls;

/*
 * A reader pushing records to link 'next' (never finished here).  NULL
 * with ETL_E_NOMEM.
 */
struct etl_xls *etl_xls_new(struct etl_stage *next, struct etl_err *err) ETL_MUSTCHECK;

/* Free the reader; NULL is accepted. */
void etl_xls_free(struct etl_xls *x);

/*
 * Read sheet 'sheet' of the workbook at 'path' and push a record for each
 * row with text.  'sheet' is NULL for the first sheet, a sheet's name
 * (exact), or its 1-based position as decimal text ("2"); a name wins over
 * a position.  'max_record' is the longest raw text of a record (0 for
 * ETL_CSV_MAX_RECORD).  0, or -1 with 'err' set (see the file comment);
 * records pushed before an error stay pushed.  Does not finish the next
 * link.
 */
int etl_xls_read(struct etl_xls *x, const char *path, const char *sheet,
                 size_t max_record, struct etl_err *err) ETL_MUSTCHECK;

/* Whether the 'n' bytes at 'p' start as an OLE2 compound file
 * (D0 CF 11 E0 A1 B1 1A E1), the container of .xls workbooks. */
bool etl_xls_magic(const char *p, size_t n);

#endif
