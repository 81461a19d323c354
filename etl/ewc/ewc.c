/*
 * ewc.c
 *    Where the wing meets the engine: the catalog as a named resource (its
 *    top-level YAML key, its loader, its free function and its sync into the
 *    dimension tables at migrate time), and the lookup the stages use.  The
 *    kind is listed in etl_resource_kinds[] (stages/registry.c).  See ewc.h.
 */
#include "ewc.h"

#include <stdio.h>
#include <stdlib.h>

#include "etl/pipeline.h"

static const struct etl_key catalog_keys[] = {
    { "catalog", ETL_KEY_STR, true, "the directory of the region/indicator/unit catalogs" },
    { 0 }
};

/*
 * Load the catalog from the directory named by the "catalog" key, resolved
 * against the YAML's directory; *source receives that directory.
 */
static void *
catalog_resource_load(const struct etl_node *root, const char *path, char **source,
                      struct etl_err *err)
{
    const char *s;
    char *dir;
    struct etl_catalog *cat;

    if (etl_node_str(root, "catalog", NULL, &s, err) < 0) {
        return NULL;
    }
    if (s == NULL) {
        etl_node_fail(root, err, ETL_E_CONFIG, "the configuration has no \"catalog\"");
        return NULL;
    }
    dir = etl_path_relative(path, s);
    if (dir == NULL) {
        etl_err_nomem(err);
        return NULL;
    }
    cat = etl_catalog_load(dir, err);
    if (cat == NULL) {
        free(dir);
        return NULL;
    }
    *source = dir;
    return cat;
}

/* etl_catalog_free for a resource pointer. */
static void
catalog_resource_free(void *res)
{
    etl_catalog_free(res);
}

/* The dimension tables from the catalog; 'summary' counts what went in. */
static int
catalog_resource_sync(const void *res, struct pg_conn *db, char *summary, size_t size,
                      struct etl_err *err)
{
    const struct etl_catalog *cat = res;

    if (etl_migrate_catalog(db, cat, err) < 0) {
        return -1;
    }
    snprintf(summary, size, "%zu regions, %zu indicators, %zu units, %zu pairings",
             cat->nregions, cat->nindicators, cat->nunits, cat->npairings);
    return 0;
}

const struct etl_resource_kind etl_resource_catalog = {
    .name = ETL_CATALOG_RESOURCE,
    .keys = catalog_keys,
    .load = catalog_resource_load,
    .free = catalog_resource_free,
    .sync = catalog_resource_sync,
};

/* The catalog resource of the stage's configuration, or NULL. */
const struct etl_catalog *
etl_stage_catalog(const struct etl_stage *st)
{
    return etl_stage_resource(st, ETL_CATALOG_RESOURCE);
}
