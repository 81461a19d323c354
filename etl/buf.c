/*
 * buf.c
 *    Growable byte buffer with a maximum; see buf.h.
 */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
etl_buf_init(struct etl_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void
etl_buf_free(struct etl_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void
etl_buf_reset(struct etl_buf *b)
{
    b->len = 0;
    if (b->data != NULL) {
        b->data[0] = '\0';
    }
}

/* Make room for 'extra' more bytes plus the NUL; amortised doubling. */
static int
buf_grow(struct etl_buf *b, size_t extra, struct etl_err *err)
{
    size_t need, cap;
    char *p;

    if (extra > b->max || b->len > b->max - extra) {
        return etl_err_set(err, ETL_E_DATA, "text too long (more than %zu bytes)", b->max);
    }
    need = b->len + extra + 1;
    if (need <= b->cap) {
        return 0;
    }
    cap = b->cap ? b->cap : 64;
    while (cap < need) {
        cap *= 2;
    }
    if (cap > b->max + 1) {
        cap = b->max + 1;
    }
    p = realloc(b->data, cap);
    if (p == NULL) {
        return etl_err_nomem(err);
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

int
etl_buf_add(struct etl_buf *b, const void *p, size_t n, struct etl_err *err)
{
    /* room already (cap is at most max + 1): no call */
    if (b->len + n < b->cap && n < b->cap) {
        memcpy(b->data + b->len, p, n);
        b->len += n;
        b->data[b->len] = '\0';
        return 0;
    }
    if (buf_grow(b, n, err) < 0) {
        return -1;
    }
    if (n > 0) {
        memcpy(b->data + b->len, p, n);
    }
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int
etl_buf_addc(struct etl_buf *b, char c, struct etl_err *err)
{
    return etl_buf_add(b, &c, 1, err);
}

int
etl_buf_addstr(struct etl_buf *b, const char *s, struct etl_err *err)
{
    return etl_buf_add(b, s, strlen(s), err);
}

int
etl_buf_printf(struct etl_buf *b, struct etl_err *err, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        return etl_err_set(err, ETL_E_INTERNAL, "bad format");
    }
    if (buf_grow(b, (size_t)n, err) < 0) {
        return -1;
    }
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

char *
etl_buf_take(struct etl_buf *b)
{
    char *p = b->data;

    if (p == NULL) {
        p = calloc(1, 1);
    }
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}
