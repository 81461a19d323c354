/*
 * parse_read.c
 *    Which reader turns a file into records, in the parse_csv stage.  The
 *    readers all push the same records (etl/csv.h) to the row builder:
 *
 *      CSV/TSV and SDMX-CSV   etl/csv.c    text, after the decoder
 *      JSON                   etl/json.c   text, after the decoder
 *      Excel .xlsx            etl/xlsx.c   the spooled file, by its path
 *      Excel .xls (BIFF)      etl/xls.c    the spooled file, by its path
 *
 *    A workbook is told from its first bytes (a ZIP archive's "PK\3\4", an
 *    OLE2 compound file's D0 CF 11 E0), or format: xlsx / xls; its bytes are
 *    not decoded: at the end of the file the reader opens the spool file
 *    and pushes the sheet's records (sheet: chooses one).
 *    A text reader is chosen by the "text" link that follows the decoder,
 *    from the first byte of the text that is not white space, unless the
 *    YAML's format: names one: '[' or '{' is JSON; '<' is an HTML or XML
 *    page served instead of a data file, and the file fails saying so
 *    (rather than with "missing column"); anything else is CSV.  The blank
 *    text before that byte is held and handed to the reader chosen, so
 *    that line numbers stay those of the file.
 *
 *    Next door: parse.c builds the chain (parse.h), parse_rows.c takes the
 *    records.
 */
#include "parse.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "etl/json.h"
#include "etl/pipeline.h"

/* Is 'c' white space before the first byte that tells the format? */
static bool
read_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * The text starts with '<' at [p, +n): an HTML page (a login or error page
 * served with status 200) or another markup document.  Fails the file.
 */
static int
read_markup(const char *p, size_t n, unsigned long line, struct etl_err *err)
{
    static const char *const html[] = { "<!doctype html", "<html", "<head", "<body", NULL };

    for (size_t i = 0; html[i] != NULL; i++) {
        size_t k = strlen(html[i]);

        if (n >= k && strncasecmp(p, html[i], k) == 0) {
            etl_err_set(err, ETL_E_DATA, "the file is an HTML page, not a data file");
            etl_err_hint(err, "the server may have answered with an error or login page: "
                         "check the URL in a browser");
            etl_err_where(err, "line %lu", line);
            return -1;
        }
    }
    etl_err_set(err, ETL_E_DATA, "the file is an HTML or XML document, not a data file");
    etl_err_detail(err, "it starts with \"%.*s\"", (int)(n < 40 ? n : 40), p);
    etl_err_where(err, "line %lu", line);
    return -1;
}

/*
 * Choose the reader for this file from the text's first byte that is not
 * white space (p[0]), or the YAML's format.  0, or -1 for markup (its line
 * counted in the blank text held before it).
 */
static int
read_choose(struct parse *ps, const char *p, size_t n, struct etl_err *err)
{
    char c = n > 0 ? p[0] : '\0';
    unsigned long line = 1;

    for (size_t i = 0; i < ps->held_len; i++) {
        line += ps->held[i] == '\n';
    }

    if (ps->format == PARSE_FORMAT_JSON) {
        ps->reader = etl_json_link(ps->json);
    } else if (ps->format == PARSE_FORMAT_AUTO && (c == '[' || c == '{')) {
        ps->reader = etl_json_link(ps->json);
    } else if (ps->format == PARSE_FORMAT_AUTO && c == '<') {
        return read_markup(p, n, line, err);
    } else {
        ps->reader = etl_csv_link(ps->csv);
    }
    return 0;
}

/* Hand the held blank text, then [p, +n), to the reader chosen. */
static int
read_forward(struct parse *ps, const char *p, size_t n, struct etl_err *err)
{
    struct etl_chunk c = { .bytes = ps->held, .len = ps->held_len };

    if (ps->held_len > 0) {
        ps->held_len = 0;
        if (ps->reader->kind->process(ps->reader, &c, err) < 0) {
            return -1;
        }
    }
    if (n == 0) {
        return 0;
    }
    c.bytes = p;
    c.len = n;
    return ps->reader->kind->process(ps->reader, &c, err);
}

/*
 * Can the reader be chosen from the held text?  When its first byte that
 * is not white space has come, and, for '<', enough after it to tell an
 * HTML page; or when the buffer is full.  *at: that byte's offset.
 */
static bool
read_decided(const struct parse *ps, size_t *at)
{
    size_t i = 0;

    while (i < ps->held_len && read_blank(ps->held[i])) {
        i++;
    }
    *at = i;
    if (ps->held_len == sizeof(ps->held)) {
        return true;
    }
    return i < ps->held_len && (ps->held[i] != '<' || ps->held_len - i >= 16);
}

/* Choose from the held text (whatever there is), then hand it on. */
static int
read_choose_held(struct parse *ps, size_t at, struct etl_err *err)
{
    size_t n = ps->held_len;

    ps->held_len = at;          /* the blank text before, for the line count */
    if (read_choose(ps, ps->held + at, n - at, err) < 0) {
        return -1;
    }
    ps->held_len = n;
    return read_forward(ps, NULL, 0, err);
}

