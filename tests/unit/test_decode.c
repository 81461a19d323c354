/*
 * test_decode.c
 *    Unit tests of etl/decode.c: compression sniffing and inflate (gzip,
 *    zlib, raw deflate, concatenated members, truncation, corruption),
 *    character sets (UTF-8 with and without BOM, GBK/GB18030 forced and
 *    detected, UTF-16 by BOM), the error messages with their byte offsets,
 *    and that any split of the input gives the same output.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <zlib.h>

#include "etl/decode.h"

/* ---- helpers ---------------------------------------------------------- */

struct out {
    char *p;
    size_t n, cap;
    size_t calls;
    long fail_at;           /* fail the sink once this many bytes came in */
};

static int
sink(void *arg, const char *p, size_t n, struct etl_err *err)
{
    struct out *o = arg;

    assert_true(n > 0);
    o->calls++;
    if (o->n + n + 1 > o->cap) {
        o->cap = (o->n + n + 1) * 2;
        o->p = realloc(o->p, o->cap);
        assert_non_null(o->p);
    }
    memcpy(o->p + o->n, p, n);
    o->n += n;
    o->p[o->n] = '\0';
    if (o->fail_at >= 0 && o->n >= (size_t)o->fail_at) {
        return etl_err_set(err, ETL_E_DB, "sink refused");
    }
    return 0;
}

/* The decoder's next link: each byte chunk to sink(), finishes counted. */
static int link_finishes;

static int
sink_process(struct etl_stage *st, struct etl_chunk *in, struct etl_err *err)
{
    assert_null(in->type);
    return sink(st->ctx, in->bytes, in->len, err);
}

static int
sink_finish(struct etl_stage *st, struct etl_verdict *v, struct etl_err *err)
{
    (void)st;
    (void)v;
    (void)err;
    link_finishes++;
    return 0;
}

static const struct etl_stage_kind sink_kind = {
    .name = "sink", .process = sink_process, .finish = sink_finish,
};

/* A decoder whose next link appends to 'o'; decode_free() frees both. */
static struct etl_decode *
decode_new(enum etl_compression comp, enum etl_encoding enc, struct out *o,
           struct etl_err *err)
{
    struct etl_stage *next = calloc(1, sizeof(*next));
    struct etl_decode *d;

    assert_non_null(next);
    next->kind = &sink_kind;
    next->name = (char *)"sink";
    next->ctx = o;
    d = etl_decode_new(comp, enc, next, err);
    if (d == NULL) {
        free(next);
    }
    return d;
}

static void
decode_free(struct etl_decode *d)
{
    struct etl_stage *next = etl_decode_link(d)->next;

    etl_decode_free(d);
    free(next);
}

static void
out_init(struct out *o)
{
    memset(o, 0, sizeof(*o));
    o->fail_at = -1;
}

static void
out_free(struct out *o)
{
    free(o->p);
    o->p = NULL;
}

/* How to cut the input: whole, at one offset, byte by byte, at random. */
enum cut { CUT_WHOLE, CUT_AT, CUT_BYTES, CUT_RANDOM };

static uint32_t rng_state = 12345;

static uint32_t
rng(void)
{
    rng_state = rng_state * 1103515245u + 12345u;
    return rng_state >> 8;
}

/*
 * Decode 'in' with the given settings and cut into 'o'; returns what the
 * decoder returned (the first -1, or finish's result), 'err' filled.
 */
static int
run_cut(enum etl_compression comp, enum etl_encoding enc, const void *in,
        size_t n, enum cut cut, size_t at, struct out *o, struct etl_err *err,
        struct etl_decode **keep)
{
    struct etl_decode *d;
    const unsigned char *p = in;
    size_t pos = 0;
    int rc = 0;

    etl_err_clear(err);
    d = decode_new(comp, enc, o, err);
    assert_non_null(d);
    while (pos < n && rc == 0) {
        size_t k = n - pos;

        switch (cut) {
        case CUT_WHOLE:
            break;
        case CUT_AT:
            k = pos < at ? at - pos : n - pos;
            break;
        case CUT_BYTES:
            k = 1;
            break;
        case CUT_RANDOM:
            k = 1 + rng() % 700;
            break;
        }
        if (k > n - pos) {
            k = n - pos;
        }
        rc = etl_decode_feed(d, p + pos, k, err);
        pos += k;
    }
    if (rc == 0) {
        rc = etl_decode_finish(d, err);
    }
    if (keep != NULL) {
        *keep = d;
    } else {
        decode_free(d);
    }
    return rc;
}

static int
run(enum etl_compression comp, enum etl_encoding enc, const void *in, size_t n,
    struct out *o, struct etl_err *err)
{
    return run_cut(comp, enc, in, n, CUT_WHOLE, 0, o, err, NULL);
}

/* Compress with deflateInit2's 'bits' (31 gzip, 15 zlib, -15 raw). */
static unsigned char *
zpack(const void *in, size_t n, int bits, size_t *outn)
{
    z_stream z;
    size_t cap = n + n / 10 + 64;
    unsigned char *out = malloc(cap);

    assert_non_null(out);
    memset(&z, 0, sizeof(z));
    assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, bits, 8, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    *outn = z.total_out;
    deflateEnd(&z);
    return out;
}

/*
 * Decode 'in' whole, then cut at every offset, byte by byte and at random
 * sizes: every way must give 'want' (of 'wantn' bytes).
 */
