/*
 * xlsx.c
 *    Streaming .xlsx sheet reader: minizip inflates the members in blocks,
 *    expat parses them as they come (SAX), cell.c builds the records.  See
 *    xlsx.h for what is read, the record of a row, bad records and errors.
 *
 *    One parser per member, its handlers chosen by the pass: workbook,
 *    relationships, shared strings, merged ranges, rows.  A handler that
 *    fails (the next link's error, no memory) records it in 'failed' and
 *    stops expat; the error is then returned as it is.  Element names are
 *    compared without their prefix ("x:row" is "row"), as some writers
 *    prefix the spreadsheetml namespace.
 */
#include "xlsx.h"

#include <errno.h>
#include <expat.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unzip.h>
#include "buf.h"
#include "cell.h"
#include "csv.h"
#include "text.h"

struct xlsx_sheet {
    char *name;                 /* UTF-8, as in workbook.xml */
    char *rid;                  /* its relationship id */
    char *member;               /* "xl/worksheets/sheet1.xml", from the rels */
    bool chart;                 /* a chart sheet, no cells */
};

struct xlsx_merge {
    unsigned long r1, r2;       /* rows, from 1 */
    unsigned c1, c2;            /* columns, from 0 */
    char *val;                  /* the top-left text, once its row is read */
    size_t vlen;
};

enum cell_type { T_N, T_S, T_STR, T_INLINE, T_B, T_E, T_D, T_UNKNOWN };

struct etl_xlsx {
    struct etl_stage *next;
    unzFile zf;
    char *block;                /* ETL_XLSX_BLOCK */
    size_t max;                 /* longest record of this read */

    /* the workbook */
    struct xlsx_sheet *sheets;
    size_t nsheets, sheets_cap;
    char *sst_member;           /* from the rels, or NULL */

    /* the shared strings: texts NUL-terminated in 'sst', offsets in 'soff' */
    char *sst;
    size_t sst_len, sst_cap;
    size_t *soff;
    size_t nsst, soff_cap;

    /* merged ranges, sorted by first row; the ones that cover the row */
    struct xlsx_merge *merges;
    size_t nmerges, merges_cap;
    size_t merge_next;          /* first range not yet active */
    size_t *active;             /* indexes into merges */
    size_t nactive;

    /* parse state */
    XML_Parser xp;
    const char *member;         /* the member being parsed */
    struct etl_err *err;
    bool failed;                /* a handler failed: 'err' is set */
    struct etl_buf text;        /* the string or cell being read */
    size_t text_max;            /* longest text kept */
    bool text_over;             /* text passed text_max */
    bool collect;               /* character data goes to 'text' */
    int in_si, in_rph, in_is;
    bool in_row, in_c, skip_c;
    unsigned long row_num;      /* the current or last row */
    unsigned col;               /* the current cell's column */
    unsigned col_next;          /* the column of a cell without r */
    enum cell_type type;
    char type_name[16];
    struct etl_cell_row row;
};

/* ---- life cycle ------------------------------------------------------ */

struct etl_xlsx *
etl_xlsx_new(struct etl_stage *next, struct etl_err *err)
{
    struct etl_xlsx *x = calloc(1, sizeof(*x));

    if (x == NULL) {
        etl_err_nomem(err);
        return NULL;
    }
    x->block = malloc(ETL_XLSX_BLOCK);
    if (x->block == NULL) {
        free(x);
        etl_err_nomem(err);
        return NULL;
    }
    x->next = next;
    etl_buf_init(&x->text, ETL_XLSX_MAX_SHARED_BYTES);
    etl_cell_row_init(&x->row, ETL_CSV_MAX_RECORD);
    return x;
}

/* Drop what belongs to one workbook: sheets, strings, ranges. */
static void
xlsx_forget(struct etl_xlsx *x)
{
    for (size_t i = 0; i < x->nsheets; i++) {
        free(x->sheets[i].name);
        free(x->sheets[i].rid);
        free(x->sheets[i].member);
    }
    free(x->sheets);
    x->sheets = NULL;
    x->nsheets = x->sheets_cap = 0;
    free(x->sst_member);
    x->sst_member = NULL;
    free(x->sst);
    free(x->soff);
    x->sst = NULL;
    x->soff = NULL;
    x->sst_len = x->sst_cap = x->nsst = x->soff_cap = 0;
    for (size_t i = 0; i < x->nmerges; i++) {
        free(x->merges[i].val);
    }
    free(x->merges);
    free(x->active);
    x->merges = NULL;
    x->active = NULL;
    x->nmerges = x->merges_cap = x->merge_next = x->nactive = 0;
    if (x->zf != NULL) {
        unzClose(x->zf);
        x->zf = NULL;
    }
}

