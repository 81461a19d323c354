/*
 * xls.c
 *    .xls sheet reader over libfreexl: open the workbook, pick the sheet,
 *    walk its rows and columns with freexl_get_cell_value(), build each row
 *    with cell.c.  See xls.h for the record, bad records, errors and memory.
 */
#include "xls.h"

#include <freexl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cell.h"
#include "csv.h"

struct etl_xls {
    struct etl_stage *next;
    struct etl_cell_row row;
};

struct etl_xls *
etl_xls_new(struct etl_stage *next, struct etl_err *err)
{
    struct etl_xls *x = calloc(1, sizeof(*x));

    if (x == NULL) {
        etl_err_nomem(err);
        return NULL;
    }
    x->next = next;
    etl_cell_row_init(&x->row, ETL_CSV_MAX_RECORD);
    return x;
}

void
etl_xls_free(struct etl_xls *x)
{
    if (x == NULL) {
        return;
    }
    etl_cell_row_free(&x->row);
    free(x);
}

bool
etl_xls_magic(const char *p, size_t n)
{
    return n >= 8 && memcmp(p, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8) == 0;
}

/* freexl's error code as words. */
static const char *
xls_reason(int rc)
{
    switch (rc) {
    case FREEXL_INSUFFICIENT_MEMORY:
        return "out of memory";
    case FREEXL_INVALID_CFBF_HEADER:
    case FREEXL_CFBF_INVALID_SIGNATURE:
    case FREEXL_CFBF_INVALID_SECTOR_SIZE:
        return "not an OLE2 compound file";
    case FREEXL_CFBF_READ_ERROR:
    case FREEXL_CFBF_SEEK_ERROR:
    case FREEXL_CFBF_EMPTY_FAT_CHAIN:
    case FREEXL_CFBF_ILLEGAL_FAT_ENTRY:
    case FREEXL_INVALID_MINI_STREAM:
    case FREEXL_CFBF_ILLEGAL_MINI_FAT_ENTRY:
        return "corrupt or truncated compound file";
    case FREEXL_BIFF_INVALID_BOF:
    case FREEXL_BIFF_WORKBOOK_NOT_FOUND:
        return "no BIFF workbook stream";
    case FREEXL_BIFF_INVALID_SST:
    case FREEXL_BIFF_ILLEGAL_SST_INDEX:
        return "corrupt shared strings";
    case FREEXL_INVALID_CHARACTER:
        return "invalid character for the workbook's code page";
    case FREEXL_UNSUPPORTED_CHARSET:
        return "unsupported code page";
    case FREEXL_ILLEGAL_CELL_ROW_COL:
        return "cell outside the sheet";
    case FREEXL_ILLEGAL_RK_VALUE:
        return "invalid number record";
    case FREEXL_CRAFTED_FILE:
        return "severely corrupt file";
    default:
        return "unreadable";
    }
}

/* "no sheet \"X\" in the workbook (sheets: a, b)". */
static int
no_sheet(const void *h, unsigned count, const char *sheet, struct etl_err *err)
{
    char list[192];
    size_t k = 0;

    list[0] = '\0';
    for (unsigned i = 0; i < count; i++) {
        const char *name = NULL;
        size_t n;

        if (freexl_get_worksheet_name(h, (unsigned short)i, &name) != FREEXL_OK ||
            name == NULL) {
            name = "?";
        }
        n = strlen(name);
        if (k + n + 2 + 6 >= sizeof(list)) {
            snprintf(list + k, sizeof(list) - k, "%s...", i > 0 ? ", " : "");
            break;
        }
        k += (size_t)snprintf(list + k, sizeof(list) - k, "%s%s", i > 0 ? ", " : "", name);
    }
    return etl_err_set(err, ETL_E_DATA, "no sheet \"%s\" in the workbook (sheets: %s)",
                       sheet, list);
}

/* The 0-based index of sheet 'sheet' (see etl_xls_read), or -1 with 'err'. */
static long
select_sheet(const void *h, const char *sheet, struct etl_err *err)
{
    unsigned int count = 0;
    unsigned long idx = 0;
    const char *p;

    if (freexl_get_info(h, FREEXL_BIFF_SHEET_COUNT, &count) != FREEXL_OK || count == 0) {
        return etl_err_set(err, ETL_E_DATA, "the workbook has no sheets");
    }
    if (sheet == NULL) {
        return 0;
    }
    for (unsigned i = 0; i < count; i++) {
        const char *name = NULL;

        if (freexl_get_worksheet_name(h, (unsigned short)i, &name) == FREEXL_OK &&
            name != NULL && strcmp(name, sheet) == 0) {
            return (long)i;
        }
    }
    for (p = sheet; *p >= '0' && *p <= '9' && idx <= count; p++) {
        idx = idx * 10 + (unsigned long)(*p - '0');
    }
    if (p != sheet && *p == '\0' && idx >= 1 && idx <= count) {
        return (long)idx - 1;
    }
    return no_sheet(h, count, sheet, err);
}

