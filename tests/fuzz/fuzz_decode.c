/*
 * fuzz_decode.c
 *    libFuzzer target: the decoder (etl/decode.h) in auto mode (gzip,
 *    deflate, BOMs, GB18030 detection) or with a setting picked by the
 *    first byte, fed whole and then in pieces derived from the input.
 *    Checks that every chunk is non-empty UTF-8 ending on a character
 *    boundary and that both feeds give the same text and outcome.
 */
#include "tests/fuzz/fuzz.h"

#include "etl/decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct rec {
    uint64_t hash;
    size_t bytes;
};

/* Length of the unfinished UTF-8 character at the end of [p, p + n), or 0. */
static size_t
unfinished(const unsigned char *p, size_t n)
{
    for (size_t back = 1; back <= 4 && back <= n; back++) {
        unsigned char u = p[n - back];
        size_t need;

        if ((u & 0xC0) == 0x80) {
            continue;
        }
        need = u < 0x80 ? 1 : u >= 0xF0 ? 4 : u >= 0xE0 ? 3 : u >= 0xC0 ? 2 : 1;
        return need > back ? back : 0;
    }
    return 0;
}

static int
rec_process(struct etl_stage *st, struct etl_chunk *in, struct etl_err *err)
{
    struct rec *r = st->ctx;

    (void)err;
    FUZZ_CHECK(in->type == NULL);
    FUZZ_CHECK(in->len > 0);
    FUZZ_CHECK(unfinished((const unsigned char *)in->bytes, in->len) == 0);
    r->hash = fuzz_hash(r->hash, in->bytes, in->len);
    r->bytes += in->len;
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

/*
 * One file through decoder 'd' (reset first); 'split' NULL: in one piece.
 */
static int
run(struct etl_decode *d, const uint8_t *data, size_t size, struct fuzz_split *split,
    struct rec *r)
{
    struct etl_err err;
    size_t pos = 0;
    int rc = 0;

    etl_err_clear(&err);
    etl_decode_reset(d);
    r->hash = FUZZ_HASH_INIT;
    r->bytes = 0;
    while (pos < size && rc == 0) {
        size_t k = split != NULL ? fuzz_split_next(split, size - pos) : size - pos;

        rc = etl_decode_feed(d, data + pos, k, &err);
        pos += k;
    }
    if (rc == 0) {
        rc = etl_decode_finish(d, &err);
    }
    if (rc < 0) {
        FUZZ_CHECK(err.code != ETL_E_NONE && err.msg[0] != '\0');
    }
    (void)etl_decode_compression(d);
    (void)etl_decode_encoding(d);
    (void)etl_decode_offset(d);
    return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum etl_compression comps[] = {
        ETL_COMPRESSION_AUTO, ETL_COMPRESSION_NONE, ETL_COMPRESSION_GZIP,
        ETL_COMPRESSION_DEFLATE
    };
    static const enum etl_encoding encs[] = {
        ETL_ENCODING_AUTO, ETL_ENCODING_UTF8, ETL_ENCODING_GB18030, ETL_ENCODING_GBK
    };
    struct rec whole, pieces;
    struct etl_stage next = { .kind = &rec_kind, .name = (char *)"recorder" };
    struct fuzz_split split;
    struct etl_decode *d;
    struct etl_err err;
    int a, b;

    if (size == 0) {
        return 0;
    }
    /* most inputs in auto mode: it is what files go through */
    etl_err_clear(&err);
    d = etl_decode_new(data[0] < 128 ? ETL_COMPRESSION_AUTO : comps[data[0] % 4],
                       data[0] < 128 ? ETL_ENCODING_AUTO : encs[(data[0] >> 2) % 4], &next,
                       &err);
    FUZZ_CHECK(d != NULL);
    data++;
    size--;
    fuzz_split_init(&split, data, size);
    next.ctx = &whole;
    a = run(d, data, size, NULL, &whole);
    next.ctx = &pieces;
    b = run(d, data, size, &split, &pieces);
    FUZZ_CHECK(a == b);
    if (a == 0) {
        FUZZ_CHECK(whole.bytes == pieces.bytes && whole.hash == pieces.hash);
    }
    etl_decode_free(d);
    return 0;
}
