/*
 * decode.c
 *    Streaming inflate + character-set decoding to UTF-8; see decode.h for
 *    the detection rules.
 *
 *    Two layers, each a small state machine that copes with input split at
 *    any byte:
 *      - the compression layer (z_*, in inflate.c) sniffs the first two
 *        bytes, then passes plain bytes through or runs zlib's inflate into
 *        a 64 KiB block;
 *      - the character layer (enc_*, here) sniffs a BOM from the first four
 *        bytes, then validates UTF-8 in place (no copy: the next link sees
 *        the caller's bytes) or converts through iconv into a 64 KiB block.
 *        An unfinished character at the end of a piece waits in 'carry'.
 *    Nothing is allocated after etl_decode_new() but zlib's state and the
 *    iconv descriptor, both made once and kept from file to file.
 *
 *    The decoder is a link of a chain (struct etl_stage, as every link):
 *    bytes come in by etl_decode_feed() or the link's process(), UTF-8 text
 *    goes out as byte chunks to the next link (in stages/parse.c, the CSV
 *    tokenizer of csv.c).
 */
#include "decode_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>


/* ---- names ---------------------------------------------------------- */

int
etl_compression_parse(const char *s, enum etl_compression *out)
{
    static const struct {
        const char *name;
        enum etl_compression c;
    } names[] = {
        {"auto", ETL_COMPRESSION_AUTO}, {"none", ETL_COMPRESSION_NONE},
        {"gzip", ETL_COMPRESSION_GZIP}, {"deflate", ETL_COMPRESSION_DEFLATE},
    };

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcasecmp(s, names[i].name) == 0) {
            *out = names[i].c;
            return 0;
        }
    }
    return -1;
}

int
etl_encoding_parse(const char *s, enum etl_encoding *out)
{
    static const struct {
        const char *name;
        enum etl_encoding e;
    } names[] = {
        {"auto", ETL_ENCODING_AUTO}, {"utf-8", ETL_ENCODING_UTF8},
        {"utf8", ETL_ENCODING_UTF8}, {"gb18030", ETL_ENCODING_GB18030},
        {"gbk", ETL_ENCODING_GBK},
    };

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcasecmp(s, names[i].name) == 0) {
            *out = names[i].e;
            return 0;
        }
    }
    return -1;
}

const char *
etl_compression_name(enum etl_compression c)
{
    switch (c) {
    case ETL_COMPRESSION_AUTO: return "auto";
    case ETL_COMPRESSION_NONE: return "none";
    case ETL_COMPRESSION_GZIP: return "gzip";
    case ETL_COMPRESSION_DEFLATE: return "deflate";
    case ETL_COMPRESSION_ZLIB: return "zlib";
    }
    return "?";
}

const char *
etl_encoding_name(enum etl_encoding e)
{
    switch (e) {
    case ETL_ENCODING_AUTO: return "auto";
    case ETL_ENCODING_UTF8: return "UTF-8";
    case ETL_ENCODING_GB18030: return "GB18030";
    case ETL_ENCODING_GBK: return "GBK";
    case ETL_ENCODING_UTF16LE: return "UTF-16LE";
    case ETL_ENCODING_UTF16BE: return "UTF-16BE";
    }
    return "?";
}

/* ---- life cycle ------------------------------------------------------ */

struct etl_decode *
etl_decode_new(enum etl_compression comp, enum etl_encoding enc,
               struct etl_stage *next, struct etl_err *err)
{
    struct etl_decode *d = calloc(1, sizeof(*d));

    if (d == NULL) {
        etl_err_nomem(err);
        return NULL;
    }
    d->comp = comp;
    d->enc = enc;
    d->link.kind = &etl_decode_link_kind;
    d->link.name = (char *)"decode";
    d->link.ctx = d;
    d->link.next = next;
    d->cd = (iconv_t)-1;
    d->zout = malloc(DECODE_BLOCK);
    d->hold = malloc(ETL_DECODE_SNIFF);
    d->out = malloc(DECODE_BLOCK);
    if (d->zout == NULL || d->hold == NULL || d->out == NULL) {
        etl_decode_free(d);
        etl_err_nomem(err);
        return NULL;
    }
    etl_decode_reset(d);
    return d;
}

