/*
 * resource.c
 *    Loading, freeing and finding a configuration's named resources; see
 *    resource.h.  Called by pipeline.c while the configuration loads; the
 *    kinds come from the table in stages/registry.c.
 */
#include "resource.h"

#include <stdlib.h>
#include <string.h>

#include "pipeline.h"

/* The resource kinds' keys, then 'base', into 'out' (see resource.h). */
int
etl_resource_keys(const struct etl_key *base, const struct etl_resource_kind *const *kinds,
                  struct etl_key *out, size_t max, struct etl_err *err)
{
    size_t n = 0;

    for (size_t i = 0; kinds[i] != NULL; i++) {
        for (const struct etl_key *k = kinds[i]->keys; k != NULL && k->name != NULL; k++) {
            if (n + 1 >= max) {
                return etl_err_set(err, ETL_E_INTERNAL, "too many top-level keys");
            }
            out[n++] = *k;
        }
    }
    for (const struct etl_key *k = base; k->name != NULL; k++) {
        if (n + 1 >= max) {
            return etl_err_set(err, ETL_E_INTERNAL, "too many top-level keys");
        }
        out[n++] = *k;
    }
    memset(&out[n], 0, sizeof(out[n]));
    return 0;
}

/* One resource of each kind into cfg->resources (see resource.h). */
int
etl_resources_load(struct etl_config *cfg, const struct etl_node *root,
                   const struct etl_resource_kind *const *kinds, struct etl_err *err)
{
    size_t n = 0;

    while (kinds[n] != NULL) {
        n++;
    }
    if (n == 0) {
        return 0;
    }
    cfg->resources = calloc(n, sizeof(*cfg->resources));
    if (cfg->resources == NULL) {
        return etl_err_nomem(err);
    }
    for (size_t i = 0; i < n; i++) {
        struct etl_resource *r = &cfg->resources[cfg->nresources];
        char *source = NULL;
        void *ptr = kinds[i]->load(root, cfg->path, &source, err);

        if (ptr == NULL) {
            free(source);
            return -1;
        }
        r->name = kinds[i]->name;
        r->ptr = ptr;
        r->free = kinds[i]->free;
        r->kind = kinds[i];
        r->source = source;
        cfg->nresources++;
    }
    return 0;
}

/* Free every resource of 'cfg' with its own free function. */
void
etl_resources_free(struct etl_config *cfg)
{
    for (size_t i = 0; i < cfg->nresources; i++) {
        struct etl_resource *r = &cfg->resources[i];

        if (r->free != NULL) {
            r->free(r->ptr);
        }
        free(r->source);
    }
    free(cfg->resources);
    cfg->resources = NULL;
    cfg->nresources = 0;
}

/* Find a resource by name: a scan, there are few. */
void *
etl_config_resource(const struct etl_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->nresources; i++) {
        if (strcmp(cfg->resources[i].name, name) == 0) {
            return cfg->resources[i].ptr;
        }
    }
    return NULL;
}

/* Find a resource of the stage's configuration; NULL for a stage without one. */
void *
etl_stage_resource(const struct etl_stage *st, const char *name)
{
    if (st->pipeline == NULL || st->pipeline->config == NULL) {
        return NULL;
    }
    return etl_config_resource(st->pipeline->config, name);
}
