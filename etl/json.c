/*
 * json.c
 *    Streaming reader of JSON record lists; see json.h for what it accepts,
 *    the records it makes and its errors.
 *
 *    yajl 2 is fed the text in pieces that end at line ends, so that when a
 *    callback runs the line of its token is the reader's current line (a
 *    piece holds no LF but its last byte).  The callbacks follow the path
 *    down to the records array (SEEK), then build one record per element
 *    (ARRAY): values go to their header column in 'fbuf', and the element
 *    is written back as compact JSON into 'raw'.  Everything after the
 *    array is parsed and ignored (AFTER).  yajl allocates through counting
 *    functions, so that its memory is part of the footprint.
 *
 *    Next door: csv.c (the record type, the same job for CSV), decode.c
 *    (feeds it UTF-8 text).
 */
#include "json.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>
#include "buf.h"
#include "text.h"

/* Longest key quoted in a message (bytes, cut on a character boundary). */
#define JSON_KEY_QUOTE 128
/* Room for the keys listed in a "no array" detail (512 with its words). */
#define JSON_KEYS_DETAIL 320
/* Room kept in it for " and N more". */
#define JSON_KEYS_MORE 32

enum json_phase {
    JP_SEEK,        /* following the path to the records array */
    JP_ARRAY,       /* inside the records array */
    JP_AFTER,       /* the records array is closed: parse, ignore */
    JP_FAILED       /* an error was returned: reset before use */
};

/* What a value event is. */
enum json_value {
    JV_STRING, JV_NUMBER, JV_TRUE, JV_FALSE, JV_NULL, JV_OBJECT, JV_ARRAY
};

static const char *const value_names[] = {
    [JV_STRING] = "a string", [JV_NUMBER] = "a number", [JV_TRUE] = "true",
    [JV_FALSE] = "false", [JV_NULL] = "null", [JV_OBJECT] = "an object",
    [JV_ARRAY] = "an array",
};

struct etl_json {
    size_t max;                 /* longest record and gap between events */
    struct etl_stage link;      /* the reader as a link; next gets records */
    char *path;                 /* the records path as given, "" for none */
    char *keys;                 /* its keys, NUL-separated */
    const char **comp;          /* npath keys of the path */
    size_t *complen;
    size_t npath;

    yajl_handle h;              /* NULL until the first byte of a file */
    size_t yajl_bytes;          /* heap held by yajl */
    struct etl_err *err;        /* of the running feed or finish */

    int bom;                    /* BOM bytes matched at the start; -1 past it */
    unsigned long line;         /* line of the next byte, from 1 */
    unsigned long col;          /* its column in characters, from 1 */
    uint64_t pos;               /* text offset of the piece being parsed */
    const char *piece;          /* the piece being parsed, NULL at the end */
    size_t scan_off;            /* bytes of it whose characters are counted */
    unsigned long scan_col;     /* the column at scan_off */
    uint64_t ev_end;            /* text offset where the last event ended */
    unsigned long ev_line;      /* its line and column */
    unsigned long ev_col;

    enum json_phase phase;
    size_t depth;               /* open arrays and objects */
    /* JP_SEEK */
    size_t match;               /* path keys entered: on the path at depth match+1 */
    bool pending;               /* the last key at that depth is the next path key */
    char seen[JSON_KEYS_DETAIL];/* keys of the deepest object reached, quoted */
    size_t seen_len;
    size_t seen_left;           /* keys that did not fit */
    /* JP_ARRAY */
    size_t adepth;              /* depth of the records array's elements */
    bool elem_obj;              /* the element being read is an object */
    bool comma;                 /* raw: a ',' must come before the next item */

    /* the header: the first object's keys */
    bool have_header;
    struct etl_buf hbuf;        /* key texts, each NUL-terminated */
    struct etl_buf hraw;        /* keys joined by '\t' */
    size_t *hoff, *hlen;        /* per column: offset in hbuf, length */
    size_t ncols;