static void
check_all_cuts(enum etl_compression comp, enum etl_encoding enc, const void *in,
               size_t n, const char *want, size_t wantn)
{
    struct etl_err err;
    struct out o;

    for (int mode = CUT_WHOLE; mode <= CUT_RANDOM; mode++) {
        size_t last = mode == CUT_AT ? n : (mode == CUT_RANDOM ? 20 : 0);
        /* every offset of a small input; of a big one, the ends and a sample */
        size_t step = mode == CUT_AT && n > 4096 ? n / 61 : 1;

        if (mode == CUT_BYTES && n > 4096) {
            continue;   /* byte by byte is covered by the small inputs */
        }
        for (size_t at = 0; at <= last; at += (at < 64 || at + 64 > last) ? 1 : step) {
            out_init(&o);
            assert_int_equal(run_cut(comp, enc, in, n, (enum cut)mode, at, &o,
                                     &err, NULL), 0);
            assert_int_equal(err.code, ETL_E_NONE);
            assert_int_equal(o.n, wantn);
            if (wantn > 0) {
                assert_memory_equal(o.p, want, wantn);
            }
            out_free(&o);
        }
    }
}

/* UTF-8 and GBK forms of the same header */
#define HDR_UTF8 "\xe5\x9c\xb0\xe5\x8c\xba,\xe6\x8c\x87\xe6\xa0\x87"   /* 地区,指标 */
#define HDR_GBK "\xb5\xd8\xc7\xf8,\xd6\xb8\xb1\xea"

/* ---- names ------------------------------------------------------------ */

static void
test_names(void **state)
{
    enum etl_compression c;
    enum etl_encoding e;

    (void)state;
    assert_int_equal(etl_compression_parse("GZIP", &c), 0);
    assert_int_equal(c, ETL_COMPRESSION_GZIP);
    assert_int_equal(etl_compression_parse("deflate", &c), 0);
    assert_int_equal(c, ETL_COMPRESSION_DEFLATE);
    assert_int_equal(etl_compression_parse("none", &c), 0);
    assert_int_equal(c, ETL_COMPRESSION_NONE);
    assert_int_equal(etl_compression_parse("auto", &c), 0);
    assert_int_equal(c, ETL_COMPRESSION_AUTO);
    assert_int_equal(etl_compression_parse("zip", &c), -1);
    assert_int_equal(etl_encoding_parse("UTF-8", &e), 0);
    assert_int_equal(e, ETL_ENCODING_UTF8);
    assert_int_equal(etl_encoding_parse("utf8", &e), 0);
    assert_int_equal(e, ETL_ENCODING_UTF8);
    assert_int_equal(etl_encoding_parse("gbk", &e), 0);
    assert_int_equal(e, ETL_ENCODING_GBK);
    assert_int_equal(etl_encoding_parse("GB18030", &e), 0);
    assert_int_equal(e, ETL_ENCODING_GB18030);
    assert_int_equal(etl_encoding_parse("auto", &e), 0);
    assert_int_equal(e, ETL_ENCODING_AUTO);
    assert_int_equal(etl_encoding_parse("latin1", &e), -1);
    assert_string_equal(etl_compression_name(ETL_COMPRESSION_ZLIB), "zlib");
    assert_string_equal(etl_encoding_name(ETL_ENCODING_UTF16LE), "UTF-16LE");
    assert_string_equal(etl_encoding_name(ETL_ENCODING_AUTO), "auto");
    assert_string_equal(etl_encoding_name(ETL_ENCODING_UTF8), "UTF-8");
    assert_string_equal(etl_compression_name(ETL_COMPRESSION_AUTO), "auto");
    assert_string_equal(etl_compression_name(ETL_COMPRESSION_NONE), "none");
    assert_string_equal(etl_compression_name(ETL_COMPRESSION_GZIP), "gzip");
    assert_string_equal(etl_compression_name(ETL_COMPRESSION_DEFLATE), "deflate");
    assert_string_equal(etl_compression_name((enum etl_compression)99), "?");
    assert_string_equal(etl_encoding_name((enum etl_encoding)99), "?");
}

/* ---- plain and BOM ---------------------------------------------------- */

static void
test_plain(void **state)
{
    static const char in[] = "region,value\nx,1\n";
    struct etl_decode *d;
    struct etl_err err;
    struct out o;

    (void)state;
    out_init(&o);
    assert_int_equal(run_cut(ETL_COMPRESSION_AUTO, ETL_ENCODING_AUTO, in,
                             sizeof(in) - 1, CUT_WHOLE, 0, &o, &err, &d), 0);
    assert_string_equal(o.p, in);
    assert_int_equal(etl_decode_compression(d), ETL_COMPRESSION_NONE);
    assert_int_equal(etl_decode_encoding(d), ETL_ENCODING_UTF8);
    assert_int_equal(etl_decode_offset(d), sizeof(in) - 1);
    decode_free(d);
    out_free(&o);
    check_all_cuts(ETL_COMPRESSION_AUTO, ETL_ENCODING_AUTO, in, sizeof(in) - 1,
                   in, sizeof(in) - 1);
    check_all_cuts(ETL_COMPRESSION_NONE, ETL_ENCODING_UTF8, in, sizeof(in) - 1,
                   in, sizeof(in) - 1);
}

static void
test_empty_and_tiny(void **state)
{
    struct etl_err err;
    struct out o;

    (void)state;
    out_init(&o);
    assert_int_equal(run(ETL_COMPRESSION_AUTO, ETL_ENCODING_AUTO, "", 0, &o, &err), 0);
    assert_int_equal(o.n, 0);
    assert_int_equal(o.calls, 0);
    assert_int_equal(run(ETL_COMPRESSION_AUTO, ETL_ENCODING_AUTO, "x", 1, &o, &err), 0);
    assert_string_equal(o.p, "x");
    out_free(&o);
    /* a lone BOM is no text */
    out_init(&o);
    assert_int_equal(run(ETL_COMPRESSION_AUTO, ETL_ENCODING_AUTO, "\xef\xbb\xbf", 3,
                         &o, &err), 0);
    assert_int_equal(o.n, 0);
    /* two bytes of a BOM are text, and not UTF-8 */
    assert_int_equal(run(ETL_COMPRESSION_AUTO, ETL_ENCODING_UTF8, "\xef\xbb", 2,
                         &o, &err), -1);
    assert_int_equal(err.code, ETL_E_DATA);
    assert_string_equal(err.msg, "invalid UTF-8 byte sequence at byte offset 0");
    assert_string_equal(err.detail, "the file ends inside a character");
    assert_string_equal(err.hint, "");
    out_free(&o);
}

