/*
 * csv.h
 *    A streaming RFC 4180 tokenizer over UTF-8 text fed in chunks split
 *    anywhere.  Each record is pushed to the next link of its chain, as a
 *    chunk of type etl_chunk_record_type, with its fields, the physical line
 *    where it starts and its raw text.  Nothing is allocated per record: the
 *    field and raw buffers are reused, so the pointers in a record die when
 *    the next link's process() returns.
 *
 *    The dialect:
 *      - fields are separated by the delimiter (',' '\t' or ';', given or
 *        sniffed); records end at LF, CRLF or a lone CR outside quotes;
 *      - a field that starts with '"' (after optional spaces, dropped) is
 *        quoted: it may hold delimiters, line ends and doubled quotes ("")
 *        and ends at a lone quote, after which only spaces may come before
 *        the delimiter or the line end;
 *      - line numbers count every line end, those inside quoted fields too
 *        (CRLF is one line end), from 1;
 *      - a blank line is a record of one empty field: the caller decides
 *        (stages/parse.c skips records whose fields are all blank);
 *      - no record is made of the nothing after a final line end.
 *
 *    A record is not a physical line: a quoted field may hold line ends, so
 *    one record may span several lines (and an unbalanced quote swallows
 *    every line after it into one).  What the loader counts as rows_in is
 *    records, never physical lines; a record's 'line' is where it starts.
 *
 *    Malformed input never fails the file here: the record is reported with
 *    'bad' set to the reason, and tokenizing goes on, so that the caller can
 *    reject that one row:
 *      - "stray quote in unquoted field at line L, column C" (the quote is
 *        kept as text);
 *      - "unexpected character after closing quote at line L, column C"
 *        (the rest of the field is read as unquoted text);
 *      - "unterminated quoted field starting at line L" (at end of input:
 *        the record is everything from its start to the end); when that
 *        swallowed lines, "... starting at line L runs to the end of the
 *        file, N lines" (N physical lines, from L to the last with text;
 *        "; the record starts at line R, M lines" added when an earlier
 *        field of the record began on an earlier line);
 *      - "record longer than N bytes" (the raw text is cut to N bytes at a
 *        character boundary, fields after the cut are dropped; the record
 *        still ends at the next line end outside quotes, so one unbalanced
 *        quote can swallow the rest of the file into this one record); when
 *        it spans several physical lines, "record longer than N bytes
 *        starting at line L runs to line E, K lines", or, ended by the end
 *        of the text inside quotes, "... runs to the end of the file, K
 *        lines, in an unterminated quoted field starting at line Q";
 *      - "more than 4096 fields" (fields past the limit are dropped).
 *    Columns count characters, from 1.  The first reason found wins.
 *
 *    Delimiter sniffing (delimiter 0): the first ETL_CSV_SNIFF_BYTES of the
 *    text (or all of it, if shorter) are held; over its first
 *    ETL_CSV_SNIFF_RECORDS non-blank records, counting delimiters outside
 *    quotes, the first of ',' '\t' ';' that gives every record the same
 *    field count, greater than one, wins; if none does, the one that splits
 *    the first record into the most fields (ties in the same order); if no
 *    candidate splits anything, ','.  But an SDMX-CSV header names its
 *    delimiter: when the first non-blank line starts with DATAFLOW (1.0),
 *    STRUCTURE or STRUCTURE[...] (2.0), any case, the byte right after that
 *    term is the delimiter if it is one of ',' '\t' ';' (so "STRUCTURE[;],"
 *    is comma-separated).
 *
 *    The tokenizer is a link: a struct etl_stage (etl_csv_link()) whose
 *    process() takes byte chunks of text and whose finish() finishes it and
 *    then the next link.  In stages/parse.c decode.c's link feeds it and the
 *    row builder follows it.
 */
#ifndef ETL_CSV_H
#define ETL_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include "err.h"
#include "stage.h"

