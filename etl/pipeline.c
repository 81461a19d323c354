/*
 * pipeline.c
 *    From the YAML tree to pipelines of configured stages: top-level keys,
 *    each pipeline's stages, each stage's kind and keys, the graph in
 *    topological order, and the shape rules of the row chain (a row stage
 *    follows exactly one stage that produces what it consumes, and feeds at
 *    most one row stage).  See pipeline.h.
 */
#include "pipeline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "httpd.h"
#include "resource.h"
#include "schedule.h"

const char *const etl_file_status_names[] = { "pending", "unchanged", "loaded", "failed" };

/* The engine's own top-level keys; each resource kind adds its own. */
static const struct etl_key top_keys[] = {
    { "spool", ETL_KEY_STR, false, "where downloaded files are kept, by content hash" },
    { "database", ETL_KEY_STR, false, "libpq connection string, without a password" },
    { "pipelines", ETL_KEY_MAP, true, "the pipelines, by name" },
    { "http", ETL_KEY_MAP, false, "the daemon's HTTP server (/metrics, /health): listen" },
    { 0 }
};

static const struct etl_key http_keys[] = {
    { "listen", ETL_KEY_STR, false,
      "ADDRESS:PORT, or off (default " ETL_LISTEN_DEFAULT ", loopback only)" },
    { 0 }
};

static const struct etl_key pipeline_keys[] = {
    { "stages", ETL_KEY_SEQ, true, "the list of stages" },
    { "schedule", ETL_KEY_STR, false, "five-field cron expression" },
    { "timezone", ETL_KEY_STR, false, "IANA time zone of the schedule" },
    { "workers", ETL_KEY_INT, false, "files loaded at once" },
    { "catchup", ETL_KEY_STR, false, "missed runs after downtime: none, latest or all" },
    { "catchup_max", ETL_KEY_INT, false, "with catchup all: at most this many (default 10)" },
    { "jitter", ETL_KEY_INT, false, "seconds of random delay before each run" },
    { "priority", ETL_KEY_INT, false,
      "its sources' precedence when sources give different figures (default 0)" },
    { 0 }
};

#define PIPELINE_MAX_KEYS 64      /* keys of a stage, or top-level keys */

static void
stage_free(struct etl_stage *st)
{
    if (st == NULL) {
        return;
    }
    if (st->kind != NULL && st->kind->destroy != NULL) {
        st->kind->destroy(st);
    }
    free(st->needs);
    free(st->name);
    free(st);
}

static void
pipeline_free(struct etl_pipeline *p)
{
    if (p == NULL) {
        return;
    }
    for (size_t i = 0; i < p->nstages; i++) {
        stage_free(p->stages[i]);
    }
    free(p->stages);
    free(p->name);
    free(p->schedule);
    free(p->timezone);
    etl_schedule_free(p->sched);
    free(p);
}

void
etl_config_free(struct etl_config *cfg)
{
    if (cfg == NULL) {
        return;
    }
    for (size_t i = 0; i < cfg->npipelines; i++) {
        pipeline_free(cfg->pipelines[i]);
    }
    free(cfg->pipelines);
    etl_resources_free(cfg);
    free(cfg->spool_dir);
    free(cfg->database);
    free(cfg->http_listen);
    free(cfg->path);
    etl_doc_free(cfg->doc);
    free(cfg);
}

struct etl_pipeline *
etl_config_pipeline(struct etl_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->npipelines; i++) {
        if (strcmp(cfg->pipelines[i]->name, name) == 0) {
            return cfg->pipelines[i];
        }
    }
    return NULL;
}

struct etl_file *
etl_run_add_file(struct etl_run *run, const char *url, struct etl_err *err)
{
    struct etl_file *f;

    if (run->nfiles == run->capfiles) {
        size_t cap = run->capfiles ? run->capfiles * 2 : 16;
        struct etl_file *p = realloc(run->files, cap * sizeof(*p));

        if (p == NULL) {
            etl_err_nomem(err);
            return NULL;
        }
        run->files = p;
        run->capfiles = cap;
    }
    f = &run->files[run->nfiles];
    memset(f, 0, sizeof(*f));
    f->url = strdup(url);
    if (f->url == NULL) {
        etl_err_nomem(err);
        return NULL;
    }
    run->nfiles++;
    return f;
}