static void
test_bom(void **state)
{
    static const char in[] = "\xef\xbb\xbf" HDR_UTF8 "\r\n";
    struct etl_decode *d;
    struct etl_err err;
    struct out o;

    (void)state;
    out_init(&o);
    assert_int_equal(run_cut(ETL_COMPRESSION_AUTO, ETL_ENCODING_AUTO, in,
                             sizeof(in) - 1, CUT_WHOLE, 0, &o, &err, &d), 0);
    assert_string_equal(o.p, HDR_UTF8 "\r\n");
    assert_int_equal(etl_decode_encoding(d), ETL_ENCODING_UTF8);
    /* offsets count the BOM */
    assert_int_equal(etl_decode_offset(d), sizeof(in) - 1);
    decode_free(d);
    out_free(&o);
    check_all_cuts(ETL_COMPRESSION_AUTO, ETL_ENCODING_AUTO, in, sizeof(in) - 1,
                   HDR_UTF8 "\r\n", sizeof(HDR_UTF8 "\r\n") - 1);
    check_all_cuts(ETL_COMPRESSION_AUTO, ETL_ENCODING_UTF8, in, sizeof(in) - 1,
                   HDR_UTF8 "\r\n", sizeof(HDR_UTF8 "\r\n") - 1);
}

/* ---- compression ------------------------------------------------------- */

static void
test_gzip(void **state)
{
    static const char text[] = "\xef\xbb\xbf" HDR_UTF8 "\n\xe5\xb9\xbf\xe4\xb8\x9c,1\n";
    static const char want[] = HDR_UTF8 "\n\xe5\xb9\xbf\xe4\xb8\x9c,1\n";
    struct etl_decode *d;
    struct etl_err err;
    struct out o;
    size_t zn;
    unsigned char *z = zpack(text, sizeof(text) - 1, 31, &zn);

    (void)state;
    out_init(&o);
    assert_int_equal(run_cut(ETL_COMPRESSION_AUTO, ETL_ENCODING_AUTO, z, zn,
                             CUT_WHOLE, 0, &o, &err, &d), 0);
    assert_string_equal(o.p, want);
    assert_int_equal(etl_decode_compression(d), ETL_COMPRESSION_GZIP);
    assert_int_equal(etl_decode_offset(d), sizeof(text) - 1);
    decode_free(d);
    out_free(&o);
    check_all_cuts(ETL_COMPRESSION_AUTO, ETL_ENCODING_AUTO, z, zn, want,
                   sizeof(want) - 1);
    check_all_cuts(ETL_COMPRESSION_GZIP, ETL_ENCODING_AUTO, z, zn, want,
                   sizeof(want) - 1);
    free(z);
}

static void
test_zlib_and_raw_deflate(void **state)
{
    static const char text[] = "a,b\n1,2\n";
    struct etl_decode *d;
    struct etl_err err;
    struct out o;
    size_t zn, rn;
    unsigned char *z = zpack(text, sizeof(text) - 1, 15, &zn);
    unsigned char *r = zpack(text, sizeof(text) - 1, -15, &rn);

    (void)state;
    out_init(&o);
    assert_int_equal(run_cut(ETL_COMPRESSION_AUTO, ETL_ENCODING_AUTO, z, zn,
                             CUT_WHOLE, 0, &o, &err, &d), 0);
    assert_string_equal(o.p, text);
    assert_int_equal(etl_decode_compression(d), ETL_COMPRESSION_ZLIB);
    decode_free(d);
    out_free(&o);
    check_all_cuts(ETL_COMPRESSION_AUTO, ETL_ENCODING_AUTO, z, zn, text,
                   sizeof(text) - 1);
    /* "deflate" takes zlib ... */
    check_all_cuts(ETL_COMPRESSION_DEFLATE, ETL_ENCODING_AUTO, z, zn, text,
                   sizeof(text) - 1);
    /* ... and raw deflate */
    out_init(&o);
    assert_int_equal(run_cut(ETL_COMPRESSION_DEFLATE, ETL_ENCODING_AUTO, r, rn,
                             CUT_WHOLE, 0, &o, &err, &d), 0);
    assert_string_equal(o.p, text);
    assert_int_equal(etl_decode_compression(d), ETL_COMPRESSION_DEFLATE);
    decode_free(d);
    out_free(&o);
    check_all_cuts(ETL_COMPRESSION_DEFLATE, ETL_ENCODING_AUTO, r, rn, text,
                   sizeof(text) - 1);
    /* raw deflate under "auto" is not recognised: it is taken as text */
    out_init(&o);
    assert_int_equal(run(ETL_COMPRESSION_AUTO, ETL_ENCODING_UTF8, r, rn, &o, &err), -1);
    assert_int_equal(err.code, ETL_E_DATA);
    out_free(&o);
    /* "none" passes compressed bytes through untouched */
    out_init(&o);
    assert_int_equal(run(ETL_COMPRESSION_NONE, ETL_ENCODING_UTF8, z, zn, &o, &err), -1);
    assert_string_equal(err.msg, "invalid UTF-8 byte sequence at byte offset 1");
    out_free(&o);
    free(z);
    free(r);
}

