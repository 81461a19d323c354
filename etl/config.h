/*
 * config.h
 *    The YAML loader: libyaml's event parser builds a small tree of nodes,
 *    each carrying the file, line and column it came from, so that every
 *    later error (unknown key, wrong type, unknown stage) can point at it.
 *    ${VAR} and ${VAR:-default} in scalars are replaced from the environment
 *    while loading; an unset ${VAR} without default is an error.
 *
 *    The tree is generic: the pipeline structure (pipelines, stages, needs)
 *    is read by pipeline.c, kind-specific keys by each stage's configure(),
 *    the catalogs by catalog_load.c and catalog_regions.c.
 */
#ifndef ETL_CONFIG_H
#define ETL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include "err.h"

enum etl_node_type { ETL_NODE_SCALAR, ETL_NODE_SEQ, ETL_NODE_MAP };

struct etl_node {
    enum etl_node_type type;
    const char *file;           /* owned by the document */
    unsigned line, col;         /* 1-based */
    char *str;                  /* SCALAR: value after interpolation */
    bool quoted;                /* SCALAR: was quoted ('' or "") */
    size_t n;                   /* SEQ: items; MAP: pairs */
    struct etl_node **items;    /* SEQ: the items; MAP: the values */
    struct etl_node **keys;     /* MAP: the keys (scalars), same index */
};

struct etl_doc {
    char *file;                 /* path as given */
    struct etl_node *root;      /* NULL for an empty document */
    char sha256[65];            /* hex SHA-256 of the file's bytes and the program's
                                   version ("" from memory): a refusal's key */
};

/*
 * Load a YAML file.  Returns a document the caller frees with
 * etl_doc_free(), or NULL with 'err' set (ETL_E_IO or ETL_E_CONFIG, 'where'
 * = "file:line:col").  Anchors/aliases and multiple documents are refused.
 */
struct etl_doc *etl_doc_load(const char *path, struct etl_err *err) ETL_MUSTCHECK;
/* Same, from a string in memory; 'name' is used in error locations. */
struct etl_doc *etl_doc_parse(const char *name, const char *text, size_t len,
                              struct etl_err *err) ETL_MUSTCHECK;
void etl_doc_free(struct etl_doc *doc);

/*
 * Replace ${VAR} and ${VAR:-default} in 's'.  Returns a malloc'd string or
 * NULL with 'err' set (unset variable, unterminated reference).  A "$" not
 * followed by "{" is kept as it is, so inline SQL keeps its "$$ ... $$"
 * function bodies and "$1" parameters.  A literal "${" is written "$${"
 * (always: "$${X}" gives "${X}"; a "$" right before an expansion cannot be
 * written).
 */
char *etl_interpolate(const char *s, struct etl_err *err) ETL_MUSTCHECK;

/* Set err->where to "file:line:col" of 'node'; returns -1 (for chaining). */
int etl_node_fail(const struct etl_node *node, struct etl_err *err,
                  enum etl_errcode code, const char *fmt, ...) ETL_PRINTF(4, 5);

/* Type of keys a map accepts: a table ending with {0}. */
enum etl_key_type {
    ETL_KEY_ANY = 0, ETL_KEY_STR, ETL_KEY_INT, ETL_KEY_NUM, ETL_KEY_BOOL,
    ETL_KEY_SEQ, ETL_KEY_MAP, ETL_KEY_STR_OR_SEQ
};
struct etl_key {
    const char *name;
    enum etl_key_type type;
    bool required;
    const char *help;           /* one line, for errors and --help */
};

/*
 * Check a map against a key table: 'node' must be a map, every key must be in
 * 'keys' and of its type, required keys present, no key twice.  Errors point
 * at the offending key or value: 'unknown key "urll" in ...', with the hint
 * 'did you mean "urls"?' (or, when no key is near, 'expected one of: ...').
 */
int etl_node_check(const struct etl_node *node, const struct etl_key *keys,
                   const char *what, struct etl_err *err) ETL_MUSTCHECK;
/*
 * The same check, going on after an error: every wrong key of the map is
 * added to 'd' (diag.h), a misspelt key with "did you mean" the nearest
 * keys of the table as its hint.  Returns 0, or -1 when it added any.
 * etl_node_check() keeps the first of them.
 */
struct etl_diags;
int etl_node_check_all(const struct etl_node *node, const struct etl_key *keys,
                       const char *what, struct etl_diags *d);

/* The value of 'key' in map 'node', or NULL. */
const struct etl_node *etl_node_get(const struct etl_node *node, const char *key);

/*
 * Typed getters for an optional key of a map: when the key is absent, the
 * default is stored and 0 returned; when present but of the wrong type or out
 * of range, -1 with err->where at the value.
 */
int etl_node_str(const struct etl_node *map, const char *key, const char *dflt,
                 const char **out, struct etl_err *err) ETL_MUSTCHECK;
int etl_node_long(const struct etl_node *map, const char *key, long dflt,
                  long min, long max, long *out, struct etl_err *err) ETL_MUSTCHECK;
int etl_node_double(const struct etl_node *map, const char *key, double dflt,
                    double min, double max, double *out, struct etl_err *err) ETL_MUSTCHECK;
int etl_node_bool(const struct etl_node *map, const char *key, bool dflt,
                  bool *out, struct etl_err *err) ETL_MUSTCHECK;

/* A scalar's text as a long in [min, max], -1 with where set otherwise. */
int etl_node_to_long(const struct etl_node *node, long min, long max,
                     long *out, struct etl_err *err) ETL_MUSTCHECK;

/*
 * Resolve a path named in a config file relative to that file's directory
 * (absolute paths pass through).  Returns malloc'd text or NULL (ENOMEM).
 */
char *etl_path_relative(const char *config_file, const char *path);

#endif
