/*
 * text.c
 *    Blanks, trimming, full-width folding and cutting at a character
 *    boundary.  See text.h for what counts as a blank and why.
 */
#include "text.h"

#include <string.h>

/* Whether byte c is a UTF-8 continuation byte (10xxxxxx). */
static int
is_cont(unsigned char c)
{
    return (c & 0xC0) == 0x80;
}

/* Length of the UTF-8 sequence a lead byte announces; 0 for other bytes. */
static size_t
seq_len(unsigned char c)
{
    if (c < 0x80) {
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        return 2;
    }
    if (c >= 0xE0 && c <= 0xEF) {
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        return 4;
    }
    return 0;
}

size_t
etl_text_blank(const char *p, const char *e)
{
    if (p >= e) {
        return 0;
    }
    if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
        return 1;
    }
    if (e - p >= 2 && memcmp(p, "\xC2\xA0", 2) == 0) {
        return 2;
    }
    if (e - p >= 3 && memcmp(p, "\xE3\x80\x80", 3) == 0) {
        return 3;
    }
    return 0;
}

size_t
etl_text_blank_before(const char *b, const char *e)
{
    if (e <= b) {
        return 0;
    }
    if (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n') {
        return 1;
    }
    if (e - b >= 2 && memcmp(e - 2, "\xC2\xA0", 2) == 0) {
        return 2;
    }
    if (e - b >= 3 && memcmp(e - 3, "\xE3\x80\x80", 3) == 0) {
        return 3;
    }
    return 0;
}

void
etl_text_trim(const char **b, const char **e)
{
    size_t n;

    while ((n = etl_text_blank(*b, *e)) > 0) {
        *b += n;
    }
    while ((n = etl_text_blank_before(*b, *e)) > 0) {
        *e -= n;
    }
}

int
etl_text_fold(const char *p, const char *e, size_t *len)
{
    const unsigned char *u = (const unsigned char *)p;
    size_t n;

    *len = 0;
    if (p >= e) {
        return -1;
    }
    if (u[0] < 0x80) {
        *len = 1;
        return u[0];
    }
    n = seq_len(u[0]);
    if (n == 0 || (size_t)(e - p) < n) {
        *len = 1;               /* not a lead byte, or cut by e */
        return -1;
    }
    for (size_t i = 1; i < n; i++) {
        if (!is_cont(u[i])) {
            *len = 1;
            return -1;
        }
    }
    *len = n;
    if (n == 3 && u[0] == 0xEF && ((u[1] == 0xBC && u[2] >= 0x81) ||
                                   (u[1] == 0xBD && u[2] <= 0x9E))) {
        unsigned cp = 0xF000u | ((u[1] & 0x3Fu) << 6) | (u[2] & 0x3Fu);

        return (int)(cp - 0xFEE0u);
    }
    if (n == 3 && u[0] == 0xE3 && u[1] == 0x80 && u[2] == 0x80) {
        return ' ';
    }
    return -1;
}

size_t
etl_text_cut(const char *s, size_t n, size_t max)
{
    size_t k = max;

    if (n <= max) {
        return n;
    }
    for (int i = 0; i < 3 && k > 0 && is_cont((unsigned char)s[k]); i++) {
        k--;
    }
    return k;
}

size_t
etl_text_unfinished(const char *s, size_t n)
{
    size_t k = 0;

    while (k < n && k < 3 && is_cont((unsigned char)s[n - 1 - k])) {
        k++;
    }
    if (k < n) {
        size_t need = seq_len((unsigned char)s[n - 1 - k]);

        if (need > k + 1) {
            return k + 1;
        }
    }
    return 0;
}

/* The value of a hexadecimal digit; see text.h. */
int
etl_text_hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}