static void
test_gzip_members(void **state)
{
    static const char t1[] = "a,b\n1,2\n";
    static const char t2[] = "3,4\n";
    static const char want[] = "a,b\n1,2\n3,4\n";
    size_t n1, n2, n = 0;
    unsigned char *z1 = zpack(t1, sizeof(t1) - 1, 31, &n1);
    unsigned char *z2 = zpack(t2, sizeof(t2) - 1, 31, &n2);
    unsigned char *cat = malloc(n1 + n2 + 16);

    (void)state;
    memcpy(cat, z1, n1);
    memcpy(cat + n1, z2, n2);
    n = n1 + n2;
    check_all_cuts(ETL_COMPRESSION_AUTO, ETL_ENCODING_AUTO, cat, n, want,
                   sizeof(want) - 1);
    /* zero padding after the last member is ignored */
    memset(cat + n, 0, 16);
    check_all_cuts(ETL_COMPRESSION_GZIP, ETL_ENCODING_AUTO, cat, n + 16, want,
                   sizeof(want) - 1);
    free(z1);
    free(z2);
    free(cat);
}

static void
test_gzip_truncated(void **state)
{
    static const char text[] = "region,value\n\xe5\xb9\xbf\xe4\xb8\x9c,1\n";
    struct etl_err err;
    struct out o;
    size_t zn;
    unsigned char *z = zpack(text, sizeof(text) - 1, 31, &zn);

    (void)state;
    /* cut anywhere (but at the end), even inside the header or trailer */
    for (size_t k = 1; k < zn; k++) {
        out_init(&o);
        if (k == 1) {
            /* one byte (1f) is no gzip magic: it is text */
            assert_int_equal(run(ETL_COMPRESSION_AUTO, ETL_ENCODING_AUTO, z, k, &o,
                                 &err), 0);
            assert_string_equal(o.p, "\x1f");
        } else {
            assert_int_equal(run(ETL_COMPRESSION_AUTO, ETL_ENCODING_AUTO, z, k, &o,
                                 &err), -1);
            assert_int_equal(err.code, ETL_E_DATA);
            assert_string_equal(err.msg, "truncated gzip stream");
        }
        out_free(&o);
    }
    /* forced gzip: empty and one byte are truncated too */
    out_init(&o);
    assert_int_equal(run(ETL_COMPRESSION_GZIP, ETL_ENCODING_AUTO, z, 0, &o, &err), -1);
    assert_string_equal(err.msg, "truncated gzip stream");
    assert_int_equal(run(ETL_COMPRESSION_GZIP, ETL_ENCODING_AUTO, z, 1, &o, &err), -1);
    assert_string_equal(err.msg, "truncated gzip stream");
    out_free(&o);
    free(z);
    /* a truncated zlib stream */
    z = zpack(text, sizeof(text) - 1, 15, &zn);
    out_init(&o);
    assert_int_equal(run(ETL_COMPRESSION_AUTO, ETL_ENCODING_AUTO, z, zn - 3, &o, &err), -1);
    assert_int_equal(err.code, ETL_E_DATA);
    assert_string_equal(err.msg, "truncated deflate stream");
    assert_int_equal(run(ETL_COMPRESSION_DEFLATE, ETL_ENCODING_AUTO, z, 0, &o, &err), -1);
    assert_string_equal(err.msg, "truncated deflate stream");
    out_free(&o);
    free(z);
}

static void
test_gzip_corrupt(void **state)
{
    static const char text[] = "a,b\n1,2\n";
    struct etl_err err;
    struct out o;
    size_t zn;
    unsigned char *z = zpack(text, sizeof(text) - 1, 31, &zn);

    (void)state;
    /* compression method 7 instead of 8 */
    z[2] = 7;
    out_init(&o);
    assert_int_equal(run(ETL_COMPRESSION_AUTO, ETL_ENCODING_AUTO, z, zn, &o, &err), -1);
    assert_int_equal(err.code, ETL_E_DATA);
    assert_string_equal(err.msg, "invalid compressed data near byte offset 4: "
                        "unknown compression method");
    z[2] = 8;
    /* a damaged CRC in the trailer */
    z[zn - 8] ^= 0xff;
    assert_int_equal(run(ETL_COMPRESSION_AUTO, ETL_ENCODING_AUTO, z, zn, &o, &err), -1);
    assert_int_equal(err.code, ETL_E_DATA);
    assert_string_equal(err.msg, "invalid compressed data near byte offset 24: "
                        "incorrect data check");
    z[zn - 8] ^= 0xff;
    /* garbage after a member starts a member that is not one */
    {
        unsigned char *g = malloc(zn + 2);

        memcpy(g, z, zn);
        g[zn] = 'x';
        g[zn + 1] = 'y';
        assert_int_equal(run(ETL_COMPRESSION_AUTO, ETL_ENCODING_AUTO, g, zn + 2, &o,
                             &err), -1);
        assert_string_equal(err.msg, "invalid compressed data near byte offset 30: "
                            "incorrect header check");
        free(g);
    }
    out_free(&o);
    /* forced gzip on a plain file */
    out_init(&o);
    assert_int_equal(run(ETL_COMPRESSION_GZIP, ETL_ENCODING_AUTO, "a,b\n", 4, &o, &err),
                     -1);
    assert_int_equal(err.code, ETL_E_DATA);
    assert_string_equal(err.msg, "not a gzip stream");
    assert_string_equal(err.detail, "the file starts with bytes 61 2c, not 1f 8b");
    out_free(&o);
    free(z);
}

/* ---- character sets ----------------------------------------------------- */

