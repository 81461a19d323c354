/*
 * xlsx.h
 *    An Office Open XML workbook (.xlsx, .xlsm) reader: one sheet of it
 *    becomes the records the CSV tokenizer would make of the same table
 *    (struct etl_csv_record chunks of etl_chunk_record_type, csv.h), pushed
 *    to a next link.  No domain knowledge: cells are text.
 *
 *    The archive is read with minizip; each XML member is inflated in blocks
 *    and fed to expat, a SAX parser, so that no member is ever held whole:
 *      - xl/workbook.xml: the sheets' names and relationship ids, in order;
 *      - xl/_rels/workbook.xml.rels: each sheet's member, and the shared
 *        strings' (xl/sharedStrings.xml when not named there);
 *      - the shared strings: each <si> is one string, its <t> texts and
 *        rich-text runs (<r><t>) concatenated, phonetic runs (<rPh>) left
 *        out;
 *      - the sheet, twice: a first pass collects the merged ranges
 *        (<mergeCell ref="A1:C1"/>, which come after the cells), the second
 *        makes one record per <row>.
 *
 *    A record (see cell.h): 'line' is the row number (the r attribute of
 *    <row>, or one more than the previous row's); field i is column i from
 *    A, missing cells empty, up to the row's last non-empty cell; 'raw' is
 *    the fields joined by '\t'.  A row without any text is not pushed (as
 *    Excel's empty rows, which the file leaves out), unless it is bad.
 *    A cell's text:
 *      - shared string (t="s"), inline string (t="inlineStr", <is>), formula
 *        string (t="str"), ISO date (t="d"): its text, with the _xHHHH_
 *        escapes of OOXML decoded (_x000D_ is a CR); XML entities and line
 *        ends are expat's (CRLF is LF; &#13; is CR);
 *      - number (no t, or t="n"): rounded to 15 significant digits, plain
 *        decimal (etl_cell_number_format(), cell.h): 342.30000000000001 is
 *        "342.3"; a date is its serial number (styles are not read);
 *      - boolean (t="b"): "TRUE" or "FALSE";
 *      - a formula's cached value (<v>) is the value; the formula is not
 *        evaluated;
 *      - a cell of a merged range other than its top-left one reads as the
 *        top-left cell, when it is empty itself (a merged header "2021年"
 *        over B1:C1 is in B and C).  Rows that exist only inside a merged
 *        range (no <row> in the file) are not made up.
 *    A cell without an r attribute follows the previous cell of its row.
 *
 *    Bad records ('bad' set, the row is still pushed; the first reason
 *    wins):
 *      - "cell C12 holds the error #N/A" (t="e"; the text is the error);
 *      - "cell B3 holds the shared string index 12, beyond the table's 10
 *        strings" (also for an index that is not a number; empty text);
 *      - "cell B3 holds the invalid number \"x\"", "... the invalid boolean
 *        \"x\"" (the text is kept);
 *      - "cell B3 has the unknown type \"q\"" (the text is kept);
 *      - "invalid cell reference \"3B\" in row 3" and column beyond XFD (the
 *        cell is dropped);
 *      - "record longer than N bytes" (as csv.c: raw cut at N bytes).
 *
 *    Errors that fail the read (ETL_E_DATA unless said): the file cannot be
 *    opened (ETL_E_IO), is not a zip archive or is truncated, a member is
 *    missing (xl/workbook.xml, the sheet's), does not inflate or fails its
 *    CRC, XML that is not well-formed (the message is expat's, 'where' is
 *    "member:line:column", e.g. "xl/worksheets/sheet1.xml:12:40"), the
 *    sheet asked for does not exist ("no sheet \"X\" in the workbook
 *    (sheets: 汇总, 分省)") or is a chart sheet, the shared strings pass
 *    ETL_XLSX_MAX_SHARED_BYTES, the merged ranges ETL_XLSX_MAX_MERGES.  An
 *    error of the next link stops the read and is returned as it is.
 *
 *    Memory does not grow with the number of rows: the read block, the
 *    expat parser's buffer, one row (up to the record limit) and one cell.
 *    What does grow with the file: the shared strings table, held whole
 *    for the whole read since any row may use any string (inherent to the
 *    format: about the size of xl/sharedStrings.xml's text), and the merged
 *    ranges (24 bytes each, plus the top-left texts of the ranges that
 *    cover the current row).  The sheet is inflated twice (merged ranges
 *    pass, rows pass).
 *
 *    Next door: cell.c (the row builder, numbers), xls.c (the BIFF reader),
 *    csv.h (the record), stages/parse*.c (the callers).
 */
#ifndef ETL_XLSX_H
#define ETL_XLSX_H

#include <stdbool.h>
#include <stddef.h>
#include "err.h"
#include "stage.h"

/* Largest shared strings table (text bytes): far above any sane workbook,
 * well below what would swap a small server. */
#define ETL_XLSX_MAX_SHARED_BYTES (512u * 1024 * 1024)
/* Most merged ranges in a sheet (24 MiB of ranges); Excel tables for people
 * merge headers and label columns, hundreds at most. */
#define ETL_XLSX_MAX_MERGES (1024u * 1024)
/* Inflated bytes fed to expat at a time. */
#define ETL_XLSX_BLOCK (64 * 1024)

struct etl_xlsx;

/*
 * A reader pushing records to link 'next' (its process() is called for each
 * record; it is never finished here).  NULL with ETL_E_NOMEM.  Buffers are
 * kept from read to read.
 */
struct etl_xlsx *etl_xlsx_new(struct etl_stage *next, struct etl_err *err) ETL_MUSTCHECK;

/* Free the reader; NULL is accepted. */
void etl_xlsx_free(struct etl_xlsx *x);

/*
 * Read sheet 'sheet' of the workbook at 'path' and push a record for each
 * row.  'sheet' is NULL for the first sheet, a sheet's name (exact), or its
 * 1-based position in the workbook as decimal text ("2"); a name wins over
 * a position.  'max_record' is the longest raw text of a record (0 for
 * ETL_CSV_MAX_RECORD).  Returns 0, or -1 with 'err' set (see the file
 * comment); records pushed before an error stay pushed.  Does not finish
 * the next link.
 */
int etl_xlsx_read(struct etl_xlsx *x, const char *path, const char *sheet,
                  size_t max_record, struct etl_err *err) ETL_MUSTCHECK;

/* Whether the 'n' bytes at 'p' start as a zip archive ("PK\3\4"). */
bool etl_xlsx_magic(const char *p, size_t n);

/*
 * Heap bytes the reader holds between reads, shared strings and merged
 * ranges included (the tests show it does not grow with the rows).
 */
size_t etl_xlsx_footprint(const struct etl_xlsx *x);

#endif
