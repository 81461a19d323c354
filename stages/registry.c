/*
 * registry.c
 *    The one table of stage kinds, and the one table of resource kinds:
 *    where the engine meets the domain.  Adding a kind is adding its file
 *    in stages/ (or its wing, for a resource) and one line here.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "etl/ewc/ewc.h"
#include "etl/pipeline.h"
#include "etl/resource.h"
#include "etl/stage.h"

extern const struct etl_stage_kind etl_stage_http_fetch;
extern const struct etl_stage_kind etl_stage_parse_csv;
extern const struct etl_stage_kind etl_stage_normalize;
extern const struct etl_stage_kind etl_stage_validate;
extern const struct etl_stage_kind etl_stage_pg_load;
extern const struct etl_stage_kind etl_stage_sql;

const struct etl_stage_kind *const etl_stage_kinds[] = {
    &etl_stage_http_fetch,
    &etl_stage_parse_csv,
    &etl_stage_normalize,
    &etl_stage_validate,
    &etl_stage_pg_load,
    &etl_stage_sql,
    NULL
};

const struct etl_resource_kind *const etl_resource_kinds[] = {
    &etl_resource_catalog,
    NULL
};

const struct etl_stage_kind *
etl_stage_kind_find(const char *name)
{
    for (size_t i = 0; etl_stage_kinds[i] != NULL; i++) {
        if (strcmp(etl_stage_kinds[i]->name, name) == 0) {
            return etl_stage_kinds[i];
        }
    }
    return NULL;
}

int
etl_stage_push(struct etl_stage *st, struct etl_chunk *c, struct etl_err *err)
{
    struct etl_stage *next = st->next;

    if (next == NULL || next->kind->process == NULL) {
        return 0;
    }
    return next->kind->process(next, c, err);
}

int
etl_stage_finish_next(struct etl_stage *st, struct etl_verdict *v, struct etl_err *err)
{
    struct etl_stage *next = st->next;

    if (next == NULL || next->kind->finish == NULL) {
        return 0;
    }
    return next->kind->finish(next, v, err);
}

void
etl_verdict_refuse(struct etl_verdict *v, const char *fmt, ...)
{
    va_list ap;

    if (v->kind == ETL_VERDICT_REFUSED) {
        return;
    }
    v->kind = ETL_VERDICT_REFUSED;
    va_start(ap, fmt);
    vsnprintf(v->reason, sizeof(v->reason), fmt, ap);
    va_end(ap);
}

/* The default mark of a key; see stage.h. */
const char *
etl_stage_default_mark(const struct etl_stage *st, const char *key)
{
    return st->node == NULL || etl_node_get(st->node, key) == NULL ? " (default)" : "";
}
