/*
 * json.c
 *    Streaming reader of JSON record lists; see json.h for what it accepts,
 *    the records it makes and its errors.  Here: life cycle, feeding yajl,
 *    the place of each event, following the path to the records array,
 *    the reader as a chain link.
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
 *    Next door: json_record.c (the callbacks and the record they build),
 *    json_int.h (what the two share), csv.c (the record type, the same job
 *    for CSV), decode.c (feeds it UTF-8 text).
 */
#include "json_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "text.h"

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
int
json_seek_value(struct etl_json *j, enum json_value k)
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
                        json_value_names[k]);
            etl_err_where(j->err, "line %lu", j->line);
            return json_failed(j), -1;
        }
        no_array(j);
        etl_err_detail(j->err, "the JSON is %s, not an object", json_value_names[k]);
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
        etl_err_detail(j->err, "\"%s\" is %s, not an array", j->path,
                       json_value_names[k]);
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
                   j->path, json_value_names[k]);
    return -1;
}

/* A key while following the path. */
void
json_seek_key(struct etl_json *j, const char *s, size_t n)
{
    if (j->depth != j->match + 1) {
        return;
    }
    seen_key(j, s, n);
    j->pending = j->npath > 0 && n == j->complen[j->match] &&
                 memcmp(s, j->comp[j->match], n) == 0;
}

/* The end of an object or array while following the path. */
int
json_seek_end(struct etl_json *j)
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

/* ---- where yajl is ------------------------------------------------------ */

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
int
json_event(struct etl_json *j)
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