    /* the record being built */
    unsigned long rec_line;
    struct etl_buf raw;         /* the element as compact JSON */
    bool raw_cut;
    struct etl_buf fbuf;        /* values, each NUL-terminated */
    size_t *coff, *clen;        /* per column: offset in fbuf, length */
    unsigned char *cset;        /* per column: a value was given */
    const char **fptr;          /* per column: pointer, made at emit */
    size_t *flen;
    size_t ccap;                /* columns the arrays hold */
    long cur_col;               /* column of the next value; -1 none */
    long last_col;              /* column of the last key (next one likely +1) */
    char key[JSON_KEY_QUOTE + 1];   /* the last record key, for messages */
    bool is_bad;
    char bad[256];
};

/* ---- yajl's memory, counted ----------------------------------------- */

/* A size header that keeps the block aligned. */
union json_hdr {
    size_t n;
    max_align_t align;
};

static void *
json_malloc(void *ctx, size_t n)
{
    struct etl_json *j = ctx;
    union json_hdr *b = malloc(sizeof(*b) + n);

    if (b == NULL) {
        return NULL;
    }
    b->n = n;
    j->yajl_bytes += n;
    return b + 1;
}

static void
json_free(void *ctx, void *p)
{
    struct etl_json *j = ctx;
    union json_hdr *b;

    if (p == NULL) {
        return;
    }
    b = (union json_hdr *)p - 1;
    j->yajl_bytes -= b->n;
    free(b);
}

static void *
json_realloc(void *ctx, void *p, size_t n)
{
    struct etl_json *j = ctx;
    union json_hdr *b, *nb;

    if (p == NULL) {
        return json_malloc(ctx, n);
    }
    b = (union json_hdr *)p - 1;
    nb = realloc(b, sizeof(*nb) + n);
    if (nb == NULL) {
        return NULL;
    }
    j->yajl_bytes = j->yajl_bytes - nb->n + n;
    nb->n = n;
    return nb + 1;
}

/* ---- life cycle ------------------------------------------------------ */

/* Split 'path' into its keys; -1 with ETL_E_CONFIG for an empty key. */
static int
json_path(struct etl_json *j, const char *path, struct etl_err *err)
{
    size_t n = strlen(path);

    j->path = strdup(path);
    j->keys = strdup(path);
    if (j->path == NULL || j->keys == NULL) {
        return etl_err_nomem(err);
    }
    if (n == 0) {
        return 0;
    }
    j->npath = 1;
    for (size_t i = 0; i < n; i++) {
        j->npath += path[i] == '.';
    }
    j->comp = calloc(j->npath, sizeof(*j->comp));
    j->complen = calloc(j->npath, sizeof(*j->complen));
    if (j->comp == NULL || j->complen == NULL) {
        return etl_err_nomem(err);
    }
    for (size_t i = 0, k = 0, start = 0; i <= n; i++) {
        if (i < n && path[i] != '.') {
            continue;
        }
        if (i == start) {
            return etl_err_set(err, ETL_E_CONFIG,
                               "invalid records path \"%s\": empty key", path);
        }
        j->keys[i] = '\0';
        j->comp[k] = j->keys + start;
        j->complen[k] = i - start;
        k++;
        start = i + 1;
    }
    return 0;
}

struct etl_json *
etl_json_new(const char *records_path, size_t max_record, struct etl_stage *next,
             struct etl_err *err)
{
    struct etl_json *j = calloc(1, sizeof(*j));

    if (j == NULL) {
        etl_err_nomem(err);
        return NULL;
    }
    j->max = max_record > 0 ? max_record : ETL_CSV_MAX_RECORD;
    j->link.kind = &etl_json_link_kind;
    j->link.name = (char *)"json";
    j->link.ctx = j;
    j->link.next = next;
    etl_buf_init(&j->hbuf, j->max + ETL_CSV_MAX_FIELDS + 1);
    etl_buf_init(&j->hraw, j->max + ETL_CSV_MAX_FIELDS + 1);
    etl_buf_init(&j->raw, j->max);
    etl_buf_init(&j->fbuf, j->max + ETL_CSV_MAX_FIELDS + 1);
    if (json_path(j, records_path != NULL ? records_path : "", err) < 0) {
        etl_json_free(j);
        return NULL;
    }
    etl_json_reset(j);
    return j;
}

