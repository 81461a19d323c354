/*
 * json_int.h
 *    Private to the JSON reader's two files: json.c (life cycle, feeding
 *    yajl and the place of its events, following the records path, the
 *    link) and json_record.c (yajl's callbacks: one record per element of
 *    the records array, written back as raw text, the header first).  See
 *    json.h.
 */
#ifndef ETL_JSON_INT_H
#define ETL_JSON_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_parse.h>

#include "buf.h"
#include "json.h"

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

/*
 * The reader fails: later calls are refused until a reset.  Returns 0, what
 * a yajl callback returns to stop the parser.
 */
static inline int
json_failed(struct etl_json *j)
{
    j->phase = JP_FAILED;
    return 0;
}

/* json.c: every event; checks the gap since the last one.  0, or -1 failed. */
int json_event(struct etl_json *j);
/* json.c: a value while following the path.  0, or -1 failed. */
int json_seek_value(struct etl_json *j, enum json_value k);
/* json.c: a key while following the path. */
void json_seek_key(struct etl_json *j, const char *s, size_t n);
/* json.c: the end of an object or array while following the path.  0, or -1. */
int json_seek_end(struct etl_json *j);

/* json_record.c: "a string", "a number", ... indexed by enum json_value. */
extern const char *const json_value_names[];
/* json_record.c: yajl's callbacks; their context is the struct etl_json. */
extern const yajl_callbacks json_callbacks;

#endif
