/*
 * catalog_load.c
 *    Reading the catalog files of config/catalog/ into a new etl_catalog:
 *    the loader and its typed getters over etl_node, units.yaml and
 *    indicators.yaml, and etl_catalog_load(), which reads the four files in
 *    order.  See catalog.h.
 *
 *    Loading order: units (indicators name them), indicators, regions
 *    (nicknames and pairings name them), pairings.  Every string is copied
 *    into the catalog; each YAML document is freed once read.
 *
 *    Next door: catalog_regions.c reads regions.yaml and pairings.yaml;
 *    catalog.c holds the lookups and etl_catalog_free(); catalog_int.h what
 *    these files share.
 */
#include "catalog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog_int.h"
#include "etl/config.h"
#include "etl/hash.h"

static const char *const unit_kinds[] = {
    "money", "person", "person_time", "count", "ratio", NULL
};

static const struct etl_key units_root_keys[] = {
    { "units", ETL_KEY_SEQ, true, "the canonical units" },
    { "words", ETL_KEY_SEQ, false, "unit words and their powers of ten" },
    { NULL, 0, false, NULL }
};
static const struct etl_key unit_keys[] = {
    { "code", ETL_KEY_STR, true, "unit code" },
    { "name_zh", ETL_KEY_STR, true, "Chinese name" },
    { "name_en", ETL_KEY_STR, true, "English name" },
    { "kind", ETL_KEY_STR, true, "money, person, person_time, count or ratio" },
    { "generic", ETL_KEY_BOOL, false, "words fit every unit of the kind" },
    { NULL, 0, false, NULL }
};
static const struct etl_key word_keys[] = {
    { "word", ETL_KEY_STR, true, "the text" },
    { "unit", ETL_KEY_STR_OR_SEQ, true, "unit code or codes" },
    { "pow10", ETL_KEY_INT, false, "power of ten" },
    { NULL, 0, false, NULL }
};
static const struct etl_key indicators_root_keys[] = {
    { "indicators", ETL_KEY_SEQ, true, "the indicators" },
    { NULL, 0, false, NULL }
};
static const struct etl_key indicator_keys[] = {
    { "code", ETL_KEY_STR, true, "indicator code" },
    { "name_zh", ETL_KEY_STR, true, "Chinese name" },
    { "name_en", ETL_KEY_STR, true, "English name" },
    { "unit", ETL_KEY_STR, true, "canonical unit code" },
    { "additive", ETL_KEY_BOOL, true, "adds up across regions" },
    { "aliases", ETL_KEY_SEQ, false, "other names" },
    { "of_which", ETL_KEY_STR, false, "code of the indicator it is part of" },
    { "magnitude", ETL_KEY_SEQ, false,
      "[low, high]: the plausible national figure of a year, canonical unit" },
    { "years", ETL_KEY_SEQ, false,
      "[first, last] or [first]: the years a national figure is expected" },
    { NULL, 0, false, NULL }
};

/* ---- loading helpers ------------------------------------------------------ */

/* The member of 'set' equal to 's' (a static string), or NULL. */
const char *
catalog_intern(const char *const *set, const char *s)
{
    for (; *set != NULL; set++) {
        if (strcmp(*set, s) == 0) {
            return *set;
        }
    }
    return NULL;
}

/* The empty hash tables of a new catalog. */
static int
new_tables(struct etl_catalog *c, struct etl_err *err)
{
    struct etl_hash **t[] = {
        &c->region_names, &c->region_codes, &c->nickname_names, &c->indicator_names,
        &c->unit_codes, &c->word_names, &c->pairing_keys
    };

    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        if ((*t[i] = etl_hash_new(ETL_HASH_NOCASE)) == NULL) {
            return etl_err_nomem(err);
        }
    }
    return 0;
}

/* strdup of an optional string key; *out NULL when absent. */
int
catalog_get_str(const struct etl_node *map, const char *key, char **out,
                struct etl_err *err)
{
    const struct etl_node *v = etl_node_get(map, key);

    *out = NULL;
    if (v == NULL) {
        return 0;
    }
    if ((*out = strdup(v->str)) == NULL) {
        return etl_err_nomem(err);
    }
    return 0;
}