/*
 * The kind of stage 'node', after checking that it is a mapping with a
 * "name" (set in *name_node) and a known "kind", and that it has only the
 * common keys and its kind's.  Returns NULL with 'err' set (placed at the
 * node) otherwise.
 */
static const struct etl_stage_kind *
stage_check(const struct etl_node *node, const struct etl_node **name_node,
            struct etl_err *err)
{
    static const struct etl_key common[] = {
        { "name", ETL_KEY_STR, true, "the stage's name" },
        { "kind", ETL_KEY_STR, true, "the stage's kind" },
        { "needs", ETL_KEY_STR_OR_SEQ, false, "the stages it follows" },
    };
    struct etl_key keys[PIPELINE_MAX_KEYS];
    const struct etl_node *kind_node;
    const struct etl_stage_kind *kind;
    size_t nk = 0;
    char what[160];

    if (node->type != ETL_NODE_MAP) {
        etl_node_fail(node, err, ETL_E_CONFIG, "a stage must be a mapping");
        return NULL;
    }
    *name_node = etl_node_get(node, "name");
    kind_node = etl_node_get(node, "kind");
    if (*name_node == NULL || (*name_node)->type != ETL_NODE_SCALAR) {
        etl_node_fail(node, err, ETL_E_CONFIG, "stage has no \"name\"");
        return NULL;
    }
    if (kind_node == NULL || kind_node->type != ETL_NODE_SCALAR) {
        etl_node_fail(node, err, ETL_E_CONFIG, "stage \"%s\" has no \"kind\"",
                      (*name_node)->str);
        return NULL;
    }
    kind = etl_stage_kind_find(kind_node->str);
    if (kind == NULL) {
        char list[256] = "";

        for (size_t i = 0; etl_stage_kinds[i] != NULL; i++) {
            if (i > 0) {
                etl_strlcat(list, ", ", sizeof(list));
            }
            etl_strlcat(list, etl_stage_kinds[i]->name, sizeof(list));
        }
        etl_node_fail(kind_node, err, ETL_E_CONFIG, "unknown stage kind \"%s\"", kind_node->str);
        etl_err_hint(err, "kinds: %s", list);
        return NULL;
    }
    for (size_t i = 0; i < sizeof(common) / sizeof(common[0]); i++) {
        keys[nk++] = common[i];
    }
    for (const struct etl_key *k = kind->keys; k != NULL && k->name != NULL; k++) {
        if (nk + 1 >= PIPELINE_MAX_KEYS) {
            etl_err_set(err, ETL_E_INTERNAL, "stage kind %s has too many keys", kind->name);
            return NULL;
        }
        keys[nk++] = *k;
    }
    memset(&keys[nk], 0, sizeof(keys[nk]));
    snprintf(what, sizeof(what), "stage \"%s\" (%s)", (*name_node)->str, kind->name);
    if (etl_node_check(node, keys, what, err) < 0) {
        return NULL;
    }
    return kind;
}

/*
 * The "needs" of stage 'node' (a name or a list of names) into st->needs;
 * the names stay owned by the document.  Returns 0, or -1 with 'err' set;
 * the caller frees 'st' then.
 */
static int
stage_needs(struct etl_stage *st, const struct etl_node *node, struct etl_err *err)
{
    const struct etl_node *needs = etl_node_get(node, "needs");
    size_t n;

    if (needs == NULL) {
        return 0;
    }
    n = needs->type == ETL_NODE_SEQ ? needs->n : 1;
    st->needs = calloc(n, sizeof(*st->needs));
    if (st->needs == NULL) {
        return etl_err_nomem(err);
    }
    for (size_t i = 0; i < n; i++) {
        const struct etl_node *v = needs->type == ETL_NODE_SEQ ? needs->items[i] : needs;

        if (v->type != ETL_NODE_SCALAR) {
            return etl_node_fail(v, err, ETL_E_CONFIG, "\"needs\" lists stage names");
        }
        st->needs[st->nneeds++] = v->str;   /* owned by the document */
    }
    return 0;
}

/*
 * Configure one stage of pipeline 'p' from its YAML node: keys checked,
 * needs read, then the kind's configure().  Returns the stage (the caller
 * frees it with stage_free()), or NULL with 'err' set and placed.
 */
