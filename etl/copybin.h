/*
 * copybin.h
 *    PostgreSQL's binary COPY format (COPY ... FROM STDIN (FORMAT binary)),
 *    written into an etl_buf: the header, one tuple after the other (a
 *    field count, then each field as an int32 length and the bytes of the
 *    type's send function: int2send, int4send, int8send, boolsend,
 *    textsend, date_send, numeric_send), and the trailer.  All integers
 *    are in network byte order.
 *
 *    Numerics come from exact decimal text, as the project writes values
 *    ("9263000", "-0.5", "123.4500"): the digits after the point become
 *    the display scale, so the server prints the value back exactly as
 *    written, as text COPY would.  Anything else is refused, never
 *    rounded.
 *
 *    Each function appends one whole piece or nothing: on error the
 *    buffer is as before, so the caller may drop the row it was writing.
 *    No allocation besides the buffer's growth.
 *
 *    Next door: pg.c (COPY text fields, etl_pg_copy_put sends the buffer),
 *    date.h (the day numbers and yyyymmdd integers taken here).
 */
#ifndef ETL_COPYBIN_H
#define ETL_COPYBIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

/*
 * Longest numeric text accepted, in bytes.  The values are at most 63
 * characters (ETL_VALUE_MAX); a longer text is a bug upstream, and the
 * limit keeps the encoding on the stack (PostgreSQL itself takes up to
 * 131072 digits before the point and 16383 after).
 */
#define ETL_COPYBIN_NUMERIC_MAX 1000

/* The most fields a tuple may have: a table's column limit (PostgreSQL's
 * MaxHeapAttributeNumber). */
#define ETL_COPYBIN_FIELDS_MAX 1600

/*
 * The 19-byte file header: the signature "PGCOPY\n\377\r\n\0", the flags
 * (0: no OIDs) and the header extension length (0).  Once, first.
 */
int etl_copybin_header(struct etl_buf *b, struct etl_err *err) ETL_MUSTCHECK;

/* The trailer: a field count of -1.  Once, last. */
int etl_copybin_trailer(struct etl_buf *b, struct etl_err *err) ETL_MUSTCHECK;

/*
 * Begin a tuple of 'nfields' fields (the table's or the column list's
 * count); exactly that many field functions must follow.  -1 with
 * ETL_E_INTERNAL when 'nfields' is not 0 to ETL_COPYBIN_FIELDS_MAX.
 */
int etl_copybin_tuple(struct etl_buf *b, int nfields, struct etl_err *err) ETL_MUSTCHECK;

/* A NULL field (length -1), for a column of any type. */
int etl_copybin_null(struct etl_buf *b, struct etl_err *err) ETL_MUSTCHECK;

/*
 * A text (or varchar) field: the bytes as given, which must be valid UTF-8
 * without NUL (the server checks, and fails the whole COPY).  NULL 's' is
 * SQL NULL.  _n takes 'n' bytes; -1 with ETL_E_DATA past 2^31 - 1 bytes.
 */
int etl_copybin_text(struct etl_buf *b, const char *s, struct etl_err *err) ETL_MUSTCHECK;
int etl_copybin_text_n(struct etl_buf *b, const char *s, size_t n,
                       struct etl_err *err) ETL_MUSTCHECK;

/* smallint, integer, bigint and boolean fields. */
int etl_copybin_int2(struct etl_buf *b, int16_t v, struct etl_err *err) ETL_MUSTCHECK;
int etl_copybin_int4(struct etl_buf *b, int32_t v, struct etl_err *err) ETL_MUSTCHECK;
int etl_copybin_int8(struct etl_buf *b, int64_t v, struct etl_err *err) ETL_MUSTCHECK;
int etl_copybin_bool(struct etl_buf *b, bool v, struct etl_err *err) ETL_MUSTCHECK;

/*
 * A date field from a day number, days since 1970-01-01 (date.h; negative
 * before it).  PostgreSQL counts days from 2000-01-01 in an int32 and takes
 * 4714-11-24 BC to 5874897-12-31 AD; outside that range -1 with ETL_E_DATA
 * "date out of range for PostgreSQL: day 1970-01-01 + N".  The infinities
 * are not written.
 */
int etl_copybin_date(struct etl_buf *b, int64_t days, struct etl_err *err) ETL_MUSTCHECK;

/*
 * A date field from a yyyymmdd integer (20220801, as etl_date_parse gives).
 * -1 with ETL_E_DATA 'invalid date 20220231' unless the year is 1 or
 * later, the month 1 to 12 and the day within the month: the open end
 * 0 that etl_date_format writes as "0000-00-00" is not a date (write
 * NULL).
 */
int etl_copybin_date_ymd(struct etl_buf *b, int32_t ymd, struct etl_err *err) ETL_MUSTCHECK;

/*
 * A numeric field from exact decimal text: an optional '-', one or more
 * digits, and optionally '.' and one or more digits ("0", "-0.5",
 * "123.4500", "007" reads as 7).  The weight and base-10000 digits are
 * those of numeric_send, leading and trailing zero digits stripped; the
 * display scale is the number of digits written after the point.  Zero,
 * "-0" and "-0.00" included, is positive with no digits.
 *
 * Refused with ETL_E_DATA 'invalid numeric value "..."' (the text quoted,
 * cut at 60 bytes) and a detail naming what is wrong: empty text, blanks,
 * '+', an exponent, a second point, a point without digits on either side,
 * any other character; 'numeric value "..." is too long (more than 1000
 * characters)' past ETL_COPYBIN_NUMERIC_MAX.  NULL 's' is SQL NULL.
 * O(length); _n takes 'n' bytes, which need not be NUL-terminated.
 */
int etl_copybin_numeric(struct etl_buf *b, const char *s, struct etl_err *err) ETL_MUSTCHECK;
int etl_copybin_numeric_n(struct etl_buf *b, const char *s, size_t n,
                          struct etl_err *err) ETL_MUSTCHECK;

#endif
