/*
 * csv.c
 *    Streaming RFC 4180 tokenizer; see csv.h for the dialect, the bad-record
 *    rules and delimiter sniffing.
 *
 *    One state machine over the bytes (UTF-8 needs no special care: every
 *    byte that matters is ASCII, and no ASCII byte occurs inside a multi-byte
 *    character).  Runs of ordinary bytes are found with a 256-entry table and
 *    copied in one go.  The raw text of a record is copied lazily as spans of
 *    the input (at a record's end and at a chunk's end), the field texts as
 *    they are read; both buffers are reset, not freed, between records.
 *
 *    Fed by decode.c through stages/parse.c, which turns records into rows.
 */
#include "csv.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "buf.h"
#include "text.h"

enum csv_state {
    CS_START,       /* at the start of a field (maybe after spaces) */
    CS_UNQUOTED,    /* inside an unquoted field */
    CS_QUOTED,      /* inside a quoted field */
    CS_QUOTE,       /* a quote inside a quoted field: the end, or "" */
    CS_AFTER        /* spaces after the closing quote */
};

struct etl_csv {
    char cfg_delim;             /* as given; 0 to sniff */
    char delim;                 /* in use; 0 while sniffing */
    size_t max;                 /* longest record, bytes */
    struct etl_stage link;      /* the tokenizer as a link; next gets records */
    unsigned char special[256]; /* ends a run outside quotes */
    unsigned char qspecial[256];/* ends a run inside quotes */

    enum csv_state st;
    bool in_record;             /* bytes of a record are pending */
    bool skip_lf;               /* a CR ended the last record */
    bool q_cr;                  /* inside quotes, the last byte was CR */
    bool q_nl;                  /* inside quotes, the last byte was CR or LF */
    unsigned long line;         /* physical line of the next byte */
    unsigned long rec_line;     /* where the current record started */
    unsigned long quote_line;   /* where the current quoted field started */

    struct etl_buf raw;         /* the record's text */
    size_t rec_len;             /* bytes of the record before 'seg', uncut */
    bool raw_cut;               /* 'raw' was cut at 'max' */
    struct etl_buf fbuf;        /* field texts, each NUL-terminated */
    size_t fstart;              /* offset of the current field in fbuf */
    size_t *foff, *flen;        /* per field: offset in fbuf, length */
    const char **fptr;          /* per field: pointer, made at emit */
    size_t fcap, nfields;
    bool frozen;                /* stop storing fields (too long, too many) */
    bool toolong;
    bool bad_toolong;           /* 'bad' is the over-long reason: its span is added */
    bool is_bad;
    char bad[224];

    char *sbuf;                 /* ETL_CSV_SNIFF_BYTES, while sniffing */
    size_t sn;
};

/* ---- life cycle ------------------------------------------------------ */

/* Mark the bytes that stop a run of field text, for delimiter 'delim'. */
static void
csv_tables(struct etl_csv *c)
{
    memset(c->special, 0, sizeof(c->special));
    memset(c->qspecial, 0, sizeof(c->qspecial));
    c->special[(unsigned char)c->delim] = 1;
    c->special['"'] = c->special['\r'] = c->special['\n'] = 1;
    c->qspecial['"'] = c->qspecial['\r'] = c->qspecial['\n'] = 1;
}

struct etl_csv *
etl_csv_new(char delim, size_t max_record, struct etl_stage *next, struct etl_err *err)
{
    struct etl_csv *c;

    if (delim == '"' || delim == '\r' || delim == '\n' || delim == ' ' ||
        (unsigned char)delim >= 0x80) {
        etl_err_set(err, ETL_E_INTERNAL, "invalid CSV delimiter 0x%02x",
                    (unsigned char)delim);
        return NULL;
    }
    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        etl_err_nomem(err);
        return NULL;
    }
    c->cfg_delim = delim;
    c->max = max_record > 0 ? max_record : ETL_CSV_MAX_RECORD;
    c->link.kind = &etl_csv_link_kind;
    c->link.name = (char *)"csv";
    c->link.ctx = c;
    c->link.next = next;
    etl_buf_init(&c->raw, c->max);
    etl_buf_init(&c->fbuf, c->max + ETL_CSV_MAX_FIELDS + 1);
    etl_csv_reset(c);
    return c;
}

