/*
 * decode.h
 *    The first step of reading a spooled file: a streaming byte decoder that
 *    inflates (gzip, zlib or raw deflate, detected from the first bytes) and
 *    turns the text into UTF-8 (a BOM stripped; GB18030, GBK and UTF-16 with
 *    a BOM converted through glibc's iconv).  It is fed the raw file in
 *    chunks split anywhere (inside a gzip header, a multi-byte character or a
 *    BOM) and pushes UTF-8 text to the next link of its chain as byte chunks
 *    (etl/stage.h) that never split a character.  Memory is bounded (a few fixed 64 KiB buffers and zlib's
 *    window) whatever the size of the file.
 *
 *    Compression, with compression "auto":
 *      - 1f 8b                               gzip (members may be concatenated)
 *      - CMF FLG with CMF & 0x0f == 8, CINFO <= 7, FDICT clear and
 *        (CMF * 256 + FLG) % 31 == 0          zlib
 *      - anything else                        plain
 *    "gzip" insists on gzip; "deflate" takes a zlib stream or, without a zlib
 *    header, raw deflate; "none" passes the bytes through.  Zero bytes after
 *    the end of a compressed member are ignored (padding); any other byte
 *    starts a new member.  Truncated input is ETL_E_DATA "truncated gzip
 *    stream" (or "truncated deflate stream").
 *
 *    Character set, with encoding "auto":
 *      - a BOM decides: EF BB BF UTF-8, 84 31 95 33 GB18030, FF FE UTF-16LE,
 *        FE FF UTF-16BE; the BOM is not part of the text;
 *      - otherwise ASCII passes through undecided (it is the same in UTF-8
 *        and GB18030) until the first non-ASCII byte; from there the next
 *        ETL_DECODE_SNIFF bytes (64 KiB) are held and checked: if they are
 *        valid UTF-8 (or the file ends first and all of it is valid) the file
 *        is UTF-8, if an invalid UTF-8 sequence appears in that window the
 *        whole file is GB18030 (a superset of GBK and GB2312);
 *      - after the decision there is no switching back: an invalid sequence
 *        later in a file taken as UTF-8 is a data error naming its byte
 *        offset, with a hint to set the encoding.
 *    Forced encodings ("utf-8", "gb18030", "gbk") skip the sniffing; bytes
 *    invalid in them are ETL_E_DATA naming the byte offset.
 *
 *    A NUL byte (or U+0000) is ETL_E_DATA in every encoding: such a file is
 *    binary or UTF-16 without a BOM, and NUL cannot reach PostgreSQL text.
 *
 *    Byte offsets in messages are 0-based and count the bytes of the
 *    decompressed content (the same as file offsets for an uncompressed
 *    file); offsets of compression errors count the compressed file.
 *
 *    The decoder is a link: a struct etl_stage (etl_decode_link()) whose
 *    process() feeds it and whose finish() finishes it and then the next
 *    link.  In stages/parse.c the next link is the CSV tokenizer (csv.h).
 */
#ifndef ETL_DECODE_H
#define ETL_DECODE_H

#include <stddef.h>
#include <stdint.h>
#include "err.h"
#include "stage.h"

/* Bytes held to decide between UTF-8 and GB18030 (see above). */
#define ETL_DECODE_SNIFF (64 * 1024)

enum etl_compression {
    ETL_COMPRESSION_AUTO = 0,
    ETL_COMPRESSION_NONE,
    ETL_COMPRESSION_GZIP,
    ETL_COMPRESSION_DEFLATE,    /* zlib-wrapped or raw */
    ETL_COMPRESSION_ZLIB        /* only as a detection result */
};

enum etl_encoding {
    ETL_ENCODING_AUTO = 0,
    ETL_ENCODING_UTF8,
    ETL_ENCODING_GB18030,
    ETL_ENCODING_GBK,
    ETL_ENCODING_UTF16LE,       /* only detected, from a BOM */
    ETL_ENCODING_UTF16BE        /* only detected, from a BOM */
};

