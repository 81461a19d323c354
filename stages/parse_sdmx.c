/*
 * parse_sdmx.c
 *    SDMX-CSV in the parse_csv stage: telling an SDMX-CSV header from a CSV
 *    one, mapping its columns, and the SDMX part of each row (ACTION,
 *    OBS_STATUS, UNIT_MULT).  Called by the row builder (parse_rows.c).
 *
 *    SDMX-CSV (the statistics agencies' exchange format):
 *      - detected from the first non-blank record (after decoding, names
 *        compared case-insensitively): DATAFLOW as column 1 is SDMX-CSV 1.0;
 *        STRUCTURE (or STRUCTURE[;], with a sub-field separator) as column 1
 *        is 2.0, and then column 2 must be STRUCTURE_ID (a file error
 *        otherwise);
 *      - the component columns map to the canonical ones by their SDMX IDs,
 *        the "columns" key playing no part: REF_AREA -> region,
 *        COUNTERPART_AREA -> partner, INDICATOR -> indicator, TIME_PERIOD ->
 *        period, OBS_VALUE -> value, UNIT_MEASURE -> unit, OBS_COMMENT (or
 *        else COMMENT) -> note; UNIT_MULT, OBS_STATUS and (2.0 only) ACTION
 *        are read here; every other column (DATAFLOW, FREQ, DECIMALS, ...)
 *        is ignored.  REF_AREA, INDICATOR, TIME_PERIOD and OBS_VALUE are
 *        required.  Header cells "ID: name" (labels=both) match by their ID;
 *        with labels=name (STRUCTURE_NAME as column 3) the name column after
 *        each mapped column is skipped;
 *      - coded values written "ID: name" (labels=both) keep their ID: in
 *        REF_AREA, COUNTERPART_AREA, INDICATOR, TIME_PERIOD, UNIT_MEASURE,
 *        UNIT_MULT, OBS_STATUS and ACTION;
 *      - ACTION: empty, I, A or R -> loaded; D -> row->deleted (the load
 *        stage skips and counts it); anything else -> rejected row
 *        'unknown ACTION "X"';
 *      - OBS_STATUS: empty or A -> exact; E -> ETL_Q_ESTIMATE; P ->
 *        ETL_Q_PROVISIONAL; M -> missing (the value is dropped: normalize
 *        takes a blank value as missing); anything else -> rejected row
 *        'unknown OBS_STATUS "X"'.  An OBS_VALUE of NaN or #N/A is missing
 *        too;
 *      - UNIT_MULT (a power of ten, an integer from -24 to 24, e.g. 8 for
 *        亿) multiplies OBS_VALUE here, exactly (etl_num_shift), so that the
 *        value text is in UNIT_MEASURE's base unit: 220 with UNIT_MULT 8 is
 *        "22000000000".  An OBS_VALUE that is a plain decimal (sign, digits,
 *        point, an exponent as in 1.5E3) is rewritten that way with or
 *        without UNIT_MULT; any other OBS_VALUE with a UNIT_MULT is a
 *        rejected row, without one it is left to normalize.
 *    Codes in REF_AREA ("440000"), INDICATOR ("cadres_exchanged") and
 *    UNIT_MEASURE ("CNY") are looked up by normalize in the catalog.
 */
#include "parse.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etl/ewc/num.h"
#include "etl/text.h"

/* The SDMX-CSV columns read (see the file header), by their folded IDs. */
struct parse_sdmx_name {
    const char *fold;               /* lower case, as parse_fold() makes it */
    const char *shown;              /* the SDMX ID */
    int col;                        /* enum etl_col or PARSE_COL_* */
    int rank;                       /* of two names for a column, the higher wins */
    int version;                    /* lowest SDMX-CSV version having it */
};

static const struct parse_sdmx_name parse_sdmx_names[] = {
    { "ref_area", "REF_AREA", ETL_COL_REGION, 0, 10 },
    { "counterpart_area", "COUNTERPART_AREA", ETL_COL_PARTNER, 0, 10 },
    { "indicator", "INDICATOR", ETL_COL_INDICATOR, 0, 10 },
    { "time_period", "TIME_PERIOD", ETL_COL_PERIOD, 0, 10 },
    { "obs_value", "OBS_VALUE", ETL_COL_VALUE, 0, 10 },
    { "unit_measure", "UNIT_MEASURE", ETL_COL_UNIT, 0, 10 },
    { "obs_comment", "OBS_COMMENT", ETL_COL_NOTE, 1, 10 },
    { "comment", "COMMENT", ETL_COL_NOTE, 0, 10 },
    { "unit_mult", "UNIT_MULT", PARSE_COL_UNIT_MULT, 0, 10 },
    { "obs_status", "OBS_STATUS", PARSE_COL_OBS_STATUS, 0, 10 },
    { "action", "ACTION", PARSE_COL_ACTION, 0, 20 },
};
#define PARSE_NSDMX (sizeof(parse_sdmx_names) / sizeof(parse_sdmx_names[0]))

