/*
 * cell.c
 *    Numeric cell text and the row builder of the spreadsheet readers; see
 *    cell.h.  Used by xlsx.c and xls.c; csv.h defines the record they make.
 */
#include "cell.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "csv.h"
#include "text.h"

/* ---- numbers ---------------------------------------------------------- */

int
etl_cell_number_format(double v, char *buf, size_t size)
{
    char e[48];
    char digits[16];
    const char *p;
    bool neg;
    int nd, exp, point;
    size_t need, k = 0;

    if (size > 0) {
        buf[0] = '\0';
    }
    if (!isfinite(v)) {
        return -1;
    }
    /* 15 significant digits, rounded by printf: "-d.dddddddddddddde+XX" */
    snprintf(e, sizeof(e), "%.14e", v);
    p = e;
    neg = *p == '-';
    if (neg) {
        p++;
    }
    digits[0] = p[0];
    memcpy(digits + 1, p + 2, 14);
    nd = 15;
    exp = atoi(p + 17);
    while (nd > 1 && digits[nd - 1] == '0') {
        nd--;
    }
    if (nd == 1 && digits[0] == '0') {
        neg = false;                    /* 0 and -0 */
    }
    /* the value is 0.digits times 10^point */
    point = exp + 1;
    if (point <= 0) {
        need = 2 + (size_t)(-point) + (size_t)nd;           /* 0.000ddd */
    } else if (point >= nd) {
        need = (size_t)point;                               /* ddd000 */
    } else {
        need = (size_t)nd + 1;                              /* dd.ddd */
    }
    need += neg ? 1 : 0;
    if (need + 1 > size) {
        return -1;
    }
    if (neg) {
        buf[k++] = '-';
    }
    if (point <= 0) {
        buf[k++] = '0';
        buf[k++] = '.';
        for (int i = 0; i < -point; i++) {
            buf[k++] = '0';
        }
        memcpy(buf + k, digits, (size_t)nd);
        k += (size_t)nd;
    } else if (point >= nd) {
        memcpy(buf + k, digits, (size_t)nd);
        k += (size_t)nd;
        for (int i = nd; i < point; i++) {
            buf[k++] = '0';
        }
    } else {
        memcpy(buf + k, digits, (size_t)point);
        k += (size_t)point;
        buf[k++] = '.';
        memcpy(buf + k, digits + point, (size_t)(nd - point));
        k += (size_t)(nd - point);
    }
    buf[k] = '\0';
    return (int)k;
}

void
etl_cell_column_name(unsigned col, char buf[4])
{
    char tmp[4];
    int n = 0, k = 0;

    if (col >= ETL_CELL_MAX_COLS) {
        col = ETL_CELL_MAX_COLS - 1;
    }
    col++;
    while (col > 0 && n < 3) {
        col--;
        tmp[n++] = (char)('A' + col % 26);
        col /= 26;
    }
    while (n > 0) {
        buf[k++] = tmp[--n];
    }
    buf[k] = '\0';
}

/* ---- the row builder -------------------------------------------------- */

void
etl_cell_row_init(struct etl_cell_row *r, size_t max)
{
    memset(r, 0, sizeof(*r));
    r->max = max;
    /* texts plus their NULs: each stored text has a byte at least */
    etl_buf_init(&r->text, 2 * max + 1);
    etl_buf_init(&r->raw, max);
}

void
etl_cell_row_free(struct etl_cell_row *r)
{
    etl_buf_free(&r->text);
    etl_buf_free(&r->raw);
    free(r->off);
    free(r->len);
    free(r->ptr);
    r->off = r->len = NULL;
    r->ptr = NULL;
    r->cap = r->ncols = 0;
}

void
etl_cell_row_begin(struct etl_cell_row *r, unsigned long line)
{
    etl_buf_reset(&r->text);
    etl_buf_reset(&r->raw);
    r->text_sum = 0;
    r->ncols = 0;
    r->cut_col = -1;
    r->line = line;
    r->toolong = false;
    r->is_bad = false;
    r->bad[0] = '\0';
}

void
etl_cell_row_bad(struct etl_cell_row *r, const char *fmt, ...)
{
    va_list ap;

    if (r->is_bad) {
        return;
    }
    r->is_bad = true;
    va_start(ap, fmt);
    vsnprintf(r->bad, sizeof(r->bad), fmt, ap);
    va_end(ap);
}

static void
set_toolong(struct etl_cell_row *r)
{
    if (!r->toolong) {
        r->toolong = true;
        etl_cell_row_bad(r, "record longer than %zu bytes", r->max);
    }
}