static struct etl_stage *
stage_load(struct etl_pipeline *p, const struct etl_node *node, struct etl_err *err)
{
    const struct etl_node *name_node = NULL;
    const struct etl_stage_kind *kind;
    struct etl_stage *st;

    kind = stage_check(node, &name_node, err);
    if (kind == NULL) {
        return NULL;
    }
    st = calloc(1, sizeof(*st));
    if (st == NULL || (st->name = strdup(name_node->str)) == NULL) {
        free(st);
        etl_err_nomem(err);
        return NULL;
    }
    st->kind = kind;
    st->node = node;
    st->pipeline = p;
    if (stage_needs(st, node, err) < 0) {
        stage_free(st);
        return NULL;
    }
    if (kind->configure != NULL && kind->configure(st, node, err) < 0) {
        etl_err_where(err, "%s:%u:%u", node->file, node->line, node->col);
        stage_free(st);
        return NULL;
    }
    return st;
}

static const char *
flow_name(enum etl_flow f)
{
    switch (f) {
    case ETL_FLOW_RUN: return "the run";
    case ETL_FLOW_FILE: return "files";
    case ETL_FLOW_ROWS: return "rows";
    default: return "nothing";
    }
}

/* Check the shape rules of the row chains and link st->next. */
static int
pipeline_link(struct etl_pipeline *p, struct etl_err *err)
{
    for (size_t i = 0; i < p->nstages; i++) {
        struct etl_stage *st = p->stages[i];
        const struct etl_node *n = st->node;

        if (st->kind->consumes == ETL_FLOW_FILE || st->kind->consumes == ETL_FLOW_ROWS) {
            struct etl_stage *prev = NULL;

            if (st->nneeds != 1) {
                return etl_node_fail(n, err, ETL_E_CONFIG,
                                     "stage \"%s\" (%s) must need exactly one stage that "
                                     "produces %s", st->name, st->kind->name,
                                     flow_name(st->kind->consumes));
            }
            for (size_t j = 0; j < p->nstages; j++) {
                if (strcmp(p->stages[j]->name, st->needs[0]) == 0) {
                    prev = p->stages[j];
                }
            }
            if (prev->kind->produces != st->kind->consumes) {
                return etl_node_fail(n, err, ETL_E_CONFIG,
                                     "stage \"%s\" (%s) consumes %s but \"%s\" (%s) produces %s",
                                     st->name, st->kind->name, flow_name(st->kind->consumes),
                                     prev->name, prev->kind->name,
                                     flow_name(prev->kind->produces));
            }
            if (st->kind->consumes == ETL_FLOW_ROWS) {
                if (prev->next != NULL) {
                    return etl_node_fail(n, err, ETL_E_CONFIG,
                                         "stages \"%s\" and \"%s\" both follow \"%s\": a row "
                                         "stream has one consumer", prev->next->name, st->name,
                                         prev->name);
                }
                prev->next = st;
            }
        }
    }
    return 0;
}

/*
 * The scalar keys of pipeline 'node' into 'p': schedule and timezone
 * (parsed into p->sched), workers, jitter, priority, catchup and catchup_max.
 * Returns 0, or -1 with 'err' set and placed at the key.
 */