void
etl_xlsx_free(struct etl_xlsx *x)
{
    if (x == NULL) {
        return;
    }
    xlsx_forget(x);
    etl_buf_free(&x->text);
    etl_cell_row_free(&x->row);
    free(x->block);
    free(x);
}

bool
etl_xlsx_magic(const char *p, size_t n)
{
    return n >= 4 && memcmp(p, "PK\3\4", 4) == 0;
}

size_t
etl_xlsx_footprint(const struct etl_xlsx *x)
{
    size_t n = sizeof(*x) + ETL_XLSX_BLOCK + x->text.cap +
               etl_cell_row_footprint(&x->row) +
               x->sheets_cap * sizeof(*x->sheets) +
               x->sst_cap + x->soff_cap * sizeof(*x->soff) +
               x->merges_cap * (sizeof(*x->merges) + sizeof(*x->active));

    for (size_t i = 0; i < x->nmerges; i++) {
        n += x->merges[i].val != NULL ? x->merges[i].vlen + 1 : 0;
    }
    return n;
}

/* ---- helpers ---------------------------------------------------------- */

/* The name without its namespace prefix. */
static const char *
local(const char *name)
{
    const char *c = strrchr(name, ':');

    return c != NULL ? c + 1 : name;
}

/* The value of attribute 'name' (prefix ignored), or NULL. */
static const char *
attr(const char **atts, const char *name)
{
    for (size_t i = 0; atts[i] != NULL; i += 2) {
        if (strcmp(local(atts[i]), name) == 0) {
            return atts[i + 1];
        }
    }
    return NULL;
}

/* A handler failed with 'err' set: stop the parser. */
static void
fail(struct etl_xlsx *x)
{
    x->failed = true;
    XML_StopParser(x->xp, XML_FALSE);
}

static void
nomem(struct etl_xlsx *x)
{
    etl_err_nomem(x->err);
    fail(x);
}

static void
text_reset(struct etl_xlsx *x)
{
    etl_buf_reset(&x->text);
    x->text_over = false;
}

/* Character data: kept while collecting, up to text_max bytes (+1). */
static void XMLCALL
on_text(void *ud, const XML_Char *s, int len)
{
    struct etl_xlsx *x = ud;

    if (x->failed || !x->collect || len <= 0) {
        return;
    }
    if (x->text_over) {
        return;
    }
    if ((size_t)len > x->text_max - x->text.len) {
        /* one byte more than the limit: the row builder cuts it there */
        len = (int)(x->text_max + 1 - x->text.len);
        x->text_over = true;
    }
    if (etl_buf_add(&x->text, s, (size_t)len, x->err) < 0) {
        fail(x);
    }
}

static int
hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* The code unit of an "_xHHHH_" escape at p (n bytes left), or -1. */
static long
escape_at(const char *p, size_t n)
{
    long u = 0;

    if (n < 7 || p[0] != '_' || p[1] != 'x' || p[6] != '_') {
        return -1;
    }
    for (int i = 2; i < 6; i++) {
        int h = hexval(p[i]);

        if (h < 0) {
            return -1;
        }
        u = u * 16 + h;
    }
    return u;
}

