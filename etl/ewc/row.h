/*
 * row.h
 *    The row of an indicator file as it flows through the row stages of one
 *    file: parse fills the raw fields, normalize the canonical ones, validate
 *    may mark it rejected, load writes it.  Rows travel in batches
 *    (struct etl_batch) whose storage is owned by the parse stage and reused
 *    from batch to batch: nothing is allocated per row, and every pointer in
 *    a row dies when the batch is handed back (after process() returns).
 *
 *    A batch travels down the chain as a chunk of type etl_chunk_rows_type
 *    (etl/stage.h): 'data' is the struct etl_batch, 'len' its row count.
 */
#ifndef ETL_ROW_H
#define ETL_ROW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "etl/err.h"
#include "etl/stage.h"

/* The canonical columns of DOMAIN.md, in this order. */
enum etl_col {
    ETL_COL_REGION,
    ETL_COL_PARTNER,
    ETL_COL_INDICATOR,
    ETL_COL_PERIOD,
    ETL_COL_VALUE,
    ETL_COL_UNIT,
    ETL_COL_NOTE,
    ETL_NCOLS
};

/* "region", "partner", ... : the names used in the YAML and the database. */
extern const char *const etl_col_names[ETL_NCOLS];

enum etl_qualifier {
    ETL_Q_EXACT = 0,
    ETL_Q_LOWER,        /* 多 余 逾 以上: at least the value */
    ETL_Q_APPROX,       /* 约 近 左右 */
    ETL_Q_ESTIMATE,     /* SDMX OBS_STATUS E */
    ETL_Q_PROVISIONAL,  /* SDMX OBS_STATUS P */
    ETL_Q_MISSING       /* blank, —, …: no value (never zero) */
};
extern const char *const etl_qualifier_names[];   /* "exact", "lower_bound", ... */

enum etl_period_kind {
    ETL_PERIOD_NONE = 0,
    ETL_PERIOD_YEAR,
    ETL_PERIOD_HALF,
    ETL_PERIOD_QUARTER,
    ETL_PERIOD_MONTH,
    ETL_PERIOD_MONTHS,  /* cumulative months: 1-7月 */
    ETL_PERIOD_RANGE    /* several years: 1996—2011, 十三五 */
};
extern const char *const etl_period_kind_names[];  /* "year", "half", ... */

/* A half-open date range [start, end); dates as yyyymmdd integers. */
struct etl_period {
    enum etl_period_kind kind;
    int32_t start;      /* e.g. 20220101 */
    int32_t end;        /* e.g. 20220701 */
};

#define ETL_VALUE_MAX 64    /* decimal text of a value in base units */
#define ETL_REASON_MAX 320   /* room for "did you mean" with three entries */

struct etl_row {
    unsigned long line;             /* physical line where the record starts, 1-based */
    unsigned col;                   /* a wide table's cell: its column, from 1; 0 for
                                       a row that is the whole record */
    const char *raw;                /* the record's text (decoded UTF-8), no line end */
    size_t raw_len;
    const char *f[ETL_NCOLS];       /* raw fields, NUL-terminated; NULL if no such column */
    /*
     * Units the table states outside the row's own fields (parse): the unit
     * in the brackets of the value's column header ("数值（万元）",
     * "新增引导企业(家)"), and the table's default, from a unit line above it
     * ("单位：亿元、个": one word per kind of unit) or the YAML.  NULL when
     * none.  normalize applies them with the row's own (stage normalize.c).
     */
    const char *unit_header;        /* a unit word */
    const char *unit_header_of;     /* the header it stands in, for reasons */
    const char *unit_default;       /* unit words separated by 、 or , */
    const char *unit_default_from;  /* "the unit line", "the YAML" */
    bool total;                     /* the table's own total row (合计) */
    bool of_which_mark;             /* an of-which marker in the region or partner
                                       ("其中：广州"): normalize sets of_which */
    bool total_given;               /* ... whose region the YAML gave (total_region) */

    /* filled by normalize */
    char region[8];                 /* GB/T 2260 code, "000000" for the nation */
    char partner[8];                /* "" when not a pair figure */
    const char *indicator;          /* catalog code (catalog-owned) or NULL */
    struct etl_period period;
    char value[ETL_VALUE_MAX];      /* exact decimal in the canonical unit; "" if missing */
    const char *unit;               /* canonical unit code (catalog-owned) or NULL */
    enum etl_qualifier qualifier;
    bool of_which;                  /* "#" row: a sub-item, never added into totals
                                       (a marker in the indicator, or of_which_mark) */
    bool deleted;                   /* SDMX ACTION D: the sender withdraws it; not loaded */

    /* set by any stage that rejects the row; a rejected row is not normalized further */
    bool rejected;
    char reason[ETL_REASON_MAX];
    /* a reject for a name the catalog does not know: the name of the column
       it is in ("region", "partner", "indicator"), else NULL; the names are
       listed by ledger.unmatched */
    const char *unmatched;
};

/* A batch of rows of one file. */
#define ETL_BATCH_ROWS 512
struct etl_batch {
    struct etl_row rows[ETL_BATCH_ROWS];
    size_t n;
};

/* The chunk type of row batches: data is a struct etl_batch, len its n. */
extern const struct etl_chunk_type etl_chunk_rows_type;

/* A chunk carrying 'b' (the caller keeps owning it). */
static inline struct etl_chunk
etl_chunk_rows(struct etl_batch *b)
{
    struct etl_chunk c = { .type = &etl_chunk_rows_type, .data = b, .len = b->n };

    return c;
}

/*
 * The batch that chunk 'c' carries to stage 'st', or NULL with 'err' set
 * (ETL_E_INTERNAL, "stage NAME (KIND) expects rows, not bytes") when 'c' is
 * of another type.
 */
struct etl_batch *etl_chunk_batch(const struct etl_stage *st, const struct etl_chunk *c,
                                  struct etl_err *err) ETL_MUSTCHECK;

/* Mark a row rejected with a reason (printf-style), unless it already is. */
void etl_row_reject(struct etl_row *row, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#endif