/* Read the active sheet's rows. */
static int
xls_rows(struct etl_xls *x, const void *h, struct etl_err *err)
{
    unsigned int rows = 0;
    unsigned short cols = 0;
    int rc;

    rc = freexl_worksheet_dimensions(h, &rows, &cols);
    if (rc != FREEXL_OK) {
        return etl_err_set(err, ETL_E_DATA, "could not read the sheet's dimensions: %s",
                           xls_reason(rc));
    }
    for (unsigned int r = 0; r < rows; r++) {
        etl_cell_row_begin(&x->row, (unsigned long)r + 1);
        for (unsigned short c = 0; c < cols && c < ETL_CELL_MAX_COLS; c++) {
            FreeXL_CellValue v;
            char num[ETL_CELL_NUMBER_SIZE];
            const char *p = NULL;
            int n = -1;

            rc = freexl_get_cell_value(h, r, c, &v);
            if (rc != FREEXL_OK) {
                char col[4];

                etl_cell_column_name(c, col);
                etl_cell_row_bad(&x->row, "cell %s%u could not be read: %s", col, r + 1,
                                 xls_reason(rc));
                continue;
            }
            switch (v.type) {
            case FREEXL_CELL_INT:
                n = snprintf(num, sizeof(num), "%d", v.value.int_value);
                p = num;
                break;
            case FREEXL_CELL_DOUBLE:
                n = etl_cell_number_format(v.value.double_value, num, sizeof(num));
                p = num;
                break;
            case FREEXL_CELL_TEXT:
            case FREEXL_CELL_SST_TEXT:
            case FREEXL_CELL_DATE:
            case FREEXL_CELL_DATETIME:
            case FREEXL_CELL_TIME:
                p = v.value.text_value;
                n = p != NULL ? (int)strlen(p) : -1;
                break;
            default:
                break;
            }
            if (n > 0 && etl_cell_row_set(&x->row, c, p, (size_t)n, err) < 0) {
                return -1;
            }
        }
        if (!etl_cell_row_empty(&x->row) || x->row.is_bad) {
            if (etl_cell_row_push(&x->row, x->next, err) < 0) {
                return -1;
            }
        }
    }
    return 0;
}

int
etl_xls_read(struct etl_xls *x, const char *path, const char *sheet, size_t max_record,
             struct etl_err *err)
{
    const void *h = NULL;
    unsigned int info = 0;
    size_t max = max_record > 0 ? max_record : ETL_CSV_MAX_RECORD;
    long idx;
    int rc, ret = -1;
    char head[8];
    size_t n;
    FILE *f;

    if (x->row.max != max) {
        etl_cell_row_free(&x->row);
        etl_cell_row_init(&x->row, max);
    }
    f = fopen(path, "rb");
    if (f == NULL) {
        return etl_err_errno(err, ETL_E_IO, "could not open workbook \"%s\"", path);
    }
    n = fread(head, 1, sizeof(head), f);
    fclose(f);
    if (!etl_xls_magic(head, n)) {
        /* freexl would say "read error" of a short file */
        return etl_err_set(err, ETL_E_DATA, "\"%s\" is not a readable .xls workbook: %s",
                           path, xls_reason(FREEXL_INVALID_CFBF_HEADER));
    }
    rc = freexl_open(path, &h);
    if (rc != FREEXL_OK) {
        if (rc == FREEXL_INSUFFICIENT_MEMORY) {
            etl_err_nomem(err);
        } else {
            etl_err_set(err, ETL_E_DATA, "\"%s\" is not a readable .xls workbook: %s",
                        path, xls_reason(rc));
        }
        goto out;
    }
    if (freexl_get_info(h, FREEXL_BIFF_PASSWORD, &info) == FREEXL_OK &&
        info == FREEXL_BIFF_OBFUSCATED) {
        etl_err_set(err, ETL_E_DATA, "the workbook is password-protected");
        goto out;
    }
    idx = select_sheet(h, sheet, err);
    if (idx < 0) {
        goto out;
    }
    rc = freexl_select_active_worksheet(h, (unsigned short)idx);
    if (rc != FREEXL_OK) {
        etl_err_set(err, ETL_E_DATA, "could not select sheet %ld: %s", idx + 1,
                    xls_reason(rc));
        goto out;
    }
    ret = xls_rows(x, h, err);
out:
    if (h != NULL) {
        freexl_close(h);
    }
    return ret;
}
