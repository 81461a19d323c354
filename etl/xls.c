/*
 * xls.c
 *    .xls sheet reader over libfreexl: open the workbook, pick the sheet,
 *    walk its rows and columns with freexl_get_cell_value(), build each row
 *    with cell.c.  See xls.h for the record, bad records, errors and memory.
 *
 *    libfreexl is not safe on damaged files (it was seen to read past a
 *    buffer and to leak), so it runs in a child process: the child reads
 *    the workbook and writes each record to a pipe as a frame, the parent
 *    turns frames back into records for the next link.  A child that dies
 *    fails the file ("the .xls reader died"); nothing of its memory is the
 *    parent's.
 */
#include "xls.h"

#include <errno.h>
#include <freexl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cell.h"
#include "csv.h"

struct etl_xls {
    struct etl_stage *next;
    struct etl_cell_row row;
    char *frame;                /* the parent: one frame read back */
    size_t frame_cap;
    const char **fields;        /* ... and its record's fields */
    size_t *lens;
    size_t fields_cap;
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
    free(x->frame);
    free(x->fields);
    free(x->lens);
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

static int
xls_read_here(struct etl_xls *x, const char *path, const char *sheet, size_t max_record,
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

/* ---- the child process and its frames ----------------------------------- */

/*
 * A frame on the pipe: a header, then 'len' bytes.  A record frame's bytes
 * are its raw text, its reason ("" if not bad), then each field, each
 * preceded by its length (uint32_t) and followed by a NUL, so that the
 * parent's texts are NUL-terminated where they lie; the end frame's are
 * the struct etl_err of the read (its result in the header).
 */
struct xls_frame {
    uint32_t kind;              /* XLS_RECORD or XLS_END */
    uint32_t len;
    uint64_t line;
    uint32_t nfields;
    int32_t result;             /* XLS_END: 0 or -1 */
};

enum { XLS_RECORD = 1, XLS_END = 2 };

/* Write all of [p, +n) to fd; 0 or -1. */
static int
xls_write_all(int fd, const void *p, size_t n)
{
    const char *s = p;

    while (n > 0) {
        ssize_t k = write(fd, s, n);

        if (k < 0 && errno == EINTR) {
            continue;
        }
        if (k <= 0) {
            return -1;
        }
        s += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Read all of [p, +n) from fd; 1, 0 at the end of the pipe, -1. */
static int
xls_read_all(int fd, void *p, size_t n)
{
    char *s = p;

    while (n > 0) {
        ssize_t k = read(fd, s, n);

        if (k < 0 && errno == EINTR) {
            continue;
        }
        if (k <= 0) {
            return k == 0 ? 0 : -1;
        }
        s += k;
        n -= (size_t)k;
    }
    return 1;
}

/* Append a length, its bytes and a NUL to the frame being built. */
static int
xls_put(struct etl_buf *b, const char *p, size_t n, struct etl_err *err)
{
    uint32_t len = (uint32_t)n;

    if (etl_buf_add(b, &len, sizeof(len), err) < 0 ||
        (n > 0 && etl_buf_add(b, p, n, err) < 0)) {
        return -1;
    }
    return etl_buf_addc(b, '\0', err);
}

/* The child's next link: each record into a frame on the pipe (ctx: fd). */
static int
xls_pipe_process(struct etl_stage *st, struct etl_chunk *in, struct etl_err *err)
{
    const struct etl_csv_record *rec = in->data;
    int fd = *(const int *)st->ctx;
    struct etl_buf b;
    struct xls_frame h = { .kind = XLS_RECORD, .line = rec->line,
                           .nfields = (uint32_t)rec->nfields };
    int rc = -1;

    etl_buf_init(&b, (size_t)-1 / 2);
    if (xls_put(&b, rec->raw, rec->raw_len, err) < 0 ||
        xls_put(&b, rec->bad != NULL ? rec->bad : "", rec->bad != NULL ? strlen(rec->bad) : 0,
                err) < 0) {
        goto out;
    }
    for (size_t i = 0; i < rec->nfields; i++) {
        if (xls_put(&b, rec->fields[i], rec->lens[i], err) < 0) {
            goto out;
        }
    }
    h.len = (uint32_t)b.len;
    if (xls_write_all(fd, &h, sizeof(h)) < 0 || xls_write_all(fd, b.data, b.len) < 0) {
        etl_err_errno(err, ETL_E_IO, "could not write to the .xls reader's pipe");
        goto out;
    }
    rc = 0;
out:
    etl_buf_free(&b);
    return rc;
}

static const struct etl_stage_kind xls_pipe_kind = {
    .name = "xls-pipe",
    .process = xls_pipe_process,
};

/* The child: read the workbook into the pipe, then the end frame; never returns. */
static void
xls_child(struct etl_xls *x, int fd, const char *path, const char *sheet, size_t max_record)
{
    struct etl_stage pipe_link = { .kind = &xls_pipe_kind, .name = (char *)"xls-pipe",
                                   .ctx = &fd };
    struct xls_frame h = { .kind = XLS_END, .len = sizeof(struct etl_err) };
    struct etl_err err;

    etl_err_clear(&err);
    x->next = &pipe_link;
    h.result = xls_read_here(x, path, sheet, max_record, &err);
    (void)(xls_write_all(fd, &h, sizeof(h)) == 0 && xls_write_all(fd, &err, sizeof(err)));
    _exit(0);
}

/*
 * A record frame of 'len' bytes (in x->frame) back into a record pushed to
 * the next link.  0 or -1 (a frame that does not add up, the link's error).
 */
static int
xls_push_frame(struct etl_xls *x, const struct xls_frame *h, struct etl_err *err)
{
    struct etl_csv_record rec = { .line = (unsigned long)h->line, .nfields = h->nfields };
    struct etl_chunk c = { .type = &etl_chunk_record_type, .data = &rec,
                           .len = h->nfields };
    char *p = x->frame, *e = x->frame + h->len;
    const char *text[2];
    size_t tlen[2];

    if (h->nfields > x->fields_cap) {
        const char **f = realloc(x->fields, h->nfields * sizeof(*f));
        size_t *l = f != NULL ? realloc(x->lens, h->nfields * sizeof(*l)) : NULL;

        if (f != NULL) {
            x->fields = f;
        }
        if (l == NULL) {
            return etl_err_nomem(err);
        }
        x->lens = l;
        x->fields_cap = h->nfields;
    }
    for (size_t i = 0; i < 2 + (size_t)h->nfields; i++) {
        uint32_t len;

        if ((size_t)(e - p) < sizeof(len)) {
            return etl_err_set(err, ETL_E_INTERNAL, "a frame of the .xls reader is short");
        }
        memcpy(&len, p, sizeof(len));
        p += sizeof(len);
        if ((size_t)(e - p) < (size_t)len + 1 || p[len] != '\0') {
            return etl_err_set(err, ETL_E_INTERNAL, "a frame of the .xls reader is short");
        }
        if (i < 2) {
            text[i] = p;
            tlen[i] = len;
        } else {
            x->fields[i - 2] = p;
            x->lens[i - 2] = len;
        }
        p += len + 1;
    }
    rec.raw = text[0];
    rec.raw_len = tlen[0];
    rec.bad = tlen[1] > 0 ? text[1] : NULL;
    rec.fields = x->fields;
    rec.lens = x->lens;
    return x->next->kind->process(x->next, &c, err);
}

int
etl_xls_read(struct etl_xls *x, const char *path, const char *sheet, size_t max_record,
             struct etl_err *err)
{
    struct xls_frame h;
    int fds[2], status, rc = -1;
    /* a record's raw text and fields, each up to the limit, and framing */
    size_t most = 2 * (max_record > 0 ? max_record : ETL_CSV_MAX_RECORD) +
                  5 * (size_t)ETL_CSV_MAX_FIELDS + sizeof(struct etl_err) + 1024;
    pid_t pid;

    if (pipe(fds) < 0) {
        return etl_err_errno(err, ETL_E_IO, "could not make a pipe for the .xls reader");
    }
    fflush(NULL);
    if ((pid = fork()) < 0) {
        close(fds[0]);
        close(fds[1]);
        return etl_err_errno(err, ETL_E_IO, "could not start the .xls reader");
    }
    if (pid == 0) {
        close(fds[0]);
        xls_child(x, fds[1], path, sheet, max_record);
    }
    close(fds[1]);
    for (;;) {
        int got = xls_read_all(fds[0], &h, sizeof(h));

        if (got <= 0) {
            etl_err_set(err, ETL_E_DATA, "the .xls reader died reading the workbook");
            break;
        }
        if (h.len > most) {
            etl_err_set(err, ETL_E_INTERNAL, "a frame of the .xls reader is too long");
            break;
        }
        if (h.len + 1 > x->frame_cap) {
            char *f = realloc(x->frame, (size_t)h.len + 1);

            if (f == NULL) {
                etl_err_nomem(err);
                break;
            }
            x->frame = f;
            x->frame_cap = (size_t)h.len + 1;
        }
        if (xls_read_all(fds[0], x->frame, h.len) <= 0) {
            etl_err_set(err, ETL_E_DATA, "the .xls reader died reading the workbook");
            break;
        }
        if (h.kind == XLS_END) {
            if (h.len == sizeof(struct etl_err)) {
                memcpy(err, x->frame, sizeof(*err));
                rc = h.result < 0 ? -1 : 0;
            }
            break;
        }
        if (xls_push_frame(x, &h, err) < 0) {
            break;
        }
    }
    close(fds[0]);
    if (rc < 0) {
        kill(pid, SIGKILL);     /* our own child, by its PID */
    }
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (rc == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
        rc = etl_err_set(err, ETL_E_DATA, "the .xls reader died reading the workbook");
    }
    if (rc < 0 && WIFSIGNALED(status) && WTERMSIG(status) != SIGKILL) {
        etl_err_detail(err, "it was killed by signal %d", WTERMSIG(status));
    }
    return rc;
}