/* Is column 'c' of an SDMX-CSV file coded ("ID: name" values)? */
static const bool parse_sdmx_coded_cols[PARSE_NMAP] = {
    [ETL_COL_REGION] = true, [ETL_COL_PARTNER] = true,
    [ETL_COL_INDICATOR] = true, [ETL_COL_PERIOD] = true,
    [ETL_COL_UNIT] = true, [PARSE_COL_UNIT_MULT] = true,
    [PARSE_COL_OBS_STATUS] = true, [PARSE_COL_ACTION] = true,
};

/* Is column 'col' of an SDMX-CSV file coded ("ID: name" values)? */
bool
parse_sdmx_coded(int col)
{
    return col >= 0 && col < PARSE_NMAP && parse_sdmx_coded_cols[col];
}

/*
 * The length of [p, +n) without a label: "ID: name" (SDMX labels=both)
 * gives the length of "ID", without the blanks before the colon.  Texts
 * without ": " keep their length.
 */
size_t
parse_label_cut(const char *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++) {
        if (p[i] == ':' && p[i + 1] == ' ') {
            size_t k;

            while ((k = etl_text_blank_before(p, p + i)) > 0) {
                i -= k;
            }
            return i;
        }
    }
    return n;
}

/* Field 'i' of a header, trimmed, without its label, folded into 'fold'. */
static long
parse_sdmx_fold(const struct etl_csv_record *rec, size_t i, char *fold)
{
    const char *p = rec->fields[i];
    size_t n = rec->lens[i];

    parse_trim(&p, &n);
    return parse_fold(p, parse_label_cut(p, n), fold);
}

/*
 * Which SDMX-CSV version a header announces: 10 (DATAFLOW first), 20
 * (STRUCTURE or STRUCTURE[x] first, then STRUCTURE_ID), 0 for none (a CSV
 * header, with format auto).  *merged: how many fields after the first one
 * belong to it, when the delimiter inside "STRUCTURE[;]" split it (the
 * data records have that many fields fewer).  -1 with ETL_E_DATA, 'where'
 * "line N": a 2.0 header without STRUCTURE_ID, or no SDMX header with
 * format sdmx.
 */
int
parse_sdmx_version(const struct parse *ps, const struct etl_csv_record *rec,
                   size_t *merged, struct etl_err *err)
{
    char fold[PARSE_NAME_MAX];
    long n = parse_sdmx_fold(rec, 0, fold);

    *merged = 0;
    if (n > 0 && strcmp(fold, "dataflow") == 0) {
        return 10;
    }
    if (n >= 9 && memcmp(fold, "structure", 9) == 0 && (n == 9 || fold[9] == '[')) {
        bool closed = n == 9 || fold[n - 1] == ']';
        size_t id;

        while (!closed && *merged + 1 < rec->nfields) {
            long m = parse_sdmx_fold(rec, ++*merged, fold);

            closed = m > 0 && fold[m - 1] == ']';
        }
        id = 1 + *merged;
        if (!closed) {
            etl_err_set(err, ETL_E_DATA, "invalid SDMX-CSV 2.0 header: column 1 "
                        "opens \"[\" but never closes it");
            etl_err_detail(err, "the header is \"%s\"", rec->raw);
            etl_err_where(err, "line %lu", rec->line);
            return -1;
        }
        if (id < rec->nfields && parse_sdmx_fold(rec, id, fold) > 0 &&
            strcmp(fold, "structure_id") == 0) {
            return 20;
        }
        etl_err_set(err, ETL_E_DATA, "invalid SDMX-CSV 2.0 header: column 2 is "
                    "\"%s\", expected STRUCTURE_ID",
                    id < rec->nfields ? rec->fields[id] : "");
        etl_err_detail(err, "the header is \"%s\"", rec->raw);
        etl_err_where(err, "line %lu", rec->line);
        return -1;
    }
    if (ps->format == PARSE_FORMAT_SDMX) {
        etl_err_set(err, ETL_E_DATA, "not an SDMX-CSV header: column 1 is \"%s\", "
                    "expected DATAFLOW (SDMX-CSV 1.0) or STRUCTURE (2.0)",
                    rec->fields[0]);
        etl_err_detail(err, "the header is \"%s\"", rec->raw);
        etl_err_hint(err, "set format: auto or csv for a plain CSV file");
        etl_err_where(err, "line %lu", rec->line);
        return -1;
    }
    return 0;
}