void
etl_decode_free(struct etl_decode *d)
{
    if (d == NULL) {
        return;
    }
    if (d->z_init) {
        inflateEnd(&d->z);
    }
    if (d->cd != (iconv_t)-1) {
        iconv_close(d->cd);
    }
    free(d->zout);
    free(d->hold);
    free(d->out);
    free(d);
}

void
etl_decode_reset(struct etl_decode *d)
{
    d->failed = false;
    d->zst = d->comp == ETL_COMPRESSION_NONE ? ZS_PLAIN : ZS_SNIFF;
    d->found = d->comp == ETL_COMPRESSION_NONE ? ETL_COMPRESSION_NONE
                                               : ETL_COMPRESSION_AUTO;
    d->zhead_n = 0;
    d->zin = 0;
    d->est = ES_HEAD;
    d->cur = ETL_ENCODING_AUTO;
    d->head_n = 0;
    d->carry_n = 0;
    d->hold_n = 0;
    d->hold_chk = 0;
    d->off = 0;
    d->utf8_bad = 0;
    if (d->cd != (iconv_t)-1) {
        iconv(d->cd, NULL, NULL, NULL, NULL);
    }
}

enum etl_compression
etl_decode_compression(const struct etl_decode *d)
{
    return d->found;
}

enum etl_encoding
etl_decode_encoding(const struct etl_decode *d)
{
    return d->cur;
}

uint64_t
etl_decode_offset(const struct etl_decode *d)
{
    return d->off;
}

size_t
etl_decode_footprint(const struct etl_decode *d)
{
    return sizeof(*d) + 2 * DECODE_BLOCK + ETL_DECODE_SNIFF + d->zmem;
}

/* ---- UTF-8 ----------------------------------------------------------- */

#define HI8 UINT64_C(0x8080808080808080)
#define LO8 UINT64_C(0x0101010101010101)

/*
 * Check UTF-8 strictly (no overlong forms, no surrogates, nothing above
 * U+10FFFF).  '*valid' gets the length of the leading run of complete,
 * valid characters; the status says what stopped it: the end (U8_OK), an
 * unfinished but so far valid character (U8_PARTIAL), an invalid sequence
 * (U8_BAD) or a NUL byte (U8_NUL), each starting at *valid.  ASCII goes
 * eight bytes at a time.
 */
static enum u8_status
utf8_check(const unsigned char *p, size_t n, size_t *valid)
{
    size_t i = 0;

    while (i < n) {
        unsigned c, lo = 0x80, hi = 0xbf;
        size_t len;

        while (i + 8 <= n) {
            uint64_t w;

            memcpy(&w, p + i, 8);
            if ((w & HI8) != 0 || ((w - LO8) & ~w & HI8) != 0) {
                break;
            }
            i += 8;
        }
        if (i >= n) {
            break;
        }
        c = p[i];
        if (c < 0x80) {
            if (c == 0) {
                *valid = i;
                return U8_NUL;
            }
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            len = 2;
        } else if (c >= 0xe0 && c <= 0xef) {
            len = 3;
            if (c == 0xe0) {
                lo = 0xa0;
            } else if (c == 0xed) {
                hi = 0x9f;
            }
        } else if (c >= 0xf0 && c <= 0xf4) {
            len = 4;
            if (c == 0xf0) {
                lo = 0x90;
            } else if (c == 0xf4) {
                hi = 0x8f;
            }
        } else {
            *valid = i;
            return U8_BAD;
        }
        for (size_t k = 1; k < len; k++) {
            unsigned b;

            if (i + k >= n) {
                *valid = i;
                return U8_PARTIAL;
            }
            b = p[i + k];
            if (k == 1 ? (b < lo || b > hi) : (b & 0xc0) != 0x80) {
                *valid = i;
                return U8_BAD;
            }
        }
        i += len;
    }
    *valid = n;
    return U8_OK;
}

