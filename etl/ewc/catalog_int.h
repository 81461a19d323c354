/*
 * catalog_int.h
 *    What the catalog's own files share: the loader that
 *    etl_catalog_load() passes from file to file, the getters over etl_node
 *    that check a catalog file's values, the loaders of regions.yaml and
 *    pairings.yaml, and the period overlap test.  Private to
 *    etl/ewc/catalog*.c; the API is catalog.h.
 *
 *    catalog_load.c defines the loader functions and the getters,
 *    catalog_regions.c the region and pairing loaders, catalog.c the
 *    lookups.
 */
#ifndef ETL_CATALOG_INT_H
#define ETL_CATALOG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "etl/config.h"
#include "etl/err.h"

/* The state of etl_catalog_load() while it reads the four files. */
struct loader {
    struct etl_catalog *c;
    const char *dir;
    struct etl_doc *doc;        /* the file being read */
    const struct etl_node **rnodes;     /* regions.yaml: node of each region */
};

/* ---- catalog_load.c ------------------------------------------------------- */

const char *catalog_intern(const char *const *set, const char *s);
int catalog_get_str(const struct etl_node *map, const char *key, char **out,
                    struct etl_err *err);
int catalog_get_enum(const struct etl_node *map, const char *key,
                     const char *const *set, const char **out, struct etl_err *err);
int catalog_open_file(struct loader *ld, const char *name, const struct etl_key *keys,
                      struct etl_err *err);
void catalog_close_file(struct loader *ld);
const struct etl_node *catalog_seq(const struct etl_node *map, const char *key,
                                   size_t *n);

/* ---- catalog_regions.c ---------------------------------------------------- */

int catalog_load_regions(struct loader *ld, struct etl_err *err);
int catalog_load_pairings(struct loader *ld, struct etl_err *err);

/* ---- shared --------------------------------------------------------------- */

/*
 * Whether [f1, t1) and [f2, t2) overlap; 0 is open on either side.  Loading
 * lets two regions share a name only when their periods do not overlap;
 * the pairing lookups match a pairing to a period with it.
 */
static inline bool
catalog_overlaps(int32_t f1, int32_t t1, int32_t f2, int32_t t2)
{
    return (t1 == 0 || f2 < t1) && (t2 == 0 || f1 < t2);
}

#endif /* ETL_CATALOG_INT_H */