static size_t
utf8_put(char *out, unsigned long u)
{
    if (u < 0x80) {
        out[0] = (char)u;
        return 1;
    }
    if (u < 0x800) {
        out[0] = (char)(0xc0 | (u >> 6));
        out[1] = (char)(0x80 | (u & 0x3f));
        return 2;
    }
    if (u < 0x10000) {
        out[0] = (char)(0xe0 | (u >> 12));
        out[1] = (char)(0x80 | ((u >> 6) & 0x3f));
        out[2] = (char)(0x80 | (u & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (u >> 18));
    out[1] = (char)(0x80 | ((u >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((u >> 6) & 0x3f));
    out[3] = (char)(0x80 | (u & 0x3f));
    return 4;
}

/*
 * Decode the ST_Xstring escapes of OOXML in place: "_xHHHH_" is UTF-16
 * code unit HHHH (a surrogate pair is two escapes); "_x005F_" is how a
 * literal '_' before "xHHHH_" is written.  NUL and lone surrogates are
 * left as written.  Returns the new length (never longer).
 */
static size_t
unescape(char *s, size_t n)
{
    size_t i = 0, k = 0;

    if (memchr(s, '_', n) == NULL) {
        return n;
    }
    while (i < n) {
        long u = escape_at(s + i, n - i);

        if (u > 0 && (u < 0xd800 || u > 0xdfff)) {
            k += utf8_put(s + k, (unsigned long)u);
            i += 7;
            continue;
        }
        if (u >= 0xd800 && u <= 0xdbff) {
            long lo = escape_at(s + i + 7, n - i - 7);

            if (lo >= 0xdc00 && lo <= 0xdfff) {
                k += utf8_put(s + k, 0x10000 + (((unsigned long)u - 0xd800) << 10) +
                                     ((unsigned long)lo - 0xdc00));
                i += 14;
                continue;
            }
        }
        s[k++] = s[i++];
    }
    s[k] = '\0';
    return k;
}

/*
 * A cell reference "AB12": its 0-based column into *col.  The row digits
 * may be absent.  false for anything else, or a column past XFD.
 */
static bool
parse_ref(const char *s, unsigned *col, unsigned long *row)
{
    unsigned long c = 0, r = 0;
    size_t i = 0;

    while (s[i] >= 'A' && s[i] <= 'Z') {
        c = c * 26 + (unsigned long)(s[i] - 'A' + 1);
        if (c > ETL_CELL_MAX_COLS) {
            return false;
        }
        i++;
    }
    if (i == 0) {
        return false;
    }
    if (s[i] == '$') {
        i++;
    }
    while (s[i] >= '0' && s[i] <= '9') {
        r = r * 10 + (unsigned long)(s[i] - '0');
        if (r > 100000000) {
            return false;
        }
        i++;
    }
    if (s[i] != '\0') {
        return false;
    }
    *col = (unsigned)(c - 1);
    if (row != NULL) {
        *row = r;
    }
    return true;
}

/* A decimal number without sign, within 'max'; false otherwise. */
static bool
parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
    unsigned long v = 0;

    if (*s == '\0') {
        return false;
    }
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9') {
            return false;
        }
        v = v * 10 + (unsigned long)(*s - '0');
        if (v > max) {
            return false;
        }
    }
    *out = v;
    return true;
}

static char *
xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);

    if (p != NULL) {
        memcpy(p, s, n);
    }
    return p;
}

/* "member:line:column" of the parser's position; column from 1. */
static void
xml_where(struct etl_xlsx *x, struct etl_err *err)
{
    etl_err_where(err, "%s:%lu:%lu", x->member,
                  (unsigned long)XML_GetCurrentLineNumber(x->xp),
                  (unsigned long)XML_GetCurrentColumnNumber(x->xp) + 1);
}

/* ---- members ---------------------------------------------------------- */

static const char *
zip_error(int rc)
{
    switch (rc) {
    case UNZ_ERRNO:
        return "read error";
    case UNZ_BADZIPFILE:
        return "bad zip entry";
    case UNZ_CRCERROR:
        return "CRC mismatch";
    case Z_DATA_ERROR:
        return "corrupt deflate data";
    case Z_MEM_ERROR:
        return "out of memory";
    default:
        return "zip error";
    }
}

/*
 * Parse zip member 'name' with handlers 'start', 'end' (and character data
 * to on_text).  Returns 0, 1 when the member is missing and not 'required',
 * or -1 with 'err' set.
 */
static int
member_parse(struct etl_xlsx *x, const char *name, bool required,
             XML_StartElementHandler start, XML_EndElementHandler end,
             struct etl_err *err)
{
    int rc, ret = -1;
    bool open = false;

    if (unzLocateFile(x->zf, name, 2) != UNZ_OK) {
        if (!required) {
            return 1;
        }
        if (strcmp(name, "xl/workbook.xml") == 0) {
            return etl_err_set(err, ETL_E_DATA,
                               "the zip archive has no member %s: not an xlsx workbook",
                               name);
        }
        return etl_err_set(err, ETL_E_DATA, "the workbook has no member %s", name);
    }
    rc = unzOpenCurrentFile(x->zf);
    if (rc != UNZ_OK) {
        etl_err_set(err, ETL_E_DATA, "could not open member %s of the workbook: %s (%d)",
                    name, zip_error(rc), rc);
        return -1;
    }
    open = true;
    x->xp = XML_ParserCreate(NULL);
    if (x->xp == NULL) {
        etl_err_nomem(err);
        goto out;
    }
    XML_SetUserData(x->xp, x);
    XML_SetElementHandler(x->xp, start, end);
    XML_SetCharacterDataHandler(x->xp, on_text);
    x->member = name;
    x->err = err;
    x->failed = false;
    x->collect = false;
    for (;;) {
        int n = unzReadCurrentFile(x->zf, x->block, ETL_XLSX_BLOCK);

        if (n < 0) {
            etl_err_set(err, ETL_E_DATA, "could not inflate member %s of the workbook: %s (%d)",
                        name, zip_error(n), n);
            goto out;
        }
        if (XML_Parse(x->xp, x->block, n, n == 0) != XML_STATUS_OK) {
            if (!x->failed) {
                etl_err_set(err, ETL_E_DATA, "%s",
                            XML_ErrorString(XML_GetErrorCode(x->xp)));
                xml_where(x, err);
            }
            goto out;
        }
        if (n == 0) {
            break;
        }
    }
    open = false;
    rc = unzCloseCurrentFile(x->zf);
    if (rc != UNZ_OK) {
        etl_err_set(err, ETL_E_DATA, "member %s of the workbook is corrupt: %s (%d)",
                    name, zip_error(rc), rc);
        goto out;
    }
    ret = 0;
out:
    if (open) {
        unzCloseCurrentFile(x->zf);
    }
    if (x->xp != NULL) {
        XML_ParserFree(x->xp);
        x->xp = NULL;
    }
    return ret;
}

