/*
 * wide2xlsx.c -- the .xlsx of `make bench`: the first sheet holds the cells
 * of a wide CSV written by tests/bench/gen.py --wide, row for row.
 *
 *     wide2xlsx WIDE.csv OUT.xlsx
 *
 * A value cell of digits and thousands separators ("12,345") becomes a
 * number shown as #,##0, as a spreadsheet keeps it; every other cell
 * (3.2亿元, 926.3万, the header, the region, partner and period labels:
 * the first LABELS columns) a string; a blank cell is left out.  libxlsxwriter in constant_memory mode: each row goes
 * to the sheet's file as it is written (strings inline, no shared
 * strings table), so a million rows take a few MB.
 *
 * The CSV is gen.py's: a field is quoted only when it holds a comma, and
 * never holds a quote or a line break.  It lives in a directory of its own
 * because the Makefile's $(BUILD)/bench/% rule does not link xlsxwriter;
 * tests/bench/run builds it with pkg-config xlsxwriter.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xlsxwriter.h>

/* gen.py's label columns (地区, 结对地区, 时期): always strings */
#define LABELS 3

static int
numeric(const char *p, size_t n)
{
    size_t digits = 0;

    for (size_t i = 0; i < n; i++) {
        if (p[i] >= '0' && p[i] <= '9') {
            digits++;
        } else if (p[i] != ',' || i == 0) {
            return 0;
        }
    }
    return digits > 0 && digits <= 15;
}

int
main(int argc, char **argv)
{
    lxw_workbook_options opt = { .constant_memory = LXW_TRUE, .use_zip64 = LXW_TRUE };
    lxw_workbook *wb;
    lxw_worksheet *ws;
    lxw_format *thousands;
    FILE *in;
    char *line = NULL, cell[1024];
    size_t cap = 0;
    ssize_t len;
    lxw_row_t row = 0;
    lxw_error rc;

    if (argc != 3) {
        fprintf(stderr, "usage: wide2xlsx WIDE.csv OUT.xlsx\n");
        return 2;
    }
    if ((in = fopen(argv[1], "r")) == NULL) {
        perror(argv[1]);
        return 1;
    }
    opt.tmpdir = getenv("TMPDIR");
    if ((wb = workbook_new_opt(argv[2], &opt)) == NULL ||
        (ws = workbook_add_worksheet(wb, NULL)) == NULL) {
        fprintf(stderr, "wide2xlsx: cannot create %s\n", argv[2]);
        return 1;
    }
    thousands = workbook_add_format(wb);
    format_set_num_format(thousands, "#,##0");

    while ((len = getline(&line, &cap, in)) > 0) {
        const char *p = line, *end = line + len;
        lxw_col_t col = 0;

        while (end > p && (end[-1] == '\n' || end[-1] == '\r')) {
            end--;
        }
        for (;;) {
            const char *f = p, *stop;
            size_t n;

            if (p < end && *p == '"') {
                f = ++p;
                stop = memchr(p, '"', (size_t)(end - p));
                if (stop == NULL) {
                    fprintf(stderr, "wide2xlsx: %s: line %u: unclosed quote\n",
                            argv[1], row + 1);
                    return 1;
                }
                p = stop + 1;
            } else {
                stop = memchr(p, ',', (size_t)(end - p));
                if (stop == NULL) {
                    stop = end;
                }
                p = stop;
            }
            n = (size_t)(stop - f);
            if (n >= sizeof(cell)) {
                fprintf(stderr, "wide2xlsx: %s: line %u: cell too long\n", argv[1], row + 1);
                return 1;
            }
            if (n > 0) {
                memcpy(cell, f, n);
                cell[n] = '\0';
                if (row > 0 && col >= LABELS && numeric(cell, n)) {
                    double v = 0;

                    for (size_t i = 0; i < n; i++) {
                        if (cell[i] != ',') {
                            v = v * 10 + (cell[i] - '0');
                        }
                    }
                    rc = worksheet_write_number(ws, row, col, v, thousands);
                } else {
                    rc = worksheet_write_string(ws, row, col, cell, NULL);
                }
                if (rc != LXW_NO_ERROR) {
                    fprintf(stderr, "wide2xlsx: row %u col %u: %s\n", row + 1,
                            (unsigned)col + 1, lxw_strerror(rc));
                    return 1;
                }
            }
            if (p >= end || *p != ',') {
                break;
            }
            p++;
            col++;
        }
        row++;
    }
    if (ferror(in)) {
        perror(argv[1]);
        return 1;
    }
    fclose(in);
    free(line);
    if ((rc = workbook_close(wb)) != LXW_NO_ERROR) {
        fprintf(stderr, "wide2xlsx: %s: %s\n", argv[2], lxw_strerror(rc));
        return 1;
    }
    return 0;
}