/* A string key that must be one of 'set'; *out NULL when absent. */
int
catalog_get_enum(const struct etl_node *map, const char *key, const char *const *set,
                 const char **out, struct etl_err *err)
{
    const struct etl_node *v = etl_node_get(map, key);

    *out = NULL;
    if (v == NULL) {
        return 0;
    }
    if ((*out = catalog_intern(set, v->str)) == NULL) {
        char list[200] = "";

        for (const char *const *p = set; *p != NULL; p++) {
            snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
                     p == set ? "" : ", ", *p);
        }
        return etl_node_fail(v, err, ETL_E_CONFIG, "%s \"%s\" is not one of: %s",
                             key, v->str, list);
    }
    return 0;
}

/* Open one catalog file and check its top-level keys. */
int
catalog_open_file(struct loader *ld, const char *name, const struct etl_key *keys,
                  struct etl_err *err)
{
    char *path = malloc(strlen(ld->dir) + 1 + strlen(name) + 1);

    if (path == NULL) {
        return etl_err_nomem(err);
    }
    sprintf(path, "%s/%s", ld->dir, name);
    ld->doc = etl_doc_load(path, err);
    free(path);
    if (ld->doc == NULL) {
        return -1;
    }
    if (ld->doc->root == NULL) {
        etl_err_set(err, ETL_E_CONFIG, "catalog file is empty");
        etl_err_where(err, "%s", ld->doc->file);
        return -1;
    }
    return etl_node_check(ld->doc->root, keys, name, err);
}

/* Free the document being read (NULL is fine). */
void
catalog_close_file(struct loader *ld)
{
    etl_doc_free(ld->doc);
    ld->doc = NULL;
}

/* Items of a sequence key; empty when absent. */
const struct etl_node *
catalog_seq(const struct etl_node *map, const char *key, size_t *n)
{
    const struct etl_node *v = etl_node_get(map, key);

    *n = v != NULL ? v->n : 0;
    return v;
}

/* ---- units ---------------------------------------------------------------- */

/* Index unit word 'w' (the next slot of c->words) and count it. */
static int
add_word(struct etl_catalog *c, struct etl_unit_word *w, const struct etl_node *at,
         struct etl_err *err)
{
    size_t v;

    if (etl_hash_get(c->word_names, w->word, strlen(w->word), &v)) {
        return etl_node_fail(at, err, ETL_E_CONFIG, "unit word \"%s\" given twice", w->word);
    }
    if (etl_hash_put(c->word_names, w->word, strlen(w->word), (size_t)(w - c->words)) < 0) {
        return etl_err_nomem(err);
    }
    c->nwords++;
    return 0;
}

/*
 * Unit m of units.yaml into c->units[i] (strings copied, freed with the
 * catalog even on failure), and its code into c->unit_codes.  A code given
 * twice is an error at the second one.
 */
static int
read_unit(struct etl_catalog *c, const struct etl_node *m, size_t i,
          struct etl_err *err)
{
    struct etl_unit *u = &c->units[i];
    const char *kind;
    bool generic;
    size_t v;

    if (etl_node_check(m, unit_keys, "unit", err) < 0 ||
        catalog_get_enum(m, "kind", unit_kinds, &kind, err) < 0 ||
        etl_node_bool(m, "generic", false, &generic, err) < 0) {
        return -1;
    }
    c->nunits++;
    if (catalog_get_str(m, "code", &u->code, err) < 0 ||
        catalog_get_str(m, "name_zh", &u->name_zh, err) < 0 ||
        catalog_get_str(m, "name_en", &u->name_en, err) < 0) {
        return -1;
    }
    if ((u->kind = strdup(kind)) == NULL) {
        return etl_err_nomem(err);
    }
    u->generic = generic;
    if (etl_hash_get(c->unit_codes, u->code, strlen(u->code), &v)) {
        return etl_node_fail(etl_node_get(m, "code"), err, ETL_E_CONFIG,
                             "unit \"%s\" given twice", u->code);
    }
    if (etl_hash_put(c->unit_codes, u->code, strlen(u->code), i) < 0) {
        return etl_err_nomem(err);
    }
    return 0;
}

/*
 * Word m of units.yaml into the next slot of c->words, indexed and
 * counted; the units it names must be read already.  On failure the slot
 * is left empty (its copy of the word freed), as it is not counted.
 */
