/*
 * fuzz_csv.c
 *    libFuzzer target: the CSV tokenizer (etl/csv.h) with a recording next
 *    link, fed the input whole and then in pieces derived from the input.
 *    The first byte picks the delimiter (sniffed, ',', '\t', ';') and a
 *    small or the default record limit.  Checks every record's lengths and
 *    that both feeds give the same records and the same outcome.
 */
#include "tests/fuzz/fuzz.h"

#include "etl/csv.h"

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
    r->hash = fuzz_hash(r->hash, &c->line, sizeof(c->line));
    r->hash = fuzz_hash(r->hash, c->raw, c->raw_len + 1);
    for (size_t i = 0; i < c->nfields; i++) {
        FUZZ_CHECK(strlen(c->fields[i]) == c->lens[i]);
        r->hash = fuzz_hash(r->hash, c->fields[i], c->lens[i] + 1);
    }
    if (c->bad != NULL) {
        r->hash = fuzz_hash(r->hash, c->bad, strlen(c->bad));
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

/* One file through a new tokenizer; 'split' NULL: in one piece. */
static int
run(char delim, size_t max, const uint8_t *data, size_t size, struct fuzz_split *split,
    struct rec *r)
{
    struct etl_stage next = { .kind = &rec_kind, .name = (char *)"recorder", .ctx = r };
    struct etl_err err;
    struct etl_csv *c;
    size_t pos = 0;
    int rc = 0;

    etl_err_clear(&err);
    r->hash = FUZZ_HASH_INIT;
    r->records = 0;
    c = etl_csv_new(delim, max, &next, &err);
    FUZZ_CHECK(c != NULL);
    while (pos < size && rc == 0) {
        size_t k = split != NULL ? fuzz_split_next(split, size - pos) : size - pos;

        rc = etl_csv_feed(c, (const char *)data + pos, k, &err);
        pos += k;
    }
    if (rc == 0) {
        rc = etl_csv_finish(c, &err);
    }
    if (rc < 0) {
        FUZZ_CHECK(err.code != ETL_E_NONE && err.msg[0] != '\0');
    }
    (void)etl_csv_delimiter(c);
    (void)etl_csv_footprint(c);
    etl_csv_free(c);
    return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char delims[] = { 0, ',', '\t', ';' };
    struct fuzz_split split;
    struct rec whole, pieces;
    char delim;
    size_t max;
    int a, b;

    if (size == 0) {
        return 0;
    }
    delim = delims[data[0] % 4];
    max = (data[0] & 4) != 0 ? 64 : 0;
    data++;
    size--;
    if (memchr(data, 0, size) != NULL) {
        return 0;   /* the decoder refuses a NUL byte before text reaches a reader */
    }
    fuzz_split_init(&split, data, size);
    a = run(delim, max, data, size, NULL, &whole);
    b = run(delim, max, data, size, &split, &pieces);
    FUZZ_CHECK(a == b);
    if (a == 0) {
        FUZZ_CHECK(whole.records == pieces.records && whole.hash == pieces.hash);
    }
    return 0;
}
