/*
 * xlsx.c
 *    Streaming .xlsx sheet reader: minizip inflates the members in blocks,
 *    expat parses them as they come (SAX), cell.c builds the records.  See
 *    xlsx.h for what is read, the record of a row, bad records and errors.
 *    Here: life cycle, the archive and its members, the workbook and its
 *    relationships, the choice of sheet, the shared strings, the read.
 *
 *    One parser per member, its handlers chosen by the pass: workbook,
 *    relationships, shared strings, merged ranges, rows.  A handler that
 *    fails (the next link's error, no memory) records it in 'failed' and
 *    stops expat; the error is then returned as it is.  Element names are
 *    compared without their prefix ("x:row" is "row"), as some writers
 *    prefix the spreadsheetml namespace.
 *
 *    Next door: xlsx_sheet.c (the worksheet: merged ranges, rows, cells),
 *    xlsx_int.h (what the two share), cell.c (the row and its record).
 */
#include "xlsx_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "csv.h"
#include "text.h"

struct xlsx_sheet {
    char *name;                 /* UTF-8, as in workbook.xml */
    char *rid;                  /* its relationship id */
    char *member;               /* "xl/worksheets/sheet1.xml", from the rels */
    bool chart;                 /* a chart sheet, no cells */
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
        xlsx_fail(x);
    }
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
        int h = etl_text_hexval(p[i]);

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
size_t
xlsx_unescape(char *s, size_t n)
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

/* A decimal number without sign, within 'max'; false otherwise. */
bool
xlsx_parse_ulong(const char *s, unsigned long max, unsigned long *out)
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
void
xlsx_xml_where(struct etl_xlsx *x, struct etl_err *err)
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
int
xlsx_member_parse(struct etl_xlsx *x, const char *name, bool required,
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
                xlsx_xml_where(x, err);
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

    if (x->failed || strcmp(xlsx_local(name), "sheet") != 0) {
        return;
    }
    sname = xlsx_attr(atts, "name");
    rid = xlsx_attr(atts, "id");
    if (x->nsheets == x->sheets_cap) {
        size_t cap = x->sheets_cap ? x->sheets_cap * 2 : 8;
        struct xlsx_sheet *p = realloc(x->sheets, cap * sizeof(*p));

        if (p == NULL) {
            xlsx_nomem(x);
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
        xlsx_nomem(x);
    }
}

void XMLCALL
xlsx_ignore_end(void *ud, const XML_Char *name)
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

    if (x->failed || strcmp(xlsx_local(name), "Relationship") != 0) {
        return;
    }
    id = xlsx_attr(atts, "Id");
    type = xlsx_attr(atts, "Type");
    target = xlsx_attr(atts, "Target");
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
        xlsx_nomem(x);
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
    if (xlsx_parse_ulong(sheet, x->nsheets, &idx) && idx >= 1) {
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
    const char *n = xlsx_local(name);

    (void)atts;
    if (x->failed) {
        return;
    }
    if (strcmp(n, "si") == 0) {
        x->in_si++;
        x->in_rph = 0;
        xlsx_text_reset(x);
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
        xlsx_xml_where(x, x->err);
        xlsx_fail(x);
        return;
    }
    n = x->text.len > 0 ? xlsx_unescape(x->text.data, x->text.len) : 0;
    if (x->sst_len + n + 1 > x->sst_cap) {
        size_t cap = x->sst_cap ? x->sst_cap : 4096;
        char *p;

        while (cap < x->sst_len + n + 1) {
            cap *= 2;
        }
        p = realloc(x->sst, cap);
        if (p == NULL) {
            xlsx_nomem(x);
            return;
        }
        x->sst = p;
        x->sst_cap = cap;
    }
    if (x->nsst + 1 >= x->soff_cap) {
        size_t cap = x->soff_cap ? x->soff_cap * 2 : 256;
        size_t *p = realloc(x->soff, cap * sizeof(*p));

        if (p == NULL) {
            xlsx_nomem(x);
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
    const char *n = xlsx_local(name);

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
    if (xlsx_member_parse(x, "xl/workbook.xml", true, wb_start, xlsx_ignore_end,
                          err) < 0) {
        return -1;
    }
    if (xlsx_member_parse(x, "xl/_rels/workbook.xml.rels", true, rels_start,
                          xlsx_ignore_end, err) < 0) {
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
    rc = xlsx_member_parse(x, x->sst_member != NULL ? x->sst_member
                                                    : "xl/sharedStrings.xml",
                           x->sst_member != NULL, sst_start, sst_end, err);
    if (rc < 0) {
        return -1;
    }
    return xlsx_sheet_read(x, sh->member, err);
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
