/*
 * catalog.c
 *    The lookups normalize and validate make per row, and freeing a
 *    catalog.  See catalog.h.
 *
 *    The hash tables (hash.c, ASCII case-insensitive) map a string to an
 *    index into one of the arrays; keys point at strings the catalog owns,
 *    so a lookup never allocates.  A key may appear several times (铜仁
 *    names 铜仁地区 until 2011 and 铜仁市 after): a lookup walks them all.
 *
 *    Next door: catalog_load.c and catalog_regions.c read the catalog files
 *    into a new catalog; catalog_int.h holds what these files share.
 */
#include "catalog.h"

#include <stdlib.h>
#include <string.h>

#include "catalog_int.h"
#include "etl/hash.h"
#include "etl/text.h"

#define CATALOG_MAX_CHAIN 8     /* successor/predecessor steps followed */

/* ---- free ----------------------------------------------------------------- */

/* Free n strings and their array. */
static void
free_strv(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i]);
    }
    free(v);
}

void
etl_catalog_free(struct etl_catalog *c)
{
    if (c == NULL) {
        return;
    }
    for (size_t i = 0; i < c->nregions; i++) {
        struct etl_region *r = &c->regions[i];

        free(r->name_zh);
        free(r->short_zh);
        free(r->name_en);
        free(r->abbrev);
        free_strv(r->alternates, r->nalternates);
    }
    free(c->regions);
    for (size_t i = 0; i < c->nindicators; i++) {
        struct etl_indicator *ind = &c->indicators[i];

        free(ind->code);
        free(ind->name_zh);
        free(ind->name_en);
        free(ind->unit);
        free(ind->of_which);
        free_strv(ind->aliases, ind->naliases);
    }
    free(c->indicators);
    for (size_t i = 0; i < c->nunits; i++) {
        free(c->units[i].code);
        free(c->units[i].name_zh);
        free(c->units[i].name_en);
        free(c->units[i].kind);
    }
    free(c->units);
    for (size_t i = 0; i < c->nwords; i++) {
        free(c->words[i].word);
    }
    free(c->words);
    for (size_t i = 0; i < c->nnicknames; i++) {
        free(c->nicknames[i].name);
    }
    free(c->nicknames);
    for (size_t i = 0; i < c->npairings; i++) {
        free(c->pairings[i].stage);
    }
    free(c->pairings);
    etl_hash_free(c->region_names);
    etl_hash_free(c->region_codes);
    etl_hash_free(c->nickname_names);
    etl_hash_free(c->indicator_names);
    etl_hash_free(c->unit_codes);
    etl_hash_free(c->word_names);
    etl_hash_free(c->pairing_keys);
    etl_catalog_match_free(c);
    free(c);
}

/* ---- lookups -------------------------------------------------------------- */

/* Whether r is valid on 'date'; date 0 means now (still valid). */
static bool
valid_at(const struct etl_region *r, int32_t date)
{
    if (date == 0) {
        return r->valid_to == 0;
    }
    return (r->valid_from == 0 || date >= r->valid_from) &&
           (r->valid_to == 0 || date < r->valid_to);
}

const struct etl_region *
etl_catalog_region(const struct etl_catalog *c, const char *name, size_t len, int32_t date)
{
    const struct etl_region *r = NULL;
    struct etl_hash_iter it;
    size_t v;

    etl_hash_find(&it, c->region_names, name, len);
    while (etl_hash_next(&it, &v)) {
        if (valid_at(&c->regions[v], date)) {
            return &c->regions[v];
        }
        if (r == NULL) {
            r = &c->regions[v];
        }
    }
    if (r == NULL) {
        return NULL;
    }
    /* no region of this name at 'date': map along the code changes */
    for (int i = 0; i < CATALOG_MAX_CHAIN && !valid_at(r, date); i++) {
        if (r->valid_to != 0 && (date == 0 || date >= r->valid_to) && r->next != NULL) {
            r = r->next;
        } else if (date != 0 && r->valid_from != 0 && date < r->valid_from && r->prev != NULL) {
            r = r->prev;
        } else {
            break;
        }
    }
    return r;
}

const struct etl_region *
etl_catalog_region_code(const struct etl_catalog *c, const char *code)
{
    size_t v;

    if (!etl_hash_get(c->region_codes, code, strlen(code), &v)) {
        return NULL;
    }
    return &c->regions[v];
}

const struct etl_nickname *
etl_catalog_nickname(const struct etl_catalog *c, const char *name, size_t len)
{
    size_t v;

    if (!etl_hash_get(c->nickname_names, name, len, &v)) {
        return NULL;
    }
    return &c->nicknames[v];
}