/* Text from the decoder: held until the reader is chosen, then passed on. */
static int
read_text_process(struct etl_stage *link, struct etl_chunk *in, struct etl_err *err)
{
    struct parse *ps = link->ctx;
    const char *p = in->bytes;
    size_t n = in->len, at;

    if (in->type != NULL) {
        return etl_err_set(err, ETL_E_INTERNAL, "the text link expects bytes, not %s",
                           etl_chunk_type_name(in));
    }
    if (ps->reader != NULL) {
        return ps->reader->kind->process(ps->reader, in, err);
    }
    while (n > 0) {
        size_t k = sizeof(ps->held) - ps->held_len;

        k = k < n ? k : n;
        memcpy(ps->held + ps->held_len, p, k);
        ps->held_len += k;
        p += k;
        n -= k;
        if (read_decided(ps, &at)) {
            if (read_choose_held(ps, at, err) < 0) {
                return -1;
            }
            return read_forward(ps, p, n, err);
        }
    }
    return 0;
}

/* The end of the text: an empty or blank file goes to the CSV reader. */
static int
read_text_finish(struct etl_stage *link, struct etl_verdict *v, struct etl_err *err)
{
    struct parse *ps = link->ctx;

    size_t at;

    if (ps->reader == NULL) {
        (void)read_decided(ps, &at);
        if (read_choose_held(ps, at, err) < 0) {
            return -1;
        }
    }
    return ps->reader->kind->finish(ps->reader, v, err);
}

const struct etl_stage_kind parse_text_kind = {
    .name = "text",
    .consumes = ETL_FLOW_FILE,
    .produces = ETL_FLOW_FILE,
    .process = read_text_process,
    .finish = read_text_finish,
};

/*
 * Bytes of the spooled file: the first ones tell a workbook (whose bytes are
 * then only counted: it is read by path at the end) from text for the
 * decoder.
 */
int
parse_read_bytes(struct parse *ps, const struct etl_chunk *in, struct etl_err *err)
{
    struct etl_stage *head = etl_decode_link(ps->dec);

    if (!ps->started) {
        ps->started = true;
        if (ps->format == PARSE_FORMAT_XLSX ||
            (ps->format == PARSE_FORMAT_AUTO && etl_xlsx_magic(in->bytes, in->len))) {
            ps->book = PARSE_FORMAT_XLSX;
        } else if (ps->format == PARSE_FORMAT_XLS ||
                   (ps->format == PARSE_FORMAT_AUTO && etl_xls_magic(in->bytes, in->len))) {
            ps->book = PARSE_FORMAT_XLS;
        }
    }
    if (ps->book != 0) {
        return 0;
    }
    return head->kind->process(head, (struct etl_chunk *)in, err);
}

/*
 * The end of the file: a workbook's sheet is read from the spool file into
 * the row builder, which is then finished; text is finished through the
 * decoder and its reader.
 */
int
parse_read_finish(struct parse *ps, struct etl_verdict *v, struct etl_err *err)
{
    struct etl_stage *head = etl_decode_link(ps->dec);
    const char *path = ps->rows.job != NULL && ps->rows.job->file != NULL
                       ? ps->rows.job->file->spool_path : NULL;
    int rc;

    if (ps->book == 0) {
        return head->kind->finish(head, v, err);
    }
    if (path == NULL) {
        return etl_err_set(err, ETL_E_INTERNAL, "a workbook needs its spool file");
    }
    rc = ps->book == PARSE_FORMAT_XLSX
         ? etl_xlsx_read(ps->xlsx, path, ps->sheet, ps->max_record, err)
         : etl_xls_read(ps->xls, path, ps->sheet, ps->max_record, err);
    if (rc < 0) {
        return -1;
    }
    return ps->rows.kind->finish(&ps->rows, v, err);
}

/* Make the text readers and the link that chooses between them. */
int
parse_read_new(struct parse *ps, struct etl_err *err)
{
    ps->text.kind = &parse_text_kind;
    ps->text.name = (char *)"text";
    ps->text.ctx = ps;
    ps->csv = etl_csv_new(ps->delim, ps->max_record, &ps->rows, err);
    if (ps->csv == NULL) {
        return -1;
    }
    ps->json = etl_json_new(ps->records, ps->max_record, &ps->rows, err);
    if (ps->json == NULL) {
        return -1;
    }
    ps->xlsx = etl_xlsx_new(&ps->rows, err);
    ps->xls = ps->xlsx != NULL ? etl_xls_new(&ps->rows, err) : NULL;
    if (ps->xls == NULL) {
        return -1;
    }
    ps->dec = etl_decode_new(ps->comp, ps->enc, &ps->text, err);
    return ps->dec == NULL ? -1 : 0;
}

/* A new file: no reader chosen, nothing held. */
void
parse_read_reset(struct parse *ps)
{
    etl_decode_reset(ps->dec);
    etl_csv_reset(ps->csv);
    etl_json_reset(ps->json);
    ps->reader = NULL;
    ps->held_len = 0;
    ps->book = 0;
    ps->started = false;
}

void
parse_read_free(struct parse *ps)
{
    etl_decode_free(ps->dec);
    etl_csv_free(ps->csv);
    etl_json_free(ps->json);
    etl_xlsx_free(ps->xlsx);
    etl_xls_free(ps->xls);
}
