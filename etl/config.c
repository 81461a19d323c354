/*
 * config.c
 *    YAML documents as trees of etl_node, built from libyaml's event parser;
 *    environment interpolation; key tables and typed getters.  See config.h.
 *
 *    Every node keeps the mark (line, column) libyaml reports for its start,
 *    1-based, so errors read "pipeline.yaml:14:7: unknown key ...".
 *    Anchors and aliases are refused: a pipeline file that needs them is
 *    better split, and refusing them keeps the tree a tree.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "buf.h"
#include "diag.h"
#include "spool.h"
#include "suggest.h"

#ifdef ETL_VERSION
#define CONFIG_VERSION ETL_VERSION
#else
#define CONFIG_VERSION "dev"
#endif

#define CONFIG_MAX_DEPTH 64         /* nesting deeper than this is not a config */
#define CONFIG_MAX_SCALAR (1 << 20) /* one scalar after interpolation */

static void
node_free(struct etl_node *n)
{
    if (n == NULL) {
        return;
    }
    for (size_t i = 0; i < n->n; i++) {
        node_free(n->items[i]);
        if (n->keys != NULL) {
            node_free(n->keys[i]);
        }
    }
    free(n->items);
    free(n->keys);
    free(n->str);
    free(n);
}

void
etl_doc_free(struct etl_doc *doc)
{
    if (doc == NULL) {
        return;
    }
    node_free(doc->root);
    free(doc->file);
    free(doc);
}

int
etl_node_fail(const struct etl_node *node, struct etl_err *err,
              enum etl_errcode code, const char *fmt, ...)
{
    char msg[sizeof(err->msg)];
    va_list ap;

    if (err->code != ETL_E_NONE) {
        return -1;
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    etl_err_set(err, code, "%s", msg);
    if (node != NULL) {
        etl_err_where(err, "%s:%u:%u", node->file, node->line, node->col);
    }
    return -1;
}

/*
 * Append the expansion of the reference "${NAME}" or "${NAME:-default}"
 * starting at 'ref' (which points at its "$") to 'out'.  's' is the whole
 * scalar, for messages.  Returns the character after the closing "}", or
 * NULL with 'err' set: unterminated or malformed reference, unset
 * variable without a default, out of memory.
 */
static const char *
interpolate_ref(const char *s, const char *ref, struct etl_buf *out,
                struct etl_err *err)
{
    const char *end, *colon, *val;
    char name[256];
    size_t nlen;

    end = strchr(ref + 2, '}');
    if (end == NULL) {
        etl_err_set(err, ETL_E_CONFIG, "unterminated \"${\" in \"%s\"", s);
        return NULL;
    }
    colon = strstr(ref + 2, ":-");
    if (colon != NULL && colon > end) {
        colon = NULL;
    }
    nlen = (size_t)((colon != NULL ? colon : end) - (ref + 2));
    if (nlen == 0 || nlen >= sizeof(name)) {
        etl_err_set(err, ETL_E_CONFIG, "bad variable reference in \"%s\"", s);
        return NULL;
    }
    memcpy(name, ref + 2, nlen);
    name[nlen] = '\0';
    for (size_t i = 0; i < nlen; i++) {
        if (!(isalnum((unsigned char)name[i]) || name[i] == '_')) {
            etl_err_set(err, ETL_E_CONFIG, "bad variable name \"%s\"", name);
            return NULL;
        }
    }
    val = getenv(name);
    if (val != NULL && val[0] == '\0' && colon != NULL) {
        val = NULL;     /* ${VAR:-x}: empty counts as unset, as in sh */
    }
    if (val != NULL) {
        if (etl_buf_addstr(out, val, err) < 0) {
            return NULL;
        }
    } else if (colon != NULL) {
        if (etl_buf_add(out, colon + 2, (size_t)(end - colon - 2), err) < 0) {
            return NULL;
        }
    } else {
        etl_err_set(err, ETL_E_CONFIG, "environment variable %s is not set", name);
        etl_err_hint(err, "set it, or give a default: ${%s:-value}", name);
        return NULL;
    }
    return end + 1;
}

/*
 * 's' with ${VAR} and ${VAR:-default} replaced from the environment; see
 * config.h for the forms.  Returns a new string the caller frees, or NULL
 * with 'err' set (bad reference, unset variable, longer than
 * CONFIG_MAX_SCALAR, out of memory).
 */
char *
etl_interpolate(const char *s, struct etl_err *err)
{
    struct etl_buf out;
    const char *p = s;

    etl_buf_init(&out, CONFIG_MAX_SCALAR);
    while (*p != '\0') {
        const char *dollar = strchr(p, '$');

        if (dollar == NULL) {
            if (etl_buf_addstr(&out, p, err) < 0) {
                goto fail;
            }
            break;
        }
        if (etl_buf_add(&out, p, (size_t)(dollar - p), err) < 0) {
            goto fail;
        }
        if (dollar[1] == '$' && dollar[2] == '{') {
            /* "$${" is a literal "${" */
            if (etl_buf_add(&out, "${", 2, err) < 0) {
                goto fail;
            }
            p = dollar + 3;
            continue;
        }
        if (dollar[1] != '{') {
            /* "$$" of PL/pgSQL, "$1": kept as they are */
            if (etl_buf_addc(&out, '$', err) < 0) {
                goto fail;
            }
            p = dollar + 1;
            continue;
        }
        p = interpolate_ref(s, dollar, &out, err);
        if (p == NULL) {
            goto fail;
        }
    }
    return etl_buf_take(&out);
fail:
    etl_buf_free(&out);
    return NULL;
}

/* The parser state while building a tree. */
struct builder {
    yaml_parser_t parser;
    const char *file;
    struct etl_err *err;
};

static struct etl_node *
node_new(struct builder *b, enum etl_node_type type, const yaml_event_t *ev)
{
    struct etl_node *n = calloc(1, sizeof(*n));

    if (n == NULL) {
        etl_err_nomem(b->err);
        return NULL;
    }
    n->type = type;
    n->file = b->file;
    n->line = (unsigned)ev->start_mark.line + 1;
    n->col = (unsigned)ev->start_mark.column + 1;
    return n;
}

static int
node_append(struct builder *b, struct etl_node *parent, struct etl_node *key,
            struct etl_node *val)
{
    struct etl_node **items, **keys = parent->keys;

