/*
 * err.h
 *    The one error struct of ewc-etl: functions return 0 or -1 and fill an
 *    etl_err; callers add context ("where") on the way out.  The first error
 *    set wins, as curl's error buffer: later etl_err_set calls on an already
 *    set error are ignored, so the innermost, most precise message survives.
 *
 *    Nothing in etl/ or stages/ prints or exits; main.c maps an etl_err to a
 *    message on stderr and an exit status.
 */
#ifndef ETL_ERR_H
#define ETL_ERR_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#if defined(__GNUC__)
#define ETL_MUSTCHECK __attribute__((warn_unused_result))
#define ETL_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define ETL_MUSTCHECK
#define ETL_PRINTF(f, a)
/* BSD strlcpy/strlcat: copy with truncation, always NUL-terminated; return
 * the length they tried to create. */
size_t etl_strlcpy(char *dst, const char *src, size_t size);
size_t etl_strlcat(char *dst, const char *src, size_t size);

#endif

enum etl_errcode {
    ETL_E_NONE = 0,
    ETL_E_CONFIG,   /* the YAML or the command line is wrong */
    ETL_E_DATA,     /* an input file is wrong */
    ETL_E_NET,      /* HTTP: connection, timeout, status */
    ETL_E_DB,       /* PostgreSQL */
    ETL_E_IO,       /* local files: spool, catalogs, SQL files */
    ETL_E_NOMEM,
    ETL_E_BUSY,     /* another process holds the pipeline's lock */
    ETL_E_INTERNAL
};

struct etl_err {
    enum etl_errcode code;      /* ETL_E_NONE when no error */
    bool retryable;             /* HTTP 503, lost connection: may run again */
    char msg[256];              /* lower case, no final period, no newline */
    char detail[512];
    char hint[256];
    char where[512];            /* "config/pipeline.yaml:14:7", "file 3f2a9c1e line 812" */
    char sqlstate[6];           /* PostgreSQL's SQLSTATE of a failed statement, "" if none */
};

/* Clear 'err' to "no error". */
void etl_err_clear(struct etl_err *err);

/*
 * Set the error if none is set yet; always returns -1 so that callers can
 * write "return etl_err_set(err, ETL_E_DATA, ...)".  '%m' is not available:
 * use etl_err_errno() for errno.
 */
int etl_err_set(struct etl_err *err, enum etl_errcode code,
                const char *fmt, ...) ETL_PRINTF(3, 4);

/* As etl_err_set, appending ": strerror(errno)" of the errno at call time. */
int etl_err_errno(struct etl_err *err, enum etl_errcode code,
                  const char *fmt, ...) ETL_PRINTF(3, 4);

/*
 * Set ETL_E_NOMEM "out of memory" (if no error is set yet); returns -1, so
 * that an allocation failure reads "return etl_err_nomem(err);".  Does not
 * allocate.
 */
int etl_err_nomem(struct etl_err *err);

/*
 * Set 'detail' / 'hint' if none is set yet: the first one wins, as for the
 * message (only meaningful after a set).
 */
void etl_err_detail(struct etl_err *err, const char *fmt, ...) ETL_PRINTF(2, 3);
void etl_err_hint(struct etl_err *err, const char *fmt, ...) ETL_PRINTF(2, 3);

/*
 * Add location context: if 'where' is empty it becomes the formatted text,
 * otherwise the text is prepended with ", " ("file x.csv, line 3").  Callers
 * on the way out add the outer context last, so it reads outer to inner.
 */
void etl_err_context(struct etl_err *err, const char *fmt, ...) ETL_PRINTF(2, 3);

/* Set the location only if none is set yet (a "file:line:col" mark). */
void etl_err_where(struct etl_err *err, const char *fmt, ...) ETL_PRINTF(2, 3);

/* Name of an error code ("config", "data", ...). */
const char *etl_err_codename(enum etl_errcode code);

/*
 * Format the whole error into 'out' as one line:
 *   "where: msg (detail) hint: ..." -- what main.c prints and the ledger keeps.
 */
void etl_err_format(const struct etl_err *err, char *out, size_t size);

/* BSD strlcpy/strlcat: copy with truncation, always NUL-terminated; return
 * the length they tried to create. */
size_t etl_strlcpy(char *dst, const char *src, size_t size);
size_t etl_strlcat(char *dst, const char *src, size_t size);

#endif