static void
test_gbk(void **state)
{
    static const char in[] = HDR_GBK "\n\xd6\xd0\xb9\xfa,1\n";           /* 中国 */
    static const char want[] = HDR_UTF8 "\n\xe4\xb8\xad\xe5\x9b\xbd,1\n";
    struct etl_decode *d;
    struct etl_err err;
    struct out o;
    size_t zn;
    unsigned char *z;

    (void)state;
    /* detected */
    out_init(&o);
    assert_int_equal(run_cut(ETL_COMPRESSION_AUTO, ETL_ENCODING_AUTO, in,
                             sizeof(in) - 1, CUT_WHOLE, 0, &o, &err, &d), 0);
    assert_string_equal(o.p, want);
    assert_int_equal(etl_decode_encoding(d), ETL_ENCODING_GB18030);
    decode_free(d);
    out_free(&o);
    check_all_cuts(ETL_COMPRESSION_AUTO, ETL_ENCODING_AUTO, in, sizeof(in) - 1,
                   want, sizeof(want) - 1);
    /* forced */
    check_all_cuts(ETL_COMPRESSION_AUTO, ETL_ENCODING_GBK, in, sizeof(in) - 1,
                   want, sizeof(want) - 1);
    check_all_cuts(ETL_COMPRESSION_AUTO, ETL_ENCODING_GB18030, in, sizeof(in) - 1,
                   want, sizeof(want) - 1);
    /* gzip of GBK */
    z = zpack(in, sizeof(in) - 1, 31, &zn);
    check_all_cuts(ETL_COMPRESSION_AUTO, ETL_ENCODING_AUTO, z, zn, want,
                   sizeof(want) - 1);
    free(z);
}

static void
test_gb18030(void **state)
{
    /* BOM, 时期, a four-byte character (U+20000) and the euro sign */
    static const char in[] = "\x84\x31\x95\x33" "\xca\xb1\xc6\xda,\x95\x32\x82\x36,\xa2\xe3\n";
    static const char want[] = "\xe6\x97\xb6\xe6\x9c\x9f,\xf0\xa0\x80\x80,\xe2\x82\xac\n";
    struct etl_err err;
    struct out o;

    (void)state;
    check_all_cuts(ETL_COMPRESSION_AUTO, ETL_ENCODING_AUTO, in, sizeof(in) - 1,
                   want, sizeof(want) - 1);
    check_all_cuts(ETL_COMPRESSION_AUTO, ETL_ENCODING_GB18030, in, sizeof(in) - 1,
                   want, sizeof(want) - 1);
    /* without the BOM, detected */
    check_all_cuts(ETL_COMPRESSION_AUTO, ETL_ENCODING_AUTO, in + 4, sizeof(in) - 5,
                   want, sizeof(want) - 1);
    /* GBK has no four-byte characters: an error at the character's offset */
    out_init(&o);
    assert_int_equal(run(ETL_COMPRESSION_AUTO, ETL_ENCODING_GBK, in + 4, sizeof(in) - 5,
                         &o, &err), -1);
    assert_int_equal(err.code, ETL_E_DATA);
    assert_string_equal(err.msg, "invalid GBK byte sequence at byte offset 5");
    assert_string_equal(err.detail, "");
    /* the text before it went out */
    assert_string_equal(o.p, "\xe6\x97\xb6\xe6\x9c\x9f,");
    out_free(&o);
}

static void
test_gb18030_errors(void **state)
{
    struct etl_err err;
    struct out o;

    (void)state;
    /* 0xff is never valid in GB18030 */
    out_init(&o);
    assert_int_equal(run(ETL_COMPRESSION_AUTO, ETL_ENCODING_GB18030, "ab\xd6\xd0\xff\n", 6,
                         &o, &err), -1);
    assert_int_equal(err.code, ETL_E_DATA);
    assert_string_equal(err.msg, "invalid GB18030 byte sequence at byte offset 4");
    out_free(&o);
    /* neither UTF-8 nor GB18030: both offsets are named */
    out_init(&o);
    assert_int_equal(run(ETL_COMPRESSION_AUTO, ETL_ENCODING_AUTO,
                         "ab\n\xe4\xb8\xad\xd6\xd0\xff", 9, &o, &err), -1);
    assert_string_equal(err.msg, "invalid GB18030 byte sequence at byte offset 7");
    assert_string_equal(err.detail, "nor is it UTF-8: invalid UTF-8 at byte offset 6");
    out_free(&o);
    /* a file that ends in the middle of a character */
    out_init(&o);
    assert_int_equal(run(ETL_COMPRESSION_AUTO, ETL_ENCODING_GBK, "ab\xd6", 3, &o, &err), -1);
    assert_string_equal(err.msg, "invalid GBK byte sequence at byte offset 2");
    assert_string_equal(err.detail, "the file ends inside a character");
    assert_string_equal(o.p, "ab");
    out_free(&o);
    /* NUL in GB text: exact offset */
    out_init(&o);
    assert_int_equal(run(ETL_COMPRESSION_AUTO, ETL_ENCODING_GB18030,
                         "\xd6\xd0" "a\0b", 5, &o, &err), -1);
    assert_string_equal(err.msg, "NUL byte at byte offset 3");
    assert_string_equal(err.hint,
                        "the file looks binary, or UTF-16 without a byte order mark");
    assert_string_equal(o.p, "\xe4\xb8\xad" "a");
    out_free(&o);
}

static void
test_utf16_bom(void **state)
{
    static const char le[] = "\xff\xfe" "\x30\x57\x3a\x53\x2c\x00\x07\x63\x07\x68";
    static const char be[] = "\xfe\xff" "\x57\x30\x53\x3a\x00\x2c\x63\x07\x68\x07";
    struct etl_decode *d;
    struct etl_err err;
    struct out o;

    (void)state;
    check_all_cuts(ETL_COMPRESSION_AUTO, ETL_ENCODING_AUTO, le, sizeof(le) - 1,
                   HDR_UTF8, sizeof(HDR_UTF8) - 1);
    check_all_cuts(ETL_COMPRESSION_AUTO, ETL_ENCODING_AUTO, be, sizeof(be) - 1,
                   HDR_UTF8, sizeof(HDR_UTF8) - 1);
    out_init(&o);
    assert_int_equal(run_cut(ETL_COMPRESSION_AUTO, ETL_ENCODING_AUTO, le,
                             sizeof(le) - 1, CUT_WHOLE, 0, &o, &err, &d), 0);
    assert_int_equal(etl_decode_encoding(d), ETL_ENCODING_UTF16LE);
    decode_free(d);
    /* odd length: ends inside a character */
    assert_int_equal(run(ETL_COMPRESSION_AUTO, ETL_ENCODING_AUTO, le, sizeof(le) - 2,
                         &o, &err), -1);
    assert_string_equal(err.msg, "invalid UTF-16LE byte sequence at byte offset 10");
    out_free(&o);
}