void
etl_json_free(struct etl_json *j)
{
    if (j == NULL) {
        return;
    }
    if (j->h != NULL) {
        yajl_free(j->h);
    }
    free(j->path);
    free(j->keys);
    free(j->comp);
    free(j->complen);
    etl_buf_free(&j->hbuf);
    etl_buf_free(&j->hraw);
    etl_buf_free(&j->raw);
    etl_buf_free(&j->fbuf);
    free(j->hoff);
    free(j->hlen);
    free(j->coff);
    free(j->clen);
    free(j->cset);
    free(j->fptr);
    free(j->flen);
    free(j);
}

void
etl_json_reset(struct etl_json *j)
{
    if (j->h != NULL) {
        yajl_free(j->h);
        j->h = NULL;
    }
    j->bom = 0;
    j->line = 1;
    j->col = 1;
    j->pos = 0;
    j->ev_end = 0;
    j->ev_line = 1;
    j->ev_col = 1;
    j->phase = JP_SEEK;
    j->depth = 0;
    j->match = 0;
    j->pending = false;
    j->seen_len = 0;
    j->seen[0] = '\0';
    j->seen_left = 0;
    j->adepth = 0;
    j->have_header = false;
    etl_buf_reset(&j->hbuf);
    etl_buf_reset(&j->hraw);
    j->ncols = 0;
}

size_t
etl_json_footprint(const struct etl_json *j)
{
    return sizeof(*j) + j->hbuf.cap + j->hraw.cap + j->raw.cap + j->fbuf.cap +
           j->ccap * (4 * sizeof(size_t) + 1 + sizeof(char *) + sizeof(size_t)) +
           j->yajl_bytes;
}

bool
etl_json_magic(const char *p, size_t n)
{
    size_t i = 0;

    if (n >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0) {
        i = 3;
    }
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n')) {
        i++;
    }
    return i < n && (p[i] == '[' || p[i] == '{');
}

/* ---- errors ------------------------------------------------------------ */

/* The reader fails: later calls are refused until a reset.  Returns 0 (for yajl). */
static int
json_failed(struct etl_json *j)
{
    j->phase = JP_FAILED;
    return 0;
}

/* The records path up to and including key 'i', for messages. */
static int
path_upto(const struct etl_json *j, size_t i)
{
    return (int)(j->comp[i] - j->keys + (ptrdiff_t)j->complen[i]);
}

/* The path ended somewhere else: `no array at "data.list" in the JSON`. */
static int
no_array(struct etl_json *j)
{
    etl_err_set(j->err, ETL_E_DATA, "no array at \"%s\" in the JSON", j->path);
    etl_err_where(j->err, "line %lu", j->line);
    return json_failed(j);
}

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
        set_bad(j, "key \"%s\" holds %s, not a value", j->key, value_names[k]);
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

/* ---- following the path ------------------------------------------------ */

/* Note a key of the deepest object reached on the path, for a detail. */
static void
seen_key(struct etl_json *j, const char *s, size_t n)
{
    size_t k = etl_text_cut(s, n, JSON_KEY_QUOTE);
    size_t room = sizeof(j->seen) - j->seen_len;
    int w;

    if (j->seen_left > 0) {
        j->seen_left++;
        return;
    }
    w = snprintf(j->seen + j->seen_len, room, "%s\"%.*s\"",
                 j->seen_len > 0 ? ", " : "", (int)k, s);
    if (w < 0 || (size_t)w + JSON_KEYS_MORE > room) {
        j->seen[j->seen_len] = '\0';
        j->seen_left = 1;
        return;
    }
    j->seen_len += (size_t)w;
}

/* The keys noted, with " and N more" if some did not fit. */
static const char *
seen_list(struct etl_json *j)
{
    if (j->seen_left > 0) {
        snprintf(j->seen + j->seen_len, sizeof(j->seen) - j->seen_len, " and %zu more",
                 j->seen_left);
        j->seen_left = 0;
        j->seen_len = strlen(j->seen);
    }
    return j->seen;
}