/*
 * Map the columns of an SDMX-CSV header (ps->sdmx set) by their IDs; the
 * first field and 'merged' more are the STRUCTURE or DATAFLOW column.  A
 * column named twice is an error, except the note, where OBS_COMMENT beats
 * COMMENT; a required column missing is an error.  ETL_E_DATA, 'where'
 * "line N".  Field numbers in messages are those of the data records.
 */
int
parse_sdmx_header(struct parse *ps, const struct etl_csv_record *rec,
                  size_t merged, struct etl_err *err)
{
    char fold[PARSE_NAME_MAX];
    int rank[PARSE_NMAP];
    bool labels_name = false, skip = false;

    for (int c = 0; c < PARSE_NMAP; c++) {
        rank[c] = 0;
    }
    if (ps->sdmx == 20 && rec->nfields >= 3 + merged &&
        parse_sdmx_fold(rec, 2 + merged, fold) > 0 &&
        strcmp(fold, "structure_name") == 0) {
        labels_name = true;
    }
    for (size_t i = 1 + merged; i < rec->nfields; i++) {
        size_t at = i - merged;     /* the field's index in the data records */

        if (skip) {
            skip = false;   /* labels=name: the name column of the last one */
            continue;
        }
        if (parse_sdmx_fold(rec, i, fold) <= 0) {
            continue;
        }
        for (size_t k = 0; k < PARSE_NSDMX; k++) {
            const struct parse_sdmx_name *e = &parse_sdmx_names[k];
            int prev = ps->map[e->col];

            if (strcmp(fold, e->fold) != 0 || e->version > ps->sdmx) {
                continue;
            }
            skip = labels_name && e->col != PARSE_COL_ACTION;
            if (prev >= 0 && rank[e->col] == e->rank) {
                etl_err_set(err, ETL_E_DATA, "column \"%s\" is named twice in the "
                            "header: \"%s\" (field %d) and \"%s\" (field %zu)",
                            e->shown, rec->fields[(size_t)prev + merged], prev + 1,
                            rec->fields[i], at + 1);
                etl_err_where(err, "line %lu", rec->line);
                return -1;
            }
            if (prev < 0 || rank[e->col] < e->rank) {
                ps->map[e->col] = (int)at;
                rank[e->col] = e->rank;
            }
            break;
        }
    }
    for (size_t k = 0; k < PARSE_NREQUIRED; k++) {
        enum etl_col c = parse_required[k];
        const char *id = "";

        if (ps->map[c] >= 0) {
            continue;
        }
        for (size_t j = 0; j < PARSE_NSDMX; j++) {
            if (parse_sdmx_names[j].col == (int)c) {
                id = parse_sdmx_names[j].shown;
                break;
            }
        }
        etl_err_set(err, ETL_E_DATA, "missing column \"%s\" (SDMX-CSV %s needs "
                    "REF_AREA, INDICATOR, TIME_PERIOD and OBS_VALUE)", id,
                    ps->sdmx == 10 ? "1.0" : "2.0");
        etl_err_detail(err, "the header is \"%s\"", rec->raw);
        etl_err_where(err, "line %lu", rec->line);
        return -1;
    }
    ps->have_header = true;
    ps->nheader = rec->nfields - merged;
    return 0;
}

/* How many bytes of [p, +n) to quote in a reason: whole characters. */
static int
parse_qlen(const char *p, size_t n)
{
    if (n > PARSE_QUOTE) {
        n = PARSE_QUOTE;
        while (n > 0 && ((unsigned char)p[n] & 0xc0) == 0x80) {
            n--;
        }
    }
    return (int)n;
}

/*
 * An SDMX-only field of a record (UNIT_MULT, OBS_STATUS, ACTION): trimmed,
 * without its label, in [*p, +*n).  False if the file has no such column.
 */
static bool
parse_sdmx_field(const struct parse *ps, const struct etl_csv_record *rec, int col,
                 const char **p, size_t *n)
{
    int i = ps->map[col];

    if (i < 0 || (size_t)i >= rec->nfields) {
        return false;
    }
    *p = rec->fields[i];
    *n = rec->lens[i];
    parse_trim(p, n);
    *n = parse_label_cut(*p, *n);
    return true;
}

/*
 * An OBS_VALUE that is a plain decimal ([+-] digits [. digits] [e[+-]ddd],
 * or [+-] . digits ...) written into 'out' (of 'size' bytes) as etl_num_shift
 * wants it ("-0.5", "12.40"), its exponent in *exp.  Returns 0, -1 when it is
 * no plain decimal, -2 when it does not fit 'size'.
 */