void
etl_csv_free(struct etl_csv *c)
{
    if (c == NULL) {
        return;
    }
    etl_buf_free(&c->raw);
    etl_buf_free(&c->fbuf);
    free(c->foff);
    free(c->flen);
    free(c->fptr);
    free(c->sbuf);
    free(c);
}

/* Forget the current record, keep the storage. */
static void
record_reset(struct etl_csv *c)
{
    etl_buf_reset(&c->raw);
    etl_buf_reset(&c->fbuf);
    c->rec_len = 0;
    c->raw_cut = false;
    c->fstart = 0;
    c->nfields = 0;
    c->frozen = false;
    c->toolong = false;
    c->bad_toolong = false;
    c->is_bad = false;
    c->bad[0] = '\0';
    c->st = CS_START;
    c->in_record = false;
    c->rec_line = c->line;
}

void
etl_csv_reset(struct etl_csv *c)
{
    c->delim = c->cfg_delim;
    if (c->delim != 0) {
        csv_tables(c);
    }
    c->skip_lf = false;
    c->q_cr = false;
    c->line = 1;
    c->sn = 0;
    record_reset(c);
}

char
etl_csv_delimiter(const struct etl_csv *c)
{
    return c->delim;
}

unsigned long
etl_csv_line(const struct etl_csv *c)
{
    unsigned long line = c->line;

    if (c->delim == 0) {
        /* sniffing: the held text has not been counted yet */
        for (size_t i = 0; i < c->sn; i++) {
            if (c->sbuf[i] == '\r' ||
                (c->sbuf[i] == '\n' && (i == 0 || c->sbuf[i - 1] != '\r'))) {
                line++;
            }
        }
    }
    return line;
}

size_t
etl_csv_footprint(const struct etl_csv *c)
{
    return sizeof(*c) + c->raw.cap + c->fbuf.cap +
           c->fcap * (2 * sizeof(size_t) + sizeof(char *)) +
           (c->sbuf != NULL ? ETL_CSV_SNIFF_BYTES : 0);
}

/* ---- record building ------------------------------------------------- */

/* Note why the record is bad; the first reason wins. */
static void ETL_PRINTF(2, 3)
set_bad(struct etl_csv *c, const char *fmt, ...)
{
    va_list ap;

    if (c->is_bad) {
        return;
    }
    c->is_bad = true;
    va_start(ap, fmt);
    vsnprintf(c->bad, sizeof(c->bad), fmt, ap);
    va_end(ap);
}

static void
set_toolong(struct etl_csv *c)
{
    if (!c->toolong) {
        c->toolong = true;
        c->frozen = true;
        c->bad_toolong = !c->is_bad;
        set_bad(c, "record longer than %zu bytes", c->max);
    }
}

/*
 * Before a malformation found at 'pos' bytes into the record: a record
 * already past the limit there is too long first, whether or not the raw
 * text has caught up (it is appended per piece of input), so that the
 * reason does not depend on how the input was cut.
 */
static void
toolong_before(struct etl_csv *c, size_t pos)
{
    if (pos > c->max) {
        set_toolong(c);
    }
}

/* "1 line", "2 lines". */
static const char *
lines_word(unsigned long n)
{
    return n == 1 ? "line" : "lines";
}

/*
 * The record ends on physical line 'last' (a line end outside quotes, or
 * the end of the text outside a quoted field): an over-long record that
 * swallowed lines says which.
 */