static void
test_utf8_forced_invalid(void **state)
{
    static const struct {
        const char *in;
        size_t n;
        const char *msg;
    } cases[] = {
        {"ab\xb5\xd8", 4, "invalid UTF-8 byte sequence at byte offset 2"},
        {"a\xc0\x80", 3, "invalid UTF-8 byte sequence at byte offset 1"},      /* overlong */
        {"a\xe0\x80\x80", 4, "invalid UTF-8 byte sequence at byte offset 1"},  /* overlong */
        {"ab\xed\xa0\x80", 5, "invalid UTF-8 byte sequence at byte offset 2"}, /* surrogate */
        {"\xf4\x90\x80\x80", 4, "invalid UTF-8 byte sequence at byte offset 0"}, /* > 10FFFF */
        {"abc\xe4\xb8", 5, "invalid UTF-8 byte sequence at byte offset 3"},    /* truncated */
        {"abcdefghij\xe4x", 12, "invalid UTF-8 byte sequence at byte offset 10"},
        {"x\0y", 3, "NUL byte at byte offset 1"},
    };
    struct etl_err err;
    struct out o;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (int mode = CUT_WHOLE; mode <= CUT_BYTES; mode++) {
            for (size_t at = 0; at <= (mode == CUT_AT ? cases[i].n : 0); at++) {
                out_init(&o);
                assert_int_equal(run_cut(ETL_COMPRESSION_AUTO, ETL_ENCODING_UTF8,
                                         cases[i].in, cases[i].n, (enum cut)mode, at,
                                         &o, &err, NULL), -1);
                assert_int_equal(err.code, ETL_E_DATA);
                assert_string_equal(err.msg, cases[i].msg);
                assert_string_equal(err.hint, i + 1 == sizeof(cases) / sizeof(cases[0])
                                    ? "the file looks binary, or UTF-16 without a "
                                      "byte order mark" : "");
                out_free(&o);
            }
        }
    }
    /* a valid four-byte character split everywhere */
    check_all_cuts(ETL_COMPRESSION_NONE, ETL_ENCODING_UTF8, "a\xf0\xa0\x80\x80z", 6,
                   "a\xf0\xa0\x80\x80z", 6);
}

static void
test_auto_late_invalid(void **state)
{
    /* "ab\n", one UTF-8 character, 70000 ASCII bytes, then GBK */
    size_t n = 3 + 2 + 70000 + 2;
    char *in = malloc(n);
    struct etl_decode *d;
    struct etl_err err;
    struct out o;

    (void)state;
    memcpy(in, "ab\n\xc3\xa9", 5);
    memset(in + 5, 'a', 70000);
    memcpy(in + 5 + 70000, "\xb5\xd8", 2);
    out_init(&o);
    assert_int_equal(run_cut(ETL_COMPRESSION_AUTO, ETL_ENCODING_AUTO, in, n,
                             CUT_RANDOM, 0, &o, &err, &d), -1);
    assert_int_equal(err.code, ETL_E_DATA);
    assert_string_equal(err.msg, "invalid UTF-8 byte sequence at byte offset 70005");
    assert_string_equal(err.hint, "the file was taken as UTF-8 from its first 64 KiB "
                        "of non-ASCII text; set \"encoding: gb18030\" if it is GB18030 "
                        "or GBK");
    assert_int_equal(etl_decode_encoding(d), ETL_ENCODING_UTF8);
    /* everything before the bad byte went out */
    assert_int_equal(o.n, 70005);
    /* after an error the decoder refuses work until reset */
    etl_err_clear(&err);
    assert_int_equal(etl_decode_feed(d, "x", 1, &err), -1);
    assert_int_equal(err.code, ETL_E_INTERNAL);
    assert_string_equal(err.msg, "decoder used after an error");
    etl_err_clear(&err);
    assert_int_equal(etl_decode_finish(d, &err), -1);
    assert_string_equal(err.msg, "decoder used after an error");
    /* reset: a new file */
    etl_err_clear(&err);
    o.n = 0;
    etl_decode_reset(d);
    assert_int_equal(etl_decode_feed(d, HDR_GBK, sizeof(HDR_GBK) - 1, &err), 0);
    assert_int_equal(etl_decode_finish(d, &err), 0);
    assert_string_equal(o.p, HDR_UTF8);
    assert_int_equal(etl_decode_encoding(d), ETL_ENCODING_GB18030);
    decode_free(d);
    out_free(&o);
    /* an invalid byte within the window: GB18030 is chosen */
    memcpy(in + 5 + 60000, "\xb5\xd8", 2);
    out_init(&o);
    assert_int_equal(run_cut(ETL_COMPRESSION_AUTO, ETL_ENCODING_AUTO, in, n,
                             CUT_RANDOM, 0, &o, &err, &d), 0);
    assert_int_equal(etl_decode_encoding(d), ETL_ENCODING_GB18030);
    /* c3 a9 is 茅 in GB18030, b5 d8 is 地 */
    assert_memory_equal(o.p, "ab\n\xe8\x8c\x85" "aaa", 9);
    assert_memory_equal(o.p + o.n - 4, "a\xe5\x9c\xb0", 4);
    decode_free(d);
    out_free(&o);
    free(in);
}

