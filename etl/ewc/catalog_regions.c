/*
 * catalog_regions.c
 *    Reading regions.yaml (the regions, their parents, successors and
 *    names, then the pair nicknames) and pairings.yaml (the east-west pairs
 *    of each stage) into the catalog etl_catalog_load() is building.  See
 *    catalog.h.
 *
 *    Next door: catalog_load.c runs the loading and reads units.yaml and
 *    indicators.yaml; catalog.c holds the lookups; catalog_int.h what these
 *    files share.
 */
#include "catalog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog_int.h"
#include "etl/config.h"
#include "etl/date.h"
#include "etl/hash.h"

static const char *const region_levels[] = { "nation", "province", "prefecture", NULL };
static const char *const region_zones[] = { "east", "central", "west", "northeast", NULL };
static const char *const pairing_levels[] = { "province", "city", NULL };

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

/* ---- getters ------------------------------------------------------------- */

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

/* A YYYY-MM-DD date key into *out (yyyymmdd); 0 when absent. */
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

/* ---- regions -------------------------------------------------------------- */


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
        if (catalog_overlaps(r->valid_from, r->valid_to, o->valid_from, o->valid_to)) {
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
        catalog_get_str(m, "name_zh", &r->name_zh, err) < 0 ||
        catalog_get_str(m, "short_zh", &r->short_zh, err) < 0 ||
        catalog_get_str(m, "name_en", &r->name_en, err) < 0 ||
        catalog_get_str(m, "abbrev", &r->abbrev, err) < 0 ||
        catalog_get_enum(m, "level", region_levels, &r->level, err) < 0 ||
        catalog_get_enum(m, "zone", region_zones, &r->zone, err) < 0 ||
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
    al = catalog_seq(m, "alternates", &na);
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

    list = catalog_seq(ld->doc->root, "nicknames", &n);
    if ((c->nicknames = calloc(n + 1, sizeof(*c->nicknames))) == NULL) {
        return etl_err_nomem(err);
    }
    for (size_t i = 0; i < n; i++) {
        const struct etl_node *m = list->items[i];
        struct etl_nickname *k = &c->nicknames[i];

        if (etl_node_check(m, nickname_keys, "nickname", err) < 0 ||
            catalog_get_str(m, "name", &k->name, err) < 0) {
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
int
catalog_load_regions(struct loader *ld, struct etl_err *err)
{
    struct etl_catalog *c = ld->c;
    const struct etl_node *list;
    size_t n;

    if (catalog_open_file(ld, "regions.yaml", regions_root_keys, err) < 0) {
        return -1;
    }
    list = catalog_seq(ld->doc->root, "regions", &n);
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
    catalog_close_file(ld);
    return 0;
}

/* ---- pairings ------------------------------------------------------------- */

/*
 * The pairs of one level ("province" or "city") of a stage into the next
 * slots of c->pairings (allocated for all of them by
 * catalog_load_pairings()).
 */
static int
add_pairs(struct loader *ld, const struct etl_node *stage, const char *level,
          const char *sname, int32_t from, int32_t to, struct etl_err *err)
{
    struct etl_catalog *c = ld->c;
    const struct etl_node *list;
    size_t n;

    list = catalog_seq(stage, level, &n);
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
        p->level = catalog_intern(pairing_levels, level);
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
int
catalog_load_pairings(struct loader *ld, struct etl_err *err)
{
    struct etl_catalog *c = ld->c;
    const struct etl_node *stages;
    size_t ns, total = 0, k;

    if (catalog_open_file(ld, "pairings.yaml", pairings_root_keys, err) < 0) {
        return -1;
    }
    stages = catalog_seq(ld->doc->root, "stages", &ns);
    for (size_t i = 0; i < ns; i++) {
        if (etl_node_check(stages->items[i], stage_keys, "stage", err) < 0) {
            return -1;
        }
        catalog_seq(stages->items[i], "province", &k);
        total += k;
        catalog_seq(stages->items[i], "city", &k);
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
    catalog_close_file(ld);
    return 0;
}

