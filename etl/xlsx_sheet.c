/*
 * xlsx_sheet.c
 *    The .xlsx reader's pass over one worksheet (see xlsx.h for the record
 *    of a row and its bad records).  The sheet is parsed twice: first for
 *    its merged ranges (<mergeCell>, sorted by first row), then for its rows
 *    (<row>, <c>, <v>, <is>/<t>): each cell is converted by its type into
 *    the row cell.c builds, the top-left text of a merged range fills the
 *    range's empty cells, and the row is pushed to the next link.
 *
 *    Next door: xlsx.c (the archive, the workbook, its relationships and
 *    the choice of sheet, the shared strings), xlsx_int.h (what the two
 *    share), cell.c (the row and its record).
 */
#include "xlsx_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- cell references -------------------------------------------------- */

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

/* ---- merged ranges ---------------------------------------------------- */

static void XMLCALL
merge_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    struct etl_xlsx *x = ud;
    const char *ref, *colon;
    char a[24], b[24];
    struct xlsx_merge m = { 0 };

    if (x->failed || strcmp(xlsx_local(name), "mergeCell") != 0) {
        return;
    }
    ref = xlsx_attr(atts, "ref");
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
        xlsx_xml_where(x, x->err);
        xlsx_fail(x);
        return;
    }
    if (x->nmerges == x->merges_cap) {
        size_t cap = x->merges_cap ? x->merges_cap * 2 : 16;
        struct xlsx_merge *p = realloc(x->merges, cap * sizeof(*p));
        size_t *q;

        if (p == NULL) {
            xlsx_nomem(x);
            return;
        }
        x->merges = p;
        q = realloc(x->active, cap * sizeof(*q));
        if (q == NULL) {
            xlsx_nomem(x);
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
        xlsx_fail(x);
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
    const char *r = xlsx_attr(atts, "r");
    unsigned long n;

    if (r != NULL && xlsx_parse_ulong(r, 100000000, &n) && n > 0) {
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
    const char *r = xlsx_attr(atts, "r");
    const char *t = xlsx_attr(atts, "t");

    x->in_c = true;
    x->skip_c = false;
    x->in_is = 0;
    x->in_rph = 0;
    xlsx_text_reset(x);
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

        if (!xlsx_parse_ulong(v, 4000000000ul, &i) || i >= x->nsst) {
            etl_cell_row_bad(&x->row,
                             "cell %s holds the shared string index %.20s, beyond the "
                             "table's %zu strings", ref, v, x->nsst);
            return;
        }
        s = xlsx_sst_get(x, i, &len);
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
        n = n > 0 ? xlsx_unescape(x->text.data, n) : 0;
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
                    xlsx_nomem(x);
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
                    xlsx_fail(x);
                    return;
                }
            }
        }
    }
    if (!etl_cell_row_empty(&x->row) || x->row.is_bad) {
        if (etl_cell_row_push(&x->row, x->next, x->err) < 0) {
            xlsx_fail(x);
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
    const char *n = xlsx_local(name);

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
        xlsx_text_reset(x);
        x->collect = x->in_is == 0;
    } else if (strcmp(n, "is") == 0) {
        xlsx_text_reset(x);
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
    const char *n = xlsx_local(name);

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

/* ---- the sheet -------------------------------------------------------- */

int
xlsx_sheet_read(struct etl_xlsx *x, const char *member, struct etl_err *err)
{
    if (xlsx_member_parse(x, member, true, merge_start, xlsx_ignore_end, err) < 0) {
        return -1;
    }
    if (x->nmerges > 1) {
        qsort(x->merges, x->nmerges, sizeof(*x->merges), merge_cmp);
    }
    x->text_max = x->max;
    x->in_row = x->in_c = false;
    x->row_num = 0;
    return xlsx_member_parse(x, member, true, sheet_start, sheet_end, err);
}