const struct etl_indicator *
etl_catalog_indicator_find(const struct etl_catalog *c, const char *name, size_t len)
{
    size_t v;

    if (!etl_hash_get(c->indicator_names, name, len, &v)) {
        return NULL;
    }
    return &c->indicators[v];
}

const struct etl_indicator *
etl_catalog_indicator(const struct etl_catalog *c, const char *text, const char **unit,
                      size_t *unit_len)
{
    const char *b = text, *e = text + strlen(text), *close = NULL, *open = NULL;
    const char *nb, *ne, *ub, *ue;
    const struct etl_indicator *ind;
    size_t olen = 0;

    *unit = NULL;
    *unit_len = 0;
    etl_text_trim(&b, &e);
    if ((ind = etl_catalog_indicator_find(c, b, (size_t)(e - b))) != NULL) {
        return ind;
    }
    if (e - b >= 1 && e[-1] == ')') {
        close = e - 1;
    } else if (e - b >= 3 && etl_text_fold(e - 3, e, &olen) == ')' && olen == 3) {
        close = e - 3;                  /* ） */
    } else {
        return NULL;
    }
    for (const char *p = close; p > b; ) {
        p--;
        if (etl_text_fold(p, close, &olen) == '(') {       /* ( or （ */
            open = p;
            break;
        }
    }
    if (open == NULL) {
        return NULL;
    }
    nb = b;
    ne = open;
    ub = open + olen;
    ue = close;
    etl_text_trim(&nb, &ne);
    etl_text_trim(&ub, &ue);
    if (ne == nb || (ind = etl_catalog_indicator_find(c, nb, (size_t)(ne - nb))) == NULL) {
        return NULL;
    }
    *unit = ub;
    *unit_len = (size_t)(ue - ub);
    return ind;
}

const struct etl_unit *
etl_catalog_unit(const struct etl_catalog *c, const char *code)
{
    size_t v;

    if (!etl_hash_get(c->unit_codes, code, strlen(code), &v)) {
        return NULL;
    }
    return &c->units[v];
}

const struct etl_unit_word *
etl_catalog_unit_word(const struct etl_catalog *c, const char *word, size_t len)
{
    size_t v;

    if (!etl_hash_get(c->word_names, word, len, &v)) {
        return NULL;
    }
    return &c->words[v];
}

bool
etl_catalog_unit_fits(const struct etl_unit_word *w, const struct etl_unit *u)
{
    for (size_t i = 0; i < w->nunits; i++) {
        if (w->units[i] == u ||
            (w->units[i]->generic && strcmp(w->units[i]->kind, u->kind) == 0)) {
            return true;
        }
    }
    return false;
}

const struct etl_pairing *
etl_catalog_pairing(const struct etl_catalog *c, const char *east, const char *west,
                    int32_t start, int32_t end)
{
    char key[16];
    struct etl_hash_iter it;
    size_t v;

    if (strlen(east) != 6 || strlen(west) != 6) {
        return NULL;
    }
    memcpy(key, east, 6);
    memcpy(key + 6, west, 6);
    etl_hash_find(&it, c->pairing_keys, key, 12);
    while (etl_hash_next(&it, &v)) {
        const struct etl_pairing *p = &c->pairings[v];

        if ((start == 0 && end == 0) ||
            catalog_overlaps(p->valid_from, p->valid_to, start, end)) {
            return p;
        }
    }
    return NULL;
}

const struct etl_pairing *
etl_catalog_paired(const struct etl_catalog *c, const char *a, const char *b,
                   int32_t start, int32_t end)
{
    const struct etl_region *ra = etl_catalog_region_code(c, a);
    const struct etl_region *rb = etl_catalog_region_code(c, b);
    const char *as[2], *bs[2];
    const struct etl_pairing *p;

    if (ra == NULL || rb == NULL) {
        return NULL;
    }
    as[0] = ra->code;
    as[1] = ra->province != NULL ? ra->province->code : ra->code;
    bs[0] = rb->code;
    bs[1] = rb->province != NULL ? rb->province->code : rb->code;
    for (int i = 0; i < 2; i++) {
        for (int j = 0; j < 2; j++) {
            if ((p = etl_catalog_pairing(c, as[i], bs[j], start, end)) != NULL ||
                (p = etl_catalog_pairing(c, bs[j], as[i], start, end)) != NULL) {
                return p;
            }
        }
    }
    return NULL;
}
