/*
 * xlsx_int.h
 *    Private to the .xlsx reader's two files: xlsx.c (the archive and its
 *    members, the workbook, its relationships and the choice of sheet, the
 *    shared strings, the read) and xlsx_sheet.c (the sheet: its merged
 *    ranges, then its rows and cells).  See xlsx.h.
 */
#ifndef ETL_XLSX_INT_H
#define ETL_XLSX_INT_H

#include <expat.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <unzip.h>

#include "buf.h"
#include "cell.h"
#include "xlsx.h"

struct xlsx_sheet;              /* a sheet of the workbook: xlsx.c */

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

/* The name without its namespace prefix. */
static inline const char *
xlsx_local(const char *name)
{
    const char *c = strrchr(name, ':');

    return c != NULL ? c + 1 : name;
}

/* The value of attribute 'name' (prefix ignored), or NULL. */
static inline const char *
xlsx_attr(const char **atts, const char *name)
{
    for (size_t i = 0; atts[i] != NULL; i += 2) {
        if (strcmp(xlsx_local(atts[i]), name) == 0) {
            return atts[i + 1];
        }
    }
    return NULL;
}

/* A handler failed with 'err' set: stop the parser. */
static inline void
xlsx_fail(struct etl_xlsx *x)
{
    x->failed = true;
    XML_StopParser(x->xp, XML_FALSE);
}

/* No memory: set the error, stop the parser. */
static inline void
xlsx_nomem(struct etl_xlsx *x)
{
    etl_err_nomem(x->err);
    xlsx_fail(x);
}

/* Empty the text being read. */
static inline void
xlsx_text_reset(struct etl_xlsx *x)
{
    etl_buf_reset(&x->text);
    x->text_over = false;
}

/* Shared string i: its text and length. */
static inline const char *
xlsx_sst_get(const struct etl_xlsx *x, size_t i, size_t *n)
{
    size_t end = i + 1 < x->nsst ? x->soff[i + 1] : x->sst_len;

    *n = end - x->soff[i] - 1;
    return x->sst + x->soff[i];
}

/* xlsx.c: an end handler that does nothing. */
void XMLCALL xlsx_ignore_end(void *ud, const XML_Char *name);
/*
 * xlsx.c: parse zip member 'name' with handlers 'start' and 'end'.  0, 1
 * when the member is missing and not 'required', or -1 with 'err' set.
 */
int xlsx_member_parse(struct etl_xlsx *x, const char *name, bool required,
                      XML_StartElementHandler start, XML_EndElementHandler end,
                      struct etl_err *err);
/* xlsx.c: decode the "_xHHHH_" escapes of s (n bytes) in place; new length. */
size_t xlsx_unescape(char *s, size_t n);
/* xlsx.c: a decimal number without sign, within 'max'; false otherwise. */
bool xlsx_parse_ulong(const char *s, unsigned long max, unsigned long *out);
/* xlsx.c: "member:line:column" of the parser's position, as err's where. */
void xlsx_xml_where(struct etl_xlsx *x, struct etl_err *err);

/*
 * xlsx_sheet.c: read the sheet in zip member 'member': its merged ranges,
 * then its rows, pushed to the next link.  0, or -1 with 'err' set.
 */
int xlsx_sheet_read(struct etl_xlsx *x, const char *member, struct etl_err *err);

#endif
