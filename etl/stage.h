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
 *        for each chunk (bytes for parse, row batches after), finish() at the
 *        end of the file, abort() when the file failed;
 *      - fetch produces files: its run() appends etl_file entries to the run.
 *    A row stage pushes its output on with etl_stage_push() and, in
 *    finish(), calls etl_stage_finish_next() after flushing.
 */
#ifndef ETL_STAGE_H
#define ETL_STAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "config.h"
#include "err.h"
#include "ewc/row.h"

struct etl_run;
struct etl_job;
struct etl_pipeline;

enum etl_flow {
    ETL_FLOW_NONE = 0,
    ETL_FLOW_RUN,       /* the run as a whole */
    ETL_FLOW_FILE,      /* spooled files (bytes) */
    ETL_FLOW_ROWS       /* row batches of one file */
};

/* One chunk on its way down a file's chain: bytes or a batch of rows. */
struct etl_chunk {
    const char *bytes;          /* ETL_FLOW_FILE: raw file bytes */
    size_t len;
    struct etl_batch *batch;    /* ETL_FLOW_ROWS */
};

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
