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

#include "diag.h"
#include "graph.h"
#include "httpd.h"
#include "resource.h"
#include "schedule.h"
#include "suggest.h"

const char *const etl_file_status_names[] = { "pending", "unchanged", "loaded", "failed" };

/* The engine's own top-level keys; each resource kind adds its own. */
static const struct etl_key top_keys[] = {
    { "spool", ETL_KEY_STR, false, "where downloaded files are kept, by content hash" },
    { "database", ETL_KEY_STR, false, "libpq connection string, without a password" },
    { "pipelines", ETL_KEY_MAP, true, "the pipelines, by name" },
    { "retention", ETL_KEY_MAP, false, "how long the ledger and the spool keep what is old" },
    { "http", ETL_KEY_MAP, false, "the daemon's HTTP server (/metrics, /health, /): listen" },
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

/* The kinds, as "did you mean" the nearest (else all of them), into 'err''s hint. */
static void
kind_hint(const char *name, struct etl_err *err)
{
    struct etl_suggest sg;
    char list[256] = "", near[256];

    etl_suggest_begin(&sg, name);
    for (size_t i = 0; etl_stage_kinds[i] != NULL; i++) {
        etl_suggest_add(&sg, etl_stage_kinds[i]->name);
        if (i > 0) {
            etl_strlcat(list, ", ", sizeof(list));
        }
        etl_strlcat(list, etl_stage_kinds[i]->name, sizeof(list));
    }
    if (etl_suggest_end(&sg, near, sizeof(near)) > 0) {
        etl_err_hint(err, "did you mean %s?", near);
    } else {
        etl_err_hint(err, "kinds: %s", list);
    }
}

/*
 * The kind of stage 'node', after checking that it is a mapping with a
 * "name" (set in *name_node) and a known "kind", and that it has only the
 * common keys and its kind's.  Returns the kind, or NULL when there is
 * none to configure the stage with (no name, no kind, unknown kind); every
 * error goes to 'd' and *bad is set then.
 */
static const struct etl_stage_kind *
stage_check(const struct etl_node *node, const struct etl_node **name_node,
            struct etl_diags *d, bool *bad)
{
    static const struct etl_key common[] = {
        { "name", ETL_KEY_STR, true, "the stage's name" },
        { "kind", ETL_KEY_STR, true, "the stage's kind" },
        { "needs", ETL_KEY_STR_OR_SEQ, false, "the stages it follows" },
    };
    struct etl_key keys[PIPELINE_MAX_KEYS];
    const struct etl_node *kind_node;
    const struct etl_stage_kind *kind;
    struct etl_err err;
    size_t nk = 0;
    char what[160];

    etl_err_clear(&err);
    *name_node = NULL;
    *bad = true;
    if (node->type != ETL_NODE_MAP) {
        etl_node_fail(node, &err, ETL_E_CONFIG, "a stage must be a mapping");
        etl_diags_add(d, &err);
        return NULL;
    }
    *name_node = etl_node_get(node, "name");
    kind_node = etl_node_get(node, "kind");
    if (*name_node == NULL || (*name_node)->type != ETL_NODE_SCALAR) {
        *name_node = NULL;
        etl_node_fail(node, &err, ETL_E_CONFIG, "stage has no \"name\"");
        etl_diags_add(d, &err);
        return NULL;
    }
    if (kind_node == NULL || kind_node->type != ETL_NODE_SCALAR) {
        etl_node_fail(node, &err, ETL_E_CONFIG, "stage \"%s\" has no \"kind\"",
                      (*name_node)->str);
        etl_diags_add(d, &err);
        return NULL;
    }
    kind = etl_stage_kind_find(kind_node->str);
    if (kind == NULL) {
        etl_node_fail(kind_node, &err, ETL_E_CONFIG, "unknown stage kind \"%s\"", kind_node->str);
        kind_hint(kind_node->str, &err);
        etl_diags_add(d, &err);
        return NULL;
    }
    for (size_t i = 0; i < sizeof(common) / sizeof(common[0]); i++) {
        keys[nk++] = common[i];
    }
    for (const struct etl_key *k = kind->keys; k != NULL && k->name != NULL; k++) {
        if (nk + 1 >= PIPELINE_MAX_KEYS) {
            etl_err_set(&err, ETL_E_INTERNAL, "stage kind %s has too many keys", kind->name);
            etl_diags_add(d, &err);
            return kind;
        }
        keys[nk++] = *k;
    }
    memset(&keys[nk], 0, sizeof(keys[nk]));
    snprintf(what, sizeof(what), "stage \"%s\" (%s)", (*name_node)->str, kind->name);
    *bad = etl_node_check_all(node, keys, what, d) < 0;
    return kind;
}

/*
 * The "needs" of stage 'node' (a name or a list of names) into st->needs;
 * the names stay owned by the document; an item that is no name is an
 * error and left out.  Returns 0, or -1 with 'err' set.
 */
static int
stage_needs(struct etl_stage *st, const struct etl_node *node, struct etl_err *err)
{
    const struct etl_node *needs = etl_node_get(node, "needs");
    size_t n;

    if (needs == NULL || needs->type == ETL_NODE_MAP) {
        return 0;       /* a mapping: the key check said so */
    }
    n = needs->type == ETL_NODE_SEQ ? needs->n : 1;
    st->needs = calloc(n + 1, sizeof(*st->needs));
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
 * Load one stage of pipeline 'p' from its YAML node: keys checked, needs
 * read, then the kind's configure() (not when the keys are wrong, nor when
 * 'configure' is false: the resources did not load).  *out receives the
 * stage whenever it has a name, configured or not, so that the graph
 * still knows it (the caller frees it with stage_free()); NULL otherwise.
 * Returns 0, or -1 when it added errors to 'd'.
 */
static int
stage_load(struct etl_pipeline *p, const struct etl_node *node, bool configure,
           struct etl_diags *d, struct etl_stage **out)
{
    const struct etl_node *name_node = NULL;
    const struct etl_stage_kind *kind;
    struct etl_stage *st;
    struct etl_err err;
    bool bad;

    etl_err_clear(&err);
    *out = NULL;
    kind = stage_check(node, &name_node, d, &bad);
    if (name_node == NULL) {
        return -1;
    }
    st = calloc(1, sizeof(*st));
    if (st == NULL || (st->name = strdup(name_node->str)) == NULL) {
        free(st);
        etl_err_nomem(&err);
        return etl_diags_add(d, &err);
    }
    *out = st;
    st->kind = kind;
    st->node = node;
    st->pipeline = p;
    if (stage_needs(st, node, &err) < 0) {
        etl_diags_add(d, &err);
        bad = true;
    }
    if (bad || kind == NULL) {
        return -1;
    }
    if (configure && kind->configure != NULL && kind->configure(st, node, &err) < 0) {
        etl_err_where(&err, "%s:%u:%u", node->file, node->line, node->col);
        return etl_diags_add(d, &err);
    }
    return 0;
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
 * The needs of the stages 'st' (n of them, from the "stages" list
 * 'stages'; NULL for a stage without a name) checked against one another
 * in list order, as etl_graph_order() would, but going on: a name used
 * twice (at the second "name"), a stage needing itself (at its "needs"), a
 * need naming no stage (at the very item, with "did you mean" the nearest
 * names).  Each error goes to 'd'.  Returns 0, or -1 when it added any.
 */
static int
graph_check(const struct etl_pipeline *p, const struct etl_node *stages,
            struct etl_stage *const *st, struct etl_diags *d)
{
    size_t before = etl_diags_count(d);

    for (size_t i = 0; i < stages->n; i++) {
        const struct etl_node *needs = etl_node_get(stages->items[i], "needs");
        struct etl_err err;
        bool twice = false;

        if (st[i] == NULL) {
            continue;
        }
        etl_err_clear(&err);
        for (size_t j = 0; j < i && !twice; j++) {
            twice = st[j] != NULL && strcmp(st[j]->name, st[i]->name) == 0;
        }
        if (twice) {
            etl_node_fail(etl_node_get(stages->items[i], "name"), &err, ETL_E_CONFIG,
                          "stage name \"%s\" is used twice", st[i]->name);
            etl_err_context(&err, "pipeline \"%s\"", p->name);
            etl_diags_add(d, &err);
        }
        for (size_t k = 0; k < st[i]->nneeds; k++) {
            const char *need = st[i]->needs[k];
            struct etl_suggest sg;
            bool found = false;
            char near[256];

            etl_suggest_begin(&sg, need);
            for (size_t j = 0; j < stages->n && !found; j++) {
                found = st[j] != NULL && j != i && strcmp(st[j]->name, need) == 0;
                etl_suggest_add(&sg, st[j] != NULL && j != i ? st[j]->name : NULL);
            }
            if (strcmp(need, st[i]->name) == 0) {
                etl_node_fail(needs, &err, ETL_E_CONFIG, "stage \"%s\" needs itself",
                              st[i]->name);
            } else if (!found) {
                etl_node_fail(needs->type == ETL_NODE_SEQ ? needs->items[k] : needs, &err,
                              ETL_E_CONFIG, "unknown stage \"%s\" in needs of \"%s\"", need,
                              st[i]->name);
                if (etl_suggest_end(&sg, near, sizeof(near)) > 0) {
                    etl_err_hint(&err, "did you mean %s?", near);
                }
            } else {
                continue;
            }
            etl_err_context(&err, "pipeline \"%s\"", p->name);
            etl_diags_add(d, &err);
        }
    }
    return etl_diags_count(d) > before ? -1 : 0;
}

/*
 * The topological order of the stages 'loaded' (all of them named) into
 * p->stages, which owns them from then on.  Returns 0, or -1 with 'err'
 * set (a cycle), placed at the culprit's needs.
 */
static int
stages_order(struct etl_pipeline *p, const struct etl_node *stages, struct etl_stage **loaded,
             struct etl_err *err)
{
    struct etl_graph_node *g = calloc(stages->n, sizeof(*g));
    size_t *order = calloc(stages->n, sizeof(*order));
    struct etl_graph_fail gf;
    int rc = -1;

    if (g == NULL || order == NULL) {
        etl_err_nomem(err);
        goto out;
    }
    for (size_t i = 0; i < stages->n; i++) {
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
    free(g);
    free(order);
    return rc;
}

/*
 * The stages of 'p' from the "stages" list: each one loaded (configured
 * when 'configure'), the needs checked, then put in topological order of
 * their needs into p->stages.  Every error goes to 'd'; a stage with an
 * error leaves the others to be checked.  Returns 0, or -1 when it added
 * errors; the stages loaded are freed then.
 */
static int
pipeline_stages(struct etl_pipeline *p, const struct etl_node *stages, bool configure,
                struct etl_diags *d)
{
    struct etl_stage **loaded = NULL;
    struct etl_err err;
    bool bad = false;

    etl_err_clear(&err);
    if (stages->n == 0) {
        etl_node_fail(stages, &err, ETL_E_CONFIG, "pipeline \"%s\" has no stages", p->name);
        return etl_diags_add(d, &err);
    }
    loaded = calloc(stages->n, sizeof(*loaded));
    p->stages = calloc(stages->n, sizeof(*p->stages));
    if (loaded == NULL || p->stages == NULL) {
        free(loaded);
        etl_err_nomem(&err);
        return etl_diags_add(d, &err);
    }
    for (size_t i = 0; i < stages->n; i++) {
        if (stage_load(p, stages->items[i], configure, d, &loaded[i]) < 0) {
            bad = true;
        }
    }
    if (graph_check(p, stages, loaded, d) < 0) {
        bad = true;
    }
    if (!bad && stages_order(p, stages, loaded, &err) < 0) {
        etl_diags_add(d, &err);
        bad = true;
    }
    for (size_t i = 0; i < stages->n; i++) {
        stage_free(loaded[i]);
    }
    free(loaded);
    return bad ? -1 : 0;
}

/*
 * Pipeline 'key' of the configuration from its YAML mapping 'node': its
 * keys, options and stages, and the row chains linked; with 'lint', the
 * checks of `check` too (etl_pipeline_lint).  The options are read only
 * when the keys are right; the stages whenever there is a list of them.
 * Returns the pipeline (owned by the caller, freed with pipeline_free()),
 * or NULL when it added errors to 'd'.
 */
static struct etl_pipeline *
pipeline_load(struct etl_config *cfg, const struct etl_node *key, const struct etl_node *node,
              bool configure, bool lint, struct etl_diags *d)
{
    const struct etl_node *stages = etl_node_get(node, "stages");
    struct etl_pipeline *p;
    struct etl_err err;
    bool bad;
    char what[160];

    etl_err_clear(&err);
    snprintf(what, sizeof(what), "pipeline \"%s\"", key->str);
    bad = etl_node_check_all(node, pipeline_keys, what, d) < 0;
    if (node->type != ETL_NODE_MAP) {
        return NULL;
    }
    p = calloc(1, sizeof(*p));
    if (p == NULL || (p->name = strdup(key->str)) == NULL) {
        free(p);
        etl_err_nomem(&err);
        etl_diags_add(d, &err);
        return NULL;
    }
    p->node = node;
    p->config = cfg;
    if (!bad && pipeline_options(p, node, &err) < 0) {
        etl_diags_add(d, &err);
        bad = true;
    }
    if (stages == NULL || stages->type != ETL_NODE_SEQ ||
        pipeline_stages(p, stages, configure, d) < 0) {
        bad = true;
    } else if (pipeline_link(p, &err) < 0) {
        etl_diags_add(d, &err);
        bad = true;
    } else if (lint && etl_pipeline_lint(p, d) < 0) {
        bad = true;
    }
    if (bad) {
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

/*
 * The top-level keys besides the pipelines: database (no password in it)
 * and spool into 'cfg'; with 'lint', whether the spool can be written.
 * Errors go to 'd'.
 */
static void
config_top(struct etl_config *cfg, const struct etl_node *root, bool lint, struct etl_diags *d)
{
    const struct etl_node *n = etl_node_get(root, "database");
    const struct etl_node *spool = etl_node_get(root, "spool");
    struct etl_err err;

    etl_err_clear(&err);
    if (n != NULL && n->type == ETL_NODE_SCALAR) {
        /* a URI may carry user:password@; refuse both forms */
        if (strstr(n->str, "password") != NULL ||
            (strstr(n->str, "://") != NULL && strchr(n->str, '@') != NULL)) {
            etl_node_fail(n, &err, ETL_E_CONFIG, "\"database\" must not contain a password");
            etl_err_hint(&err, "use a password file (~/.pgpass, PGPASSFILE) or a service file");
            etl_diags_add(d, &err);
        } else if ((cfg->database = strdup(n->str)) == NULL) {
            etl_err_nomem(&err);
            etl_diags_add(d, &err);
        }
    }
    if (spool != NULL && spool->type != ETL_NODE_SCALAR) {
        return;         /* the key check said so */
    }
    cfg->spool_dir = etl_path_relative(cfg->path, spool != NULL ? spool->str
                                                                : "/var/lib/ewc-etl/spool");
    if (cfg->spool_dir == NULL) {
        etl_err_nomem(&err);
        etl_diags_add(d, &err);
    } else if (lint && etl_spool_lint(cfg->spool_dir, spool != NULL ? spool : root,
                                      &err) < 0) {
        etl_diags_add(d, &err);
    }
}

/*
 * Each pipeline of 'pipes' into cfg->pipelines; one with errors is left
 * out (its errors in 'd') and the next one loaded all the same.
 */
static void
config_pipelines(struct etl_config *cfg, const struct etl_node *pipes, bool configure,
                 bool lint, struct etl_diags *d)
{
    struct etl_err err;

    etl_err_clear(&err);
    cfg->pipelines = calloc(pipes->n, sizeof(*cfg->pipelines));
    if (cfg->pipelines == NULL) {
        etl_err_nomem(&err);
        etl_diags_add(d, &err);
        return;
    }
    for (size_t i = 0; i < pipes->n; i++) {
        struct etl_pipeline *p = pipeline_load(cfg, pipes->keys[i], pipes->items[i],
                                               configure, lint, d);

        if (p != NULL) {
            cfg->pipelines[cfg->npipelines++] = p;
        }
    }
}

/*
 * Load the YAML at 'path' into a configuration, every error into 'd':
 * the configuration only when there is none.  A file that does not parse
 * stops there; otherwise the loading goes on after an error wherever it
 * can (the next key, stage or pipeline), so that `check` reports them all.
 * Resources are loaded only when the top-level keys are right; the stages
 * are configured only when the resources loaded.
 */
static struct etl_config *
config_build(const char *path, bool lint, struct etl_diags *d)
{
    const struct etl_node *root, *pipes;
    struct etl_key keys[PIPELINE_MAX_KEYS];
    struct etl_config *cfg;
    struct etl_err err;
    bool top_ok, res_ok = false;
    size_t before = etl_diags_count(d);

    etl_err_clear(&err);
    cfg = calloc(1, sizeof(*cfg));
    if (cfg == NULL || (cfg->path = strdup(path)) == NULL) {
        free(cfg);
        etl_err_nomem(&err);
        etl_diags_add(d, &err);
        return NULL;
    }
    if ((cfg->doc = etl_doc_load(path, &err)) == NULL) {
        etl_diags_add(d, &err);
        goto fail;
    }
    root = cfg->doc->root;
    if (root == NULL) {
        etl_err_set(&err, ETL_E_CONFIG, "empty configuration");
        etl_err_where(&err, "%s", path);
        etl_diags_add(d, &err);
        goto fail;
    }
    if (etl_resource_keys(top_keys, etl_resource_kinds, keys, PIPELINE_MAX_KEYS, &err) < 0) {
        etl_diags_add(d, &err);
        goto fail;
    }
    top_ok = etl_node_check_all(root, keys, "the configuration", d) == 0;
    if (root->type != ETL_NODE_MAP) {
        goto fail;
    }
    config_top(cfg, root, lint, d);
    if (etl_retention_configure(root, &cfg->retention, &err) < 0) {
        etl_diags_add(d, &err);
        etl_err_clear(&err);
    }
    if (etl_node_get(root, "http") != NULL &&
        config_http(cfg, etl_node_get(root, "http"), &err) < 0) {
        etl_diags_add(d, &err);
        etl_err_clear(&err);
    }
    pipes = etl_node_get(root, "pipelines");
    if (pipes == NULL || pipes->type != ETL_NODE_MAP) {
        goto fail;      /* the key check said so */
    }
    if (pipes->n == 0) {
        etl_node_fail(pipes, &err, ETL_E_CONFIG, "no pipelines defined");
        etl_diags_add(d, &err);
        goto fail;
    }
    if (top_ok) {
        res_ok = etl_resources_load(cfg, root, etl_resource_kinds, &err) == 0;
        if (!res_ok) {
            etl_diags_add(d, &err);
        }
    }
    config_pipelines(cfg, pipes, res_ok, lint, d);
    if (etl_diags_count(d) == before) {
        return cfg;
    }
fail:
    etl_config_free(cfg);
    return NULL;
}

struct etl_config *
etl_config_load(const char *path, struct etl_err *err)
{
    struct etl_diags d;
    struct etl_config *cfg;

    etl_diags_init(&d);
    cfg = config_build(path, false, &d);
    if (cfg == NULL && err->code == ETL_E_NONE) {
        *err = d.first;
    }
    etl_diags_free(&d);
    return cfg;
}

struct etl_config *
etl_config_check(const char *path, struct etl_diags *d)
{
    return config_build(path, true, d);
}