/* ---- workbook and relationships ------------------------------------- */

static void XMLCALL
wb_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    struct etl_xlsx *x = ud;
    const char *sname, *rid;
    struct xlsx_sheet *s;

    if (x->failed || strcmp(local(name), "sheet") != 0) {
        return;
    }
    sname = attr(atts, "name");
    rid = attr(atts, "id");
    if (x->nsheets == x->sheets_cap) {
        size_t cap = x->sheets_cap ? x->sheets_cap * 2 : 8;
        struct xlsx_sheet *p = realloc(x->sheets, cap * sizeof(*p));

        if (p == NULL) {
            nomem(x);
            return;
        }
        x->sheets = p;
        x->sheets_cap = cap;
    }
    s = &x->sheets[x->nsheets];
    memset(s, 0, sizeof(*s));
    s->name = xstrdup(sname != NULL ? sname : "");
    s->rid = xstrdup(rid != NULL ? rid : "");
    x->nsheets++;
    if (s->name == NULL || s->rid == NULL) {
        nomem(x);
    }
}

static void XMLCALL
ignore_end(void *ud, const XML_Char *name)
{
    (void)ud;
    (void)name;
}

/*
 * The member a relationship target names, relative to xl/ (the directory
 * of workbook.xml) unless it starts with '/'; "." and ".." resolved.
 * Malloc'd, NULL when out of memory.
 */
static char *
resolve_target(const char *target)
{
    size_t n = strlen(target) + 4;
    char *out = malloc(n);
    size_t k = 0;
    const char *p = target;

    if (out == NULL) {
        return NULL;
    }
    if (*p == '/') {
        p++;
    } else {
        memcpy(out, "xl/", 3);
        k = 3;
    }
    while (*p != '\0') {
        const char *e = strchr(p, '/');
        size_t len = e != NULL ? (size_t)(e - p) : strlen(p);

        if (len == 1 && p[0] == '.') {
            /* nothing */
        } else if (len == 2 && p[0] == '.' && p[1] == '.') {
            if (k > 0) {
                k--;                                /* the '/' */
                while (k > 0 && out[k - 1] != '/') {
                    k--;
                }
            }
        } else if (len > 0) {
            memcpy(out + k, p, len);
            k += len;
            if (e != NULL) {
                out[k++] = '/';
            }
        }
        p += len;
        if (*p == '/') {
            p++;
        }
    }
    out[k] = '\0';
    return out;
}

/* Whether relationship type 'type' ends with "/<what>". */
static bool
rel_type(const char *type, const char *what)
{
    size_t n = strlen(type), w = strlen(what);

    return n > w && type[n - w - 1] == '/' && strcmp(type + n - w, what) == 0;
}

static void XMLCALL
rels_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    struct etl_xlsx *x = ud;
    const char *id, *type, *target;
    char **dst = NULL;
    bool chart = false;

    if (x->failed || strcmp(local(name), "Relationship") != 0) {
        return;
    }
    id = attr(atts, "Id");
    type = attr(atts, "Type");
    target = attr(atts, "Target");
    if (id == NULL || type == NULL || target == NULL) {
        return;
    }
    if (rel_type(type, "sharedStrings")) {
        dst = &x->sst_member;
    } else if (rel_type(type, "worksheet") || rel_type(type, "chartsheet")) {
        chart = rel_type(type, "chartsheet");
        for (size_t i = 0; i < x->nsheets; i++) {
            if (strcmp(x->sheets[i].rid, id) == 0) {
                dst = &x->sheets[i].member;
                x->sheets[i].chart = chart;
                break;
            }
        }
    }
    if (dst == NULL) {
        return;
    }
    free(*dst);
    *dst = resolve_target(target);
    if (*dst == NULL) {
        nomem(x);
    }
}

