/*
 * stage.h
 *    A stage kind is a descriptor: its name in the YAML, what it consumes and
 *    produces, the keys it accepts and its functions.  All kinds are listed in
 *    one table, etl_stage_kinds[] (stages/registry.c); the engine reaches a
 *    stage only through it.
 *
 *    Three shapes of kind:
 *      - run kinds (fetch, sql) act on the whole run: run() is called once,
 *        after all of their needs are done;
 *      - row kinds (parse, normalize, validate, load) chain into one
 *        streaming worker per file: begin() when a file starts, process()
 *        for each chunk (bytes for the first, then whatever each produces),
 *        finish() at the end of the file, abort() when the file failed;
 *      - fetch produces files: its run() appends etl_file entries to the run.
 *    A row stage pushes its output on with etl_stage_push() and, in
 *    finish(), calls etl_stage_finish_next() after flushing.
 *
 *    The engine does not know what a chunk carries beyond bytes: a chunk is
 *    a type tag and a pointer/length, as astreamer's members (PostgreSQL
 *    src/include/fe_utils/astreamer.h).  The spool's bytes are the engine's
 *    own type; any other (the domain's row batches, etl/ewc/row.h) is
 *    defined by the code that produces it.
 */
#ifndef ETL_STAGE_H
#define ETL_STAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "config.h"
#include "err.h"

struct etl_run;
struct etl_job;
struct etl_pipeline;

enum etl_flow {
    ETL_FLOW_NONE = 0,
    ETL_FLOW_RUN,       /* the run as a whole */
    ETL_FLOW_FILE,      /* spooled files (bytes) */
    ETL_FLOW_ROWS       /* row batches of one file */
};

/*
 * The type of a chunk other than bytes.  Types are told apart by address,
 * so whoever defines one needs no number from a central list.
 */
struct etl_chunk_type {
    const char *name;           /* "rows": for messages */
};

/*
 * One chunk on its way down a file's chain.  A byte chunk (what the first
 * stage of a chain is fed from the spool) is a zeroed chunk with 'bytes'
 * and 'len' set:
 *
 *     struct etl_chunk c = { .bytes = block, .len = n };
 *
 * Any other chunk has a type and 'data'; what 'data' and 'len' mean is the
 * type's (see its header).  The chunk and what it points to are the
 * pusher's: valid only during the process() call.
 */
struct etl_chunk {
    const struct etl_chunk_type *type;  /* NULL: raw bytes */
    union {
        const char *bytes;              /* type NULL: 'len' bytes, read-only */
        void *data;                     /* otherwise */
    };
    size_t len;
};

/* The name of a chunk's type, for messages: "bytes" for a byte chunk. */
static inline const char *
etl_chunk_type_name(const struct etl_chunk *c)
{
    return c->type != NULL ? c->type->name : "bytes";
}

struct etl_stage {
    const struct etl_stage_kind *kind;
    char *name;                         /* the YAML "name:" */
    const struct etl_node *node;        /* its YAML node (doc outlives the stage) */
    struct etl_pipeline *pipeline;      /* back pointer */
    char **needs;                       /* names of the stages it follows */
    size_t nneeds;
    struct etl_stage *next;             /* next row stage of the chain, or NULL */
    struct etl_job *job;                /* row kinds: the file being processed */
    void *ctx;                          /* the kind's configured state */
};

struct etl_stage_kind {
    const char *name;                   /* the YAML "kind:" value */
    enum etl_flow consumes, produces;
    const struct etl_key *keys;         /* accepted keys besides name/kind/needs */
    const char *summary;                /* one line for --help */
    /* Read the kind's keys from 'node' (already checked against 'keys'). */
    int (*configure)(struct etl_stage *st, const struct etl_node *node, struct etl_err *err);
    /* run kinds */
    int (*run)(struct etl_stage *st, struct etl_run *run, struct etl_err *err);
    /* row kinds: a file starts (st->job is set) */
    int (*begin)(struct etl_stage *st, struct etl_err *err);
    int (*process)(struct etl_stage *st, struct etl_chunk *in, struct etl_err *err);
    int (*finish)(struct etl_stage *st, struct etl_err *err);
    /* row kinds: the file failed; drop per-file state (may follow a failed begin) */
    void (*abort)(struct etl_stage *st);
    /* Free ctx; must accept a half-configured stage. */
    void (*destroy)(struct etl_stage *st);
};

extern const struct etl_stage_kind *const etl_stage_kinds[];   /* ends with NULL */

const struct etl_stage_kind *etl_stage_kind_find(const char *name);

/* Push a chunk to st->next (no-op at the end of the chain). */
int etl_stage_push(struct etl_stage *st, struct etl_chunk *c, struct etl_err *err) ETL_MUSTCHECK;
/* Finish st->next (no-op at the end of the chain). */
int etl_stage_finish_next(struct etl_stage *st, struct etl_err *err) ETL_MUSTCHECK;

#endif
