/*
 * json_record.c
 *    The JSON reader's yajl callbacks (see json.h for the records it makes).
 *    While the path is followed they go to json.c (json_seek_*); inside the
 *    records array each element becomes one record: an object's values go
 *    to their header column in 'fbuf', anything else makes a bad record,
 *    and the element is written back as compact JSON into 'raw', cut at
 *    max_record.  The first object's keys are the header, pushed before
 *    its record.
 *
 *    Next door: json.c (life cycle, feeding yajl and the place of each
 *    event, the records path, the link), json_int.h (what the two share),
 *    csv.c (the record type).
 */
#include "json_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "text.h"

const char *const json_value_names[] = {
    [JV_STRING] = "a string", [JV_NUMBER] = "a number", [JV_TRUE] = "true",
    [JV_FALSE] = "false", [JV_NULL] = "null", [JV_OBJECT] = "an object",
    [JV_ARRAY] = "an array",
};

/* ---- the record -------------------------------------------------------- */

/* Note why the record is bad; the first reason wins. */
static void ETL_PRINTF(2, 3)
set_bad(struct etl_json *j, const char *fmt, ...)
{
    va_list ap;

    if (j->is_bad) {
        return;
    }
    j->is_bad = true;
    va_start(ap, fmt);
    vsnprintf(j->bad, sizeof(j->bad), fmt, ap);
    va_end(ap);
}

/* Start a record for an element at the current line. */
static void
record_begin(struct etl_json *j, bool obj)
{
    etl_buf_reset(&j->raw);
    etl_buf_reset(&j->fbuf);
    j->raw_cut = false;
    j->is_bad = false;
    j->bad[0] = '\0';
    j->rec_line = j->line;
    j->elem_obj = obj;
    j->comma = false;
    j->cur_col = -1;
    j->last_col = -1;
    j->key[0] = '\0';
    if (j->ncols > 0) {
        memset(j->cset, 0, j->ncols);
    }
}

/* Append to the raw text, cutting at 'max' on a character boundary. */
static int
raw_add(struct etl_json *j, const char *p, size_t n)
{
    size_t room;

    if (j->raw_cut || n == 0) {
        return 0;
    }
    room = j->max - j->raw.len;
    if (n > room) {
        size_t k = etl_text_cut(p, n, room);

        if (etl_buf_add(&j->raw, p, k, j->err) < 0) {
            return -1;
        }
        j->raw_cut = true;
        set_bad(j, "record longer than %zu bytes", j->max);
        return 0;
    }
    return etl_buf_add(&j->raw, p, n, j->err);
}

/* Append a JSON string literal of s (n bytes) to the raw text. */
static int
raw_string(struct etl_json *j, const char *s, size_t n)
{
    const char *run = s, *e = s + n;

    if (raw_add(j, "\"", 1) < 0) {
        return -1;
    }
    for (const char *q = s; q < e; q++) {
        unsigned char ch = (unsigned char)*q;
        char esc[8];

        if (ch >= 0x20 && ch != '"' && ch != '\\') {
            continue;
        }
        if (raw_add(j, run, (size_t)(q - run)) < 0) {
            return -1;
        }
        switch (ch) {
        case '"':  memcpy(esc, "\\\"", 3); break;
        case '\\': memcpy(esc, "\\\\", 3); break;
        case '\n': memcpy(esc, "\\n", 3); break;
        case '\r': memcpy(esc, "\\r", 3); break;
        case '\t': memcpy(esc, "\\t", 3); break;
        default:   snprintf(esc, sizeof(esc), "\\u%04x", ch); break;
        }
        if (raw_add(j, esc, strlen(esc)) < 0) {
            return -1;
        }
        run = q + 1;
    }
    if (raw_add(j, run, (size_t)(e - run)) < 0) {
        return -1;
    }
    return raw_add(j, "\"", 1);
}