/* A value while following the path, at depth j->depth.  0, or -1 failed. */
static int
seek_value(struct etl_json *j, enum json_value k)
{
    if (j->depth == 0) {
        if (j->npath == 0 && k == JV_ARRAY) {
            j->phase = JP_ARRAY;
            j->adepth = 1;
            return 0;
        }
        if (k == JV_OBJECT) {
            return 0;           /* match 0: in the top-level object */
        }
        if (j->npath == 0) {
            etl_err_set(j->err, ETL_E_DATA, "the JSON is %s, not an array of records",
                        value_names[k]);
            etl_err_where(j->err, "line %lu", j->line);
            return json_failed(j), -1;
        }
        no_array(j);
        etl_err_detail(j->err, "the JSON is %s, not an object", value_names[k]);
        if (k == JV_ARRAY) {
            etl_err_hint(j->err, "the top level is an array: leave records: unset");
        }
        return -1;
    }
    if (j->depth != j->match + 1 || !j->pending) {
        return 0;               /* off the path */
    }
    j->pending = false;
    if (j->match + 1 == j->npath) {
        if (k == JV_ARRAY) {
            j->phase = JP_ARRAY;
            j->adepth = j->depth + 1;
            return 0;
        }
        no_array(j);
        etl_err_detail(j->err, "\"%s\" is %s, not an array", j->path, value_names[k]);
        return -1;
    }
    if (k == JV_OBJECT) {
        j->match++;
        j->seen_len = 0;
        j->seen[0] = '\0';
        j->seen_left = 0;
        return 0;
    }
    no_array(j);
    etl_err_detail(j->err, "\"%.*s\" is %s, not an object", path_upto(j, j->match),
                   j->path, value_names[k]);
    return -1;
}

/* A key while following the path. */
static void
seek_key(struct etl_json *j, const char *s, size_t n)
{
    if (j->depth != j->match + 1) {
        return;
    }
    seen_key(j, s, n);
    j->pending = j->npath > 0 && n == j->complen[j->match] &&
                 memcmp(s, j->comp[j->match], n) == 0;
}

/* The end of an object or array while following the path. */
static int
seek_end(struct etl_json *j)
{
    if (j->depth != j->match + 1) {
        return 0;
    }
    /* the object on the path ends without the next key */
    if (j->npath == 0) {
        etl_err_set(j->err, ETL_E_DATA, "the JSON is an object, not an array of records");
        etl_err_where(j->err, "line %lu", j->line);
        if (j->seen_len > 0 || j->seen_left > 0) {
            etl_err_detail(j->err, "its keys are %s", seen_list(j));
        } else {
            etl_err_detail(j->err, "it is empty");
        }
        etl_err_hint(j->err, "set records: to the path of the array");
        return json_failed(j), -1;
    }
    no_array(j);
    if (j->match == 0) {
        if (j->seen_len > 0 || j->seen_left > 0) {
            etl_err_detail(j->err, "the top-level object has keys %s", seen_list(j));
        } else {
            etl_err_detail(j->err, "the top-level object is empty");
        }
    } else if (j->seen_len > 0 || j->seen_left > 0) {
        etl_err_detail(j->err, "\"%.*s\" has keys %s", path_upto(j, j->match - 1),
                       j->path, seen_list(j));
    } else {
        etl_err_detail(j->err, "\"%.*s\" is empty", path_upto(j, j->match - 1), j->path);
    }
    return -1;
}

/* ---- yajl's callbacks ---------------------------------------------------- */

/* Characters (UTF-8 lead bytes) in p[0, n). */
static unsigned long
chars(const char *p, size_t n)
{
    unsigned long k = 0;

    for (size_t i = 0; i < n; i++) {
        k += ((unsigned char)p[i] & 0xc0) != 0x80;
    }
    return k;
}

/*
 * Every event: check the gap since the last one (yajl holds an unfinished
 * token whole) and note where this one ends.  0, or -1 failed.
 */
