/*
 * catalog_match.c
 *    Indicator names as people write them: the folded lookup tried when the
 *    exact one fails, and the suggestions a rejected name gets.  See
 *    catalog.h.
 *
 *    Folding (etl_catalog_indicator_fold) turns 新增引导企业数量（家） and
 *    引导企业数 into the same key 引导企业: blanks go, full-width ASCII
 *    forms become ASCII and ASCII letters lower case, a bracketed unit word
 *    goes (and is handed back: a unit written somewhere is never lost), other
 *    brackets go but keep their content, the qualifiers 党政, 挂职 and 选派
 *    go wherever they are, 人才 reads as 人员, and the prefixes 新增, 累计,
 *    实际, 共, 全年, 当年, 年度 and the suffixes 人数, 数量, 总数, 总额, 金额,
 *    个数, 数, 规模 go from the ends, again and again (资金额 loses its 额
 *    only).  Every name, code and
 *    alias of the catalog is folded once at load into one arena and indexed
 *    in a hash table; a folded text names an indicator only when exactly one
 *    indicator has that fold.  A lookup folds into a stack buffer: no
 *    allocation per row.
 *
 *    Suggestions (etl_catalog_indicator_suggest) compare the folded text
 *    with every folded form by edit distance over code points: O(catalog),
 *    for rejected rows only.
 *
 *    Next door: catalog.c (loading, exact lookups; it calls
 *    etl_catalog_match_index at load), stages/normalize.c (the caller).
 */
#include "catalog.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etl/hash.h"
#include "etl/text.h"

/* Longest name folded, in bytes: longer texts name no indicator. */
#define MATCH_FOLD_MAX 256
/* Longest folded text compared for suggestions, in code points. */
#define MATCH_CP_MAX 64
/* At most this many indicators are suggested (ties of the nearest). */
#define MATCH_SUGGEST_MAX 3

/* Dropped at the start of a name, repeatedly. */
static const char *const match_prefixes[] = {
    "新增", "累计", "实际", "全年", "当年", "年度", "共", NULL
};
/* Dropped at the end, repeatedly; longer ones first (个数 before 数). */
static const char *const match_suffixes[] = {
    "人数", "数量", "总数", "总额", "金额", "个数", "规模", "数", NULL
};
/* Dropped wherever they are. */
static const char *const match_qualifiers[] = { "党政", "挂职", "选派", NULL };

/* One folded name of an indicator. */
struct match_form {
    const char *s;              /* in the arena, NUL-terminated */
    size_t len;
    size_t ind;                 /* index into c->indicators */
};

struct etl_catalog_match {
    char *arena;                /* every folded form, one after the other */
    struct match_form *forms;   /* grouped by indicator, in catalog order */
    size_t nforms;
    struct etl_hash *names;     /* folded form -> indicator index */
};

/* ---- folding -------------------------------------------------------------- */

/* Drop every occurrence of the words of 'set' from s[0..n); the new length. */
static size_t
drop_words(char *s, size_t n, const char *const *set)
{
    for (const char *const *w = set; *w != NULL; w++) {
        size_t wl = strlen(*w);
        size_t i = 0;

        /* UTF-8 synchronises: a match of a whole character is on a boundary */
        while (i + wl <= n) {
            if (memcmp(s + i, *w, wl) == 0) {
                memmove(s + i, s + i + wl, n - i - wl);
                n -= wl;
            } else {
                i++;
            }
        }
    }
    return n;
}