    items = realloc(parent->items, (parent->n + 1) * sizeof(*items));
    if (items == NULL) {
        return etl_err_nomem(b->err);
    }
    parent->items = items;
    if (parent->type == ETL_NODE_MAP) {
        keys = realloc(parent->keys, (parent->n + 1) * sizeof(*keys));
        if (keys == NULL) {
            return etl_err_nomem(b->err);
        }
        parent->keys = keys;
        keys[parent->n] = key;
    }
    items[parent->n++] = val;
    return 0;
}

static int
parse_fail(struct builder *b)
{
    const yaml_parser_t *p = &b->parser;
    const yaml_mark_t *m = p->problem != NULL ? &p->problem_mark : &p->context_mark;

    etl_err_set(b->err, ETL_E_CONFIG, "invalid YAML: %s%s%s",
                p->problem != NULL ? p->problem : "syntax error",
                p->context != NULL ? " " : "", p->context != NULL ? p->context : "");
    etl_err_where(b->err, "%s:%lu:%lu", b->file, (unsigned long)m->line + 1,
                  (unsigned long)m->column + 1);
    return -1;
}

static struct etl_node *parse_node(struct builder *b, yaml_event_t *ev, int depth);

/*
 * The scalar node of event 'ev', its text interpolated (etl_interpolate).
 * Returns the node, or NULL with b->err set, placed at the scalar.  Does
 * not delete 'ev'.
 */
static struct etl_node *
parse_scalar(struct builder *b, const yaml_event_t *ev)
{
    struct etl_node *n;
    struct etl_err ierr;

    n = node_new(b, ETL_NODE_SCALAR, ev);
    if (n == NULL) {
        return NULL;
    }
    n->quoted = ev->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
                ev->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
    etl_err_clear(&ierr);
    n->str = etl_interpolate((const char *)ev->data.scalar.value, &ierr);
    if (n->str == NULL) {
        *b->err = ierr.code != ETL_E_NONE ? ierr : *b->err;
        etl_err_where(b->err, "%s:%u:%u", n->file, n->line, n->col);
        node_free(n);
        return NULL;
    }
    return n;
}

/*
 * The sequence or mapping that starts with event 'ev', its items (and
 * keys) read from the parser up to the matching end event, each through
 * parse_node() at 'depth' + 1.  A mapping key must be a scalar.  Returns
 * the node, or NULL with b->err set; the half-built node is freed.  Does
 * not delete 'ev'.
 */
static struct etl_node *
parse_collection(struct builder *b, const yaml_event_t *ev, int depth)
{
    bool is_map = ev->type == YAML_MAPPING_START_EVENT;
    yaml_event_type_t end = is_map ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT;
    struct etl_node *n;
    yaml_event_t child;

    n = node_new(b, is_map ? ETL_NODE_MAP : ETL_NODE_SEQ, ev);
    if (n == NULL) {
        return NULL;
    }
    for (;;) {
        struct etl_node *key = NULL, *val;

        if (!yaml_parser_parse(&b->parser, &child)) {
            parse_fail(b);
            goto fail;
        }
        if (child.type == end) {
            yaml_event_delete(&child);
            break;
        }
        if (is_map) {
            if (child.type != YAML_SCALAR_EVENT) {
                etl_err_set(b->err, ETL_E_CONFIG, "a mapping key must be a plain string");
                etl_err_where(b->err, "%s:%lu:%lu", b->file,
                              (unsigned long)child.start_mark.line + 1,
                              (unsigned long)child.start_mark.column + 1);
                yaml_event_delete(&child);
                goto fail;
            }
            key = parse_node(b, &child, depth + 1);
            if (key == NULL) {
                goto fail;
            }
            if (!yaml_parser_parse(&b->parser, &child)) {
                node_free(key);
                parse_fail(b);
                goto fail;
            }
        }
        val = parse_node(b, &child, depth + 1);
        if (val == NULL) {
            node_free(key);
            goto fail;
        }
        if (node_append(b, n, key, val) < 0) {
            node_free(key);
            node_free(val);
            goto fail;
        }
    }
    return n;
fail:
    node_free(n);
    return NULL;
}

/*
 * Parse one node starting with event 'ev' (already taken from the parser;
 * this function deletes it): a scalar, or a collection with all it holds.
 * Nesting deeper than CONFIG_MAX_DEPTH, aliases and anchors are errors.
 * Returns the node (the caller owns it) or NULL with b->err set.
 */
static struct etl_node *
parse_node(struct builder *b, yaml_event_t *ev, int depth)
{
    struct etl_node *n = NULL;

    if (depth > CONFIG_MAX_DEPTH) {
        etl_err_set(b->err, ETL_E_CONFIG, "nesting deeper than %d levels", CONFIG_MAX_DEPTH);
        etl_err_where(b->err, "%s:%lu:%lu", b->file,
                      (unsigned long)ev->start_mark.line + 1,
                      (unsigned long)ev->start_mark.column + 1);
        yaml_event_delete(ev);
        return NULL;
    }
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        n = parse_scalar(b, ev);
        break;
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT:
        n = parse_collection(b, ev, depth);
        break;
    case YAML_ALIAS_EVENT:
        etl_err_set(b->err, ETL_E_CONFIG, "YAML aliases are not supported");
        etl_err_where(b->err, "%s:%lu:%lu", b->file,
                      (unsigned long)ev->start_mark.line + 1,
                      (unsigned long)ev->start_mark.column + 1);
        break;
    default:
        etl_err_set(b->err, ETL_E_CONFIG, "unexpected YAML event");
        break;
    }
    if (n != NULL && (ev->type == YAML_SCALAR_EVENT ||
                      ev->type == YAML_SEQUENCE_START_EVENT ||
                      ev->type == YAML_MAPPING_START_EVENT)) {
        const yaml_char_t *anchor = ev->type == YAML_SCALAR_EVENT ? ev->data.scalar.anchor
                                  : ev->type == YAML_SEQUENCE_START_EVENT
                                  ? ev->data.sequence_start.anchor
                                  : ev->data.mapping_start.anchor;
        if (anchor != NULL) {
            etl_err_set(b->err, ETL_E_CONFIG, "YAML anchors are not supported");
            etl_err_where(b->err, "%s:%u:%u", n->file, n->line, n->col);
            node_free(n);
            n = NULL;
        }
    }
    yaml_event_delete(ev);
    return n;
}