static int
pipeline_options(struct etl_pipeline *p, const struct etl_node *node, struct etl_err *err)
{
    const char *s;

    if (etl_node_str(node, "schedule", NULL, &s, err) < 0) {
        return -1;
    }
    if (s != NULL && (p->schedule = strdup(s)) == NULL) {
        return etl_err_nomem(err);
    }
    if (etl_node_str(node, "timezone", NULL, &s, err) < 0) {
        return -1;
    }
    if (s != NULL && (p->timezone = strdup(s)) == NULL) {
        return etl_err_nomem(err);
    }
    if (etl_node_long(node, "workers", 1, 1, 64, &p->workers, err) < 0 ||
        etl_node_long(node, "priority", 0, -1000, 1000, &p->priority, err) < 0 ||
        etl_node_long(node, "jitter", 0, 0, 86400, &p->jitter, err) < 0 ||
        etl_node_long(node, "catchup_max", 10, 1, 1000, &p->catchup_max, err) < 0 ||
        etl_node_str(node, "catchup", "latest", &s, err) < 0) {
        return -1;
    }
    if (strcmp(s, "none") == 0) {
        p->catchup = ETL_CATCHUP_NONE;
    } else if (strcmp(s, "latest") == 0) {
        p->catchup = ETL_CATCHUP_LATEST;
    } else if (strcmp(s, "all") == 0) {
        p->catchup = ETL_CATCHUP_ALL;
    } else {
        return etl_node_fail(etl_node_get(node, "catchup"), err, ETL_E_CONFIG,
                             "\"catchup\" must be none, latest or all, not \"%s\"", s);
    }
    if (p->timezone != NULL && p->schedule == NULL) {
        return etl_node_fail(etl_node_get(node, "timezone"), err, ETL_E_CONFIG,
                             "\"timezone\" without \"schedule\"");
    }
    if (p->schedule != NULL) {
        enum etl_cron_part bad = ETL_CRON_EXPR;

        p->sched = etl_schedule_parse(p->schedule, p->timezone, &bad, err);
        if (p->sched == NULL) {
            /* the zone's key; a bad $TZ (no key) blames the schedule */
            const struct etl_node *at = bad == ETL_CRON_ZONE ? etl_node_get(node, "timezone")
                                                             : NULL;

            if (at == NULL) {
                at = etl_node_get(node, "schedule");
            }
            etl_err_where(err, "%s:%u:%u", at->file, at->line, at->col);
            return -1;
        }
    }
    return 0;
}

/*
 * The stages of 'p' from the "stages" list: each one configured, then put
 * in topological order of their needs into p->stages (p owns them from
 * then on).  Returns 0, or -1 with 'err' set and placed; the stages
 * configured so far are freed.
 */
static int
pipeline_stages(struct etl_pipeline *p, const struct etl_node *stages, struct etl_err *err)
{
    struct etl_graph_node *g = NULL;
    struct etl_stage **loaded = NULL;
    size_t *order = NULL;
    struct etl_graph_fail gf;
    int rc = -1;

    if (stages->n == 0) {
        return etl_node_fail(stages, err, ETL_E_CONFIG, "pipeline \"%s\" has no stages",
                             p->name);
    }
    loaded = calloc(stages->n, sizeof(*loaded));
    g = calloc(stages->n, sizeof(*g));
    order = calloc(stages->n, sizeof(*order));
    p->stages = calloc(stages->n, sizeof(*p->stages));
    if (loaded == NULL || g == NULL || order == NULL || p->stages == NULL) {
        etl_err_nomem(err);
        goto out;
    }
    for (size_t i = 0; i < stages->n; i++) {
        loaded[i] = stage_load(p, stages->items[i], err);
        if (loaded[i] == NULL) {
            goto out;
        }
        g[i].name = loaded[i]->name;
        g[i].needs = (const char *const *)loaded[i]->needs;
        g[i].nneeds = loaded[i]->nneeds;
    }
    if (etl_graph_order(g, stages->n, order, &gf, err) < 0) {
        /* point at the culprit's needs, else at its name */
        const struct etl_node *at = etl_node_get(stages->items[gf.node], "needs");

        if (at == NULL || gf.fault == ETL_GRAPH_DUPLICATE) {
            at = etl_node_get(stages->items[gf.node], "name");
        } else if (gf.fault == ETL_GRAPH_UNKNOWN_NEED && at->type == ETL_NODE_SEQ &&
                   gf.need < at->n) {
            at = at->items[gf.need];    /* the very item that names no stage */
        }
        etl_err_where(err, "%s:%u:%u", at->file, at->line, at->col);
        etl_err_context(err, "pipeline \"%s\"", p->name);
        goto out;
    }
    for (size_t i = 0; i < stages->n; i++) {
        p->stages[i] = loaded[order[i]];
        loaded[order[i]] = NULL;
    }
    p->nstages = stages->n;
    rc = 0;
out:
    for (size_t i = 0; loaded != NULL && i < stages->n; i++) {
        stage_free(loaded[i]);
    }
    free(loaded);
    free(g);
    free(order);
    return rc;
}

/*
 * Pipeline 'key' of the configuration from its YAML mapping 'node': its
 * keys, options and stages, and the row chains linked.  Returns the
 * pipeline (owned by the caller, freed with pipeline_free()), or NULL with
 * 'err' set and placed.
 */