/*
 * "no sheet \"X\" in the workbook (sheets: a, b)": the names as many as fit
 * in the message.
 */
static int
no_sheet(struct etl_xlsx *x, const char *sheet, struct etl_err *err)
{
    char list[192];
    size_t k = 0;

    list[0] = '\0';
    for (size_t i = 0; i < x->nsheets; i++) {
        size_t n = strlen(x->sheets[i].name);

        if (k + n + 2 + 6 >= sizeof(list)) {
            snprintf(list + k, sizeof(list) - k, "%s...", i > 0 ? ", " : "");
            break;
        }
        k += (size_t)snprintf(list + k, sizeof(list) - k, "%s%s", i > 0 ? ", " : "",
                              x->sheets[i].name);
    }
    return etl_err_set(err, ETL_E_DATA, "no sheet \"%s\" in the workbook (sheets: %s)",
                       sheet, list);
}

/* The sheet asked for, or NULL with 'err' set. */
static const struct xlsx_sheet *
select_sheet(struct etl_xlsx *x, const char *sheet, struct etl_err *err)
{
    unsigned long idx;

    if (x->nsheets == 0) {
        etl_err_set(err, ETL_E_DATA, "the workbook has no sheets");
        return NULL;
    }
    if (sheet == NULL) {
        return &x->sheets[0];
    }
    for (size_t i = 0; i < x->nsheets; i++) {
        if (strcmp(x->sheets[i].name, sheet) == 0) {
            return &x->sheets[i];
        }
    }
    if (parse_ulong(sheet, x->nsheets, &idx) && idx >= 1) {
        return &x->sheets[idx - 1];
    }
    no_sheet(x, sheet, err);
    return NULL;
}

/* ---- shared strings --------------------------------------------------- */

static void XMLCALL
sst_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    struct etl_xlsx *x = ud;
    const char *n = local(name);

    (void)atts;
    if (x->failed) {
        return;
    }
    if (strcmp(n, "si") == 0) {
        x->in_si++;
        x->in_rph = 0;
        text_reset(x);
    } else if (strcmp(n, "rPh") == 0) {
        x->in_rph++;
    } else if (strcmp(n, "t") == 0 && x->in_si > 0 && x->in_rph == 0) {
        x->collect = true;
    }
}

/* Append the string in 'text' to the table. */
static void
sst_add(struct etl_xlsx *x)
{
    size_t n;

    if (x->text_over || x->text.len + 1 > ETL_XLSX_MAX_SHARED_BYTES - x->sst_len) {
        etl_err_set(x->err, ETL_E_DATA, "the shared strings table is larger than %u MiB",
                    ETL_XLSX_MAX_SHARED_BYTES >> 20);
        xml_where(x, x->err);
        fail(x);
        return;
    }
    n = x->text.len > 0 ? unescape(x->text.data, x->text.len) : 0;
    if (x->sst_len + n + 1 > x->sst_cap) {
        size_t cap = x->sst_cap ? x->sst_cap : 4096;
        char *p;

        while (cap < x->sst_len + n + 1) {
            cap *= 2;
        }
        p = realloc(x->sst, cap);
        if (p == NULL) {
            nomem(x);
            return;
        }
        x->sst = p;
        x->sst_cap = cap;
    }
    if (x->nsst + 1 >= x->soff_cap) {
        size_t cap = x->soff_cap ? x->soff_cap * 2 : 256;
        size_t *p = realloc(x->soff, cap * sizeof(*p));

        if (p == NULL) {
            nomem(x);
            return;
        }
        x->soff = p;
        x->soff_cap = cap;
    }
    if (n > 0) {
        memcpy(x->sst + x->sst_len, x->text.data, n);
    }
    x->soff[x->nsst++] = x->sst_len;
    x->sst_len += n;
    x->sst[x->sst_len++] = '\0';
}

static void XMLCALL
sst_end(void *ud, const XML_Char *name)
{
    struct etl_xlsx *x = ud;
    const char *n = local(name);

    if (x->failed) {
        return;
    }
    if (strcmp(n, "t") == 0) {
        x->collect = false;
    } else if (strcmp(n, "rPh") == 0 && x->in_rph > 0) {
        x->in_rph--;
    } else if (strcmp(n, "si") == 0 && x->in_si > 0) {
        x->in_si--;
        sst_add(x);
    }
}

/* Shared string i: its text and length. */
static const char *
sst_get(const struct etl_xlsx *x, size_t i, size_t *n)
{
    size_t end = i + 1 < x->nsst ? x->soff[i + 1] : x->sst_len;

    *n = end - x->soff[i] - 1;
    return x->sst + x->soff[i];
}