/* The start and end words of the fold, dropped until none is left; the new length. */
static size_t
drop_ends(char *s, size_t n)
{
    bool again = true;

    while (again) {
        again = false;
        for (const char *const *w = match_prefixes; *w != NULL; w++) {
            size_t wl = strlen(*w);

            if (n > wl && memcmp(s, *w, wl) == 0) {
                memmove(s, s + wl, n - wl);
                n -= wl;
                again = true;
            }
        }
        /* 资金额 is 资金 and 额, not 资 and 金额 */
        if (n > 9 && memcmp(s + n - 9, "资金额", 9) == 0) {
            n -= 3;
            again = true;
            continue;
        }
        for (const char *const *w = match_suffixes; *w != NULL; w++) {
            size_t wl = strlen(*w);

            if (n > wl && memcmp(s + n - wl, *w, wl) == 0) {
                n -= wl;
                again = true;
                break;      /* 个数: not 数 and then 个 */
            }
        }
    }
    return n;
}

/*
 * If p (before e) opens a bracket, ( or （, whose content up to the next
 * closing bracket, ) or ）, is a unit word once trimmed, that content into
 * *ub, *ul and the end of the closing bracket as the result; else NULL.  A
 * bracket opened inside is no unit.
 */
static const char *
unit_bracket(const struct etl_catalog *c, const char *p, const char *e, const char **ub,
             size_t *ul)
{
    size_t n, m;
    const char *b, *q;

    if (etl_text_fold(p, e, &n) != '(') {
        return NULL;
    }
    b = p + n;
    for (q = b; q < e; q += m) {
        int ch = etl_text_fold(q, e, &m);

        if (ch == '(') {
            return NULL;
        }
        if (ch == ')') {
            const char *tb = b, *te = q;

            etl_text_trim(&tb, &te);
            if (te > tb && etl_catalog_unit_word(c, tb, (size_t)(te - tb)) != NULL) {
                *ub = tb;
                *ul = (size_t)(te - tb);
                return q + m;
            }
            return NULL;
        }
    }
    return NULL;
}