static void
test_auto_ascii_then_gbk(void **state)
{
    /* 100 KiB of ASCII before the first Chinese: still detected */
    size_t pre = 100 * 1024;
    size_t n = pre + sizeof(HDR_GBK) - 1;
    char *in = malloc(n);
    char *want = malloc(pre + sizeof(HDR_UTF8));

    (void)state;
    memset(in, 'x', pre);
    memcpy(in + pre, HDR_GBK, sizeof(HDR_GBK) - 1);
    memset(want, 'x', pre);
    memcpy(want + pre, HDR_UTF8, sizeof(HDR_UTF8));
    check_all_cuts(ETL_COMPRESSION_NONE, ETL_ENCODING_AUTO, in, n, want,
                   pre + sizeof(HDR_UTF8) - 1);
    free(in);
    free(want);
}

static void
test_sink_error(void **state)
{
    static const char text[] = "a,b\n1,2\n";
    struct etl_err err;
    struct out o;
    size_t zn;
    unsigned char *z = zpack(text, sizeof(text) - 1, 31, &zn);

    (void)state;
    out_init(&o);
    o.fail_at = 1;
    assert_int_equal(run(ETL_COMPRESSION_AUTO, ETL_ENCODING_AUTO, text, sizeof(text) - 1,
                         &o, &err), -1);
    assert_int_equal(err.code, ETL_E_DB);
    assert_string_equal(err.msg, "sink refused");
    out_free(&o);
    out_init(&o);
    o.fail_at = 1;
    assert_int_equal(run(ETL_COMPRESSION_AUTO, ETL_ENCODING_GBK, HDR_GBK,
                         sizeof(HDR_GBK) - 1, &o, &err), -1);
    assert_string_equal(err.msg, "sink refused");
    out_free(&o);
    out_init(&o);
    o.fail_at = 1;
    assert_int_equal(run(ETL_COMPRESSION_AUTO, ETL_ENCODING_AUTO, z, zn, &o, &err), -1);
    assert_string_equal(err.msg, "sink refused");
    out_free(&o);
    free(z);
}

static void
test_auto_edges(void **state)
{
    struct etl_decode *d;
    struct etl_err err;
    struct out o;
    size_t n = 60000 * 2;
    char *big = malloc(n);
    static const char le_nul[] = "\xff\xfe" "a\0\0\0";

    (void)state;
    /* NUL right after ASCII, and inside the sniff window */
    out_init(&o);
    assert_int_equal(run(ETL_COMPRESSION_AUTO, ETL_ENCODING_AUTO, "ab\0c", 4, &o, &err), -1);
    assert_string_equal(err.msg, "NUL byte at byte offset 2");
    assert_string_equal(o.p, "ab");
    out_free(&o);
    out_init(&o);
    assert_int_equal(run(ETL_COMPRESSION_AUTO, ETL_ENCODING_AUTO, "x\xc3\xa9\0", 4, &o,
                         &err), -1);
    assert_string_equal(err.msg, "NUL byte at byte offset 3");
    assert_string_equal(o.p, "x\xc3\xa9");
    out_free(&o);
    /* UTF-16: U+0000 is refused too (offset of the piece it was in) */
    out_init(&o);
    assert_int_equal(run(ETL_COMPRESSION_AUTO, ETL_ENCODING_AUTO, le_nul,
                         sizeof(le_nul) - 1, &o, &err), -1);
    assert_string_equal(err.msg, "NUL byte at byte offset 2");
    out_free(&o);
    /* the file ends inside what would be UTF-8: GB18030 then (e4 b8 is 涓) */
    out_init(&o);
    assert_int_equal(run_cut(ETL_COMPRESSION_AUTO, ETL_ENCODING_AUTO, "ab\xe4\xb8", 4,
                             CUT_BYTES, 0, &o, &err, &d), 0);
    assert_string_equal(o.p, "ab\xe6\xb6\x93");
    assert_int_equal(etl_decode_encoding(d), ETL_ENCODING_GB18030);
    decode_free(d);
    out_free(&o);
    /* a big GBK piece: the output block fills and iconv goes on */
    for (size_t i = 0; i < n; i += 2) {
        memcpy(big + i, "\xd6\xd0", 2);     /* 中 */
    }
    out_init(&o);
    assert_int_equal(run(ETL_COMPRESSION_NONE, ETL_ENCODING_GBK, big, n, &o, &err), 0);
    assert_int_equal(o.n, n / 2 * 3);
    assert_memory_equal(o.p + o.n - 3, "\xe4\xb8\xad", 3);
    out_free(&o);
    free(big);
}

/* One decoder, several files of different kinds in a row. */
static void
test_reuse(void **state)
{
    static const char text[] = "a,b\n1,2\n";
    struct etl_decode *d;
    struct etl_err err;
    struct out o;
    size_t zn, rn;
    unsigned char *z = zpack(text, sizeof(text) - 1, 15, &zn);
    unsigned char *r = zpack(text, sizeof(text) - 1, -15, &rn);

    (void)state;
    out_init(&o);
    etl_err_clear(&err);
    d = decode_new(ETL_COMPRESSION_DEFLATE, ETL_ENCODING_AUTO, &o, &err);
    for (int round = 0; round < 3; round++) {
        o.n = 0;
        etl_decode_reset(d);
        assert_int_equal(etl_decode_feed(d, z, zn, &err), 0);
        assert_int_equal(etl_decode_finish(d, &err), 0);
        assert_string_equal(o.p, text);
        assert_int_equal(etl_decode_compression(d), ETL_COMPRESSION_ZLIB);
        o.n = 0;
        etl_decode_reset(d);
        assert_int_equal(etl_decode_feed(d, r, rn, &err), 0);
        assert_int_equal(etl_decode_finish(d, &err), 0);
        assert_string_equal(o.p, text);
        assert_int_equal(etl_decode_compression(d), ETL_COMPRESSION_DEFLATE);
    }
    decode_free(d);
    /* GBK, UTF-16 and GBK again: the converter is swapped each time */
    d = decode_new(ETL_COMPRESSION_AUTO, ETL_ENCODING_AUTO, &o, &err);
    for (int round = 0; round < 2; round++) {
        o.n = 0;
        etl_decode_reset(d);
        assert_int_equal(etl_decode_feed(d, HDR_GBK, sizeof(HDR_GBK) - 1, &err), 0);
        assert_int_equal(etl_decode_finish(d, &err), 0);
        assert_string_equal(o.p, HDR_UTF8);
        o.n = 0;
        etl_decode_reset(d);
        assert_int_equal(etl_decode_feed(d, "\xff\xfe\x30\x57", 4, &err), 0);
        assert_int_equal(etl_decode_finish(d, &err), 0);
        assert_string_equal(o.p, "\xe5\x9c\xb0");
        assert_int_equal(etl_decode_encoding(d), ETL_ENCODING_UTF16LE);
    }
    decode_free(d);
    etl_decode_free(NULL);
    out_free(&o);
    free(z);
    free(r);
}