/* Push text to the next link as a byte chunk; empty pieces are not. */
static int
emit(struct etl_decode *d, const void *p, size_t n, struct etl_err *err)
{
    struct etl_chunk c = { .bytes = p, .len = n };

    if (n == 0) {
        return 0;
    }
    return etl_stage_push(&d->link, &c, err);
}

static int
nul_error(struct etl_decode *d, uint64_t at, struct etl_err *err)
{
    etl_err_set(err, ETL_E_DATA, "NUL byte at byte offset %llu",
                (unsigned long long)at);
    etl_err_hint(err, "the file looks binary, or UTF-16 without a byte order mark");
    d->failed = true;
    return -1;
}

static int
utf8_error(struct etl_decode *d, uint64_t at, bool at_end, struct etl_err *err)
{
    etl_err_set(err, ETL_E_DATA, "invalid UTF-8 byte sequence at byte offset %llu",
                (unsigned long long)at);
    if (at_end) {
        etl_err_detail(err, "the file ends inside a character");
    }
    if (d->enc == ETL_ENCODING_AUTO) {
        etl_err_hint(err, "the file was taken as UTF-8 from its first %d KiB of "
                     "non-ASCII text; set \"encoding: gb18030\" if it is "
                     "GB18030 or GBK", ETL_DECODE_SNIFF / 1024);
    }
    d->failed = true;
    return -1;
}

/*
 * UTF-8 mode: validate and pass the bytes through uncopied, but for the few
 * bytes of a character split across pieces, which wait in 'carry'.
 */
static int
utf8_feed(struct etl_decode *d, const unsigned char *p, size_t n,
          struct etl_err *err)
{
    enum u8_status st;
    size_t v;

    if (n == 0) {
        return 0;
    }
    if (d->carry_n > 0) {
        unsigned char tmp[8];
        size_t k = d->carry_n;
        size_t need = d->carry[0] >= 0xf0 ? 4 : d->carry[0] >= 0xe0 ? 3 : 2;
        size_t m = need - k < n ? need - k : n;

        memcpy(tmp, d->carry, k);
        memcpy(tmp + k, p, m);
        st = utf8_check(tmp, k + m, &v);
        if (st == U8_BAD) {
            return utf8_error(d, d->off - k, false, err);
        }
        d->off += m;
        p += m;
        n -= m;
        if (st == U8_PARTIAL) {
            memcpy(d->carry + k, tmp + k, m);
            d->carry_n = k + m;
            return 0;
        }
        d->carry_n = 0;
        if (emit(d, tmp, k + m, err) < 0) {
            return -1;
        }
    }
    st = utf8_check(p, n, &v);
    if (emit(d, p, v, err) < 0) {
        return -1;
    }
    switch (st) {
    case U8_OK:
        break;
    case U8_PARTIAL:
        memcpy(d->carry, p + v, n - v);
        d->carry_n = n - v;
        break;
    case U8_BAD:
        return utf8_error(d, d->off + v, false, err);
    case U8_NUL:
        return nul_error(d, d->off + v, err);
    }
    d->off += n;
    return 0;
}

/* ---- iconv ----------------------------------------------------------- */

/* Make 'cd' convert from d->cur to UTF-8, reusing the open one if it does. */
static int
iconv_open_cur(struct etl_decode *d, struct etl_err *err)
{
    if (d->cd != (iconv_t)-1 && d->cd_enc == d->cur) {
        return 0;
    }
    if (d->cd != (iconv_t)-1) {
        iconv_close(d->cd);
    }
    d->cd = iconv_open("UTF-8", etl_encoding_name(d->cur));
    if (d->cd == (iconv_t)-1) {
        d->failed = true;
        return etl_err_errno(err, ETL_E_INTERNAL,
                             "could not open a converter from %s to UTF-8",
                             etl_encoding_name(d->cur));
    }
    d->cd_enc = d->cur;
    return 0;
}

