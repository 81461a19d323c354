/*
 * resource.h
 *    Named resources of a configuration: things loaded once with the YAML
 *    and shared read-only by the stages that need them (the domain's
 *    catalog), looked up by name as Fluent Bit's flb_parser_get().  The
 *    engine keeps each as a name, an opaque pointer and a free function; it
 *    does not know what is behind the pointer.
 *
 *    A resource kind says which top-level YAML keys it reads, how to load
 *    and free it, and optionally how to write it into the database at
 *    migrate time.  Kinds are listed in one table, etl_resource_kinds[]
 *    (stages/registry.c, next to the stage kinds); their code lives with
 *    their domain (etl/ewc/resource.c for the catalog).
 */
#ifndef ETL_RESOURCE_H
#define ETL_RESOURCE_H

#include <stddef.h>

#include "config.h"
#include "err.h"

struct etl_config;
struct etl_stage;
struct pg_conn;

struct etl_resource_kind {
    const char *name;                   /* what stages look it up by */
    const struct etl_key *keys;         /* top-level YAML keys it reads, ends with {0} */
    /*
     * Load it from the configuration's top-level mapping 'root' (already
     * checked against 'keys'); 'path' is the YAML file, for relative paths.
     * Returns the resource, or NULL with 'err' set.  *source may receive a
     * malloc'd line saying where it came from (a directory), for `check`.
     */
    void *(*load)(const struct etl_node *root, const char *path, char **source,
                  struct etl_err *err);
    void (*free)(void *res);            /* accepts NULL */
    /*
     * Optional: write the resource into the database 'db' at migrate time,
     * after the numbered migrations.  'summary' receives one line for the
     * user ("31 regions, ...").  Returns 0, or -1 with 'err' set.
     */
    int (*sync)(const void *res, struct pg_conn *db, char *summary, size_t size,
                struct etl_err *err);
};

extern const struct etl_resource_kind *const etl_resource_kinds[];   /* ends with NULL */

/* One loaded resource of a configuration. */
struct etl_resource {
    const char *name;                   /* not owned (the kind's, or a literal) */
    void *ptr;                          /* owned, freed with 'free' */
    void (*free)(void *ptr);            /* NULL: not owned */
    const struct etl_resource_kind *kind;   /* NULL when put by hand (tests) */
    char *source;                       /* owned; NULL if the kind gave none */
};

/*
 * The keys of every kind of 'kinds' followed by 'base' (a key table ending
 * with {0}), into 'out' of 'max' entries, ended with {0}.  Returns 0, or
 * -1 (ETL_E_INTERNAL) when 'out' is too small.
 */
int etl_resource_keys(const struct etl_key *base,
                      const struct etl_resource_kind *const *kinds,
                      struct etl_key *out, size_t max, struct etl_err *err) ETL_MUSTCHECK;

/*
 * Load one resource of each kind of 'kinds' (a table ending with NULL) into
 * cfg->resources, in order.  On failure, 'err' comes from the kind's loader
 * and the resources loaded so far stay in 'cfg' (etl_resources_free frees
 * them).  Returns 0 or -1.
 */
int etl_resources_load(struct etl_config *cfg, const struct etl_node *root,
                       const struct etl_resource_kind *const *kinds,
                       struct etl_err *err) ETL_MUSTCHECK;
/* Free cfg's resources (each with its free function) and their array. */
void etl_resources_free(struct etl_config *cfg);

/* The resource called 'name' of 'cfg', or NULL when there is none.  O(n). */
void *etl_config_resource(const struct etl_config *cfg, const char *name);
/* The resource called 'name' of the configuration 'st' belongs to, or NULL. */
void *etl_stage_resource(const struct etl_stage *st, const char *name);

#endif