static void
span_toolong(struct etl_csv *c, unsigned long last)
{
    if (c->bad_toolong && last > c->rec_line) {
        snprintf(c->bad, sizeof(c->bad),
                 "record longer than %zu bytes starting at line %lu runs to line %lu, "
                 "%lu lines", c->max, c->rec_line, last, last - c->rec_line + 1);
    }
}

/*
 * The text ends inside a quoted field: the record is bad for that, and,
 * when it swallowed lines, says how many physical lines it spans (the last
 * line end, inside the quotes, starts no line of its own).
 */
static void
span_unterminated(struct etl_csv *c)
{
    unsigned long last = c->q_nl && c->line > c->quote_line ? c->line - 1 : c->line;
    unsigned long nrec = last - c->rec_line + 1, nq = last - c->quote_line + 1;

    if (nrec == 1) {
        set_bad(c, "unterminated quoted field starting at line %lu", c->quote_line);
    } else if (c->bad_toolong) {
        snprintf(c->bad, sizeof(c->bad),
                 "record longer than %zu bytes starting at line %lu runs to the end of "
                 "the file, %lu %s, in an unterminated quoted field starting at line %lu",
                 c->max, c->rec_line, nrec, lines_word(nrec), c->quote_line);
    } else if (c->rec_line == c->quote_line) {
        set_bad(c, "unterminated quoted field starting at line %lu runs to the end of the "
                   "file, %lu %s", c->quote_line, nq, lines_word(nq));
    } else {
        set_bad(c, "unterminated quoted field starting at line %lu runs to the end of the "
                   "file, %lu %s; the record starts at line %lu, %lu lines",
                c->quote_line, nq, lines_word(nq), c->rec_line, nrec);
    }
}

/*
 * The column (in characters, from 1) of the byte at 'q', which lies in the
 * current chunk after 'seg'; text before 'seg' is in 'raw'.  Only called
 * for error messages: O(length of the line).
 */
static unsigned long
column_at(const struct etl_csv *c, const char *seg, const char *q)
{
    unsigned long col = 1;

    while (q > seg) {
        q--;
        if (*q == '\n' || *q == '\r') {
            return col;
        }
        if (((unsigned char)*q & 0xc0) != 0x80) {
            col++;
        }
    }
    for (size_t i = c->raw.len; i > 0; i--) {
        char ch = c->raw.data[i - 1];

        if (ch == '\n' || ch == '\r') {
            return col;
        }
        if (((unsigned char)ch & 0xc0) != 0x80) {
            col++;
        }
    }
    return col;
}

/* Drop an unfinished UTF-8 character at the end of 'b'. */
static void
utf8_trim_tail(struct etl_buf *b)
{
    size_t k = etl_text_unfinished(b->data, b->len);

    if (k > 0) {
        b->len -= k;
        b->data[b->len] = '\0';
    }
}

/* Append to the raw text, cutting at 'max' on a character boundary. */
static int
raw_add(struct etl_csv *c, const char *p, size_t n, struct etl_err *err)
{
    size_t room;

    if (n == 0) {
        return 0;
    }
    c->rec_len += n;
    if (c->raw_cut) {
        return 0;
    }
    room = c->max - c->raw.len;
    if (n > room) {
        if (etl_buf_add(&c->raw, p, room, err) < 0) {
            return -1;
        }
        if (c->raw.len > 0) {
            utf8_trim_tail(&c->raw);
        }
        c->raw_cut = true;
        set_toolong(c);
        return 0;
    }
    return etl_buf_add(&c->raw, p, n, err);
}

/* Append to the current field's text. */
static int
fld_add(struct etl_csv *c, const char *p, size_t n, struct etl_err *err)
{
    if (c->frozen) {
        return 0;
    }
    if (n > c->max - (c->fbuf.len - c->nfields)) {
        set_toolong(c);
        return 0;
    }
    return etl_buf_add(&c->fbuf, p, n, err);
}