/* Write a value (or the start of a container) into the raw text. */
static int
raw_value(struct etl_json *j, enum json_value k, const char *s, size_t n)
{
    int rc = 0;

    if (j->comma && raw_add(j, ",", 1) < 0) {
        return -1;
    }
    switch (k) {
    case JV_STRING: rc = raw_string(j, s, n); break;
    case JV_NUMBER: rc = raw_add(j, s, n); break;
    case JV_TRUE:   rc = raw_add(j, "true", 4); break;
    case JV_FALSE:  rc = raw_add(j, "false", 5); break;
    case JV_NULL:   rc = raw_add(j, "null", 4); break;
    case JV_OBJECT: rc = raw_add(j, "{", 1); break;
    case JV_ARRAY:  rc = raw_add(j, "[", 1); break;
    }
    j->comma = k != JV_OBJECT && k != JV_ARRAY;
    return rc;
}

/* Make room for 'need' columns in the per-column arrays. */
static int
columns_grow(struct etl_json *j, size_t need)
{
    size_t cap = j->ccap ? j->ccap : 16;
    size_t *hoff, *hlen, *coff, *clen, *flen;
    unsigned char *cset;
    const char **fptr;

    if (need <= j->ccap) {
        return 0;
    }
    while (cap < need) {
        cap *= 2;
    }
    if (cap > ETL_CSV_MAX_FIELDS) {
        cap = ETL_CSV_MAX_FIELDS;
    }
    if ((hoff = realloc(j->hoff, cap * sizeof(*hoff))) != NULL) {
        j->hoff = hoff;
    }
    if ((hlen = realloc(j->hlen, cap * sizeof(*hlen))) != NULL) {
        j->hlen = hlen;
    }
    if ((coff = realloc(j->coff, cap * sizeof(*coff))) != NULL) {
        j->coff = coff;
    }
    if ((clen = realloc(j->clen, cap * sizeof(*clen))) != NULL) {
        j->clen = clen;
    }
    if ((cset = realloc(j->cset, cap)) != NULL) {
        j->cset = cset;
    }
    if ((fptr = realloc(j->fptr, cap * sizeof(*fptr))) != NULL) {
        j->fptr = fptr;
    }
    if ((flen = realloc(j->flen, cap * sizeof(*flen))) != NULL) {
        j->flen = flen;
    }
    if (hoff == NULL || hlen == NULL || coff == NULL || clen == NULL ||
        cset == NULL || fptr == NULL || flen == NULL) {
        return etl_err_nomem(j->err);
    }
    j->ccap = cap;
    return 0;
}

/* The column of key s (n bytes) in the header, or -1. */
static long
column_find(const struct etl_json *j, const char *s, size_t n)
{
    size_t guess = (size_t)(j->last_col + 1);

    if (guess < j->ncols && j->hlen[guess] == n &&
        memcmp(j->hbuf.data + j->hoff[guess], s, n) == 0) {
        return (long)guess;
    }
    for (size_t c = 0; c < j->ncols; c++) {
        if (j->hlen[c] == n && memcmp(j->hbuf.data + j->hoff[c], s, n) == 0) {
            return (long)c;
        }
    }
    return -1;
}

/*
 * A key of the record's object: find its column (the first object adds
 * it to the header), or mark the record bad.  The key goes to the raw text.
 */
static int
record_key(struct etl_json *j, const char *s, size_t n)
{
    long c;

    j->cur_col = -1;
    snprintf(j->key, sizeof(j->key), "%.*s", (int)etl_text_cut(s, n, JSON_KEY_QUOTE), s);
    if (j->comma && raw_add(j, ",", 1) < 0) {
        return -1;
    }
    if (raw_string(j, s, n) < 0 || raw_add(j, ":", 1) < 0) {
        return -1;
    }
    j->comma = false;
    if (memchr(s, '\0', n) != NULL) {
        set_bad(j, "key \"%s\" holds a NUL character", j->key);
        return 0;
    }
    c = column_find(j, s, n);
    if (c >= 0) {
        if (j->cset[c]) {
            set_bad(j, "key \"%s\" appears twice in the object", j->key);
            return 0;
        }
        j->cur_col = c;
        j->last_col = c;
        return 0;
    }
    if (j->have_header) {
        set_bad(j, "key \"%s\" is not in the first record's keys", j->key);
        return 0;
    }
    /* the first object: a new header column */
    if (j->ncols == ETL_CSV_MAX_FIELDS) {
        set_bad(j, "more than %d keys", ETL_CSV_MAX_FIELDS);
        return 0;
    }
    if (j->raw_cut) {
        return 0;       /* the record is cut: its keys past the cut too */
    }
    if (columns_grow(j, j->ncols + 1) < 0) {
        return -1;
    }
    j->hoff[j->ncols] = j->hbuf.len;
    j->hlen[j->ncols] = n;
    if (etl_buf_add(&j->hbuf, s, n, j->err) < 0 ||
        etl_buf_addc(&j->hbuf, '\0', j->err) < 0) {
        return -1;
    }
    j->cset[j->ncols] = 0;
    j->cur_col = (long)j->ncols;
    j->last_col = j->cur_col;
    j->ncols++;
    return 0;
}