static int
iconv_error(struct etl_decode *d, uint64_t at, bool at_end, struct etl_err *err)
{
    etl_err_set(err, ETL_E_DATA, "invalid %s byte sequence at byte offset %llu",
                etl_encoding_name(d->cur), (unsigned long long)at);
    if (at_end) {
        etl_err_detail(err, "the file ends inside a character");
    } else if (d->enc == ETL_ENCODING_AUTO && d->cur == ETL_ENCODING_GB18030) {
        etl_err_detail(err, "nor is it UTF-8: invalid UTF-8 at byte offset %llu",
                       (unsigned long long)d->utf8_bad);
    }
    d->failed = true;
    return -1;
}

/*
 * Convert one piece that starts at offset 'at'; returns the bytes consumed
 * (all, or up to an unfinished character at the end), or -1.  U+0000 in
 * the output is refused; its offset is exact for the GB encodings (where
 * only the byte 00 makes it) and the piece's start for UTF-16.
 */
static long
iconv_piece(struct etl_decode *d, const unsigned char *p, size_t n,
            uint64_t at, struct etl_err *err)
{
    char *in = (char *)p;
    size_t inl = n;

    while (inl > 0) {
        char *out = d->out;
        size_t outl = DECODE_BLOCK, r, produced;
        char *start = in;
        int e;

        r = iconv(d->cd, &in, &inl, &out, &outl);
        e = errno;
        produced = DECODE_BLOCK - outl;
        if (produced > 0 && memchr(d->out, 0, produced) != NULL) {
            const char *z = memchr(start, 0, (size_t)(in - start));
            uint64_t where = at + (uint64_t)(start - (char *)p);

            if (z != NULL && (d->cur == ETL_ENCODING_GB18030 ||
                              d->cur == ETL_ENCODING_GBK)) {
                where = at + (uint64_t)(z - (const char *)p);
            }
            if (emit(d, d->out, strlen(d->out), err) < 0) {
                return -1;
            }
            return nul_error(d, where, err);
        }
        if (emit(d, d->out, produced, err) < 0) {
            return -1;
        }
        if (r == (size_t)-1) {
            if (e == E2BIG) {
                continue;
            }
            if (e == EINVAL) {
                break;
            }
            return iconv_error(d, at + (n - inl), false, err);
        }
    }
    return (long)(n - inl);
}

/*
 * Converting mode: iconv into the output block; an unfinished character at
 * the end of a piece waits in 'carry' and is completed from the next one.
 */
static int
iconv_feed(struct etl_decode *d, const unsigned char *p, size_t n,
           struct etl_err *err)
{
    long used;

    if (n == 0) {
        return 0;
    }
    if (d->carry_n > 0) {
        unsigned char tmp[sizeof(d->carry) * 2];
        size_t k = d->carry_n;
        size_t m = n < sizeof(tmp) - k ? n : sizeof(tmp) - k;

        memcpy(tmp, d->carry, k);
        memcpy(tmp + k, p, m);
        used = iconv_piece(d, tmp, k + m, d->off - k, err);
        if (used < 0) {
            return -1;
        }
        if ((size_t)used <= k) {
            /* still unfinished: everything waits */
            if (k + m > sizeof(d->carry)) {
                return iconv_error(d, d->off - k, false, err);
            }
            memcpy(d->carry + k, p, m);
            d->carry_n = k + m;
            d->off += m;
            return 0;
        }
        d->carry_n = 0;
        used -= (long)k;
        p += used;
        n -= (size_t)used;
        d->off += (uint64_t)used;
    }
    used = iconv_piece(d, p, n, d->off, err);
    if (used < 0) {
        return -1;
    }
    if (n - (size_t)used > sizeof(d->carry)) {
        return iconv_error(d, d->off + (uint64_t)used, false, err);
    }
    memcpy(d->carry, p + used, n - (size_t)used);
    d->carry_n = n - (size_t)used;
    d->off += n;
    return 0;
}

/* ---- character layer ------------------------------------------------- */

/* Enter a decided character set. */
static int
enc_decide(struct etl_decode *d, enum etl_encoding e, struct etl_err *err)
{
    d->cur = e;
    if (e == ETL_ENCODING_UTF8) {
        d->est = ES_UTF8;
        return 0;
    }
    d->est = ES_ICONV;
    return iconv_open_cur(d, err);
}

