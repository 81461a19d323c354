/*
 * inflate.c
 *    The decoder's compression layer: the first two bytes decide (see
 *    decode.h), then plain bytes pass through or zlib's inflate runs into a
 *    64 KiB block, member after member; what comes out goes to the
 *    character layer (decode.c).  etl_decode_feed() and etl_decode_finish()
 *    enter here.
 */
#include "decode_int.h"

#include <stdlib.h>
#include <string.h>

/*
 * zlib allocator that counts what zlib holds, so that etl_decode_footprint()
 * tells the truth.  Each block carries its size in front.
 */
static voidpf
z_alloc(voidpf opaque, uInt items, uInt size)
{
    struct etl_decode *d = opaque;
    size_t n = (size_t)items * size;
    size_t *p = malloc(sizeof(size_t) * 2 + n);

    if (p == NULL) {
        return Z_NULL;
    }
    p[0] = n;
    d->zmem += n;
    return p + 2;
}

/* zlib's free, counting as z_alloc does. */
static void
z_free(voidpf opaque, voidpf ptr)
{
    struct etl_decode *d = opaque;
    size_t *p = (size_t *)ptr - 2;

    d->zmem -= p[0];
    free(p);
}

/* ---- compression layer ----------------------------------------------- */

/* The file ended inside a compressed member. */
static int
z_truncated(struct etl_decode *d, struct etl_err *err)
{
    d->failed = true;
    return etl_err_set(err, ETL_E_DATA, "truncated %s stream",
                       d->found == ETL_COMPRESSION_GZIP ||
                       d->comp == ETL_COMPRESSION_GZIP ? "gzip" : "deflate");
}

/* Set up (or reset) the z_stream for 'bits'. */
static int
z_start(struct etl_decode *d, int bits, struct etl_err *err)
{
    int rc;

    if (d->z_init && d->z_bits != bits) {
        inflateEnd(&d->z);
        d->z_init = false;
    }
    if (d->z_init) {
        rc = inflateReset(&d->z);
    } else {
        memset(&d->z, 0, sizeof(d->z));
        d->z.zalloc = z_alloc;
        d->z.zfree = z_free;
        d->z.opaque = d;
        rc = inflateInit2(&d->z, bits);
        d->z_init = rc == Z_OK;
        d->z_bits = bits;
    }
    if (rc != Z_OK) {
        d->failed = true;
        return etl_err_set(err, rc == Z_MEM_ERROR ? ETL_E_NOMEM : ETL_E_INTERNAL,
                           "could not start inflate: %s", zError(rc));
    }
    d->zst = ZS_INFLATE;
    return 0;
}

/* Decide from the first two bytes how the file is compressed. */
static int
z_decide(struct etl_decode *d, struct etl_err *err)
{
    unsigned b0 = d->zhead[0], b1 = d->zhead[1];
    bool gzip = b0 == 0x1f && b1 == 0x8b;
    bool zlib = (b0 & 0x0f) == 8 && (b0 >> 4) <= 7 && (b1 & 0x20) == 0 &&
                (b0 * 256 + b1) % 31 == 0;

    switch (d->comp) {
    case ETL_COMPRESSION_GZIP:
        if (!gzip) {
            d->failed = true;
            etl_err_set(err, ETL_E_DATA, "not a gzip stream");
            etl_err_detail(err, "the file starts with bytes %02x %02x, not 1f 8b",
                           b0, b1);
            return -1;
        }
        d->found = ETL_COMPRESSION_GZIP;
        return z_start(d, 15 + 16, err);
    case ETL_COMPRESSION_DEFLATE:
        d->found = zlib ? ETL_COMPRESSION_ZLIB : ETL_COMPRESSION_DEFLATE;
        return z_start(d, zlib ? 15 : -15, err);
    default:
        if (gzip || zlib) {
            d->found = gzip ? ETL_COMPRESSION_GZIP : ETL_COMPRESSION_ZLIB;
            return z_start(d, 15 + 32, err);
        }
        d->found = ETL_COMPRESSION_NONE;
        d->zst = ZS_PLAIN;
        return 0;
    }
}

/* Inflate compressed bytes, member after member. */
static int
z_inflate(struct etl_decode *d, const unsigned char *p, size_t n,
          struct etl_err *err)
{
    bool full = false;

