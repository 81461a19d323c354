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
 *    Outcomes are typed, as Fluent Bit's FLB_OK / FLB_RETRY.  finish()
 *    returns -1 with 'err' for a failure (the file fails, its transaction is
 *    rolled back), or 0 with a verdict: one struct etl_verdict goes down the
 *    whole chain, so that a stage sees what the ones before it decided (load
 *    keeps only the rejects of a refused file) and the worker gets the
 *    chain's verdict.  A stage refuses with etl_verdict_refuse(); the first
 *    refusal wins.  A failure is never read from its text: a kind declares
 *    in its descriptor what a failure with a given SQLSTATE means
 *    (on_unique_violation), and the worker acts on err->sqlstate and that.
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

/* What a file's chain decided, when it did not fail. */
enum etl_verdict_kind {
    ETL_VERDICT_OK = 0,         /* merge the file */
    ETL_VERDICT_REFUSED,        /* do not merge its rows; keep its rejects and ledger row */
    ETL_VERDICT_RETRY_DEDUPE    /* load it again with job->dedupe (repeats become rejects) */
};

struct etl_verdict {
    enum etl_verdict_kind kind;
    char reason[256];           /* ETL_VERDICT_REFUSED: why, for the ledger and the log */
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
    /* 0 with *v (in: the verdict so far; a stage may refuse), or -1 with err */
    int (*finish)(struct etl_stage *st, struct etl_verdict *v, struct etl_err *err);
    /* row kinds: the file failed; drop per-file state (may follow a failed begin) */
    void (*abort)(struct etl_stage *st);
    /*
     * The verdict a failure with SQLSTATE 23505 (unique_violation) in this
     * kind's chain turns into: ETL_VERDICT_RETRY_DEDUPE (the load stage: a
     * file that repeats a key is loaded again with the repeats rejected),
     * or ETL_VERDICT_OK (the default): no policy, the failure stands.
     */
    enum etl_verdict_kind on_unique_violation;
    /* Free ctx; must accept a half-configured stage. */
    void (*destroy)(struct etl_stage *st);
    /*
     * Optional: the settings that decide a file's fate, as `check` prints
     * them ("max_reject_ratio 0.10 (default)"), into buf.
     */
    void (*describe)(const struct etl_stage *st, char *buf, size_t size);
};

/* " (default)" when 'key' is absent from the stage's YAML, else "". */
const char *etl_stage_default_mark(const struct etl_stage *st, const char *key);

extern const struct etl_stage_kind *const etl_stage_kinds[];   /* ends with NULL */

const struct etl_stage_kind *etl_stage_kind_find(const char *name);

/* Push a chunk to st->next (no-op at the end of the chain). */
int etl_stage_push(struct etl_stage *st, struct etl_chunk *c, struct etl_err *err) ETL_MUSTCHECK;
/* Finish st->next with verdict 'v' (no-op at the end of the chain). */
int etl_stage_finish_next(struct etl_stage *st, struct etl_verdict *v,
                          struct etl_err *err) ETL_MUSTCHECK;

/* Refuse the file with a reason, unless a stage refused it already (first wins). */
void etl_verdict_refuse(struct etl_verdict *v, const char *fmt, ...) ETL_PRINTF(2, 3);

#endif