struct etl_doc *
etl_doc_parse(const char *name, const char *text, size_t len, struct etl_err *err)
{
    struct builder b;
    struct etl_doc *doc;
    yaml_event_t ev;
    int state = 0;      /* 0 before doc, 1 in doc (root read), 2 after doc */

    doc = calloc(1, sizeof(*doc));
    if (doc == NULL || (doc->file = strdup(name)) == NULL) {
        free(doc);
        etl_err_nomem(err);
        return NULL;
    }
    memset(&b, 0, sizeof(b));
    b.file = doc->file;
    b.err = err;
    if (!yaml_parser_initialize(&b.parser)) {
        etl_doc_free(doc);
        etl_err_nomem(err);
        return NULL;
    }
    yaml_parser_set_input_string(&b.parser, (const unsigned char *)text, len);
    for (;;) {
        if (!yaml_parser_parse(&b.parser, &ev)) {
            parse_fail(&b);
            goto fail;
        }
        if (ev.type == YAML_STREAM_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        if (ev.type == YAML_DOCUMENT_START_EVENT) {
            if (state == 2) {
                etl_err_set(err, ETL_E_CONFIG, "only one YAML document is allowed");
                etl_err_where(err, "%s:%lu:%lu", b.file, (unsigned long)ev.start_mark.line + 1,
                              (unsigned long)ev.start_mark.column + 1);
                yaml_event_delete(&ev);
                goto fail;
            }
            yaml_event_delete(&ev);
            continue;
        }
        if (ev.type == YAML_DOCUMENT_END_EVENT) {
            state = 2;
            yaml_event_delete(&ev);
            continue;
        }
        if (ev.type == YAML_STREAM_START_EVENT) {
            yaml_event_delete(&ev);
            continue;
        }
        doc->root = parse_node(&b, &ev, 0);
        if (doc->root == NULL) {
            goto fail;
        }
        state = 1;
    }
    yaml_parser_delete(&b.parser);
    return doc;
fail:
    yaml_parser_delete(&b.parser);
    etl_doc_free(doc);
    return NULL;
}

struct etl_doc *
etl_doc_load(const char *path, struct etl_err *err)
{
    struct etl_doc *doc;
    struct etl_buf text;
    char block[65536];
    size_t n;
    FILE *fp;

    fp = fopen(path, "rb");
    if (fp == NULL) {
        etl_err_errno(err, ETL_E_IO, "could not open \"%s\"", path);
        return NULL;
    }
    etl_buf_init(&text, 64u << 20);
    while ((n = fread(block, 1, sizeof(block), fp)) > 0) {
        if (etl_buf_add(&text, block, n, err) < 0) {
            etl_err_context(err, "%s", path);
            fclose(fp);
            etl_buf_free(&text);
            return NULL;
        }
    }
    if (ferror(fp)) {
        etl_err_errno(err, ETL_E_IO, "could not read \"%s\"", path);
        fclose(fp);
        etl_buf_free(&text);
        return NULL;
    }
    fclose(fp);
    doc = etl_doc_parse(path, text.data != NULL ? text.data : "", text.len, err);
    if (doc != NULL) {
        /* what the YAML said, read by this version of the program: a
         * refusal is remembered under it (ledger.source), so that a new
         * version or a changed YAML tries a refused file again */
        struct etl_err ignore;

        etl_err_clear(&ignore);
        if (etl_buf_add(&text, "\n# ewc-etl " CONFIG_VERSION "\n",
                        sizeof("\n# ewc-etl " CONFIG_VERSION "\n") - 1, &ignore) == 0) {
            etl_sha256_hex(text.data, text.len, doc->sha256);
        }
    }
    etl_buf_free(&text);
    return doc;
}

const struct etl_node *
etl_node_get(const struct etl_node *node, const char *key)
{
    if (node == NULL || node->type != ETL_NODE_MAP) {
        return NULL;
    }
    for (size_t i = 0; i < node->n; i++) {
        if (strcmp(node->keys[i]->str, key) == 0) {
            return node->items[i];
        }
    }
    return NULL;
}

static const char *
type_name(enum etl_key_type t)
{
    switch (t) {
    case ETL_KEY_STR: return "a string";
    case ETL_KEY_INT: return "an integer";
    case ETL_KEY_NUM: return "a number";
    case ETL_KEY_BOOL: return "true or false";
    case ETL_KEY_SEQ: return "a list";
    case ETL_KEY_MAP: return "a mapping";
    case ETL_KEY_STR_OR_SEQ: return "a string or a list";
    default: return "a value";
    }
}

static bool
type_ok(const struct etl_node *v, enum etl_key_type t)
{
    switch (t) {
    case ETL_KEY_ANY: return true;
    case ETL_KEY_STR:
    case ETL_KEY_INT:
    case ETL_KEY_NUM:
    case ETL_KEY_BOOL: return v->type == ETL_NODE_SCALAR;
    case ETL_KEY_SEQ: return v->type == ETL_NODE_SEQ;
    case ETL_KEY_MAP: return v->type == ETL_NODE_MAP;
    case ETL_KEY_STR_OR_SEQ: return v->type != ETL_NODE_MAP;
    }
    return false;
}

/*
 * The unknown key 'k' of a map checked against 'keys': the error at the
 * key, with the nearest keys as "did you mean" (else the whole list) as
 * its hint, added to 'd'.
 */
static void
unknown_key(const struct etl_node *k, const struct etl_key *keys, const char *what,
            struct etl_diags *d)
{
    struct etl_suggest sg;
    struct etl_buf list;
    struct etl_err e, ignore;
    char near[256];

    etl_err_clear(&e);
    etl_err_clear(&ignore);
    etl_suggest_begin(&sg, k->str);
    etl_buf_init(&list, 400);
    for (const struct etl_key *p = keys; p->name != NULL; p++) {
        etl_suggest_add(&sg, p->name);
        if (list.len < 400 && ((list.len > 0 && etl_buf_addstr(&list, ", ", &ignore) < 0) ||
                               etl_buf_addstr(&list, p->name, &ignore) < 0)) {
            break;
        }
    }
    etl_node_fail(k, &e, ETL_E_CONFIG, "unknown key \"%s\" in %s", k->str, what);
    if (etl_suggest_end(&sg, near, sizeof(near)) > 0) {
        etl_err_hint(&e, "did you mean %s?", near);
    } else if (list.len > 0) {
        etl_err_hint(&e, "expected one of: %s", list.data);
    }
    etl_buf_free(&list);
    etl_diags_add(d, &e);
}

/* A typed key's value parsed as its type (INT, NUM, BOOL); 0 or -1 with 'err'. */
static int
typed_value(const struct etl_node *node, const struct etl_key *p, struct etl_err *err)
{
    long l;
    double dv;
    bool b;

    if (p->type == ETL_KEY_INT) {
        return etl_node_long(node, p->name, 0, LONG_MIN, LONG_MAX, &l, err);
    }
    if (p->type == ETL_KEY_NUM) {
        return etl_node_double(node, p->name, 0, -HUGE_VAL, HUGE_VAL, &dv, err);
    }
    if (p->type == ETL_KEY_BOOL) {
        return etl_node_bool(node, p->name, false, &b, err);
    }
    return 0;
}

int
etl_node_check_all(const struct etl_node *node, const struct etl_key *keys,
                   const char *what, struct etl_diags *d)
{
    size_t before = etl_diags_count(d);
    struct etl_err e;

    etl_err_clear(&e);
    if (node == NULL || node->type != ETL_NODE_MAP) {
        etl_node_fail(node, &e, ETL_E_CONFIG, "%s must be a mapping", what);
        return etl_diags_add(d, &e);
    }
    for (size_t i = 0; i < node->n; i++) {
        const struct etl_node *k = node->keys[i];
        const struct etl_key *kt = NULL;
        bool twice = false;

        for (size_t j = 0; j < i && !twice; j++) {
            twice = strcmp(node->keys[j]->str, k->str) == 0;
        }
        for (const struct etl_key *p = keys; p->name != NULL && kt == NULL; p++) {
            kt = strcmp(p->name, k->str) == 0 ? p : NULL;
        }
        if (twice) {
            etl_node_fail(k, &e, ETL_E_CONFIG, "key \"%s\" given twice in %s", k->str, what);
            etl_diags_add(d, &e);
        } else if (kt == NULL) {
            unknown_key(k, keys, what, d);
        } else if (!type_ok(node->items[i], kt->type)) {
            etl_node_fail(node->items[i], &e, ETL_E_CONFIG, "\"%s\" must be %s", k->str,
                          type_name(kt->type));
            etl_diags_add(d, &e);
        }
    }
    for (const struct etl_key *p = keys; p->name != NULL; p++) {
        if (p->required && etl_node_get(node, p->name) == NULL) {
            etl_node_fail(node, &e, ETL_E_CONFIG, "%s has no \"%s\"%s%s%s", what, p->name,
                          p->help != NULL ? " (" : "", p->help != NULL ? p->help : "",
                          p->help != NULL ? ")" : "");
            etl_diags_add(d, &e);
        }
    }
    for (const struct etl_key *p = keys; p->name != NULL; p++) {
        const struct etl_node *v = etl_node_get(node, p->name);

        /* a value of the wrong shape was reported above */
        if (v != NULL && type_ok(v, p->type) && typed_value(node, p, &e) < 0) {
            etl_diags_add(d, &e);
        }
    }
    return etl_diags_count(d) > before ? -1 : 0;
}

int
etl_node_check(const struct etl_node *node, const struct etl_key *keys,
               const char *what, struct etl_err *err)
{
    struct etl_diags d;

    etl_diags_init(&d);
    if (etl_node_check_all(node, keys, what, &d) < 0) {
        if (err->code == ETL_E_NONE) {
            *err = d.first;
        }
        etl_diags_free(&d);
        return -1;
    }
    etl_diags_free(&d);
    return 0;
}

int
etl_node_str(const struct etl_node *map, const char *key, const char *dflt,
             const char **out, struct etl_err *err)
{
    const struct etl_node *v = etl_node_get(map, key);

    if (v == NULL) {
        *out = dflt;
        return 0;
    }
    if (v->type != ETL_NODE_SCALAR) {
        return etl_node_fail(v, err, ETL_E_CONFIG, "\"%s\" must be a string", key);
    }
    *out = v->str;
    return 0;
}

int
etl_node_to_long(const struct etl_node *node, long min, long max, long *out,
                 struct etl_err *err)
{
    char *end;
    long l;

    if (node->type != ETL_NODE_SCALAR || node->str[0] == '\0') {
        return etl_node_fail(node, err, ETL_E_CONFIG, "expected an integer");
    }
    errno = 0;
    l = strtol(node->str, &end, 10);
    if (errno != 0 || *end != '\0') {
        return etl_node_fail(node, err, ETL_E_CONFIG, "expected an integer, found \"%s\"",
                             node->str);
    }
    if (l < min || l > max) {
        return etl_node_fail(node, err, ETL_E_CONFIG, "%ld is out of range (%ld to %ld)",
                             l, min, max);
    }
    *out = l;
    return 0;
}

int
etl_node_long(const struct etl_node *map, const char *key, long dflt, long min,
              long max, long *out, struct etl_err *err)
{
    const struct etl_node *v = etl_node_get(map, key);

    if (v == NULL) {
        *out = dflt;
        return 0;
    }
    if (etl_node_to_long(v, min, max, out, err) < 0) {
        snprintf(err->detail, sizeof(err->detail), "key \"%s\"", key);
        return -1;
    }
    return 0;
}

int
etl_node_double(const struct etl_node *map, const char *key, double dflt,
                double min, double max, double *out, struct etl_err *err)
{
    const struct etl_node *v = etl_node_get(map, key);
    char *end;
    double d;

    if (v == NULL) {
        *out = dflt;
        return 0;
    }
    if (v->type != ETL_NODE_SCALAR || v->str[0] == '\0') {
        return etl_node_fail(v, err, ETL_E_CONFIG, "\"%s\" must be a number", key);
    }
    errno = 0;
    d = strtod(v->str, &end);
    if (errno != 0 || *end != '\0' || isnan(d)) {
        return etl_node_fail(v, err, ETL_E_CONFIG, "\"%s\" must be a number, found \"%s\"",
                             key, v->str);
    }
    if (d < min || d > max) {
        return etl_node_fail(v, err, ETL_E_CONFIG, "\"%s\" is out of range (%g to %g)",
                             key, min, max);
    }
    *out = d;
    return 0;
}

int
etl_node_bool(const struct etl_node *map, const char *key, bool dflt, bool *out,
              struct etl_err *err)
{
    const struct etl_node *v = etl_node_get(map, key);

    if (v == NULL) {
        *out = dflt;
        return 0;
    }
    if (v->type == ETL_NODE_SCALAR) {
        if (strcmp(v->str, "true") == 0 || strcmp(v->str, "yes") == 0 ||
            strcmp(v->str, "on") == 0) {
            *out = true;
            return 0;
        }
        if (strcmp(v->str, "false") == 0 || strcmp(v->str, "no") == 0 ||
            strcmp(v->str, "off") == 0) {
            *out = false;
            return 0;
        }
    }
    return etl_node_fail(v, err, ETL_E_CONFIG, "\"%s\" must be true or false", key);
}

char *
etl_path_relative(const char *config_file, const char *path)
{
    const char *slash;
    char *out;
    size_t dlen;

    if (path[0] == '/' || (slash = strrchr(config_file, '/')) == NULL) {
        return strdup(path);
    }
    dlen = (size_t)(slash - config_file);
    out = malloc(dlen + 1 + strlen(path) + 1);
    if (out == NULL) {
        return NULL;
    }
    memcpy(out, config_file, dlen);
    out[dlen] = '/';
    strcpy(out + dlen + 1, path);
    return out;
}