/*
 * Auto mode, undecided: ASCII passes; from the first other byte up to
 * ETL_DECODE_SNIFF bytes are held until they prove invalid UTF-8 (then the
 * file is GB18030) or fill the window (then it is UTF-8).
 */
static int
undecided_feed(struct etl_decode *d, const unsigned char *p, size_t n,
               struct etl_err *err)
{
    while (n > 0) {
        enum u8_status st;
        size_t take, v;

        if (d->hold_n == 0) {
            size_t i = 0;

            while (i < n && p[i] != 0 && p[i] < 0x80) {
                i++;
            }
            if (emit(d, p, i, err) < 0) {
                return -1;
            }
            d->off += i;
            p += i;
            n -= i;
            if (n == 0) {
                return 0;
            }
            if (*p == 0) {
                return nul_error(d, d->off, err);
            }
        }
        take = ETL_DECODE_SNIFF - d->hold_n;
        if (take > n) {
            take = n;
        }
        memcpy(d->hold + d->hold_n, p, take);
        d->hold_n += take;
        p += take;
        n -= take;
        st = utf8_check(d->hold + d->hold_chk, d->hold_n - d->hold_chk, &v);
        if (st == U8_NUL) {
            if (emit(d, d->hold, d->hold_chk + v, err) < 0) {
                return -1;
            }
            return nul_error(d, d->off + d->hold_chk + v, err);
        }
        if (st == U8_BAD) {
            size_t held = d->hold_n;

            d->utf8_bad = d->off + d->hold_chk + v;
            d->hold_n = 0;
            d->hold_chk = 0;
            if (enc_decide(d, ETL_ENCODING_GB18030, err) < 0 ||
                iconv_feed(d, d->hold, held, err) < 0) {
                return -1;
            }
            return iconv_feed(d, p, n, err);
        }
        d->hold_chk += v;
        if (d->hold_n == ETL_DECODE_SNIFF) {
            size_t held = d->hold_n;

            d->hold_n = 0;
            d->hold_chk = 0;
            if (enc_decide(d, ETL_ENCODING_UTF8, err) < 0 ||
                utf8_feed(d, d->hold, held, err) < 0) {
                return -1;
            }
            return utf8_feed(d, p, n, err);
        }
    }
    return 0;
}

static int
enc_body(struct etl_decode *d, const unsigned char *p, size_t n,
         struct etl_err *err)
{
    switch (d->est) {
    case ES_UNDECIDED:
        return undecided_feed(d, p, n, err);
    case ES_UTF8:
        return utf8_feed(d, p, n, err);
    case ES_ICONV:
        return iconv_feed(d, p, n, err);
    case ES_HEAD:
        break;
    }
    d->failed = true;
    return etl_err_set(err, ETL_E_INTERNAL, "decoder in a bad state");
}

/*
 * Look for a BOM in head[0..head_n).  Returns 1 when decided (the BOM's
 * length in *bom_len, 0 if none), 0 when more bytes are needed.
 */
static int
head_decide(struct etl_decode *d, bool eof, size_t *bom_len,
            enum etl_encoding *bom_enc)
{
    static const struct {
        const char *bytes;
        size_t len;
        enum etl_encoding enc;
    } boms[] = {
        {"\xef\xbb\xbf", 3, ETL_ENCODING_UTF8},
        {"\x84\x31\x95\x33", 4, ETL_ENCODING_GB18030},
        {"\xff\xfe", 2, ETL_ENCODING_UTF16LE},
        {"\xfe\xff", 2, ETL_ENCODING_UTF16BE},
    };
    bool possible = false;

    for (size_t i = 0; i < sizeof(boms) / sizeof(boms[0]); i++) {
        size_t k = d->head_n < boms[i].len ? d->head_n : boms[i].len;

        if (d->enc != ETL_ENCODING_AUTO && d->enc != boms[i].enc) {
            continue;
        }
        if (memcmp(d->head, boms[i].bytes, k) != 0) {
            continue;
        }
        if (k == boms[i].len) {
            *bom_len = k;
            *bom_enc = boms[i].enc;
            return 1;
        }
        possible = true;
    }
    if (possible && !eof) {
        return 0;
    }
    *bom_len = 0;
    *bom_enc = d->enc;
    return 1;
}