struct etl_decode;

/*
 * Parse the YAML spelling of a compression ("auto", "none", "gzip",
 * "deflate") or an encoding ("auto", "utf-8", "utf8", "gb18030", "gbk"),
 * case-insensitively.  Returns 0, or -1 if the name is unknown (no error is
 * set: the caller knows the YAML node to blame).
 */
int etl_compression_parse(const char *s, enum etl_compression *out) ETL_MUSTCHECK;
int etl_encoding_parse(const char *s, enum etl_encoding *out) ETL_MUSTCHECK;
/* "auto", "none", "gzip", "deflate", "zlib". */
const char *etl_compression_name(enum etl_compression c);
/* "auto", "UTF-8", "GB18030", "GBK", "UTF-16LE", "UTF-16BE". */
const char *etl_encoding_name(enum etl_encoding e);

/*
 * A decoder for the given settings that pushes its output to link 'next':
 * byte chunks of 'n' > 0 bytes of UTF-8 that never end inside a character,
 * valid only during the call.  An error the next link returns stops the
 * decoder and is returned by the feed or finish call that was running.
 * Allocates its buffers (about 200 KiB) up front; zlib's state and the iconv
 * descriptor are created on demand and kept for the next file.  Returns NULL
 * with ETL_E_NOMEM.  The caller frees it with etl_decode_free().
 */
struct etl_decode *etl_decode_new(enum etl_compression comp,
                                  enum etl_encoding enc, struct etl_stage *next,
                                  struct etl_err *err) ETL_MUSTCHECK;

/* Free the decoder and everything it holds; NULL is accepted. */
void etl_decode_free(struct etl_decode *d);

/*
 * Forget the current file (also after an error) and get ready for a new one,
 * keeping the buffers.  O(1) apart from zlib's reset.
 */
void etl_decode_reset(struct etl_decode *d);

/*
 * Feed the next 'n' bytes of the raw file.  Output goes to the next link before
 * this returns, except up to ETL_DECODE_SNIFF bytes held while sniffing and
 * a few bytes of an unfinished character.  Returns 0, or -1 with 'err' set
 * (ETL_E_DATA for bad input, ETL_E_NOMEM, or the next link's error); after
 * an error only etl_decode_reset() or etl_decode_free() may follow.  Text
 * before the bad byte has been pushed on.
 */
int etl_decode_feed(struct etl_decode *d, const void *p, size_t n,
                    struct etl_err *err) ETL_MUSTCHECK;

/*
 * The file ended: flush what is held and check that nothing is truncated
 * (a compressed stream, a character).  Returns 0 or -1 as etl_decode_feed().
 * The next link is not finished (the link's finish() does that).
 */
int etl_decode_finish(struct etl_decode *d, struct etl_err *err) ETL_MUSTCHECK;

/* What was found in the current file: NONE, GZIP, ZLIB or DEFLATE (raw);
 * AUTO before the first bytes were seen. */
enum etl_compression etl_decode_compression(const struct etl_decode *d);
/* The character set in use; AUTO while still undecided. */
enum etl_encoding etl_decode_encoding(const struct etl_decode *d);
/* Decompressed bytes seen so far in the current file. */
uint64_t etl_decode_offset(const struct etl_decode *d);

/* Heap bytes held by the decoder, zlib's state included (for tests). */
size_t etl_decode_footprint(const struct etl_decode *d);

/*
 * The decoder as a link of a chain: its process() takes byte chunks of the
 * raw file (etl_decode_feed; any other chunk type is ETL_E_INTERNAL), its
 * finish() is etl_decode_finish() then etl_stage_finish_next().  The link
 * belongs to the decoder (name "decode", ctx the decoder, next as given to
 * etl_decode_new(); the caller may change 'next' and 'name').
 */
struct etl_stage *etl_decode_link(struct etl_decode *d);
extern const struct etl_stage_kind etl_decode_link_kind;

#endif
