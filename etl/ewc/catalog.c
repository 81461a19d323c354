/*
 * catalog.c
 *    Loading the four catalog files into arrays and hash tables, and the
 *    lookups normalize and validate make per row.  See catalog.h.
 *
 *    The hash tables (hash.c, ASCII case-insensitive) map a string to an
 *    index into one of the arrays; keys point at strings the catalog owns,
 *    so a lookup never allocates.  A key may appear several times (铜仁
 *    names 铜仁地区 until 2011 and 铜仁市 after): a lookup walks them all.
 *
 *    Loading order: units (indicators name them), indicators, regions
 *    (nicknames and pairings name them), pairings.
 */
#include "catalog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etl/config.h"
#include "etl/date.h"
#include "etl/hash.h"
#include "period.h"
#include "etl/text.h"

#define CATALOG_MAX_CHAIN 8     /* successor/predecessor steps followed */

static const char *const region_levels[] = { "nation", "province", "prefecture", NULL };
static const char *const region_zones[] = { "east", "central", "west", "northeast", NULL };
static const char *const unit_kinds[] = {
    "money", "person", "person_time", "count", "ratio", NULL
};
static const char *const pairing_levels[] = { "province", "city", NULL };

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
    { NULL, 0, false, NULL }
};
static const struct etl_key regions_root_keys[] = {
    { "regions", ETL_KEY_SEQ, true, "the regions" },
    { "nicknames", ETL_KEY_SEQ, false, "pair nicknames" },
    { NULL, 0, false, NULL }
};
static const struct etl_key region_keys[] = {
    { "code", ETL_KEY_STR, true, "GB/T 2260 code" },
    { "name_zh", ETL_KEY_STR, true, "official name" },
    { "short_zh", ETL_KEY_STR, false, "short name" },
    { "name_en", ETL_KEY_STR, true, "English name" },
    { "abbrev", ETL_KEY_STR, false, "one-character abbreviation" },
    { "alternates", ETL_KEY_SEQ, false, "other names" },
    { "level", ETL_KEY_STR, true, "nation, province or prefecture" },
    { "parent", ETL_KEY_STR, false, "province code" },
    { "zone", ETL_KEY_STR, false, "east, central, west or northeast" },
    { "valid_from", ETL_KEY_STR, false, "YYYY-MM-DD" },
    { "valid_to", ETL_KEY_STR, false, "YYYY-MM-DD" },
    { "successor", ETL_KEY_STR, false, "code that replaced it" },
    { NULL, 0, false, NULL }
};
static const struct etl_key nickname_keys[] = {
    { "name", ETL_KEY_STR, true, "the nickname" },
    { "east", ETL_KEY_STR, true, "eastern region" },
    { "west", ETL_KEY_STR, true, "western region" },
    { NULL, 0, false, NULL }
};
static const struct etl_key pairings_root_keys[] = {
    { "stages", ETL_KEY_SEQ, true, "stages of the programme" },
    { NULL, 0, false, NULL }
};
static const struct etl_key stage_keys[] = {
    { "name", ETL_KEY_STR, true, "stage name" },
    { "valid_from", ETL_KEY_STR, true, "YYYY-MM-DD" },
    { "valid_to", ETL_KEY_STR, false, "YYYY-MM-DD" },
    { "source", ETL_KEY_STR, false, "document" },
    { "province", ETL_KEY_SEQ, false, "province pairs [east, west]" },
    { "city", ETL_KEY_SEQ, false, "city pairs [east, west]" },
    { NULL, 0, false, NULL }
};

/* ---- loading helpers ------------------------------------------------------ */

struct loader {
    struct etl_catalog *c;
    const char *dir;
    struct etl_doc *doc;        /* the file being read */
    const struct etl_node **rnodes;     /* regions.yaml: node of each region */
};

/* The member of 'set' equal to 's' (a static string), or NULL. */
static const char *
intern(const char *const *set, const char *s)
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
static int
get_str(const struct etl_node *map, const char *key, char **out, struct etl_err *err)
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