/* A value of the record's object, for the column of the last key. */
static int
record_value(struct etl_json *j, enum json_value k, const char *s, size_t n)
{
    long c = j->cur_col;

    j->cur_col = -1;
    if (raw_value(j, k, s, n) < 0) {
        return -1;
    }
    if (k == JV_OBJECT || k == JV_ARRAY) {
        set_bad(j, "key \"%s\" holds %s, not a value", j->key, json_value_names[k]);
        return 0;
    }
    if (k == JV_TRUE) {
        s = "true", n = 4;
    } else if (k == JV_FALSE) {
        s = "false", n = 5;
    } else if (k == JV_NULL) {
        s = "", n = 0;
    } else if (k == JV_STRING && memchr(s, '\0', n) != NULL) {
        set_bad(j, "key \"%s\" holds a NUL character", j->key);
        return 0;
    }
    if (c < 0 || j->raw_cut) {
        return 0;
    }
    j->coff[c] = j->fbuf.len;
    j->clen[c] = n;
    j->cset[c] = 1;
    if (etl_buf_add(&j->fbuf, s, n, j->err) < 0 ||
        etl_buf_addc(&j->fbuf, '\0', j->err) < 0) {
        return -1;
    }
    return 0;
}

/* Push one record to the next link. */
static int
push(struct etl_json *j, unsigned long line, const struct etl_buf *raw,
     size_t nfields, const char *bad)
{
    struct etl_csv_record rec;
    struct etl_chunk chunk = { .type = &etl_chunk_record_type, .data = &rec };

    rec.line = line;
    rec.raw = raw->data != NULL ? raw->data : "";
    rec.raw_len = raw->len;
    rec.fields = j->fptr;
    rec.lens = j->flen;
    rec.nfields = nfields;
    rec.bad = bad;
    chunk.len = nfields;
    return etl_stage_push(&j->link, &chunk, j->err);
}

/* The first object ended: its keys are the header, pushed first. */
static int
header_push(struct etl_json *j)
{
    for (size_t c = 0; c < j->ncols; c++) {
        if ((c > 0 && etl_buf_addc(&j->hraw, '\t', j->err) < 0) ||
            etl_buf_add(&j->hraw, j->hbuf.data + j->hoff[c], j->hlen[c], j->err) < 0) {
            return -1;
        }
        j->fptr[c] = j->hbuf.data + j->hoff[c];
        j->flen[c] = j->hlen[c];
    }
    j->have_header = true;
    return push(j, j->rec_line, &j->hraw, j->ncols, NULL);
}

/* The element is complete: push its record (the header before the first). */
static int
record_end(struct etl_json *j)
{
    size_t nfields = j->elem_obj ? j->ncols : 0;

    if (j->elem_obj && !j->have_header && header_push(j) < 0) {
        return -1;
    }
    if (j->raw.data == NULL && etl_buf_add(&j->raw, "", 0, j->err) < 0) {
        return -1;
    }
    for (size_t c = 0; c < nfields; c++) {
        j->fptr[c] = j->cset[c] ? j->fbuf.data + j->coff[c] : "";
        j->flen[c] = j->cset[c] ? j->clen[c] : 0;
    }
    return push(j, j->rec_line, &j->raw, nfields, j->is_bad ? j->bad : NULL);
}

/* ---- yajl's callbacks ---------------------------------------------------- */