/*
 * The current field is complete; 'pos' is where it ends in the record.  A
 * field that ends past the limit is dropped, so that which fields survive in
 * an over-long record does not depend on how the input was cut.
 */
static int
field_end(struct etl_csv *c, size_t pos, struct etl_err *err)
{
    if (pos > c->max) {
        set_toolong(c);
    }
    if (c->frozen) {
        return 0;
    }
    if (c->nfields == ETL_CSV_MAX_FIELDS) {
        set_bad(c, "more than %d fields", ETL_CSV_MAX_FIELDS);
        c->frozen = true;
        return 0;
    }
    if (c->nfields == c->fcap) {
        size_t cap = c->fcap ? c->fcap * 2 : 16;
        size_t *off, *len;
        const char **ptr;

        if (cap > ETL_CSV_MAX_FIELDS) {
            cap = ETL_CSV_MAX_FIELDS;
        }
        off = realloc(c->foff, cap * sizeof(*off));
        if (off != NULL) {
            c->foff = off;
        }
        len = realloc(c->flen, cap * sizeof(*len));
        if (len != NULL) {
            c->flen = len;
        }
        ptr = realloc(c->fptr, cap * sizeof(*ptr));
        if (ptr != NULL) {
            c->fptr = ptr;
        }
        if (off == NULL || len == NULL || ptr == NULL) {
            return etl_err_nomem(err);
        }
        c->fcap = cap;
    }
    if (etl_buf_addc(&c->fbuf, '\0', err) < 0) {
        return -1;
    }
    c->foff[c->nfields] = c->fstart;
    c->flen[c->nfields] = c->fbuf.len - 1 - c->fstart;
    c->nfields++;
    c->fstart = c->fbuf.len;
    return 0;
}

/* The record is complete: push it to the next link and start the next one. */
static int
record_end(struct etl_csv *c, struct etl_err *err)
{
    struct etl_csv_record rec;
    struct etl_chunk chunk = { .type = &etl_chunk_record_type, .data = &rec };

    if (field_end(c, c->rec_len, err) < 0) {
        return -1;
    }
    for (size_t i = 0; i < c->nfields; i++) {
        c->fptr[i] = c->fbuf.data + c->foff[i];
    }
    rec.line = c->rec_line;
    rec.raw = c->raw.data != NULL ? c->raw.data : "";
    rec.raw_len = c->raw.len;
    rec.fields = c->fptr;
    rec.lens = c->flen;
    rec.nfields = c->nfields;
    rec.bad = c->is_bad ? c->bad : NULL;
    chunk.len = rec.nfields;
    if (etl_stage_push(&c->link, &chunk, err) < 0) {
        return -1;
    }
    record_reset(c);
    return 0;
}

/* A line end outside quotes at 'q'; the raw span is [seg, q). */
static int
line_end(struct etl_csv *c, const char *seg, const char *q, struct etl_err *err)
{
    toolong_before(c, c->rec_len + (size_t)(q - seg));
    span_toolong(c, c->line);
    if (raw_add(c, seg, (size_t)(q - seg), err) < 0 || record_end(c, err) < 0) {
        return -1;
    }
    if (*q == '\r') {
        c->skip_lf = true;
    }
    c->line++;
    c->rec_line = c->line;
    return 0;
}

/* ---- the state machine ----------------------------------------------- */

/*
 * CS_START at 'q': a space is kept (dropped if a quote follows), a quote
 * opens a quoted field, anything else starts an unquoted field (then 'q'
 * is not consumed: the caller goes on in CS_UNQUOTED).  Returns the next
 * byte to read, NULL with 'err' set.
 */