/* ---- merged ranges ---------------------------------------------------- */

static void XMLCALL
merge_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    struct etl_xlsx *x = ud;
    const char *ref, *colon;
    char a[24], b[24];
    struct xlsx_merge m = { 0 };

    if (x->failed || strcmp(local(name), "mergeCell") != 0) {
        return;
    }
    ref = attr(atts, "ref");
    if (ref == NULL || (colon = strchr(ref, ':')) == NULL ||
        (size_t)(colon - ref) >= sizeof(a) || strlen(colon + 1) >= sizeof(b)) {
        return;                         /* a range of one cell, or no range */
    }
    memcpy(a, ref, (size_t)(colon - ref));
    a[colon - ref] = '\0';
    strcpy(b, colon + 1);
    if (!parse_ref(a, &m.c1, &m.r1) || !parse_ref(b, &m.c2, &m.r2) ||
        m.r1 == 0 || m.r2 < m.r1 || m.c2 < m.c1) {
        return;                         /* not a range we can fill */
    }
    if (x->nmerges == ETL_XLSX_MAX_MERGES) {
        etl_err_set(x->err, ETL_E_DATA, "more than %u merged ranges in the sheet",
                    ETL_XLSX_MAX_MERGES);
        xml_where(x, x->err);
        fail(x);
        return;
    }
    if (x->nmerges == x->merges_cap) {
        size_t cap = x->merges_cap ? x->merges_cap * 2 : 16;
        struct xlsx_merge *p = realloc(x->merges, cap * sizeof(*p));
        size_t *q;

        if (p == NULL) {
            nomem(x);
            return;
        }
        x->merges = p;
        q = realloc(x->active, cap * sizeof(*q));
        if (q == NULL) {
            nomem(x);
            return;
        }
        x->active = q;
        x->merges_cap = cap;
    }
    x->merges[x->nmerges++] = m;
}

static int
merge_cmp(const void *a, const void *b)
{
    const struct xlsx_merge *p = a, *q = b;

    return p->r1 < q->r1 ? -1 : p->r1 > q->r1;
}

/* ---- rows ------------------------------------------------------------- */

static void
row_fail_if(struct etl_xlsx *x, int rc)
{
    if (rc < 0) {
        fail(x);
    }
}

/* "C12" for the current cell. */
static void
cell_name(const struct etl_xlsx *x, char *buf, size_t size)
{
    char col[4];

    etl_cell_column_name(x->col, col);
    snprintf(buf, size, "%s%lu", col, x->row_num);
}

static enum cell_type
cell_type(const char *t)
{
    static const struct {
        const char *name;
        enum cell_type type;
    } types[] = {
        { "n", T_N }, { "s", T_S }, { "str", T_STR }, { "inlineStr", T_INLINE },
        { "b", T_B }, { "e", T_E }, { "d", T_D },
    };

    if (t == NULL) {
        return T_N;
    }
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        if (strcmp(t, types[i].name) == 0) {
            return types[i].type;
        }
    }
    return T_UNKNOWN;
}

static void
row_start(struct etl_xlsx *x, const char **atts)
{
    const char *r = attr(atts, "r");
    unsigned long n;

    if (r != NULL && parse_ulong(r, 100000000, &n) && n > 0) {
        x->row_num = n;
    } else {
        x->row_num++;
    }
    x->in_row = true;
    x->col_next = 0;
    etl_cell_row_begin(&x->row, x->row_num);
    /* the ranges that start at or above this row become active */
    while (x->merge_next < x->nmerges && x->merges[x->merge_next].r1 <= x->row_num) {
        x->active[x->nactive++] = x->merge_next++;
    }
}

static void
cell_start(struct etl_xlsx *x, const char **atts)
{
    const char *r = attr(atts, "r");
    const char *t = attr(atts, "t");

    x->in_c = true;
    x->skip_c = false;
    x->in_is = 0;
    x->in_rph = 0;
    text_reset(x);
    if (r != NULL) {
        unsigned long rr;

        if (!parse_ref(r, &x->col, &rr)) {
            etl_cell_row_bad(&x->row, "invalid cell reference \"%.32s\" in row %lu",
                             r, x->row_num);
            x->skip_c = true;
            return;
        }
    } else {
        if (x->col_next >= ETL_CELL_MAX_COLS) {
            etl_cell_row_bad(&x->row, "a cell past column XFD in row %lu", x->row_num);
            x->skip_c = true;
            return;
        }
        x->col = x->col_next;
    }
    x->col_next = x->col + 1;
    x->type = cell_type(t);
    snprintf(x->type_name, sizeof(x->type_name), "%s", t != NULL ? t : "");
}