/* Room for columns [0, n); new columns are empty.  0 or -1 (ETL_E_NOMEM). */
static int
row_columns(struct etl_cell_row *r, size_t n, struct etl_err *err)
{
    if (n > r->cap) {
        size_t cap = r->cap ? r->cap : 16;
        size_t *off, *len;
        const char **ptr;

        while (cap < n) {
            cap *= 2;
        }
        if (cap > ETL_CELL_MAX_COLS) {
            cap = ETL_CELL_MAX_COLS;
        }
        off = realloc(r->off, cap * sizeof(*off));
        if (off != NULL) {
            r->off = off;
        }
        len = realloc(r->len, cap * sizeof(*len));
        if (len != NULL) {
            r->len = len;
        }
        ptr = realloc(r->ptr, cap * sizeof(*ptr));
        if (ptr != NULL) {
            r->ptr = ptr;
        }
        if (off == NULL || len == NULL || ptr == NULL) {
            return etl_err_nomem(err);
        }
        r->cap = cap;
    }
    while (r->ncols < n) {
        r->off[r->ncols] = 0;
        r->len[r->ncols] = 0;
        r->ncols++;
    }
    return 0;
}

int
etl_cell_row_set(struct etl_cell_row *r, unsigned col, const char *p, size_t n,
                 struct etl_err *err)
{
    if (col >= ETL_CELL_MAX_COLS) {
        return etl_err_set(err, ETL_E_INTERNAL, "column %u is beyond XFD", col + 1);
    }
    if (n == 0) {
        if (col < r->ncols) {
            r->len[col] = 0;
        }
        return 0;
    }
    if (n > r->max - r->text_sum) {
        /* keep what fits, so that the raw text goes up to the limit */
        set_toolong(r);
        n = etl_text_cut(p, n, r->max - r->text_sum);
        if (n == 0 || r->cut_col >= 0) {
            return 0;
        }
        r->cut_col = col;
    }
    if (row_columns(r, (size_t)col + 1, err) < 0) {
        return -1;
    }
    r->off[col] = r->text.len;
    r->len[col] = n;
    r->text_sum += n;
    if (etl_buf_add(&r->text, p, n, err) < 0 || etl_buf_addc(&r->text, '\0', err) < 0) {
        return -1;
    }
    return 0;
}

const char *
etl_cell_row_get(const struct etl_cell_row *r, unsigned col, size_t *n)
{
    if (col >= r->ncols || r->len[col] == 0) {
        *n = 0;
        return "";
    }
    *n = r->len[col];
    return r->text.data + r->off[col];
}

bool
etl_cell_row_empty(const struct etl_cell_row *r)
{
    for (size_t i = 0; i < r->ncols; i++) {
        if (r->len[i] > 0) {
            return false;
        }
    }
    return true;
}

int
etl_cell_row_push(struct etl_cell_row *r, struct etl_stage *next, struct etl_err *err)
{
    static const char *const empty_field[1] = { "" };
    static const size_t empty_len[1] = { 0 };
    struct etl_csv_record rec;
    struct etl_chunk chunk = { .type = &etl_chunk_record_type, .data = &rec };
    size_t nf = r->ncols, kept = 0;

    while (nf > 0 && r->len[nf - 1] == 0) {
        nf--;
    }
    etl_buf_reset(&r->raw);
    for (size_t i = 0; i < nf; i++) {
        const char *p = r->len[i] > 0 ? r->text.data + r->off[i] : "";
        size_t n = r->len[i] + (i > 0 ? 1 : 0);
        size_t room = r->max - r->raw.len;

        r->ptr[i] = p;
        if (n > room || (long)i == r->cut_col) {
            /* the tab, then what fits of the text, whole characters only */
            if (i > 0) {
                if (room == 0) {
                    set_toolong(r);
                    break;
                }
                if (etl_buf_addc(&r->raw, '\t', err) < 0) {
                    return -1;
                }
                room--;
            }
            if (etl_buf_add(&r->raw, p, etl_text_cut(p, r->len[i], room), err) < 0) {
                return -1;
            }
            set_toolong(r);
            break;
        }
        if ((i > 0 && etl_buf_addc(&r->raw, '\t', err) < 0) ||
            etl_buf_add(&r->raw, p, r->len[i], err) < 0) {
            return -1;
        }
        kept++;
    }
    rec.line = r->line;
    rec.raw = r->raw.data != NULL ? r->raw.data : "";
    rec.raw_len = r->raw.len;
    if (kept > 0) {
        rec.fields = r->ptr;
        rec.lens = r->len;
        rec.nfields = kept;
    } else {
        rec.fields = empty_field;
        rec.lens = empty_len;
        rec.nfields = 1;
    }
    rec.bad = r->is_bad ? r->bad : NULL;
    chunk.len = rec.nfields;
    if (next == NULL || next->kind == NULL || next->kind->process == NULL) {
        return 0;
    }
    return next->kind->process(next, &chunk, err);
}

size_t
etl_cell_row_footprint(const struct etl_cell_row *r)
{
    return r->text.cap + r->raw.cap +
           r->cap * (2 * sizeof(size_t) + sizeof(char *));
}
