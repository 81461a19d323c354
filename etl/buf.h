/*
 * buf.h
 *    A growable byte buffer with a hard maximum.  Appending past 'max' fails
 *    with ETL_E_DATA ("too big"), so an over-long input line is a data error,
 *    not an unbounded allocation (curl's dynbuf "toobig").  Pointers into
 *    'data' die on any append (the buffer may move).
 */
#ifndef ETL_BUF_H
#define ETL_BUF_H

#include <stddef.h>
#include "err.h"

struct etl_buf {
    char *data;     /* always NUL-terminated when non-NULL */
    size_t len;
    size_t cap;
    size_t max;     /* longest content allowed, in bytes */
};

/* Start empty with the given maximum; no allocation until the first append. */
void etl_buf_init(struct etl_buf *b, size_t max);
/* Free the storage; the buffer may be reused after etl_buf_init. */
void etl_buf_free(struct etl_buf *b);
/* Forget the content, keep the storage: the per-row/per-batch reset. */
void etl_buf_reset(struct etl_buf *b);
/* Append bytes; -1 with ETL_E_DATA if 'max' would be passed, ETL_E_NOMEM. */
int etl_buf_add(struct etl_buf *b, const void *p, size_t n, struct etl_err *err) ETL_MUSTCHECK;
int etl_buf_addc(struct etl_buf *b, char c, struct etl_err *err) ETL_MUSTCHECK;
int etl_buf_addstr(struct etl_buf *b, const char *s, struct etl_err *err) ETL_MUSTCHECK;
int etl_buf_printf(struct etl_buf *b, struct etl_err *err, const char *fmt, ...)
    ETL_PRINTF(3, 4) ETL_MUSTCHECK;
/* Hand the storage over to the caller (free() it); the buffer is left empty. */
char *etl_buf_take(struct etl_buf *b);

#endif
