/*
 * err.c
 *    The etl_err helpers: set once (first error wins), add context on the way
 *    out, format for humans and for the ledger.  See err.h.
 */
#include "err.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

size_t
etl_strlcpy(char *dst, const char *src, size_t size)
{
    size_t n = strlen(src);

    if (size > 0) {
        size_t k = n < size - 1 ? n : size - 1;

        memcpy(dst, src, k);
        dst[k] = '\0';
    }
    return n;
}

size_t
etl_strlcat(char *dst, const char *src, size_t size)
{
    size_t d = strnlen(dst, size);

    if (d == size) {
        return d + strlen(src);
    }
    return d + etl_strlcpy(dst + d, src, size - d);
}

void
etl_err_clear(struct etl_err *err)
{
    memset(err, 0, sizeof(*err));
}

/* Copy a message, turning CR/LF into spaces and dropping a final period. */
static void
clean_msg(char *s)
{
    size_t n;

    for (char *p = s; *p != '\0'; p++) {
        if (*p == '\n' || *p == '\r') {
            *p = ' ';
        }
    }
    n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '.')) {
        s[--n] = '\0';
    }
}

int
etl_err_set(struct etl_err *err, enum etl_errcode code, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || err->code != ETL_E_NONE) {
        return -1;
    }
    err->code = code;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    clean_msg(err->msg);
    return -1;
}

int
etl_err_errno(struct etl_err *err, enum etl_errcode code, const char *fmt, ...)
{
    int saved = errno;
    va_list ap;
    size_t n;

    if (err == NULL || err->code != ETL_E_NONE) {
        return -1;
    }
    err->code = code;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    n = strlen(err->msg);
    snprintf(err->msg + n, sizeof(err->msg) - n, ": %s", strerror(saved));
    clean_msg(err->msg);
    errno = saved;
    return -1;
}

int
etl_err_nomem(struct etl_err *err)
{
    return etl_err_set(err, ETL_E_NOMEM, "out of memory");
}

/* The first detail wins; see err.h. */
void
etl_err_detail(struct etl_err *err, const char *fmt, ...)
{
    va_list ap;

    if (err->detail[0] != '\0') {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(err->detail, sizeof(err->detail), fmt, ap);
    va_end(ap);
    clean_msg(err->detail);
}

/* The first hint wins; see err.h. */
void
etl_err_hint(struct etl_err *err, const char *fmt, ...)
{
    va_list ap;

    if (err->hint[0] != '\0') {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(err->hint, sizeof(err->hint), fmt, ap);
    va_end(ap);
    clean_msg(err->hint);
}

void
etl_err_context(struct etl_err *err, const char *fmt, ...)
{
    char ctx[sizeof(err->where)];
    char old[sizeof(err->where)];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(ctx, sizeof(ctx), fmt, ap);
    va_end(ap);
    if (err->where[0] == '\0') {
        memcpy(err->where, ctx, sizeof(ctx));
        return;
    }
    memcpy(old, err->where, sizeof(old));
    /* ctx + ", " + old, truncated to fit */
    etl_strlcpy(err->where, ctx, sizeof(err->where));
    etl_strlcat(err->where, ", ", sizeof(err->where));
    etl_strlcat(err->where, old, sizeof(err->where));
}

void
etl_err_where(struct etl_err *err, const char *fmt, ...)
{
    va_list ap;

    if (err->where[0] != '\0') {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(err->where, sizeof(err->where), fmt, ap);
    va_end(ap);
}

const char *
etl_err_codename(enum etl_errcode code)
{
    switch (code) {
    case ETL_E_NONE: return "none";
    case ETL_E_CONFIG: return "config";
    case ETL_E_DATA: return "data";
    case ETL_E_NET: return "network";
    case ETL_E_DB: return "database";
    case ETL_E_IO: return "io";
    case ETL_E_NOMEM: return "out of memory";
    case ETL_E_BUSY: return "busy";
    case ETL_E_INTERNAL: return "internal";
    }
    return "unknown";
}

void
etl_err_format(const struct etl_err *err, char *out, size_t size)
{
    int n = 0;

    if (size == 0) {
        return;
    }
    out[0] = '\0';
    if (err->where[0] != '\0') {
        n = snprintf(out, size, "%s: ", err->where);
    }
    if (n >= 0 && (size_t)n < size) {
        n += snprintf(out + n, size - (size_t)n, "%s",
                      err->msg[0] != '\0' ? err->msg : etl_err_codename(err->code));
    }
    if (err->detail[0] != '\0' && n >= 0 && (size_t)n < size) {
        n += snprintf(out + n, size - (size_t)n, " (%s)", err->detail);
    }
    if (err->hint[0] != '\0' && n >= 0 && (size_t)n < size) {
        snprintf(out + n, size - (size_t)n, "; hint: %s", err->hint);
    }
}