/* Set the current cell to 'p' ('n' bytes). */
static void
cell_set(struct etl_xlsx *x, const char *p, size_t n)
{
    row_fail_if(x, etl_cell_row_set(&x->row, x->col, p, n, x->err));
}

static void
cell_end(struct etl_xlsx *x)
{
    char ref[32], num[ETL_CELL_NUMBER_SIZE];
    const char *v = x->text.data != NULL ? x->text.data : "";
    size_t n = x->text.len;

    x->in_c = false;
    x->collect = false;
    if (x->skip_c) {
        return;
    }
    if (x->text_over) {
        /* the reason, before what the cut text may look like */
        etl_cell_row_bad(&x->row, "record longer than %zu bytes", x->max);
    }
    if (n == 0) {
        return;                         /* <c> with a style only, <v/> */
    }
    cell_name(x, ref, sizeof(ref));
    switch (x->type) {
    case T_N: {
        char *end;
        double d;
        int k;

        errno = 0;
        d = strtod(v, &end);
        if (*end != '\0' || end == v ||
            (k = etl_cell_number_format(d, num, sizeof(num))) < 0) {
            etl_cell_row_bad(&x->row, "cell %s holds the invalid number \"%.40s\"", ref, v);
            cell_set(x, v, n);
            return;
        }
        cell_set(x, num, (size_t)k);
        return;
    }
    case T_S: {
        unsigned long i;
        const char *s;
        size_t len;

        if (!parse_ulong(v, 4000000000ul, &i) || i >= x->nsst) {
            etl_cell_row_bad(&x->row,
                             "cell %s holds the shared string index %.20s, beyond the "
                             "table's %zu strings", ref, v, x->nsst);
            return;
        }
        s = sst_get(x, i, &len);
        cell_set(x, s, len);
        return;
    }
    case T_B:
        if (strcmp(v, "1") == 0 || strcmp(v, "true") == 0) {
            cell_set(x, "TRUE", 4);
        } else if (strcmp(v, "0") == 0 || strcmp(v, "false") == 0) {
            cell_set(x, "FALSE", 5);
        } else {
            etl_cell_row_bad(&x->row, "cell %s holds the invalid boolean \"%.40s\"", ref, v);
            cell_set(x, v, n);
        }
        return;
    case T_E:
        etl_cell_row_bad(&x->row, "cell %s holds the error %.40s", ref, v);
        cell_set(x, v, n);
        return;
    case T_UNKNOWN:
        etl_cell_row_bad(&x->row, "cell %s has the unknown type \"%s\"", ref, x->type_name);
        cell_set(x, v, n);
        return;
    case T_STR:
    case T_INLINE:
        n = n > 0 ? unescape(x->text.data, n) : 0;
        cell_set(x, v, n);
        return;
    case T_D:
        cell_set(x, v, n);
        return;
    }
}

/*
 * The row is complete: fill its merged cells, push it, retire the ranges
 * that end here.
 */
static void
row_end(struct etl_xlsx *x)
{
    size_t k = 0;

    x->in_row = false;
    for (size_t i = 0; i < x->nactive; i++) {
        struct xlsx_merge *m = &x->merges[x->active[i]];

        if (m->r1 == x->row_num && m->val == NULL) {
            size_t n;
            const char *p = etl_cell_row_get(&x->row, m->c1, &n);

            if (n > 0) {
                m->val = malloc(n + 1);
                if (m->val == NULL) {
                    nomem(x);
                    return;
                }
                memcpy(m->val, p, n);
                m->val[n] = '\0';
                m->vlen = n;
            }
        }
        if (m->val != NULL && m->r2 >= x->row_num) {
            for (unsigned c = m->c1; c <= m->c2; c++) {
                size_t n;

                (void)etl_cell_row_get(&x->row, c, &n);
                if (n == 0 && etl_cell_row_set(&x->row, c, m->val, m->vlen, x->err) < 0) {
                    fail(x);
                    return;
                }
            }
        }
    }
    if (!etl_cell_row_empty(&x->row) || x->row.is_bad) {
        if (etl_cell_row_push(&x->row, x->next, x->err) < 0) {
            fail(x);
            return;
        }
    }
    for (size_t i = 0; i < x->nactive; i++) {
        struct xlsx_merge *m = &x->merges[x->active[i]];

        if (m->r2 <= x->row_num) {
            free(m->val);
            m->val = NULL;
            m->vlen = 0;
        } else {
            x->active[k++] = x->active[i];
        }
    }
    x->nactive = k;
}