static const char *
step_start(struct etl_csv *c, const char *q, struct etl_err *err)
{
    if (*q == ' ') {
        return fld_add(c, q, 1, err) < 0 ? NULL : q + 1;
    }
    if (*q == '"') {
        /* a quoted field: drop the spaces before it */
        if (!c->frozen) {
            c->fbuf.len = c->fstart;
            if (c->fbuf.data != NULL) {
                c->fbuf.data[c->fstart] = '\0';
            }
        }
        c->st = CS_QUOTED;
        c->quote_line = c->line;
        c->q_cr = false;
        c->q_nl = false;
        return q + 1;
    }
    c->st = CS_UNQUOTED;
    return q;
}

/*
 * CS_UNQUOTED at 'q': a run of field text, then the byte that ended it: a
 * delimiter, a stray quote (kept, the record marked bad) or a line end
 * (*seg moves past it).  Returns the next byte to read, NULL on error.
 */
static const char *
step_unquoted(struct etl_csv *c, const char *q, const char *end, const char **seg,
              struct etl_err *err)
{
    const char *r = q;
    unsigned char ch;

    while (r < end && !c->special[(unsigned char)*r]) {
        r++;
    }
    if (r > q) {
        if (fld_add(c, q, (size_t)(r - q), err) < 0) {
            return NULL;
        }
        q = r;
        if (q == end) {
            return q;
        }
    }
    ch = (unsigned char)*q;
    if (ch == (unsigned char)c->delim) {
        if (field_end(c, c->rec_len + (size_t)(q - *seg), err) < 0) {
            return NULL;
        }
        c->st = CS_START;
        return q + 1;
    }
    if (ch == '"') {
        toolong_before(c, c->rec_len + (size_t)(q - *seg));
        set_bad(c, "stray quote in unquoted field at line %lu, column %lu",
                c->line, column_at(c, *seg, q));
        return fld_add(c, q, 1, err) < 0 ? NULL : q + 1;
    }
    if (line_end(c, *seg, q, err) < 0) {
        return NULL;
    }
    *seg = q + 1;
    return q + 1;
}

/*
 * CS_QUOTED at 'q': a run of quoted text, then a quote (the end, or the
 * first of "") or a line end, which is field text and counts a line.
 * Returns the next byte to read, NULL on error.
 */
static const char *
step_quoted(struct etl_csv *c, const char *q, const char *end, struct etl_err *err)
{
    const char *r = q;
    unsigned char ch;

    while (r < end && !c->qspecial[(unsigned char)*r]) {
        r++;
    }
    if (r > q) {
        if (fld_add(c, q, (size_t)(r - q), err) < 0) {
            return NULL;
        }
        c->q_cr = false;
        c->q_nl = false;
        q = r;
        if (q == end) {
            return q;
        }
    }
    ch = (unsigned char)*q;
    if (ch == '"') {
        c->st = CS_QUOTE;
    } else {
        if (ch == '\r' || !c->q_cr) {
            c->line++;
        }
        if (fld_add(c, q, 1, err) < 0) {
            return NULL;
        }
    }
    c->q_cr = ch == '\r';
    c->q_nl = ch != '"';
    return q + 1;
}

/*
 * CS_QUOTE or CS_AFTER at 'q', after a closing quote: "" is a quote of the
 * text; spaces are skipped; a delimiter or line end ends the field; any
 * other byte marks the record bad and is read as unquoted text.  Returns
 * the next byte to read, NULL on error.
 */
static const char *
step_after(struct etl_csv *c, const char *q, const char **seg, struct etl_err *err)
{
    unsigned char ch = (unsigned char)*q;

    if (c->st == CS_QUOTE && ch == '"') {
        if (fld_add(c, q, 1, err) < 0) {
            return NULL;
        }
        c->st = CS_QUOTED;
        return q + 1;
    }
    if (ch == ' ') {
        c->st = CS_AFTER;
        return q + 1;
    }
    if (ch == (unsigned char)c->delim) {
        if (field_end(c, c->rec_len + (size_t)(q - *seg), err) < 0) {
            return NULL;
        }
        c->st = CS_START;
        return q + 1;
    }
    if (ch == '\r' || ch == '\n') {
        if (line_end(c, *seg, q, err) < 0) {
            return NULL;
        }
        *seg = q + 1;
        return q + 1;
    }
    toolong_before(c, c->rec_len + (size_t)(q - *seg));
    set_bad(c, "unexpected character after closing quote at line %lu, column %lu",
            c->line, column_at(c, *seg, q));
    c->st = CS_UNQUOTED;
    return q;
}