/* Leave ES_HEAD: enter the character set and replay the held bytes. */
static int
head_done(struct etl_decode *d, size_t bom_len, enum etl_encoding e,
          struct etl_err *err)
{
    unsigned char h[sizeof(d->head)];
    size_t n = d->head_n - bom_len;

    memcpy(h, d->head + bom_len, n);
    d->head_n = 0;
    d->off = bom_len;
    if (e == ETL_ENCODING_AUTO) {
        d->est = ES_UNDECIDED;
    } else if (enc_decide(d, e, err) < 0) {
        return -1;
    }
    return enc_body(d, h, n, err);
}

/* Decompressed bytes in. */
int
decode_enc_feed(struct etl_decode *d, const unsigned char *p, size_t n,
                struct etl_err *err)
{
    if (d->est == ES_HEAD) {
        size_t bom_len = 0;
        enum etl_encoding e = ETL_ENCODING_AUTO;

        for (;;) {
            if (n == 0) {
                return 0;
            }
            d->head[d->head_n++] = *p++;
            n--;
            if (head_decide(d, false, &bom_len, &e)) {
                break;
            }
        }
        if (head_done(d, bom_len, e, err) < 0) {
            return -1;
        }
    }
    return enc_body(d, p, n, err);
}

/* End of the decompressed text. */
int
decode_enc_finish(struct etl_decode *d, struct etl_err *err)
{
    if (d->est == ES_HEAD) {
        size_t bom_len = 0;
        enum etl_encoding e = ETL_ENCODING_AUTO;

        (void)head_decide(d, true, &bom_len, &e);
        if (head_done(d, bom_len, e, err) < 0) {
            return -1;
        }
    }
    if (d->est == ES_UNDECIDED) {
        size_t held = d->hold_n;

        d->hold_n = 0;
        if (d->hold_chk == held) {
            if (enc_decide(d, ETL_ENCODING_UTF8, err) < 0 ||
                emit(d, d->hold, held, err) < 0) {
                return -1;
            }
            d->off += held;
            return 0;
        }
        /* the text ends inside a character: not UTF-8 */
        d->utf8_bad = d->off + d->hold_chk;
        if (enc_decide(d, ETL_ENCODING_GB18030, err) < 0 ||
            iconv_feed(d, d->hold, held, err) < 0) {
            return -1;
        }
    }
    if (d->carry_n > 0) {
        if (d->est == ES_UTF8) {
            return utf8_error(d, d->off - d->carry_n, true, err);
        }
        return iconv_error(d, d->off - d->carry_n, true, err);
    }
    if (d->est == ES_ICONV) {
        char *out = d->out;
        size_t outl = DECODE_BLOCK;

        iconv(d->cd, NULL, NULL, &out, &outl);
        if (emit(d, d->out, DECODE_BLOCK - outl, err) < 0) {
            return -1;
        }
    }
    return 0;
}

/* ---- the decoder as a chain link -------------------------------------- */

struct etl_stage *
etl_decode_link(struct etl_decode *d)
{
    return &d->link;
}

/* A byte chunk of the raw file: etl_decode_feed. */
static int
decode_link_process(struct etl_stage *st, struct etl_chunk *in, struct etl_err *err)
{
    if (in->type != NULL) {
        return etl_err_set(err, ETL_E_INTERNAL, "the decoder expects bytes, not %s",
                           etl_chunk_type_name(in));
    }
    return etl_decode_feed(st->ctx, in->bytes, in->len, err);
}

/* The end of the file: etl_decode_finish, then finish the next link. */
static int
decode_link_finish(struct etl_stage *st, struct etl_verdict *v, struct etl_err *err)
{
    if (etl_decode_finish(st->ctx, err) < 0) {
        return -1;
    }
    return etl_stage_finish_next(st, v, err);
}

const struct etl_stage_kind etl_decode_link_kind = {
    .name = "decode",
    .consumes = ETL_FLOW_FILE,
    .produces = ETL_FLOW_FILE,
    .process = decode_link_process,
    .finish = decode_link_finish,
};