static int
event(struct etl_json *j)
{
    size_t off = yajl_get_bytes_consumed(j->h);
    uint64_t end = j->pos + off;

    if (end - j->ev_end > j->max) {
        etl_err_set(j->err, ETL_E_DATA, "JSON value longer than %zu bytes", j->max);
        etl_err_where(j->err, "line %lu", j->ev_line);
        return json_failed(j), -1;
    }
    if (j->piece != NULL && off > j->scan_off) {
        j->scan_col += chars(j->piece + j->scan_off, off - j->scan_off);
        j->scan_off = off;
    }
    j->ev_end = end;
    j->ev_line = j->line;
    j->ev_col = j->scan_col;
    return 0;
}

/* A value or the start of a container. */
static int
on_value(struct etl_json *j, enum json_value k, const char *s, size_t n)
{
    bool open = k == JV_OBJECT || k == JV_ARRAY;

    if (event(j) < 0) {
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
        if (seek_value(j, k) < 0) {
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
                set_bad(j, "array element is %s, not an object", value_names[k]);
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
    if (event(j) < 0) {
        return 0;
    }
    switch (j->phase) {
    case JP_SEEK:
        if (seek_end(j) < 0) {
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

    if (event(j) < 0) {
        return 0;
    }
    if (j->phase == JP_SEEK) {
        seek_key(j, (const char *)s, n);
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

static const yajl_callbacks json_callbacks = {
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

/* ---- feeding yajl ---------------------------------------------------------- */

/*
 * yajl found a syntax error: "invalid JSON: <its message>" at the byte it
 * stopped on.  yajl's offset is that byte for a lexical error (but for
 * "invalid char", where it is just past it), just past the token for a
 * parse error (0 when a token held from the last piece ended at the
 * piece's first byte), but for a bad token after a value in an
 * object it is the token's start, or 0 if the token began in an earlier
 * piece: there the error is placed where the value ended, so that the
 * place does not depend on how the text was cut.  'p' (n bytes) is the
 * piece it was parsing, NULL at the end of the text.
 */
static int
syntax_error(struct etl_json *j, const char *p, size_t n)
{
    unsigned char *ym = yajl_get_error(j->h, 0, NULL, 0);
    const char *m = ym != NULL ? (const char *)ym : "unknown error";
    bool lexical = strncmp(m, "lexical error: ", 15) == 0;
    size_t len, off = 0;
    unsigned long line = j->line, col = j->col;

    if (lexical) {
        m += 15;
    } else if (strncmp(m, "parse error: ", 13) == 0) {
        m += 13;
    }
    len = strlen(m);
    while (len > 0 && (m[len - 1] == '\n' || m[len - 1] == ' ' || m[len - 1] == '.')) {
        len--;
    }
    if (!lexical && strncmp(m, "after key and value", 19) == 0) {
        line = j->ev_line;
        col = j->ev_col;
    } else if (p != NULL) {
        off = yajl_get_bytes_consumed(j->h);
        if (off > n) {
            off = n;
        }
        if (lexical && strncmp(m, "invalid char ", 13) != 0) {
            col += chars(p, off);       /* the lexer stopped before the byte */
        } else if (off > 0) {
            col += chars(p, off - 1);
        } else if (col > 1) {
            col--;      /* a token held from the last piece ended it */
        }
    }
    etl_err_set(j->err, ETL_E_DATA, "invalid JSON: %.*s", (int)len, m);
    etl_err_where(j->err, "line %lu, column %lu", line, col);
    if (ym != NULL) {
        yajl_free_error(j->h, ym);
    }
    return json_failed(j), -1;
}

/* Make the parser of this file. */
static int
json_open(struct etl_json *j)
{
    yajl_alloc_funcs af = {
        .malloc = json_malloc, .realloc = json_realloc, .free = json_free, .ctx = j,
    };

    if (j->h != NULL) {
        return 0;
    }
    j->h = yajl_alloc(&json_callbacks, &af, j);
    if (j->h == NULL) {
        return etl_err_nomem(j->err);
    }
    return 0;
}

/* Parse p[0, n) in pieces that end at line ends.  0, or -1 failed. */
static int
json_parse(struct etl_json *j, const char *p, size_t n)
{
    while (n > 0) {
        const char *nl = memchr(p, '\n', n);
        size_t k = nl != NULL ? (size_t)(nl - p) + 1 : n;
        yajl_status st;

        j->piece = p;
        j->scan_off = 0;
        j->scan_col = j->col;
        st = yajl_parse(j->h, (const unsigned char *)p, k);
        j->piece = NULL;

        if (st == yajl_status_client_canceled) {
            return -1;
        }
        if (st != yajl_status_ok) {
            return syntax_error(j, p, k);
        }
        j->pos += k;
        if (nl != NULL) {
            j->line++;
            j->col = 1;
        } else {
            j->col += chars(p, k);
        }
        if (j->pos - j->ev_end > j->max) {
            etl_err_set(j->err, ETL_E_DATA, "JSON value longer than %zu bytes", j->max);
            etl_err_where(j->err, "line %lu", j->ev_line);
            return json_failed(j), -1;
        }
        p += k;
        n -= k;
    }
    return 0;
}

/* Enter a feed or finish: the error to fill, the parser. */
static int
json_enter(struct etl_json *j, struct etl_err *err)
{
    j->err = err;
    if (j->phase == JP_FAILED) {
        return etl_err_set(err, ETL_E_INTERNAL,
                           "the JSON reader is used after an error without a reset");
    }
    return json_open(j);
}

int
etl_json_feed(struct etl_json *j, const char *p, size_t n, struct etl_err *err)
{
    static const char bom[3] = {'\xef', '\xbb', '\xbf'};

    if (json_enter(j, err) < 0) {
        return -1;
    }
    while (j->bom >= 0 && n > 0) {
        int held = j->bom;

        if (*p == bom[held]) {
            p++;
            n--;
            j->bom = held + 1 < 3 ? held + 1 : -1;
            continue;
        }
        /* not a BOM: the bytes held are text */
        j->bom = -1;
        if (json_parse(j, bom, (size_t)held) < 0) {
            return -1;
        }
    }
    return json_parse(j, p, n);
}

int
etl_json_finish(struct etl_json *j, struct etl_err *err)
{
    static const char bom[3] = {'\xef', '\xbb', '\xbf'};

    if (json_enter(j, err) < 0) {
        return -1;
    }
    if (j->bom > 0 && json_parse(j, bom, (size_t)j->bom) < 0) {
        return -1;
    }
    j->bom = -1;
    j->piece = NULL;
    j->scan_col = j->col;
    switch (yajl_complete_parse(j->h)) {
    case yajl_status_ok:
        break;
    case yajl_status_client_canceled:
        return -1;
    default:
        return syntax_error(j, NULL, 0);
    }
    if (j->phase == JP_SEEK) {
        /* unreachable after a complete document; kept as a guard */
        no_array(j);
        return -1;
    }
    return 0;
}

/* ---- the reader as a chain link ------------------------------------------ */

struct etl_stage *
etl_json_link(struct etl_json *j)
{
    return &j->link;
}

/* A byte chunk of UTF-8 text: etl_json_feed. */
static int
json_link_process(struct etl_stage *st, struct etl_chunk *in, struct etl_err *err)
{
    if (in->type != NULL) {
        return etl_err_set(err, ETL_E_INTERNAL, "the JSON reader expects bytes, not %s",
                           etl_chunk_type_name(in));
    }
    return etl_json_feed(st->ctx, in->bytes, in->len, err);
}

/* The end of the text: etl_json_finish, then finish the next link. */
static int
json_link_finish(struct etl_stage *st, struct etl_verdict *v, struct etl_err *err)
{
    if (etl_json_finish(st->ctx, err) < 0) {
        return -1;
    }
    return etl_stage_finish_next(st, v, err);
}

const struct etl_stage_kind etl_json_link_kind = {
    .name = "json",
    .consumes = ETL_FLOW_FILE,
    .produces = ETL_FLOW_ROWS,
    .process = json_link_process,
    .finish = json_link_finish,
};
