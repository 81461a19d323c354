/*
 * text.h
 *    The small UTF-8 text helpers every module shares: what a blank is,
 *    trimming, folding full-width ASCII forms, and cutting a text at a
 *    character boundary for quoting it in a message.  All work on byte
 *    ranges [b, e) that need not be NUL-terminated, never allocate and
 *    never read outside the range.
 *
 *    A blank is one of: ASCII space, tab, CR, LF, U+00A0 NO-BREAK SPACE
 *    (C2 A0) and U+3000 IDEOGRAPHIC SPACE (E3 80 80).  That is the union of
 *    what the catalog lookups, the value parser, the period parser and
 *    normalize each used to trim: spreadsheets exported by Chinese offices
 *    pad cells with U+3000 and U+00A0, and a CR or LF may trail the last
 *    field of a record.  Vertical tab and form feed are not blanks (they are
 *    not found in the data, and a stray one is better shown than dropped).
 *
 *    Next door: csv.c and decode.c (UTF-8 validation), num.c and period.c
 *    (their own folding on top of etl_text_fold).
 */
#ifndef ETL_TEXT_H
#define ETL_TEXT_H

#include <stddef.h>

/* Length (1, 2 or 3) of the blank starting at p, or 0; p < e is not required. */
size_t etl_text_blank(const char *p, const char *e);

/* Length of the blank ending at e (its last byte is e[-1]), or 0. */
size_t etl_text_blank_before(const char *b, const char *e);

/* Narrow [*b, *e) to the text without blanks on either side.  O(blanks). */
void etl_text_trim(const char **b, const char **e);

/*
 * The ASCII equivalent of the character at p (before e): an ASCII byte is
 * itself, U+FF01..U+FF5E (EF BC 81 .. EF BD 9E, full-width ！ to ～) is the
 * ASCII character 0xFEE0 below it, U+3000 is ' '.  Other characters give
 * -1.  *len is what the character takes: 1 for ASCII, 3 for the folded
 * forms, the length of a complete UTF-8 sequence for other characters, and
 * 1 for a byte that does not start one (a stray continuation byte, a
 * sequence cut by e); 0 only when p >= e.  Only the lead and continuation
 * bytes are looked at, so a character such as U+FF00 or U+FF5F (EF BC 80,
 * EF BD A0), next to the folded range, is not folded.
 */
int etl_text_fold(const char *p, const char *e, size_t *len);

/*
 * How many bytes of s (n bytes) to keep so that at most 'max' are kept and
 * no character is split: n when n <= max, else 'max' moved back over the
 * continuation bytes at s[max] (at most 3).  For quoting a text in a message
 * ("%.*s…").
 */
size_t etl_text_cut(const char *s, size_t n, size_t max);

/*
 * How many bytes at the end of s (n bytes) are an unfinished character: a
 * lead byte and fewer continuation bytes than it announces (0 to 3).  For
 * a buffer cut at a byte limit: n - etl_text_unfinished(s, n) ends on a
 * character boundary.
 */
size_t etl_text_unfinished(const char *s, size_t n);

/* The value of hexadecimal digit 'c' (0-9, a-f, A-F), or -1. */
int etl_text_hexval(char c);

#endif