/*
 * Tokenize [p, +n): one step of the state machine per special byte or run
 * of ordinary ones; the raw text since the last record's end is kept at
 * the end.  Returns 0, or -1 with 'err' set (a record's next link, memory).
 */
static int
csv_run(struct etl_csv *c, const char *p, size_t n, struct etl_err *err)
{
    const char *q = p, *end = p + n, *seg = p;

    while (q < end) {
        if (c->skip_lf) {
            c->skip_lf = false;
            if (*q == '\n') {
                seg = ++q;
                continue;
            }
        }
        c->in_record = true;
        switch (c->st) {
        case CS_START:
            q = step_start(c, q, err);
            break;
        case CS_UNQUOTED:
            q = step_unquoted(c, q, end, &seg, err);
            break;
        case CS_QUOTED:
            q = step_quoted(c, q, end, err);
            break;
        case CS_QUOTE:
        case CS_AFTER:
            q = step_after(c, q, &seg, err);
            break;
        }
        if (q == NULL) {
            return -1;
        }
    }
    return raw_add(c, seg, (size_t)(end - seg), err);
}

/* ---- delimiter sniffing ---------------------------------------------- */

/*
 * SDMX-CSV names its delimiter: the byte after DATAFLOW (1.0) or after
 * STRUCTURE or STRUCTURE[...] (2.0) at the start of the first non-blank
 * line, if it is one of , \t ;.  0 when the held text does not start so.
 */
static char
sniff_sdmx(const struct etl_csv *c)
{
    static const char *const heads[2] = {"structure", "dataflow"};
    size_t i = 0, k;

    if (c->sn == 0) {
        return 0;               /* an empty file: sbuf may not exist yet */
    }
    while ((k = etl_text_blank(c->sbuf + i, c->sbuf + c->sn)) > 0) {
        i += k;
    }
    for (int h = 0; h < 2; h++) {
        size_t n = strlen(heads[h]), j = i + n;

        if (c->sn - i < n || strncasecmp(c->sbuf + i, heads[h], n) != 0) {
            continue;
        }
        if (h == 0 && j < c->sn && c->sbuf[j] == '[') {
            while (j < c->sn && c->sbuf[j] != ']' && c->sbuf[j] != '\n') {
                j++;
            }
            if (j == c->sn || c->sbuf[j] != ']') {
                return 0;
            }
            j++;
        }
        if (j < c->sn && (c->sbuf[j] == ',' || c->sbuf[j] == '\t' ||
                          c->sbuf[j] == ';')) {
            return c->sbuf[j];
        }
    }
    return 0;
}