size_t
etl_catalog_indicator_fold(const struct etl_catalog *c, const char *text, size_t len,
                           char *out, size_t size, const char **unit, size_t *unit_len)
{
    const char *p = text, *e = text + len, *ub = NULL, *next;
    size_t o = 0, n, ul = 0;
    int nunits = 0;

    if (unit != NULL) {
        *unit = NULL;
        *unit_len = 0;
    }
    if (size == 0) {
        return 0;
    }
    while (p < e) {
        int ch;

        if ((n = etl_text_blank(p, e)) > 0) {
            p += n;
            continue;
        }
        if ((next = unit_bracket(c, p, e, &ub, &ul)) != NULL) {
            nunits++;
            p = next;
            continue;
        }
        ch = etl_text_fold(p, e, &n);
        if (ch == '(' || ch == ')') {
            p += n;                     /* the bracket goes, its content stays */
            continue;
        }
        if (ch >= 0) {
            if (o + 1 >= size) {
                out[0] = '\0';
                return 0;
            }
            out[o++] = (char)(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
        } else {
            if (o + n >= size) {
                out[0] = '\0';
                return 0;
            }
            memcpy(out + o, p, n);
            o += n;
        }
        p += n;
    }
    if (nunits > 1) {
        out[0] = '\0';                  /* two units: which one? */
        return 0;
    }
    o = drop_words(out, o, match_qualifiers);
    for (size_t i = 0; i + 6 <= o; i++) {
        if (memcmp(out + i, "人才", 6) == 0) {
            memcpy(out + i, "人员", 6);
        }
    }
    o = drop_ends(out, o);
    out[o] = '\0';
    if (unit != NULL && o > 0) {
        *unit = ub;
        *unit_len = ul;
    }
    return o;
}

/* ---- the index ------------------------------------------------------------ */

/* Fold one name of indicator 'idx' into the arena and index it. */
static int
index_name(struct etl_catalog *c, struct etl_catalog_match *m, size_t idx, const char *name,
           size_t *off, size_t cap, struct etl_err *err)
{
    struct match_form *f = &m->forms[m->nforms];
    struct etl_hash_iter it;
    size_t n, v;

    if (name == NULL) {
        return 0;
    }
    n = etl_catalog_indicator_fold(c, name, strlen(name), m->arena + *off, cap - *off,
                                   NULL, NULL);
    if (n == 0) {
        return 0;
    }
    etl_hash_find(&it, m->names, m->arena + *off, n);
    while (etl_hash_next(&it, &v)) {
        if (v == idx) {
            return 0;           /* another name of it folds the same */
        }
    }
    f->s = m->arena + *off;
    f->len = n;
    f->ind = idx;
    if (etl_hash_put(m->names, f->s, n, idx) < 0) {
        return etl_err_nomem(err);
    }
    m->nforms++;
    *off += n + 1;
    return 0;
}

int
etl_catalog_match_index(struct etl_catalog *c, struct etl_err *err)
{
    struct etl_catalog_match *m;
    size_t cap = 1, count = 0, off = 0;

    for (size_t i = 0; i < c->nindicators; i++) {
        const struct etl_indicator *ind = &c->indicators[i];

        /* a fold is never longer than its name */
        cap += strlen(ind->code) + strlen(ind->name_zh) + strlen(ind->name_en) + 3;
        count += 3 + ind->naliases;
        for (size_t j = 0; j < ind->naliases; j++) {
            cap += strlen(ind->aliases[j]) + 1;
        }
    }
    if ((m = calloc(1, sizeof(*m))) == NULL) {
        return etl_err_nomem(err);
    }
    c->match = m;
    m->arena = malloc(cap);
    m->forms = calloc(count + 1, sizeof(*m->forms));
    if (m->arena == NULL || m->forms == NULL ||
        (m->names = etl_hash_new(ETL_HASH_NOCASE)) == NULL) {
        return etl_err_nomem(err);
    }
    for (size_t i = 0; i < c->nindicators; i++) {
        const struct etl_indicator *ind = &c->indicators[i];

        if (index_name(c, m, i, ind->code, &off, cap, err) < 0 ||
            index_name(c, m, i, ind->name_zh, &off, cap, err) < 0 ||
            index_name(c, m, i, ind->name_en, &off, cap, err) < 0) {
            return -1;
        }
        for (size_t j = 0; j < ind->naliases; j++) {
            if (index_name(c, m, i, ind->aliases[j], &off, cap, err) < 0) {
                return -1;
            }
        }
    }
    return 0;
}

void
etl_catalog_match_free(struct etl_catalog *c)
{
    struct etl_catalog_match *m = c->match;

    if (m == NULL) {
        return;
    }
    etl_hash_free(m->names);
    free(m->forms);
    free(m->arena);
    free(m);
    c->match = NULL;
}

const struct etl_indicator *
etl_catalog_indicator_folded(const struct etl_catalog *c, const char *text, size_t len,
                             const char **unit, size_t *unit_len)
{
    char buf[MATCH_FOLD_MAX];
    struct etl_hash_iter it;
    size_t n, v, found = SIZE_MAX;
    const char *u;
    size_t ul;

    *unit = NULL;
    *unit_len = 0;
    if (c->match == NULL ||
        (n = etl_catalog_indicator_fold(c, text, len, buf, sizeof(buf), &u, &ul)) == 0) {
        return NULL;
    }
    etl_hash_find(&it, c->match->names, buf, n);
    while (etl_hash_next(&it, &v)) {
        if (found != SIZE_MAX && v != found) {
            return NULL;            /* ambiguous: never guess */
        }
        found = v;
    }
    if (found == SIZE_MAX) {
        return NULL;
    }
    *unit = u;
    *unit_len = ul;
    return &c->indicators[found];
}

/* ---- suggestions ---------------------------------------------------------- */

/* The code points of s (n bytes) into cp[MATCH_CP_MAX]; their count, or SIZE_MAX if more. */
static size_t
code_points(const char *s, size_t n, uint32_t *cp)
{
    const unsigned char *p = (const unsigned char *)s, *e = p + n;
    size_t k = 0;

    while (p < e) {
        uint32_t u = *p;
        size_t l = u < 0x80 ? 1 : u >= 0xF0 ? 4 : u >= 0xE0 ? 3 : u >= 0xC0 ? 2 : 1;

        if (k == MATCH_CP_MAX) {
            return SIZE_MAX;
        }
        if (l > (size_t)(e - p)) {
            l = 1;
        }
        for (size_t i = 1; i < l; i++) {
            u = (u << 6) | (p[i] & 0x3F);
        }
        cp[k++] = u;
        p += l;
    }
    return k;
}

/* Levenshtein distance of a[0..n) and b[0..m) (n, m <= MATCH_CP_MAX). */
static size_t
distance(const uint32_t *a, size_t n, const uint32_t *b, size_t m)
{
    size_t row[MATCH_CP_MAX + 1];

    for (size_t j = 0; j <= m; j++) {
        row[j] = j;
    }
    for (size_t i = 1; i <= n; i++) {
        size_t diag = row[0];

        row[0] = i;
        for (size_t j = 1; j <= m; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);

            if (up + 1 < best) {
                best = up + 1;
            }
            if (row[j - 1] + 1 < best) {
                best = row[j - 1] + 1;
            }
            diag = up;
            row[j] = best;
        }
    }
    return row[m];
}

