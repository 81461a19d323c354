/*
 * json.h
 *    A streaming reader of JSON record lists over UTF-8 text fed in chunks
 *    split anywhere.  It turns a JSON array of flat objects into what the
 *    CSV tokenizer (csv.h) produces: struct etl_csv_record chunks of type
 *    etl_chunk_record_type pushed to the next link, a header record first,
 *    so that everything after the tokenizer is shared.  The document is
 *    never held: yajl 2 parses it as a stream of events and one record is
 *    built at a time, in buffers reused from record to record.
 *
 *    Where the records are:
 *      - no records path (NULL or ""): the top level must be an array;
 *      - a path of dot-separated keys ("data.list"): the top level must be
 *        an object, each key but the last must hold an object and the last
 *        an array ({"code":0,"data":{"list":[...]}}); the first occurrence
 *        of a key is the one followed, anything else in the document is
 *        read (for syntax) and ignored.  A key holding a '.' cannot be
 *        named.
 *    Not finding the array is ETL_E_DATA: `no array at "data.list" in the
 *    JSON` with a detail saying what was there instead (the keys of the
 *    deepest object reached, or the type of the value found); a top-level
 *    object without a path is ETL_E_DATA "the JSON is an object, not an
 *    array of records", with its keys in the detail and the hint to set
 *    records: to the path of the array.
 *
 *    Records, for the elements of the array:
 *      - the FIRST object's keys, in their order, are the header: a header
 *        record (fields the key names, raw the names joined by '\t', line
 *        where that object starts) is pushed before that object's own
 *        record;
 *      - every object is one record whose fields follow the header columns,
 *        matched by key whatever their order in the object: a missing key
 *        or null is an empty field, true and false are "true" and "false",
 *        numbers are their text exactly as written ("342.30", "-0", "1e3"),
 *        strings are decoded (\uXXXX escapes to UTF-8);
 *      - 'line' is the physical line of the object's '{' (lines end at LF,
 *        from 1); 'raw' is the element written back as compact JSON (keys
 *        in the object's order, strings re-escaped, numbers as written),
 *        NUL-terminated;
 *      - an empty array makes no records at all (not even a header).
 *    A malformed element never fails the file: its record has 'bad' set,
 *    and the first reason wins:
 *      - "key \"X\" is not in the first record's keys" (its value is only in
 *        'raw': no data is dropped silently);
 *      - "key \"X\" holds an object, not a value" (or an array);
 *      - "key \"X\" appears twice in the object";
 *      - "key \"X\" holds a NUL character" (a \u0000 escape);
 *      - "array element is a number, not an object" (a string, true, false,
 *        null, an array): such a record has no fields; before the first
 *        object it comes before the header, which the caller then sees as
 *        an invalid header;
 *      - "record longer than N bytes": 'raw' is cut at N bytes (on a
 *        character boundary) and the values past the cut are dropped;
 *      - "more than 4096 keys" (in the first object; the header keeps the
 *        first 4096).
 *
 *    Failures of the file (ETL_E_DATA, 'where' "line L, column C" or
 *    "line L"):
 *      - "invalid JSON: <yajl's message>" for a syntax error (trailing
 *        text after the top-level value, several top-level values, an empty
 *        text: "premature EOF");
 *      - "JSON value longer than N bytes" when more than max_record bytes
 *        pass between two parser events (one huge string, say): yajl would
 *        have to hold it whole, so the limit bounds its memory too;
 *      - "JSON nested deeper than ETL_JSON_MAX_DEPTH levels".
 *    A UTF-8 BOM at the start of the text is skipped (decode.c strips it
 *    already); a lone CR is not a line end.
 *
 *    Memory: the record, field and header buffers grow to the largest
 *    record (bounded by max_record) and yajl's lexer buffer and state stack
 *    to the longest token and the deepest nesting (both bounded); nothing
 *    grows with the number of records.  The reader is a link, as the CSV
 *    tokenizer: etl_json_link().
 */
#ifndef ETL_JSON_H
#define ETL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include "csv.h"
#include "err.h"
#include "stage.h"

/* Deepest nesting of arrays and objects: yajl keeps a byte per level. */
#define ETL_JSON_MAX_DEPTH 1024

struct etl_json;

/*
 * A reader for records at 'records_path' (NULL or "": the top level is the
 * array; else dot-separated keys down to it, "data.list") of at most
 * 'max_record' bytes (0 for ETL_CSV_MAX_RECORD), pushing records to link
 * 'next' (an error it returns stops the reader and is returned by the
 * running etl_json_feed() or etl_json_finish()).  The path is copied.
 * Returns NULL with ETL_E_CONFIG for a path with an empty key ("data..list",
 * ".x"), or ETL_E_NOMEM.
 */
struct etl_json *etl_json_new(const char *records_path, size_t max_record,
                              struct etl_stage *next, struct etl_err *err) ETL_MUSTCHECK;

/* Free the reader; NULL is accepted. */
void etl_json_free(struct etl_json *j);

/*
 * Forget the current file (also after an error) and get ready for a new
 * one; keeps the buffers (yajl's parser is made anew at the next feed).
 */
void etl_json_reset(struct etl_json *j);

/*
 * Parse the next 'n' bytes of UTF-8 text.  Complete records go to the next
 * link before this returns.  Cost: yajl's pass over the bytes, plus a copy
 * of each record's values and raw text.  Returns 0, or -1 with 'err' set
 * (ETL_E_DATA for the document, the next link's error, ETL_E_NOMEM); after
 * an error only etl_json_reset() or etl_json_free() may follow.
 */
int etl_json_feed(struct etl_json *j, const char *p, size_t n,
                  struct etl_err *err) ETL_MUSTCHECK;

/*
 * End of the text: checks that the document is complete and that the
 * records array was found.  0 or -1 as etl_json_feed().  The next link is
 * not finished (the link's finish() does that).
 */
int etl_json_finish(struct etl_json *j, struct etl_err *err) ETL_MUSTCHECK;

/*
 * True when the text looks like JSON: its first byte that is not JSON
 * white space, after an optional UTF-8 BOM, is '[' or '{'.  For format
 * detection on the first bytes of a file.
 */
bool etl_json_magic(const char *p, size_t n);

/* Heap bytes held by the reader, yajl's included (for tests). */
size_t etl_json_footprint(const struct etl_json *j);

/*
 * The reader as a link of a chain: its process() takes byte chunks
 * (etl_json_feed; any other chunk type is ETL_E_INTERNAL), its finish() is
 * etl_json_finish() then etl_stage_finish_next().  The link belongs to the
 * reader (name "json", ctx the reader, next as given to etl_json_new()).
 */
struct etl_stage *etl_json_link(struct etl_json *j);
extern const struct etl_stage_kind etl_json_link_kind;

#endif