static struct etl_pipeline *
pipeline_load(struct etl_config *cfg, const struct etl_node *key,
              const struct etl_node *node, struct etl_err *err)
{
    struct etl_pipeline *p;
    char what[160];

    snprintf(what, sizeof(what), "pipeline \"%s\"", key->str);
    if (etl_node_check(node, pipeline_keys, what, err) < 0) {
        return NULL;
    }
    p = calloc(1, sizeof(*p));
    if (p == NULL || (p->name = strdup(key->str)) == NULL) {
        free(p);
        etl_err_nomem(err);
        return NULL;
    }
    p->node = node;
    p->config = cfg;
    if (pipeline_options(p, node, err) < 0 ||
        pipeline_stages(p, etl_node_get(node, "stages"), err) < 0 ||
        pipeline_link(p, err) < 0) {
        pipeline_free(p);
        return NULL;
    }
    return p;
}

/* The "http" map: its listen address, checked here so that `check` finds a bad one. */
static int
config_http(struct etl_config *cfg, const struct etl_node *http, struct etl_err *err)
{
    const struct etl_node *n;
    struct etl_listen at;

    if (etl_node_check(http, http_keys, "\"http\"", err) < 0) {
        return -1;
    }
    n = etl_node_get(http, "listen");
    if (n == NULL) {
        return 0;
    }
    if (etl_listen_parse(n->str, &at, err) < 0) {
        etl_err_where(err, "%s:%u:%u", n->file, n->line, n->col);
        return -1;
    }
    if ((cfg->http_listen = strdup(n->str)) == NULL) {
        return etl_err_nomem(err);
    }
    return 0;
}

struct etl_config *
etl_config_load(const char *path, struct etl_err *err)
{
    const struct etl_node *root, *pipes, *n;
    struct etl_key keys[PIPELINE_MAX_KEYS];
    struct etl_config *cfg;
    const char *s;

    cfg = calloc(1, sizeof(*cfg));
    if (cfg == NULL || (cfg->path = strdup(path)) == NULL) {
        free(cfg);
        etl_err_nomem(err);
        return NULL;
    }
    cfg->doc = etl_doc_load(path, err);
    if (cfg->doc == NULL) {
        goto fail;
    }
    root = cfg->doc->root;
    if (root == NULL) {
        etl_err_set(err, ETL_E_CONFIG, "empty configuration");
        etl_err_where(err, "%s", path);
        goto fail;
    }
    if (etl_resource_keys(top_keys, etl_resource_kinds, keys, PIPELINE_MAX_KEYS, err) < 0 ||
        etl_node_check(root, keys, "the configuration", err) < 0) {
        goto fail;
    }
    n = etl_node_get(root, "database");
    if (n != NULL && (strstr(n->str, "password") != NULL || strstr(n->str, "://") != NULL)) {
        /* a URI may carry user:password@; refuse both forms */
        if (strstr(n->str, "password") != NULL || strchr(n->str, '@') != NULL) {
            etl_node_fail(n, err, ETL_E_CONFIG, "\"database\" must not contain a password");
            etl_err_hint(err, "use a password file (~/.pgpass, PGPASSFILE) or a service file");
            goto fail;
        }
    }
    if ((n != NULL && (cfg->database = strdup(n->str)) == NULL) ||
        etl_node_str(root, "spool", "/var/lib/ewc-etl/spool", &s, err) < 0 ||
        (cfg->spool_dir = etl_path_relative(path, s)) == NULL) {
        etl_err_nomem(err);
        goto fail;
    }
    if ((n = etl_node_get(root, "http")) != NULL && config_http(cfg, n, err) < 0) {
        goto fail;
    }
    pipes = etl_node_get(root, "pipelines");
    if (pipes->n == 0) {
        etl_node_fail(pipes, err, ETL_E_CONFIG, "no pipelines defined");
        goto fail;
    }
    if (etl_resources_load(cfg, root, etl_resource_kinds, err) < 0) {
        goto fail;
    }
    cfg->pipelines = calloc(pipes->n, sizeof(*cfg->pipelines));
    if (cfg->pipelines == NULL) {
        etl_err_nomem(err);
        goto fail;
    }
    for (size_t i = 0; i < pipes->n; i++) {
        cfg->pipelines[i] = pipeline_load(cfg, pipes->keys[i], pipes->items[i], err);
        if (cfg->pipelines[i] == NULL) {
            goto fail;
        }
        cfg->npipelines++;
    }
    return cfg;
fail:
    etl_config_free(cfg);
    return NULL;
}