static int
parse_decimal(const char *s, char *out, size_t size, int *exp)
{
    size_t o = 0, digits = 0;
    bool neg = false;

    *exp = 0;
    if (*s == '+' || *s == '-') {
        neg = *s == '-';
        s++;
    }
    if (neg) {
        out[o++] = '-';
    }
    if (*s == '.') {
        out[o++] = '0';
    }
    for (; *s >= '0' && *s <= '9'; s++, digits++) {
        if (o + 2 >= size) {
            return -2;
        }
        out[o++] = *s;
    }
    if (*s == '.') {
        s++;
        if (*s >= '0' && *s <= '9') {
            out[o++] = '.';
        }
        for (; *s >= '0' && *s <= '9'; s++, digits++) {
            if (o + 2 >= size) {
                return -2;
            }
            out[o++] = *s;
        }
    }
    if (digits == 0) {
        return -1;
    }
    if (*s == 'e' || *s == 'E') {
        bool eneg = false;
        int e = 0, k = 0;

        s++;
        if (*s == '+' || *s == '-') {
            eneg = *s == '-';
            s++;
        }
        for (; *s >= '0' && *s <= '9' && k < 4; s++, k++) {
            e = e * 10 + (*s - '0');
        }
        if (k == 0 || k > 3) {
            return -1;
        }
        *exp = eneg ? -e : e;
    }
    if (*s != '\0') {
        return -1;
    }
    out[o] = '\0';
    return 0;
}

/*
 * The SDMX part of a row that is not rejected: ACTION, OBS_STATUS,
 * UNIT_MULT applied to OBS_VALUE.  May reject the row.  The rewritten value
 * goes to the arena (parse_row made room for ETL_VALUE_MAX bytes).
 */
void
parse_sdmx_row(struct parse *ps, const struct etl_csv_record *rec, struct etl_row *row)
{
    const char *p, *v = row->f[ETL_COL_VALUE];
    size_t n;
    long mult = 0;
    bool has_mult = false;
    char num[ETL_VALUE_MAX];
    struct etl_err e;
    int exp, rc;

    if (parse_sdmx_field(ps, rec, PARSE_COL_ACTION, &p, &n) && n > 0) {
        if (n == 1 && *p == 'D') {
            row->deleted = true;
        } else if (n != 1 || (*p != 'I' && *p != 'A' && *p != 'R')) {
            etl_row_reject(row, "unknown ACTION \"%.*s\"", parse_qlen(p, n), p);
            return;
        }
    }
    if (parse_sdmx_field(ps, rec, PARSE_COL_OBS_STATUS, &p, &n) && n > 0) {
        if (n == 1 && *p == 'E') {
            row->qualifier = ETL_Q_ESTIMATE;
        } else if (n == 1 && *p == 'P') {
            row->qualifier = ETL_Q_PROVISIONAL;
        } else if (n == 1 && *p == 'M') {
            v = "";
        } else if (n != 1 || *p != 'A') {
            etl_row_reject(row, "unknown OBS_STATUS \"%.*s\"", parse_qlen(p, n), p);
            return;
        }
    }
    if (parse_sdmx_field(ps, rec, PARSE_COL_UNIT_MULT, &p, &n) && n > 0) {
        char *end;

        memcpy(num, p, n < sizeof(num) ? n : sizeof(num) - 1);
        num[n < sizeof(num) ? n : sizeof(num) - 1] = '\0';
        mult = strtol(num, &end, 10);
        if (n >= sizeof(num) || end == num || *end != '\0' ||
            !((num[0] >= '0' && num[0] <= '9') || num[0] == '-' || num[0] == '+') ||
            mult < -PARSE_UNIT_MULT_MAX || mult > PARSE_UNIT_MULT_MAX) {
            etl_row_reject(row, "invalid UNIT_MULT \"%.*s\" (expected an integer "
                           "from %d to %d)", parse_qlen(p, n), p,
                           -PARSE_UNIT_MULT_MAX, PARSE_UNIT_MULT_MAX);
            return;
        }
        has_mult = true;
    }
    if (v[0] == '\0' || strcmp(v, "NaN") == 0 || strcmp(v, "#N/A") == 0) {
        row->f[ETL_COL_VALUE] = "";     /* missing */
        return;
    }
    rc = parse_decimal(v, num, sizeof(num), &exp);
    if (rc == -2) {
        etl_row_reject(row, "invalid OBS_VALUE \"%.*s\" (longer than %d characters)",
                       parse_qlen(v, strlen(v)), v, ETL_VALUE_MAX - 1);
        return;
    }
    if (rc < 0) {
        if (has_mult) {
            etl_row_reject(row, "invalid OBS_VALUE \"%.*s\" for UNIT_MULT %ld "
                           "(expected a decimal number)", parse_qlen(v, strlen(v)),
                           v, mult);
        }
        return;     /* normalize judges it */
    }
    e.code = ETL_E_NONE;
    e.msg[0] = '\0';
    if (etl_num_shift(num, sizeof(num), (int)mult + exp, &e) < 0) {
        etl_row_reject(row, "%s", e.msg);
        return;
    }
    row->f[ETL_COL_VALUE] = parse_keep(ps, num, strlen(num));
}