/* Choose the delimiter from the held text (see csv.h). */
static void
sniff_decide(struct etl_csv *c, bool eof)
{
    static const char cand[3] = {',', '\t', ';'};
    size_t cnt[3] = {0, 0, 0}, first[3] = {0, 0, 0};
    bool same[3] = {true, true, true};
    size_t nrec = 0, best = 0;
    bool inq = false, blank = true;

    if ((c->delim = sniff_sdmx(c)) != 0) {
        csv_tables(c);
        return;
    }
    for (size_t i = 0; i <= c->sn && nrec < ETL_CSV_SNIFF_RECORDS; i++) {
        bool at_end = i == c->sn;
        char ch = at_end ? '\n' : c->sbuf[i];

        if (at_end && !eof && nrec > 0) {
            break;      /* a record cut by the window: not a sample */
        }
        if (ch == '"') {
            inq = !inq;
        }
        if (inq && !at_end) {
            blank = false;
            continue;
        }
        if (ch == '\n' || ch == '\r') {
            if (!blank) {
                for (int j = 0; j < 3; j++) {
                    if (nrec == 0) {
                        first[j] = cnt[j] + 1;
                    } else if (cnt[j] + 1 != first[j]) {
                        same[j] = false;
                    }
                }
                nrec++;
            }
            memset(cnt, 0, sizeof(cnt));
            blank = true;
            inq = false;
            continue;
        }
        if (ch != ' ' && ch != '\t') {
            blank = false;
        }
        for (int j = 0; j < 3; j++) {
            if (ch == cand[j]) {
                cnt[j]++;
                blank = false;
            }
        }
    }
    c->delim = ',';
    for (int j = 0; j < 3; j++) {
        if (nrec > 0 && same[j] && first[j] > 1) {
            c->delim = cand[j];
            csv_tables(c);
            return;
        }
    }
    for (int j = 1; j < 3; j++) {
        if (first[j] > first[best]) {
            best = (size_t)j;
        }
    }
    if (first[best] > 1) {
        c->delim = cand[best];
    }
    csv_tables(c);
}

int
etl_csv_feed(struct etl_csv *c, const char *p, size_t n, struct etl_err *err)
{
    if (c->delim == 0) {
        size_t take = ETL_CSV_SNIFF_BYTES - c->sn;

        if (c->sbuf == NULL) {
            c->sbuf = malloc(ETL_CSV_SNIFF_BYTES);
            if (c->sbuf == NULL) {
                return etl_err_nomem(err);
            }
        }
        if (take > n) {
            take = n;
        }
        memcpy(c->sbuf + c->sn, p, take);
        c->sn += take;
        p += take;
        n -= take;
        if (c->sn < ETL_CSV_SNIFF_BYTES) {
            return 0;
        }
        sniff_decide(c, false);
        if (csv_run(c, c->sbuf, c->sn, err) < 0) {
            return -1;
        }
        c->sn = 0;
    }
    return csv_run(c, p, n, err);
}

int
etl_csv_finish(struct etl_csv *c, struct etl_err *err)
{
    if (c->delim == 0) {
        sniff_decide(c, true);
        if (c->sn > 0 && csv_run(c, c->sbuf, c->sn, err) < 0) {
            return -1;
        }
        c->sn = 0;
    }
    c->skip_lf = false;
    if (!c->in_record) {
        return 0;
    }
    if (c->st == CS_QUOTED) {
        span_unterminated(c);
    } else {
        span_toolong(c, c->line);
    }
    return record_end(c, err);
}

/* ---- the tokenizer as a chain link ------------------------------------ */

const struct etl_chunk_type etl_chunk_record_type = { .name = "records" };

struct etl_stage *
etl_csv_link(struct etl_csv *c)
{
    return &c->link;
}

/* A byte chunk of UTF-8 text: etl_csv_feed. */
static int
csv_link_process(struct etl_stage *st, struct etl_chunk *in, struct etl_err *err)
{
    if (in->type != NULL) {
        return etl_err_set(err, ETL_E_INTERNAL, "the CSV tokenizer expects bytes, not %s",
                           etl_chunk_type_name(in));
    }
    return etl_csv_feed(st->ctx, in->bytes, in->len, err);
}

/* The end of the text: etl_csv_finish, then finish the next link. */
static int
csv_link_finish(struct etl_stage *st, struct etl_verdict *v, struct etl_err *err)
{
    if (etl_csv_finish(st->ctx, err) < 0) {
        return -1;
    }
    return etl_stage_finish_next(st, v, err);
}

const struct etl_stage_kind etl_csv_link_kind = {
    .name = "csv",
    .consumes = ETL_FLOW_FILE,
    .produces = ETL_FLOW_ROWS,
    .process = csv_link_process,
    .finish = csv_link_finish,
};