/* The decoder as a link: bytes in, text out, finish passed on. */
static void
test_link(void **state)
{
    static const struct etl_chunk_type other = { .name = "rows" };
    struct etl_decode *d;
    struct etl_stage *link;
    struct etl_verdict v = { 0 };
    struct etl_err err;
    struct out o;
    struct etl_chunk bom = { .bytes = "\xef\xbb", .len = 2 };
    struct etl_chunk text = { .bytes = "\xbf" "a,b", .len = 4 };
    struct etl_chunk wrong = { .type = &other, .data = &o, .len = 1 };

    (void)state;
    out_init(&o);
    etl_err_clear(&err);
    d = decode_new(ETL_COMPRESSION_AUTO, ETL_ENCODING_AUTO, &o, &err);
    link = etl_decode_link(d);
    assert_ptr_equal(link->kind, &etl_decode_link_kind);
    assert_ptr_equal(link->ctx, d);
    assert_string_equal(link->name, "decode");
    link_finishes = 0;
    assert_int_equal(link->kind->process(link, &bom, &err), 0);
    assert_int_equal(link->kind->process(link, &text, &err), 0);
    assert_int_equal(link_finishes, 0);
    assert_int_equal(link->kind->finish(link, &v, &err), 0);
    assert_string_equal(o.p, "a,b");
    assert_int_equal(link_finishes, 1);
    /* another chunk type is refused */
    assert_int_equal(link->kind->process(link, &wrong, &err), -1);
    assert_int_equal(err.code, ETL_E_INTERNAL);
    assert_string_equal(err.msg, "the decoder expects bytes, not rows");
    /* a truncated stream fails the finish: the next link is not finished */
    etl_decode_reset(d);
    etl_err_clear(&err);
    {
        struct etl_chunk gz = { .bytes = "\x1f\x8b\x08", .len = 3 };

        assert_int_equal(link->kind->process(link, &gz, &err), 0);
    }
    assert_int_equal(link->kind->finish(link, &v, &err), -1);
    assert_string_equal(err.msg, "truncated gzip stream");
    assert_int_equal(link_finishes, 1);
    decode_free(d);
    out_free(&o);
}

/* Big compressed input: memory stays where it was after a small file. */
static void
test_bounded_memory(void **state)
{
    size_t n = 8 * 1024 * 1024, zn, before, pos;
    char *text = malloc(n);
    unsigned char *z;
    struct etl_decode *d;
    struct etl_err err;
    struct out o;
    uint32_t s = 7;

    (void)state;
    for (size_t i = 0; i < n; i++) {
        s = s * 1103515245u + 12345u;
        text[i] = (i % 40 == 39) ? '\n' : (char)('a' + (s >> 16) % 26);
    }
    z = zpack(text, n, 31, &zn);
    out_init(&o);
    etl_err_clear(&err);
    d = decode_new(ETL_COMPRESSION_AUTO, ETL_ENCODING_AUTO, &o, &err);
    assert_int_equal(etl_decode_feed(d, z, 100, &err), 0);
    before = etl_decode_footprint(d);
    assert_true(before < 300 * 1024);
    for (pos = 100; pos < zn; pos += 256 * 1024) {
        size_t k = zn - pos < 256 * 1024 ? zn - pos : 256 * 1024;

        assert_int_equal(etl_decode_feed(d, z + pos, k, &err), 0);
        assert_int_equal(etl_decode_footprint(d), before);
        o.n = 0;    /* the test's own sink forgets, too */
    }
    assert_int_equal(etl_decode_finish(d, &err), 0);
    assert_int_equal(etl_decode_offset(d), n);
    assert_int_equal(etl_decode_footprint(d), before);
    decode_free(d);
    out_free(&o);
    free(z);
    free(text);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_empty_and_tiny),
        cmocka_unit_test(test_bom),
        cmocka_unit_test(test_gzip),
        cmocka_unit_test(test_zlib_and_raw_deflate),
        cmocka_unit_test(test_gzip_members),
        cmocka_unit_test(test_gzip_truncated),
        cmocka_unit_test(test_gzip_corrupt),
        cmocka_unit_test(test_gbk),
        cmocka_unit_test(test_gb18030),
        cmocka_unit_test(test_gb18030_errors),
        cmocka_unit_test(test_utf16_bom),
        cmocka_unit_test(test_utf8_forced_invalid),
        cmocka_unit_test(test_auto_late_invalid),
        cmocka_unit_test(test_auto_ascii_then_gbk),
        cmocka_unit_test(test_sink_error),
        cmocka_unit_test(test_auto_edges),
        cmocka_unit_test(test_reuse),
        cmocka_unit_test(test_link),
        cmocka_unit_test(test_bounded_memory),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