/* A value or the start of a container. */
static int
on_value(struct etl_json *j, enum json_value k, const char *s, size_t n)
{
    bool open = k == JV_OBJECT || k == JV_ARRAY;

    if (json_event(j) < 0) {
        return 0;
    }
    if (open && j->depth == ETL_JSON_MAX_DEPTH) {
        etl_err_set(j->err, ETL_E_DATA, "JSON nested deeper than %d levels",
                    ETL_JSON_MAX_DEPTH);
        etl_err_where(j->err, "line %lu", j->line);
        return json_failed(j);
    }
    switch (j->phase) {
    case JP_SEEK:
        if (json_seek_value(j, k) < 0) {
            return 0;
        }
        break;
    case JP_ARRAY:
        if (j->depth == j->adepth) {
            record_begin(j, k == JV_OBJECT);
            if (raw_value(j, k, s, n) < 0) {
                return json_failed(j);
            }
            if (!open) {
                set_bad(j, "array element is %s, not an object", json_value_names[k]);
                if (record_end(j) < 0) {
                    return json_failed(j);
                }
            } else if (k == JV_ARRAY) {
                set_bad(j, "array element is an array, not an object");
            }
        } else if (j->depth == j->adepth + 1 && j->elem_obj) {
            if (record_value(j, k, s, n) < 0) {
                return json_failed(j);
            }
        } else if (raw_value(j, k, s, n) < 0) {
            return json_failed(j);
        }
        break;
    case JP_AFTER:
    case JP_FAILED:
        break;
    }
    if (open) {
        j->depth++;
    }
    return 1;
}

/* The end of a container. */
static int
on_end(struct etl_json *j, char close)
{
    if (json_event(j) < 0) {
        return 0;
    }
    switch (j->phase) {
    case JP_SEEK:
        if (json_seek_end(j) < 0) {
            return 0;
        }
        break;
    case JP_ARRAY:
        if (j->depth == j->adepth) {
            j->phase = JP_AFTER;
            break;
        }
        if (raw_add(j, &close, 1) < 0) {
            return json_failed(j);
        }
        j->comma = true;
        if (j->depth == j->adepth + 1 && record_end(j) < 0) {
            return json_failed(j);
        }
        break;
    case JP_AFTER:
    case JP_FAILED:
        break;
    }
    j->depth--;
    return 1;
}

static int
cb_null(void *ctx)
{
    return on_value(ctx, JV_NULL, NULL, 0);
}

static int
cb_boolean(void *ctx, int b)
{
    return on_value(ctx, b ? JV_TRUE : JV_FALSE, NULL, 0);
}

static int
cb_number(void *ctx, const char *s, size_t n)
{
    return on_value(ctx, JV_NUMBER, s, n);
}

static int
cb_string(void *ctx, const unsigned char *s, size_t n)
{
    return on_value(ctx, JV_STRING, (const char *)s, n);
}

static int
cb_start_map(void *ctx)
{
    return on_value(ctx, JV_OBJECT, NULL, 0);
}

static int
cb_map_key(void *ctx, const unsigned char *s, size_t n)
{
    struct etl_json *j = ctx;

    if (json_event(j) < 0) {
        return 0;
    }
    if (j->phase == JP_SEEK) {
        json_seek_key(j, (const char *)s, n);
    } else if (j->phase == JP_ARRAY) {
        if (j->depth == j->adepth + 1 && j->elem_obj) {
            if (record_key(j, (const char *)s, n) < 0) {
                return json_failed(j);
            }
        } else if ((j->comma && raw_add(j, ",", 1) < 0) ||
                   raw_string(j, (const char *)s, n) < 0 || raw_add(j, ":", 1) < 0) {
            return json_failed(j);
        } else {
            j->comma = false;
        }
    }
    return 1;
}

static int
cb_end_map(void *ctx)
{
    return on_end(ctx, '}');
}

static int
cb_start_array(void *ctx)
{
    return on_value(ctx, JV_ARRAY, NULL, 0);
}

static int
cb_end_array(void *ctx)
{
    return on_end(ctx, ']');
}

const yajl_callbacks json_callbacks = {
    .yajl_null = cb_null,
    .yajl_boolean = cb_boolean,
    .yajl_number = cb_number,       /* numbers as written: no integer/double */
    .yajl_string = cb_string,
    .yajl_start_map = cb_start_map,
    .yajl_map_key = cb_map_key,
    .yajl_end_map = cb_end_map,
    .yajl_start_array = cb_start_array,
    .yajl_end_array = cb_end_array,
};