/*
 * Whether distance d between texts of n and m code points is near enough to
 * suggest: at most a third of the longer one (at least 1), and less than
 * the shorter one, so that nothing is near a text it shares nothing with.
 */
static bool
near_enough(size_t d, size_t n, size_t m)
{
    size_t longer = n > m ? n : m, shorter = n < m ? n : m;
    size_t limit = (longer + 1) / 3;

    if (limit < 1) {
        limit = 1;
    }
    return d <= limit && d < shorter;
}

size_t
etl_catalog_indicator_suggest(const struct etl_catalog *c, const char *text, char *out,
                              size_t size)
{
    char buf[MATCH_FOLD_MAX];
    uint32_t q[MATCH_CP_MAX], f[MATCH_CP_MAX];
    size_t best[MATCH_SUGGEST_MAX], nbest = 0, dbest = SIZE_MAX;
    size_t n, nq, o = 0;

    if (size > 0) {
        out[0] = '\0';
    }
    if (c->match == NULL || size == 0 ||
        (n = etl_catalog_indicator_fold(c, text, strlen(text), buf, sizeof(buf),
                                        NULL, NULL)) == 0 ||
        (nq = code_points(buf, n, q)) == SIZE_MAX) {
        return 0;
    }
    /* the forms are grouped by indicator: the nearest form of each */
    for (size_t i = 0; i < c->match->nforms; ) {
        size_t ind = c->match->forms[i].ind, dmin = SIZE_MAX;

        for (; i < c->match->nforms && c->match->forms[i].ind == ind; i++) {
            const struct match_form *fm = &c->match->forms[i];
            size_t nf = code_points(fm->s, fm->len, f), d;

            if (nf == SIZE_MAX) {
                continue;
            }
            d = distance(q, nq, f, nf);
            if (near_enough(d, nq, nf) && d < dmin) {
                dmin = d;
            }
        }
        if (dmin == SIZE_MAX || dmin > dbest) {
            continue;
        }
        if (dmin < dbest) {
            dbest = dmin;
            nbest = 0;
        }
        if (nbest < MATCH_SUGGEST_MAX) {
            best[nbest++] = ind;
        }
    }
    for (size_t i = 0; i < nbest; i++) {
        const struct etl_indicator *ind = &c->indicators[best[i]];
        int w = snprintf(out + o, size - o, "%s%s (%s)", i == 0 ? "" : " or ", ind->code,
                         ind->name_zh);

        if (w < 0 || (size_t)w >= size - o) {
            out[o] = '\0';              /* only whole entries */
            break;
        }
        o += (size_t)w;
    }
    return o;
}