static int
read_word(struct etl_catalog *c, const struct etl_node *m, struct etl_err *err)
{
    const struct etl_node *un;
    struct etl_unit_word *w = &c->words[c->nwords];
    long pow10;
    size_t k;
    size_t v;

    if (etl_node_check(m, word_keys, "unit word", err) < 0 ||
        etl_node_long(m, "pow10", 0, -24, 24, &pow10, err) < 0 ||
        catalog_get_str(m, "word", &w->word, err) < 0) {
        return -1;
    }
    w->pow10 = (int)pow10;
    un = etl_node_get(m, "unit");
    k = un->type == ETL_NODE_SEQ ? un->n : 1;
    if (k == 0 || k > ETL_WORD_UNITS) {
        free(w->word);
        w->word = NULL;
        return etl_node_fail(un, err, ETL_E_CONFIG, "a unit word names 1 to %d units",
                             ETL_WORD_UNITS);
    }
    for (size_t j = 0; j < k; j++) {
        const struct etl_node *s = un->type == ETL_NODE_SEQ ? un->items[j] : un;

        if (s->type != ETL_NODE_SCALAR || !etl_hash_get(c->unit_codes, s->str,
                                                   strlen(s->str), &v)) {
            free(w->word);
            w->word = NULL;
            return etl_node_fail(s, err, ETL_E_CONFIG, "unknown unit \"%s\"",
                                 s->type == ETL_NODE_SCALAR ? s->str : "");
        }
        w->units[w->nunits++] = &c->units[v];
    }
    if (add_word(c, w, etl_node_get(m, "word"), err) < 0) {
        free(w->word);
        w->word = NULL;
        return -1;
    }
    return 0;
}

/*
 * Every unit code that is not a word already becomes a word of its unit,
 * in the next slots of c->words (allocated for them by load_units()).
 */
static int
add_code_words(struct etl_catalog *c, struct etl_err *err)
{
    size_t v;

    for (size_t i = 0; i < c->nunits; i++) {
        struct etl_unit_word *w = &c->words[c->nwords];

        if (etl_hash_get(c->word_names, c->units[i].code, strlen(c->units[i].code), &v)) {
            continue;
        }
        if ((w->word = strdup(c->units[i].code)) == NULL) {
            return etl_err_nomem(err);
        }
        w->units[0] = &c->units[i];
        w->nunits = 1;
        if (add_word(c, w, NULL, err) < 0) {
            free(w->word);
            w->word = NULL;
            return -1;
        }
    }
    return 0;
}

/*
 * units.yaml: the units, their words, and each unit code as a word.
 * Returns 0, or -1 with 'err' set (at the offending node); what was read
 * belongs to the catalog either way.
 */
static int
load_units(struct loader *ld, struct etl_err *err)
{
    struct etl_catalog *c = ld->c;
    const struct etl_node *units, *words;
    size_t nu, nw;

    if (catalog_open_file(ld, "units.yaml", units_root_keys, err) < 0) {
        return -1;
    }
    units = catalog_seq(ld->doc->root, "units", &nu);
    words = catalog_seq(ld->doc->root, "words", &nw);
    c->units = calloc(nu + 1, sizeof(*c->units));
    c->words = calloc(nw + nu + 1, sizeof(*c->words));
    if (c->units == NULL || c->words == NULL) {
        return etl_err_nomem(err);
    }
    for (size_t i = 0; i < nu; i++) {
        if (read_unit(c, units->items[i], i, err) < 0) {
            return -1;
        }
    }
    for (size_t i = 0; i < nw; i++) {
        if (read_word(c, words->items[i], err) < 0) {
            return -1;
        }
    }
    /* every unit code is a word of its unit */
    if (add_code_words(c, err) < 0) {
        return -1;
    }
    catalog_close_file(ld);
    return 0;
}

/* ---- indicators ----------------------------------------------------------- */

/* Index a name of indicator 'idx'; a name of another indicator is an error at 'at'. */
static int
add_indicator_name(struct etl_catalog *c, size_t idx, const char *name,
                   const struct etl_node *at, struct etl_err *err)
{
    struct etl_hash_iter it;
    size_t v;

    etl_hash_find(&it, c->indicator_names, name, strlen(name));
    while (etl_hash_next(&it, &v)) {
        if (v == idx) {
            return 0;   /* the same indicator's other name */
        }
        return etl_node_fail(at, err, ETL_E_CONFIG,
                             "name \"%s\" of indicator %s already names indicator %s",
                             name, c->indicators[idx].code, c->indicators[v].code);
    }
    if (etl_hash_put(c->indicator_names, name, strlen(name), idx) < 0) {
        return etl_err_nomem(err);
    }
    return 0;
}

/*
 * An indicator's "magnitude: [low, high]": two positive numbers, low below
 * high, in the canonical unit ("5e9" or "5000000000").  Absent: no range.
 */