static void XMLCALL
sheet_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    struct etl_xlsx *x = ud;
    const char *n = local(name);

    if (x->failed) {
        return;
    }
    if (strcmp(n, "row") == 0) {
        row_start(x, atts);
    } else if (!x->in_row) {
        return;
    } else if (strcmp(n, "c") == 0) {
        cell_start(x, atts);
    } else if (!x->in_c) {
        return;
    } else if (strcmp(n, "v") == 0) {
        text_reset(x);
        x->collect = x->in_is == 0;
    } else if (strcmp(n, "is") == 0) {
        text_reset(x);
        x->in_is = 1;
    } else if (strcmp(n, "rPh") == 0) {
        x->in_rph++;
    } else if (strcmp(n, "t") == 0 && x->in_is > 0 && x->in_rph == 0) {
        x->collect = true;
    }
}

static void XMLCALL
sheet_end(void *ud, const XML_Char *name)
{
    struct etl_xlsx *x = ud;
    const char *n = local(name);

    if (x->failed) {
        return;
    }
    if (strcmp(n, "row") == 0) {
        if (x->in_c) {
            cell_end(x);
        }
        if (x->in_row) {
            row_end(x);
        }
    } else if (!x->in_c) {
        return;
    } else if (strcmp(n, "c") == 0) {
        cell_end(x);
    } else if (strcmp(n, "v") == 0 || strcmp(n, "t") == 0) {
        x->collect = false;
    } else if (strcmp(n, "is") == 0) {
        x->in_is = 0;
    } else if (strcmp(n, "rPh") == 0 && x->in_rph > 0) {
        x->in_rph--;
    }
}

/* ---- the read --------------------------------------------------------- */

static int
xlsx_read(struct etl_xlsx *x, const char *path, const char *sheet, struct etl_err *err)
{
    const struct xlsx_sheet *sh;
    FILE *f;
    int rc;

    f = fopen(path, "rb");
    if (f == NULL) {
        return etl_err_errno(err, ETL_E_IO, "could not open workbook \"%s\"", path);
    }
    fclose(f);
    x->zf = unzOpen64(path);
    if (x->zf == NULL) {
        return etl_err_set(err, ETL_E_DATA,
                           "\"%s\" is not a zip archive, or a truncated one", path);
    }
    if (member_parse(x, "xl/workbook.xml", true, wb_start, ignore_end, err) < 0) {
        return -1;
    }
    if (member_parse(x, "xl/_rels/workbook.xml.rels", true, rels_start, ignore_end, err) < 0) {
        return -1;
    }
    sh = select_sheet(x, sheet, err);
    if (sh == NULL) {
        return -1;
    }
    if (sh->chart) {
        return etl_err_set(err, ETL_E_DATA, "sheet \"%s\" is a chart, not a worksheet",
                           sh->name);
    }
    if (sh->member == NULL) {
        return etl_err_set(err, ETL_E_DATA,
                           "sheet \"%s\" has no worksheet in xl/_rels/workbook.xml.rels",
                           sh->name);
    }
    x->text_max = ETL_XLSX_MAX_SHARED_BYTES;
    x->in_si = x->in_rph = 0;
    rc = member_parse(x, x->sst_member != NULL ? x->sst_member : "xl/sharedStrings.xml",
                      x->sst_member != NULL, sst_start, sst_end, err);
    if (rc < 0) {
        return -1;
    }
    if (member_parse(x, sh->member, true, merge_start, ignore_end, err) < 0) {
        return -1;
    }
    if (x->nmerges > 1) {
        qsort(x->merges, x->nmerges, sizeof(*x->merges), merge_cmp);
    }
    x->text_max = x->max;
    x->in_row = x->in_c = false;
    x->row_num = 0;
    return member_parse(x, sh->member, true, sheet_start, sheet_end, err);
}

int
etl_xlsx_read(struct etl_xlsx *x, const char *path, const char *sheet, size_t max_record,
              struct etl_err *err)
{
    int rc;

    x->max = max_record > 0 ? max_record : ETL_CSV_MAX_RECORD;
    if (x->row.max != x->max) {
        etl_cell_row_free(&x->row);
        etl_cell_row_init(&x->row, x->max);
    }
    rc = xlsx_read(x, path, sheet, err);
    xlsx_forget(x);
    if (x->text.cap > 2 * (x->max + 1)) {
        /* a long shared string: do not keep its buffer */
        etl_buf_free(&x->text);
        etl_buf_init(&x->text, ETL_XLSX_MAX_SHARED_BYTES);
    }
    return rc;
}