/* Default longest record (raw text, bytes): a sane row is far shorter. */
#define ETL_CSV_MAX_RECORD (1024 * 1024)
/* Most fields in a record; bounds the field index (32 KiB of pointers). */
#define ETL_CSV_MAX_FIELDS 4096
/* Text held to sniff the delimiter, and records looked at. */
#define ETL_CSV_SNIFF_BYTES (64 * 1024)
#define ETL_CSV_SNIFF_RECORDS 20

struct etl_csv_record {
    unsigned long line;         /* physical line of its first byte, from 1 */
    const char *raw;            /* its text without the final line end, NUL-terminated */
    size_t raw_len;
    const char *const *fields;  /* 'nfields' NUL-terminated texts */
    const size_t *lens;         /* their lengths in bytes */
    size_t nfields;
    const char *bad;            /* NULL, or why the record is malformed */
};

/*
 * The chunk type of records: 'data' is a const struct etl_csv_record, 'len'
 * its field count.  Everything it points to dies when process() returns.
 */
extern const struct etl_chunk_type etl_chunk_record_type;

struct etl_csv;

/*
 * A tokenizer for 'delim' (',' '\t' ';' or any single byte other than '"',
 * CR and LF; 0 to sniff) and records of at most 'max_record' bytes (0 for
 * ETL_CSV_MAX_RECORD), pushing records to link 'next' (an error it returns
 * stops the tokenizer and is returned by the running etl_csv_feed() or
 * etl_csv_finish()).  Returns NULL with
 * ETL_E_NOMEM, or ETL_E_INTERNAL for an impossible delimiter.  Buffers grow
 * on demand up to the record limit and are kept from file to file.
 */
struct etl_csv *etl_csv_new(char delim, size_t max_record, struct etl_stage *next,
                            struct etl_err *err) ETL_MUSTCHECK;

/* Free the tokenizer; NULL is accepted. */
void etl_csv_free(struct etl_csv *c);

/* Forget the current file (also after an error); keeps the buffers. */
void etl_csv_reset(struct etl_csv *c);

/*
 * Tokenize the next 'n' bytes of UTF-8 text.  Complete records go to the
 * next link before this returns (but while the delimiter is being sniffed).
 * Cost: one pass over the bytes, runs of ordinary bytes copied with memcpy.
 * Returns 0, or -1 with 'err' set (the next link's error, ETL_E_NOMEM).
 */
int etl_csv_feed(struct etl_csv *c, const char *p, size_t n,
                 struct etl_err *err) ETL_MUSTCHECK;

/*
 * End of the text: the last record, if any, goes to the next link.  0 or
 * -1.  The next link is not finished (the link's finish() does that).
 */
int etl_csv_finish(struct etl_csv *c, struct etl_err *err) ETL_MUSTCHECK;

/* The delimiter in use; 0 while still sniffing. */
char etl_csv_delimiter(const struct etl_csv *c);

/* The physical line of the next byte to come (for error locations). */
unsigned long etl_csv_line(const struct etl_csv *c);

/* Heap bytes held by the tokenizer (for tests). */
size_t etl_csv_footprint(const struct etl_csv *c);

/*
 * The tokenizer as a link of a chain: its process() takes byte chunks
 * (etl_csv_feed; any other chunk type is ETL_E_INTERNAL), its finish() is
 * etl_csv_finish() then etl_stage_finish_next().  The link belongs to the
 * tokenizer (name "csv", ctx the tokenizer, next as given to etl_csv_new()).
 */
struct etl_stage *etl_csv_link(struct etl_csv *c);
extern const struct etl_stage_kind etl_csv_link_kind;

/*
 * Heap bytes held by a configured parse_csv stage (stages/parse.c): its
 * decoder, tokenizer, batch and text arena.  For the tests that show memory
 * does not grow with the size of a file.
 */
size_t etl_stage_parse_csv_footprint(const struct etl_stage *st);

#endif