/* A six-digit code into out[8]; "" when absent. */
static int
get_code(const struct etl_node *map, const char *key, char out[8], struct etl_err *err)
{
    const struct etl_node *v = etl_node_get(map, key);

    out[0] = '\0';
    if (v == NULL) {
        return 0;
    }
    if (strlen(v->str) != 6 || strspn(v->str, "0123456789") != 6) {
        return etl_node_fail(v, err, ETL_E_CONFIG, "%s \"%s\" is not a six-digit code",
                             key, v->str);
    }
    memcpy(out, v->str, 7);
    return 0;
}

static int
get_date(const struct etl_node *map, const char *key, int32_t *out, struct etl_err *err)
{
    const struct etl_node *v = etl_node_get(map, key);

    *out = 0;
    if (v == NULL) {
        return 0;
    }
    if (etl_date_parse(v->str, out) < 0) {
        return etl_node_fail(v, err, ETL_E_CONFIG, "%s \"%s\" is not a date (YYYY-MM-DD)",
                             key, v->str);
    }
    return 0;
}

/* A string key that must be one of 'set'; *out NULL when absent. */
static int
get_enum(const struct etl_node *map, const char *key, const char *const *set,
         const char **out, struct etl_err *err)
{
    const struct etl_node *v = etl_node_get(map, key);

    *out = NULL;
    if (v == NULL) {
        return 0;
    }
    if ((*out = intern(set, v->str)) == NULL) {
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
static int
open_file(struct loader *ld, const char *name, const struct etl_key *keys,
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
static void
close_file(struct loader *ld)
{
    etl_doc_free(ld->doc);
    ld->doc = NULL;
}

/* Items of a sequence key; empty when absent. */
static const struct etl_node *
seq(const struct etl_node *map, const char *key, size_t *n)
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

/* units.yaml: the units, their words, and each unit code as a word. */
static int
load_units(struct loader *ld, struct etl_err *err)
{
    struct etl_catalog *c = ld->c;
    const struct etl_node *units, *words;
    size_t nu, nw;
    size_t v;

    if (open_file(ld, "units.yaml", units_root_keys, err) < 0) {
        return -1;
    }
    units = seq(ld->doc->root, "units", &nu);
    words = seq(ld->doc->root, "words", &nw);
    c->units = calloc(nu + 1, sizeof(*c->units));
    c->words = calloc(nw + nu + 1, sizeof(*c->words));
    if (c->units == NULL || c->words == NULL) {
        return etl_err_nomem(err);
    }
    for (size_t i = 0; i < nu; i++) {
        const struct etl_node *m = units->items[i];
        struct etl_unit *u = &c->units[i];
        const char *kind;
        bool generic;

        if (etl_node_check(m, unit_keys, "unit", err) < 0 ||
            get_enum(m, "kind", unit_kinds, &kind, err) < 0 ||
            etl_node_bool(m, "generic", false, &generic, err) < 0) {
            return -1;
        }
        c->nunits++;
        if (get_str(m, "code", &u->code, err) < 0 || get_str(m, "name_zh", &u->name_zh, err) < 0 ||
            get_str(m, "name_en", &u->name_en, err) < 0) {
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
    }
    for (size_t i = 0; i < nw; i++) {
        const struct etl_node *m = words->items[i], *un;
        struct etl_unit_word *w = &c->words[c->nwords];
        long pow10;
        size_t k;

        if (etl_node_check(m, word_keys, "unit word", err) < 0 ||
            etl_node_long(m, "pow10", 0, -24, 24, &pow10, err) < 0 ||
            get_str(m, "word", &w->word, err) < 0) {
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
    }
    /* every unit code is a word of its unit */
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
    close_file(ld);
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

/* indicators.yaml: needs the units; of_which is resolved after all are read. */
static int
load_indicators(struct loader *ld, struct etl_err *err)
{
    struct etl_catalog *c = ld->c;
    const struct etl_node *list;
    size_t n;
    size_t v;

    if (open_file(ld, "indicators.yaml", indicators_root_keys, err) < 0) {
        return -1;
    }
    list = seq(ld->doc->root, "indicators", &n);
    if ((c->indicators = calloc(n + 1, sizeof(*c->indicators))) == NULL) {
        return etl_err_nomem(err);
    }
    for (size_t i = 0; i < n; i++) {
        const struct etl_node *m = list->items[i], *al;
        struct etl_indicator *ind = &c->indicators[i];
        size_t na;
        bool additive;

        if (etl_node_check(m, indicator_keys, "indicator", err) < 0 ||
            etl_node_bool(m, "additive", false, &additive, err) < 0) {
            return -1;
        }
        c->nindicators++;
        if (get_str(m, "code", &ind->code, err) < 0 ||
            get_str(m, "name_zh", &ind->name_zh, err) < 0 ||
            get_str(m, "name_en", &ind->name_en, err) < 0 ||
            get_str(m, "unit", &ind->unit, err) < 0 ||
            get_str(m, "of_which", &ind->of_which, err) < 0) {
            return -1;
        }
        ind->additive = additive;
        if (!etl_hash_get(c->unit_codes, ind->unit, strlen(ind->unit), &v)) {
            return etl_node_fail(etl_node_get(m, "unit"), err, ETL_E_CONFIG,
                                 "unknown unit \"%s\" of indicator %s", ind->unit, ind->code);
        }
        ind->unit_def = &c->units[v];
        al = seq(m, "aliases", &na);
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
    }
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
    close_file(ld);
    return 0;
}

/* ---- regions -------------------------------------------------------------- */

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

/* Whether [f1, t1) and [f2, t2) overlap; 0 is open on either side. */
static bool
overlaps(int32_t f1, int32_t t1, int32_t f2, int32_t t2)
{
    return (t1 == 0 || f2 < t1) && (t2 == 0 || f1 < t2);
}

/*
 * Index a name of region 'idx'.  A name may name several regions only when
 * their validity periods do not overlap (铜仁地区 / 铜仁市); otherwise it is
 * an error at 'at'.
 */
static int
add_region_name(struct etl_catalog *c, size_t idx, const char *name,
                const struct etl_node *at, struct etl_err *err)
{
    const struct etl_region *r = &c->regions[idx];
    struct etl_hash_iter it;
    size_t v;

    if (name == NULL) {
        return 0;
    }
    etl_hash_find(&it, c->region_names, name, strlen(name));
    while (etl_hash_next(&it, &v)) {
        const struct etl_region *o = &c->regions[v];

        if (v == idx) {
            return 0;
        }
        if (overlaps(r->valid_from, r->valid_to, o->valid_from, o->valid_to)) {
            return etl_node_fail(at, err, ETL_E_CONFIG,
                                 "name \"%s\" of region %s already names region %s",
                                 name, r->code, o->code);
        }
    }
    if (etl_hash_put(c->region_names, name, strlen(name), idx) < 0) {
        return etl_err_nomem(err);
    }
    return 0;
}

/*
 * One region of regions.yaml into 'r' (strings copied; freed with the
 * catalog even on failure).  Checks its own keys, code, dates and level;
 * references to other regions are checked by link_regions().
 */
static int
read_region(const struct etl_node *m, struct etl_region *r, struct etl_err *err)
{
    const struct etl_node *al;
    size_t na;

    if (etl_node_check(m, region_keys, "region", err) < 0 ||
        get_code(m, "code", r->code, err) < 0 || get_code(m, "parent", r->parent, err) < 0 ||
        get_code(m, "successor", r->successor, err) < 0 ||
        get_str(m, "name_zh", &r->name_zh, err) < 0 ||
        get_str(m, "short_zh", &r->short_zh, err) < 0 ||
        get_str(m, "name_en", &r->name_en, err) < 0 ||
        get_str(m, "abbrev", &r->abbrev, err) < 0 ||
        get_enum(m, "level", region_levels, &r->level, err) < 0 ||
        get_enum(m, "zone", region_zones, &r->zone, err) < 0 ||
        get_date(m, "valid_from", &r->valid_from, err) < 0 ||
        get_date(m, "valid_to", &r->valid_to, err) < 0) {
        return -1;
    }
    if (r->short_zh == NULL && (r->short_zh = strdup(r->name_zh)) == NULL) {
        return etl_err_nomem(err);
    }
    if (r->valid_to != 0 && r->valid_to <= r->valid_from) {
        return etl_node_fail(etl_node_get(m, "valid_to"), err, ETL_E_CONFIG,
                             "region %s: valid_to is not after valid_from", r->code);
    }
    if (r->successor[0] != '\0' && r->valid_to == 0) {
        return etl_node_fail(etl_node_get(m, "successor"), err, ETL_E_CONFIG,
                             "region %s has a successor but no valid_to", r->code);
    }
    if (strcmp(r->level, "nation") == 0) {
        if (r->parent[0] != '\0') {
            return etl_node_fail(etl_node_get(m, "parent"), err, ETL_E_CONFIG,
                                 "the nation has no parent");
        }
    } else if (strcmp(r->level, "province") == 0) {
        if (r->parent[0] == '\0') {
            memcpy(r->parent, "000000", 7);
        }
        if (r->zone == NULL) {
            return etl_node_fail(m, err, ETL_E_CONFIG, "province %s has no zone", r->code);
        }
    } else if (r->parent[0] == '\0') {
        return etl_node_fail(m, err, ETL_E_CONFIG, "prefecture %s has no parent", r->code);
    }
    al = seq(m, "alternates", &na);
    if (na > 0 && (r->alternates = calloc(na, sizeof(*r->alternates))) == NULL) {
        return etl_err_nomem(err);
    }
    for (size_t j = 0; j < na; j++) {
        if (al->items[j]->type != ETL_NODE_SCALAR) {
            return etl_node_fail(al->items[j], err, ETL_E_CONFIG,
                                 "an alternate name must be a string");
        }
        if ((r->alternates[j] = strdup(al->items[j]->str)) == NULL) {
            return etl_err_nomem(err);
        }
        r->nalternates++;
    }
    return 0;
}

/* Resolve parents and successors, then index every name. */
static int
link_regions(struct loader *ld, struct etl_err *err)
{
    struct etl_catalog *c = ld->c;
    size_t v;

    for (size_t i = 0; i < c->nregions; i++) {
        struct etl_region *r = &c->regions[i];
        const struct etl_node *m = ld->rnodes[i];

        if (etl_hash_get(c->region_codes, r->code, 6, &v)) {
            return etl_node_fail(etl_node_get(m, "code"), err, ETL_E_CONFIG,
                                 "region code %s given twice", r->code);
        }
        if (etl_hash_put(c->region_codes, r->code, 6, i) < 0) {
            return etl_err_nomem(err);
        }
    }
    for (size_t i = 0; i < c->nregions; i++) {
        struct etl_region *r = &c->regions[i];
        const struct etl_node *m = ld->rnodes[i];
        const struct etl_region *p;

        if (strcmp(r->level, "prefecture") == 0) {
            p = etl_catalog_region_code(c, r->parent);
            if (p == NULL || strcmp(p->level, "province") != 0) {
                return etl_node_fail(etl_node_get(m, "parent"), err, ETL_E_CONFIG,
                                     "parent %s of region %s is not a province",
                                     r->parent, r->code);
            }
            r->province = p;
            if (r->zone == NULL) {
                r->zone = p->zone;
            }
        } else if (strcmp(r->level, "province") == 0) {
            r->province = r;
        }
        if (r->successor[0] != '\0') {
            struct etl_region *s = NULL;

            if (etl_hash_get(c->region_codes, r->successor, 6, &v)) {
                s = &c->regions[v];
            }
            if (s == NULL || s == r) {
                return etl_node_fail(etl_node_get(m, "successor"), err, ETL_E_CONFIG,
                                     "successor %s of region %s is not another region",
                                     r->successor, r->code);
            }
            r->next = s;
            s->prev = r;
        }
    }
    for (size_t i = 0; i < c->nregions; i++) {
        struct etl_region *r = &c->regions[i];
        const struct etl_node *m = ld->rnodes[i];
        const struct etl_node *al = etl_node_get(m, "alternates");

        if (add_region_name(c, i, r->code, etl_node_get(m, "code"), err) < 0 ||
            add_region_name(c, i, r->name_zh, etl_node_get(m, "name_zh"), err) < 0 ||
            add_region_name(c, i, r->short_zh, etl_node_get(m, "short_zh"), err) < 0 ||
            add_region_name(c, i, r->name_en, etl_node_get(m, "name_en"), err) < 0 ||
            add_region_name(c, i, r->abbrev, etl_node_get(m, "abbrev"), err) < 0) {
            return -1;
        }
        for (size_t j = 0; j < r->nalternates; j++) {
            if (add_region_name(c, i, r->alternates[j], al->items[j], err) < 0) {
                return -1;
            }
        }
    }
    return 0;
}

/* A region named in a catalog file (name or code) at 'date', or an error. */
static const struct etl_region *
named_region(const struct etl_catalog *c, const struct etl_node *n, int32_t date,
             struct etl_err *err)
{
    const struct etl_region *r = NULL;

    if (n->type == ETL_NODE_SCALAR) {
        r = etl_catalog_region(c, n->str, strlen(n->str), date);
    }
    if (r == NULL) {
        etl_node_fail(n, err, ETL_E_CONFIG, "unknown region \"%s\"",
                      n->type == ETL_NODE_SCALAR ? n->str : "");
    }
    return r;
}

/* The nicknames of regions.yaml; needs the regions indexed. */
static int
load_nicknames(struct loader *ld, struct etl_err *err)
{
    struct etl_catalog *c = ld->c;
    const struct etl_node *list;
    size_t n;
    size_t v;

    list = seq(ld->doc->root, "nicknames", &n);
    if ((c->nicknames = calloc(n + 1, sizeof(*c->nicknames))) == NULL) {
        return etl_err_nomem(err);
    }
    for (size_t i = 0; i < n; i++) {
        const struct etl_node *m = list->items[i];
        struct etl_nickname *k = &c->nicknames[i];

        if (etl_node_check(m, nickname_keys, "nickname", err) < 0 ||
            get_str(m, "name", &k->name, err) < 0) {
            return -1;
        }
        c->nnicknames++;
        if ((k->east = named_region(c, etl_node_get(m, "east"), 0, err)) == NULL ||
            (k->west = named_region(c, etl_node_get(m, "west"), 0, err)) == NULL) {
            return -1;
        }
        if (etl_hash_get(c->nickname_names, k->name, strlen(k->name), &v)) {
            return etl_node_fail(etl_node_get(m, "name"), err, ETL_E_CONFIG,
                                 "nickname \"%s\" given twice", k->name);
        }
        if (etl_hash_put(c->nickname_names, k->name, strlen(k->name), i) < 0) {
            return etl_err_nomem(err);
        }
    }
    return 0;
}

/* regions.yaml: regions, then their links and names, then nicknames. */
static int
load_regions(struct loader *ld, struct etl_err *err)
{
    struct etl_catalog *c = ld->c;
    const struct etl_node *list;
    size_t n;

    if (open_file(ld, "regions.yaml", regions_root_keys, err) < 0) {
        return -1;
    }
    list = seq(ld->doc->root, "regions", &n);
    c->regions = calloc(n + 1, sizeof(*c->regions));
    ld->rnodes = calloc(n + 1, sizeof(*ld->rnodes));
    if (c->regions == NULL || ld->rnodes == NULL) {
        return etl_err_nomem(err);
    }
    for (size_t i = 0; i < n; i++) {
        ld->rnodes[i] = list->items[i];
        c->nregions++;
        if (read_region(list->items[i], &c->regions[i], err) < 0) {
            return -1;
        }
    }
    if (link_regions(ld, err) < 0 || load_nicknames(ld, err) < 0) {
        return -1;
    }
    close_file(ld);
    return 0;
}

/* ---- pairings ------------------------------------------------------------- */

/*
 * The pairs of one level ("province" or "city") of a stage into the next
 * slots of c->pairings (allocated for all of them by load_pairings()).
 */
static int
add_pairs(struct loader *ld, const struct etl_node *stage, const char *level,
          const char *sname, int32_t from, int32_t to, struct etl_err *err)
{
    struct etl_catalog *c = ld->c;
    const struct etl_node *list;
    size_t n;

    list = seq(stage, level, &n);
    for (size_t i = 0; i < n; i++) {
        const struct etl_node *it = list->items[i];
        struct etl_pairing *p = &c->pairings[c->npairings];
        const struct etl_region *e, *w;
        struct etl_hash_iter hi;
        size_t v;

        if (it->type != ETL_NODE_SEQ || it->n != 2) {
            return etl_node_fail(it, err, ETL_E_CONFIG, "a pair must be a list [east, west]");
        }
        if ((e = named_region(c, it->items[0], from, err)) == NULL ||
            (w = named_region(c, it->items[1], from, err)) == NULL) {
            return -1;
        }
        memcpy(p->east, e->code, 7);
        memcpy(p->west, w->code, 7);
        snprintf(p->key, sizeof(p->key), "%s%s", e->code, w->code);
        p->level = intern(pairing_levels, level);
        p->valid_from = from;
        p->valid_to = to;
        etl_hash_find(&hi, c->pairing_keys, p->key, 12);
        while (etl_hash_next(&hi, &v)) {
            if (strcmp(c->pairings[v].stage, sname) == 0) {
                return etl_node_fail(it, err, ETL_E_CONFIG, "pair %s–%s given twice in "
                                     "stage %s", e->short_zh, w->short_zh, sname);
            }
        }
        if ((p->stage = strdup(sname)) == NULL) {
            return etl_err_nomem(err);
        }
        c->npairings++;
        if (etl_hash_put(c->pairing_keys, p->key, 12, (size_t)(p - c->pairings)) < 0) {
            return etl_err_nomem(err);
        }
    }
    return 0;
}

/* pairings.yaml: needs the regions (pairs name them, resolved at valid_from). */
static int
load_pairings(struct loader *ld, struct etl_err *err)
{
    struct etl_catalog *c = ld->c;
    const struct etl_node *stages;
    size_t ns, total = 0, k;

    if (open_file(ld, "pairings.yaml", pairings_root_keys, err) < 0) {
        return -1;
    }
    stages = seq(ld->doc->root, "stages", &ns);
    for (size_t i = 0; i < ns; i++) {
        if (etl_node_check(stages->items[i], stage_keys, "stage", err) < 0) {
            return -1;
        }
        seq(stages->items[i], "province", &k);
        total += k;
        seq(stages->items[i], "city", &k);
        total += k;
    }
    if ((c->pairings = calloc(total + 1, sizeof(*c->pairings))) == NULL) {
        return etl_err_nomem(err);
    }
    for (size_t i = 0; i < ns; i++) {
        const struct etl_node *m = stages->items[i];
        const char *name = etl_node_get(m, "name")->str;
        int32_t from, to;

        if (get_date(m, "valid_from", &from, err) < 0 || get_date(m, "valid_to", &to, err) < 0) {
            return -1;
        }
        if (to != 0 && to <= from) {
            return etl_node_fail(etl_node_get(m, "valid_to"), err, ETL_E_CONFIG,
                                 "stage %s: valid_to is not after valid_from", name);
        }
        if (add_pairs(ld, m, "province", name, from, to, err) < 0 ||
            add_pairs(ld, m, "city", name, from, to, err) < 0) {
            return -1;
        }
    }
    close_file(ld);
    return 0;
}

/* ---- load and free -------------------------------------------------------- */

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
        close_file(&ld);
        rc = load_indicators(&ld, err);
    }
    if (rc == 0) {
        close_file(&ld);
        rc = load_regions(&ld, err);
    }
    if (rc == 0) {
        close_file(&ld);
        rc = load_pairings(&ld, err);
    }
    if (rc == 0) {
        rc = etl_catalog_match_index(ld.c, err);
    }
    close_file(&ld);
    free(ld.rnodes);
    if (rc < 0) {
        etl_catalog_free(ld.c);
        return NULL;
    }
    return ld.c;
}

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

        if ((start == 0 && end == 0) || overlaps(p->valid_from, p->valid_to, start, end)) {
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
