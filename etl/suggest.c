/*
 * suggest.c
 *    Edit distance and the nearest candidates for a misspelt word; see
 *    suggest.h.  Words are short (keys, kinds, stage names, codes): a
 *    three-row table on the stack, no allocation.
 */
#include "suggest.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

static size_t
min3(size_t a, size_t b, size_t c)
{
    size_t m = a < b ? a : b;

    return m < c ? m : c;
}

size_t
etl_edit_distance(const char *a, const char *b)
{
    size_t rows[3][ETL_SUGGEST_WORD_MAX + 1];
    size_t n = strnlen(a, ETL_SUGGEST_WORD_MAX), m = strnlen(b, ETL_SUGGEST_WORD_MAX);
    size_t *prev2 = rows[0], *prev = rows[1], *cur = rows[2];

    for (size_t j = 0; j <= m; j++) {
        prev[j] = j;
    }
    for (size_t i = 1; i <= n; i++) {
        size_t *t;

        cur[0] = i;
        for (size_t j = 1; j <= m; j++) {
            size_t cost = a[i - 1] != b[j - 1];

            cur[j] = min3(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                prev2[j - 2] + 1 < cur[j]) {
                cur[j] = prev2[j - 2] + 1;      /* two neighbours swapped */
            }
        }
        t = prev2;
        prev2 = prev;
        prev = cur;
        cur = t;
    }
    return prev[m];
}

bool
etl_suggest_near(size_t d, size_t n, size_t m)
{
    size_t longer = n > m ? n : m, shorter = n < m ? n : m;
    size_t limit = longer / 3;

    if (limit < 1) {
        limit = 1;
    }
    return d <= limit && d < shorter;
}

void
etl_suggest_begin(struct etl_suggest *s, const char *word)
{
    memset(s, 0, sizeof(*s));
    s->word = word;
    s->dbest = SIZE_MAX;
}

void
etl_suggest_add(struct etl_suggest *s, const char *candidate)
{
    size_t d;

    if (candidate == NULL || s->word == NULL || strcmp(candidate, s->word) == 0) {
        return;
    }
    d = etl_edit_distance(s->word, candidate);
    if (!etl_suggest_near(d, strnlen(s->word, ETL_SUGGEST_WORD_MAX),
                          strnlen(candidate, ETL_SUGGEST_WORD_MAX)) || d > s->dbest) {
        return;
    }
    if (d < s->dbest) {
        s->dbest = d;
        s->nbest = 0;
    }
    for (size_t i = 0; i < s->nbest; i++) {
        if (strcmp(s->best[i], candidate) == 0) {
            return;     /* listed twice (a key of two tables) */
        }
    }
    if (s->nbest < ETL_SUGGEST_MAX) {
        s->best[s->nbest++] = candidate;
    }
}

size_t
etl_suggest_end(const struct etl_suggest *s, char *out, size_t size)
{
    if (size == 0) {
        return 0;
    }
    out[0] = '\0';
    for (size_t i = 0; i < s->nbest; i++) {
        char one[ETL_SUGGEST_WORD_MAX + 16];

        snprintf(one, sizeof(one), "%s\"%s\"",
                 i == 0 ? "" : i + 1 == s->nbest ? " or " : ", ", s->best[i]);
        etl_strlcat(out, one, size);
    }
    return s->nbest;
}
