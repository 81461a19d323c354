/*
 * suggest.h
 *    "Did you mean ...?" for a misspelt word of the configuration: a key, a
 *    stage kind, a stage name in needs, a code.  The distance is
 *    Damerau-Levenshtein (optimal string alignment: insert, delete,
 *    substitute, swap two neighbours, each costing 1), on bytes; keys and
 *    codes are ASCII.  A candidate is near enough when the distance is at
 *    most a third of the longer word (at least 1) and less than the shorter
 *    one, so that nothing is near a word it shares nothing with.  Only the
 *    nearest candidates are offered, at most ETL_SUGGEST_MAX, in the order
 *    they were given.
 *
 *        struct etl_suggest s;
 *        etl_suggest_begin(&s, "pg_lod");
 *        for (...) etl_suggest_add(&s, kind->name);
 *        if (etl_suggest_end(&s, text, sizeof(text)) > 0) ...  // "\"pg_load\""
 */
#ifndef ETL_SUGGEST_H
#define ETL_SUGGEST_H

#include <stdbool.h>
#include <stddef.h>

#define ETL_SUGGEST_MAX 3        /* candidates offered at most */
#define ETL_SUGGEST_WORD_MAX 64  /* longer words are compared by their first bytes */

/* Damerau-Levenshtein (OSA) distance of a and b, their first ETL_SUGGEST_WORD_MAX bytes. */
size_t etl_edit_distance(const char *a, const char *b);

/* Whether distance 'd' between words of 'n' and 'm' bytes is near enough to suggest. */
bool etl_suggest_near(size_t d, size_t n, size_t m);

/* The nearest candidates so far for one word. */
struct etl_suggest {
    const char *word;
    const char *best[ETL_SUGGEST_MAX];  /* not owned: must live until _end */
    size_t nbest;
    size_t dbest;                       /* their distance; SIZE_MAX: none yet */
};

void etl_suggest_begin(struct etl_suggest *s, const char *word);
/* Consider 'candidate' (NULL and the word itself are ignored). */
void etl_suggest_add(struct etl_suggest *s, const char *candidate);
/*
 * The candidates, quoted, into 'out': "\"a\"", "\"a\" or \"b\"",
 * "\"a\", \"b\" or \"c\"" ("" if none).  Returns how many.
 */
size_t etl_suggest_end(const struct etl_suggest *s, char *out, size_t size);

#endif