static int
read_magnitude(struct etl_indicator *ind, const struct etl_node *mag, struct etl_err *err)
{
    if (mag == NULL) {
        return 0;
    }
    if (mag->n != 2 || mag->items[0]->type != ETL_NODE_SCALAR ||
        mag->items[1]->type != ETL_NODE_SCALAR) {
        return etl_node_fail(mag, err, ETL_E_CONFIG, "magnitude of indicator %s must be "
                             "[low, high]", ind->code);
    }
    for (int k = 0; k < 2; k++) {
        char *end;

        ind->magnitude[k] = strtod(mag->items[k]->str, &end);
        if (end == mag->items[k]->str || *end != '\0' || !(ind->magnitude[k] > 0) ||
            ind->magnitude[k] > 1e30) {
            return etl_node_fail(mag->items[k], err, ETL_E_CONFIG, "magnitude of indicator "
                                 "%s: \"%s\" is not a positive number", ind->code,
                                 mag->items[k]->str);
        }
    }
    if (ind->magnitude[0] >= ind->magnitude[1]) {
        return etl_node_fail(mag, err, ETL_E_CONFIG, "magnitude of indicator %s: low must "
                             "be below high", ind->code);
    }
    return 0;
}

/* The first and last year an indicator's "years:" may name. */
#define YEARS_MIN 1990
#define YEARS_MAX 2100

/*
 * An indicator's "years: [first, last]" or "years: [first]": the years an
 * annual national figure is expected, whole years (digits only: "2021",
 * not "2021.5" or "+2021") in YEARS_MIN..YEARS_MAX, first not after last.
 * "[first]" leaves years[1] 0: through the latest year with any figure.
 * Absent: none expected.
 */
static int
read_years(struct etl_indicator *ind, const struct etl_node *yrs, struct etl_err *err)
{
    if (yrs == NULL) {
        return 0;
    }
    if (yrs->n < 1 || yrs->n > 2 || yrs->items[0]->type != ETL_NODE_SCALAR ||
        (yrs->n == 2 && yrs->items[1]->type != ETL_NODE_SCALAR)) {
        return etl_node_fail(yrs, err, ETL_E_CONFIG, "years of indicator %s must be "
                             "[first, last] or [first]", ind->code);
    }
    for (size_t k = 0; k < yrs->n; k++) {
        const char *s = yrs->items[k]->str;
        size_t len = strspn(s, "0123456789");
        long y = len > 0 && len <= 4 && s[len] == '\0' ? strtol(s, NULL, 10) : 0;

        if (y < YEARS_MIN || y > YEARS_MAX) {
            return etl_node_fail(yrs->items[k], err, ETL_E_CONFIG, "years of indicator %s: "
                                 "\"%s\" is not a year from %d to %d", ind->code, s,
                                 YEARS_MIN, YEARS_MAX);
        }
        ind->years[k] = (int)y;
    }
    if (ind->years[1] != 0 && ind->years[0] > ind->years[1]) {
        return etl_node_fail(yrs, err, ETL_E_CONFIG, "years of indicator %s: first must "
                             "not be after last", ind->code);
    }
    return 0;
}

/*
 * Indicator m of indicators.yaml into c->indicators[i] (strings copied,
 * freed with the catalog even on failure): its unit resolved, its code,
 * names and aliases indexed.  of_which is checked by check_of_which().
 */
static int
read_indicator(struct etl_catalog *c, const struct etl_node *m, size_t i,
               struct etl_err *err)
{
    struct etl_indicator *ind = &c->indicators[i];
    const struct etl_node *al;
    size_t na;
    bool additive;
    size_t v;

