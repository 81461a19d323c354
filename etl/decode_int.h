/*
 * decode_int.h
 *    Private to the decoder's two files: decode.c (names, life cycle, the
 *    character layer, the link) and inflate.c (the compression layer, the
 *    entry points etl_decode_feed/etl_decode_finish).  See decode.h.
 */
#ifndef ETL_DECODE_INT_H
#define ETL_DECODE_INT_H

#include <iconv.h>
#include <stdbool.h>
#include <zlib.h>

#include "decode.h"

/* Output block of inflate and of iconv: big enough to amortise the calls. */
#define DECODE_BLOCK (64 * 1024)
/* zlib's avail_in is an unsigned int: feed it at most this much at once. */
#define DECODE_ZIN_MAX (1u << 30)

enum z_state {
    ZS_SNIFF,       /* fewer than two bytes seen */
    ZS_PLAIN,       /* no compression */
    ZS_INFLATE,     /* inside a compressed member */
    ZS_AFTER        /* a member ended; padding or another member may follow */
};

enum e_state {
    ES_HEAD,        /* looking for a BOM in the first bytes */
    ES_UNDECIDED,   /* auto: ASCII so far, or holding the sniff window */
    ES_UTF8,
    ES_ICONV
};

enum u8_status { U8_OK, U8_PARTIAL, U8_BAD, U8_NUL };

struct etl_decode {
    enum etl_compression comp;      /* as configured */
    enum etl_encoding enc;          /* as configured */
    struct etl_stage link;          /* the decoder as a link; next gets the text */
    bool failed;

    /* compression layer */
    enum z_state zst;
    enum etl_compression found;
    unsigned char zhead[2];
    size_t zhead_n;
    z_stream z;
    bool z_init;
    int z_bits;                     /* windowBits of the z_stream */
    uint64_t zin;                   /* compressed bytes consumed */
    unsigned char *zout;            /* DECODE_BLOCK */
    size_t zmem;                    /* bytes zlib holds */

    /* character layer */
    enum e_state est;
    enum etl_encoding cur;          /* AUTO while undecided */
    unsigned char head[4];
    size_t head_n;
    unsigned char carry[8];         /* unfinished character */
    size_t carry_n;
    unsigned char *hold;            /* ETL_DECODE_SNIFF */
    size_t hold_n;
    size_t hold_chk;                /* hold[0..hold_chk) is valid UTF-8 */
    uint64_t off;                   /* offset of the next byte to come in */
    uint64_t utf8_bad;              /* why auto chose GB18030 */
    iconv_t cd;
    enum etl_encoding cd_enc;       /* what 'cd' converts from */
    char *out;                      /* DECODE_BLOCK */
};

/* decode.c: the character layer, fed decompressed bytes. */
int decode_enc_feed(struct etl_decode *d, const unsigned char *p, size_t n,
                    struct etl_err *err);
/* decode.c: the end of the decompressed text. */
int decode_enc_finish(struct etl_decode *d, struct etl_err *err);

#endif