    while (n > 0 || full) {
        size_t take, used, produced;
        int rc;

        if (d->zst == ZS_AFTER) {
            while (n > 0 && *p == 0) {
                p++;
                n--;
                d->zin++;
            }
            if (n == 0) {
                return 0;
            }
            if (z_start(d, d->z_bits, err) < 0) {
                return -1;
            }
        }
        take = n < DECODE_ZIN_MAX ? n : DECODE_ZIN_MAX;
        d->z.next_in = (Bytef *)p;
        d->z.avail_in = (uInt)take;
        d->z.next_out = d->zout;
        d->z.avail_out = DECODE_BLOCK;
        rc = inflate(&d->z, Z_NO_FLUSH);
        used = take - d->z.avail_in;
        produced = DECODE_BLOCK - d->z.avail_out;
        p += used;
        n -= used;
        d->zin += used;
        full = produced == DECODE_BLOCK;
        if (produced > 0 && decode_enc_feed(d, d->zout, produced, err) < 0) {
            return -1;
        }
        switch (rc) {
        case Z_STREAM_END:
            d->zst = ZS_AFTER;
            full = false;
            break;
        case Z_OK:
            break;
        case Z_BUF_ERROR:
            if (used == 0 && produced == 0) {
                return 0;
            }
            break;
        case Z_MEM_ERROR:
            d->failed = true;
            return etl_err_nomem(err);
        case Z_NEED_DICT:
            d->failed = true;
            return etl_err_set(err, ETL_E_DATA,
                               "compressed stream needs a preset dictionary");
        default:
            d->failed = true;
            return etl_err_set(err, ETL_E_DATA,
                               "invalid compressed data near byte offset %llu: %s",
                               (unsigned long long)d->zin,
                               d->z.msg != NULL ? d->z.msg : zError(rc));
        }
    }
    return 0;
}

/* Bytes of the file after the sniff: plain or compressed. */
static int
z_body(struct etl_decode *d, const unsigned char *p, size_t n,
       struct etl_err *err)
{
    if (d->zst == ZS_PLAIN) {
        d->zin += n;
        return decode_enc_feed(d, p, n, err);
    }
    return z_inflate(d, p, n, err);
}

/* Raw bytes in: the first two decide the compression (see decode.h). */
int
etl_decode_feed(struct etl_decode *d, const void *buf, size_t n,
                struct etl_err *err)
{
    const unsigned char *p = buf;

    if (d->failed) {
        return etl_err_set(err, ETL_E_INTERNAL, "decoder used after an error");
    }
    if (d->zst == ZS_SNIFF) {
        unsigned char h[2];

        while (d->zhead_n < 2 && n > 0) {
            d->zhead[d->zhead_n++] = *p++;
            n--;
        }
        if (d->zhead_n < 2) {
            return 0;
        }
        memcpy(h, d->zhead, 2);
        d->zhead_n = 0;
        if (z_decide(d, err) < 0 || z_body(d, h, 2, err) < 0) {
            d->failed = true;
            return -1;
        }
    }
    if (n == 0) {
        return 0;
    }
    if (z_body(d, p, n, err) < 0) {
        d->failed = true;
        return -1;
    }
    return 0;
}

/* The raw file ended: check for truncation, then end the text. */
int
etl_decode_finish(struct etl_decode *d, struct etl_err *err)
{
    if (d->failed) {
        return etl_err_set(err, ETL_E_INTERNAL, "decoder used after an error");
    }
    switch (d->zst) {
    case ZS_SNIFF:
        if (d->comp == ETL_COMPRESSION_GZIP || d->comp == ETL_COMPRESSION_DEFLATE) {
            return z_truncated(d, err);
        }
        d->found = ETL_COMPRESSION_NONE;
        d->zst = ZS_PLAIN;
        if (z_body(d, d->zhead, d->zhead_n, err) < 0) {
            return -1;
        }
        d->zhead_n = 0;
        break;
    case ZS_INFLATE:
        return z_truncated(d, err);
    case ZS_PLAIN:
    case ZS_AFTER:
        break;
    }
    if (decode_enc_finish(d, err) < 0) {
        d->failed = true;
        return -1;
    }
    return 0;
}
