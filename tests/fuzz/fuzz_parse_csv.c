/*
 * fuzz_parse_csv.c
 *    libFuzzer target: the parse_csv stage as a whole (stages/parse.c),
 *    driven as tests/unit/test_stage_parse_shape.c drives it: configured
 *    from "{}" in a pipeline whose config holds the bundled catalog
 *    (config/catalog, loaded once, relative to the repository's top), then
 *    begin, process in pieces, finish; abort on an error.  That covers
 *    finding the header below a title, wide tables, totals and SDMX-CSV
 *    headers.  The file runs whole and then in pieces derived from the
 *    input; both must give the same rows and outcome.
 */
#include "tests/fuzz/fuzz.h"

#include "etl/config.h"
#include "etl/ewc/catalog.h"
#include "etl/ewc/row.h"
#include "etl/pipeline.h"
#include "etl/resource.h"
#include "etl/stage.h"
#include "stages/parse.h"

extern const struct etl_stage_kind etl_stage_parse_csv;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct etl_catalog *cat;
static struct etl_config cfg;
static struct etl_resource res = { .name = "catalog" };
static struct etl_pipeline pl;
static struct etl_doc *doc;

struct rec {
    uint64_t hash;
    size_t rows;
};

static int
rec_process(struct etl_stage *st, struct etl_chunk *in, struct etl_err *err)
{
    struct rec *r = st->ctx;
    struct etl_batch *batch = in->data;

    (void)err;
    FUZZ_CHECK(in->type == &etl_chunk_rows_type);
    for (size_t i = 0; i < batch->n; i++) {
        const struct etl_row *row = &batch->rows[i];

        FUZZ_CHECK(strlen(row->raw) == row->raw_len);
        r->hash = fuzz_hash(r->hash, &row->line, sizeof(row->line));
        r->hash = fuzz_hash(r->hash, row->raw, row->raw_len);
        for (int c = 0; c < ETL_NCOLS; c++) {
            if (row->f[c] != NULL) {
                r->hash = fuzz_hash(r->hash, &c, sizeof(c));
                r->hash = fuzz_hash(r->hash, row->f[c], strlen(row->f[c]) + 1);
            }
        }
        if (row->unit_header != NULL) {
            r->hash = fuzz_hash(r->hash, row->unit_header, strlen(row->unit_header));
            r->hash = fuzz_hash(r->hash, row->unit_header_of,
                                strlen(row->unit_header_of) + 1);
        }
        if (row->unit_default != NULL) {
            r->hash = fuzz_hash(r->hash, row->unit_default, strlen(row->unit_default));
            r->hash = fuzz_hash(r->hash, row->unit_default_from,
                                strlen(row->unit_default_from) + 1);
        }
        r->hash = fuzz_hash(r->hash, row->rejected ? row->reason : "",
                            row->rejected ? strlen(row->reason) + 1 : 1);
        r->rows++;
    }
    return 0;
}

static int
rec_finish(struct etl_stage *st, struct etl_verdict *v, struct etl_err *err)
{
    (void)st;
    (void)v;
    (void)err;
    return 0;
}

static const struct etl_stage_kind rec_kind = {
    .name = "recorder",
    .consumes = ETL_FLOW_ROWS,
    .produces = ETL_FLOW_ROWS,
    .process = rec_process,
    .finish = rec_finish,
};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct etl_err err;

    (void)argc;
    (void)argv;
    etl_err_clear(&err);
    cat = etl_catalog_load("config/catalog", &err);
    if (cat == NULL) {
        fprintf(stderr, "cannot load config/catalog: %s %s\n", err.where, err.msg);
        abort();
    }
    res.ptr = cat;
    cfg.resources = &res;
    cfg.nresources = 1;
    pl.config = &cfg;
    pl.name = (char *)"fuzz";
    doc = etl_doc_parse("fuzz.yaml", "{}", 2, &err);
    FUZZ_CHECK(doc != NULL);
    return 0;
}

/* One file through a configured stage; 'split' NULL: in one piece. */
static int
run(struct etl_stage *st, const uint8_t *data, size_t size, struct fuzz_split *split)
{
    struct etl_verdict verdict;
    struct etl_err err;
    size_t pos = 0;

    memset(&verdict, 0, sizeof(verdict));
    etl_err_clear(&err);
    if (etl_stage_parse_csv.begin(st, &err) < 0) {
        FUZZ_CHECK(err.msg[0] != '\0');
        return -1;
    }
    while (pos < size) {
        size_t k = split != NULL ? fuzz_split_next(split, size - pos) : size - pos;
        struct etl_chunk c = { .bytes = (const char *)data + pos, .len = k };

        if (etl_stage_parse_csv.process(st, &c, &err) < 0) {
            FUZZ_CHECK(err.code != ETL_E_NONE && err.msg[0] != '\0');
            etl_stage_parse_csv.abort(st);
            return -1;
        }
        pos += k;
    }
    if (etl_stage_parse_csv.finish(st, &verdict, &err) < 0) {
        FUZZ_CHECK(err.code != ETL_E_NONE && err.msg[0] != '\0');
        etl_stage_parse_csv.abort(st);
        return -1;
    }
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rec whole = { FUZZ_HASH_INIT, 0 }, pieces = { FUZZ_HASH_INIT, 0 };
    struct etl_stage st, next;
    struct etl_job job;
    struct etl_file file;
    struct fuzz_split split;
    struct etl_err err;
    int a, b;

    memset(&st, 0, sizeof(st));
    memset(&next, 0, sizeof(next));
    memset(&job, 0, sizeof(job));
    memset(&file, 0, sizeof(file));
    st.kind = &etl_stage_parse_csv;
    st.name = (char *)"parse";
    st.node = doc->root;
    st.pipeline = &pl;
    st.next = &next;
    next.kind = &rec_kind;
    next.name = (char *)"recorder";
    file.url = (char *)"http://example.org/fuzz.csv";
    job.file = &file;
    st.job = &job;
    next.job = &job;
    etl_err_clear(&err);
    FUZZ_CHECK(etl_stage_parse_csv.configure(&st, doc->root, &err) == 0);
    fuzz_split_init(&split, data, size);
    next.ctx = &whole;
    a = run(&st, data, size, NULL);
    next.ctx = &pieces;
    b = run(&st, data, size, &split);
    FUZZ_CHECK(a == b);
    if (a == 0) {
        FUZZ_CHECK(whole.rows == pieces.rows && whole.hash == pieces.hash);
    }
    etl_stage_parse_csv.destroy(&st);
    return 0;
}
