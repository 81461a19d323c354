/*
 * fuzz_json.c
 *    libFuzzer target: the JSON reader (etl/json.h) with a recording next
 *    link, records at the top level or under "data.list" (the first byte
 *    says), fed whole and then in pieces derived from the input.  Checks
 *    every record's lengths and that both feeds agree.
 */
#include "tests/fuzz/fuzz.h"

#include "etl/csv.h"
#include "etl/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct rec {
    uint64_t hash;
    size_t records;
};

static int
rec_process(struct etl_stage *st, struct etl_chunk *in, struct etl_err *err)
{
    struct rec *r = st->ctx;
    const struct etl_csv_record *c = in->data;

    (void)err;
    FUZZ_CHECK(in->type == &etl_chunk_record_type);
    FUZZ_CHECK(in->len == c->nfields);
    FUZZ_CHECK(strlen(c->raw) == c->raw_len);
    r->hash = fuzz_hash(r->hash, c->raw, c->raw_len + 1);
    for (size_t i = 0; i < c->nfields; i++) {
        FUZZ_CHECK(strlen(c->fields[i]) == c->lens[i]);
        r->hash = fuzz_hash(r->hash, c->fields[i], c->lens[i] + 1);
    }
    r->records++;
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
    .name = "recorder", .process = rec_process, .finish = rec_finish,
};

/* One document through reader 'j' (reset first); 'split' NULL: whole. */
static int
run(struct etl_json *j, const uint8_t *data, size_t size, struct fuzz_split *split)
{
    struct etl_err err;
    size_t pos = 0;
    int rc = 0;

    etl_err_clear(&err);
    etl_json_reset(j);
    while (pos < size && rc == 0) {
        size_t k = split != NULL ? fuzz_split_next(split, size - pos) : size - pos;

        rc = etl_json_feed(j, (const char *)data + pos, k, &err);
        pos += k;
    }
    if (rc == 0) {
        rc = etl_json_finish(j, &err);
    }
    if (rc < 0) {
        FUZZ_CHECK(err.code != ETL_E_NONE && err.msg[0] != '\0');
    }
    return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rec whole = { FUZZ_HASH_INIT, 0 }, pieces = { FUZZ_HASH_INIT, 0 };
    struct etl_stage next = { .kind = &rec_kind, .name = (char *)"recorder" };
    struct fuzz_split split;
    struct etl_json *j;
    struct etl_err err;
    int a, b;

    /* the decoder refuses a NUL byte before text reaches a reader */
    if (size == 0 || memchr(data + 1, 0, size - 1) != NULL) {
        return 0;
    }
    etl_err_clear(&err);
    j = etl_json_new((data[0] & 1) != 0 ? "data.list" : NULL, (data[0] & 2) != 0 ? 64 : 0,
                     &next, &err);
    FUZZ_CHECK(j != NULL);
    data++;
    size--;
    (void)etl_json_magic((const char *)data, size);
    fuzz_split_init(&split, data, size);
    next.ctx = &whole;
    a = run(j, data, size, NULL);
    next.ctx = &pieces;
    b = run(j, data, size, &split);
    FUZZ_CHECK(a == b);
    if (a == 0) {
        FUZZ_CHECK(whole.records == pieces.records && whole.hash == pieces.hash);
    }
    (void)etl_json_footprint(j);
    etl_json_free(j);
    return 0;
}