    if (etl_node_check(m, indicator_keys, "indicator", err) < 0 ||
        etl_node_bool(m, "additive", false, &additive, err) < 0) {
        return -1;
    }
    c->nindicators++;
    if (catalog_get_str(m, "code", &ind->code, err) < 0 ||
        catalog_get_str(m, "name_zh", &ind->name_zh, err) < 0 ||
        catalog_get_str(m, "name_en", &ind->name_en, err) < 0 ||
        catalog_get_str(m, "unit", &ind->unit, err) < 0 ||
        catalog_get_str(m, "of_which", &ind->of_which, err) < 0) {
        return -1;
    }
    ind->additive = additive;
    if (!etl_hash_get(c->unit_codes, ind->unit, strlen(ind->unit), &v)) {
        return etl_node_fail(etl_node_get(m, "unit"), err, ETL_E_CONFIG,
                             "unknown unit \"%s\" of indicator %s", ind->unit, ind->code);
    }
    ind->unit_def = &c->units[v];
    if (read_magnitude(ind, etl_node_get(m, "magnitude"), err) < 0 ||
        read_years(ind, etl_node_get(m, "years"), err) < 0) {
        return -1;
    }
    al = catalog_seq(m, "aliases", &na);
    if (na > 0 && (ind->aliases = calloc(na, sizeof(*ind->aliases))) == NULL) {
        return etl_err_nomem(err);
    }
    for (size_t j = 0; j < na; j++) {
        if (al->items[j]->type != ETL_NODE_SCALAR) {
            return etl_node_fail(al->items[j], err, ETL_E_CONFIG,
                                 "an alias must be a string");
        }
        if ((ind->aliases[j] = strdup(al->items[j]->str)) == NULL) {
            return etl_err_nomem(err);
        }
        ind->naliases++;
    }
    if (add_indicator_name(c, i, ind->code, etl_node_get(m, "code"), err) < 0 ||
        add_indicator_name(c, i, ind->name_zh, etl_node_get(m, "name_zh"), err) < 0 ||
        add_indicator_name(c, i, ind->name_en, etl_node_get(m, "name_en"), err) < 0) {
        return -1;
    }
    for (size_t j = 0; j < ind->naliases; j++) {
        if (add_indicator_name(c, i, ind->aliases[j], al->items[j], err) < 0) {
            return -1;
        }
    }
    return 0;
}

/*
 * The of_which of each indicator names another indicator's code, and an
 * of-which item is not additive; 'list' holds the indicators' nodes, for
 * the error's place.
 */
static int
check_of_which(const struct etl_catalog *c, const struct etl_node *list,
               struct etl_err *err)
{
    size_t v;

    for (size_t i = 0; i < c->nindicators; i++) {
        const struct etl_indicator *ind = &c->indicators[i];
        const struct etl_node *at = etl_node_get(list->items[i], "of_which");

        if (ind->of_which == NULL) {
            continue;
        }
        if (!etl_hash_get(c->indicator_names, ind->of_which, strlen(ind->of_which), &v) ||
            strcmp(c->indicators[v].code, ind->of_which) != 0 || v == i) {
            return etl_node_fail(at, err, ETL_E_CONFIG, "of_which \"%s\" of indicator %s "
                                 "is not another indicator's code", ind->of_which, ind->code);
        }
        if (ind->additive) {
            return etl_node_fail(at, err, ETL_E_CONFIG, "indicator %s is an of-which item "
                                 "of %s and cannot be additive", ind->code, ind->of_which);
        }
    }
    return 0;
}

/*
 * indicators.yaml: needs the units; of_which is resolved after all are
 * read.  Returns 0, or -1 with 'err' set (at the offending node); what was
 * read belongs to the catalog either way.
 */
static int
load_indicators(struct loader *ld, struct etl_err *err)
{
    struct etl_catalog *c = ld->c;
    const struct etl_node *list;
    size_t n;

    if (catalog_open_file(ld, "indicators.yaml", indicators_root_keys, err) < 0) {
        return -1;
    }
    list = catalog_seq(ld->doc->root, "indicators", &n);
    if ((c->indicators = calloc(n + 1, sizeof(*c->indicators))) == NULL) {
        return etl_err_nomem(err);
    }
    for (size_t i = 0; i < n; i++) {
        if (read_indicator(c, list->items[i], i, err) < 0) {
            return -1;
        }
    }
    if (check_of_which(c, list, err) < 0) {
        return -1;
    }
    catalog_close_file(ld);
    return 0;
}

/* ---- load ---------------------------------------------------------------- */

struct etl_catalog *
etl_catalog_load(const char *dir, struct etl_err *err)
{
    struct loader ld;
    int rc;

    memset(&ld, 0, sizeof(ld));
    ld.dir = dir;
    if ((ld.c = calloc(1, sizeof(*ld.c))) == NULL) {
        etl_err_nomem(err);
        return NULL;
    }
    rc = new_tables(ld.c, err);
    if (rc == 0) {
        rc = load_units(&ld, err);
    }
    if (rc == 0) {
        catalog_close_file(&ld);
        rc = load_indicators(&ld, err);
    }
    if (rc == 0) {
        catalog_close_file(&ld);
        rc = catalog_load_regions(&ld, err);
    }
    if (rc == 0) {
        catalog_close_file(&ld);
        rc = catalog_load_pairings(&ld, err);
    }
    if (rc == 0) {
        rc = etl_catalog_match_index(ld.c, err);
    }
    catalog_close_file(&ld);
    free(ld.rnodes);
    if (rc < 0) {
        etl_catalog_free(ld.c);
        return NULL;
    }
    return ld.c;
}

