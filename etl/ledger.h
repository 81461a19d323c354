/*
 * ledger.h
 *    Every statement on the ledger.* tables, as PostgreSQL's pg_depend.c
 *    owns the rows of one catalog: runs (the pipeline's advisory lock,
 *    open, tally, close), sources (validators per URL), files (one row per
 *    load or record), tasks (registered, claimed, finished), and the reads
 *    of `ewc-etl status` and of the daemon's catch-up.
 *
 *    Each function runs its statements on the connection given, inside
 *    whatever transaction is open there (none opens or ends one, except
 *    etl_ledger_task_fail_unclaimed and etl_ledger_tasks_wait_held, which
 *    say so).  All return 0, or -1 with 'err' filled by etl/pg.c (ETL_E_DB,
 *    err->sqlstate set from the server, retryable on a lost connection).
 *
 *    A URL here -- of a source, a file, a task -- is the file's URL, which
 *    stages/fetch.c made the redacted form (url.h: no userinfo, no secret
 *    query values): the ledger never holds a credential, and a source is
 *    known by its URL without them, so a new token keeps its source and
 *    validators (two tokens for one URL are one source).
 */
#ifndef ETL_LEDGER_H
#define ETL_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "err.h"
#include "pg.h"
#include "pipeline.h"

/* What a run's files came to, summed from ledger.file and ledger.task. */
struct etl_ledger_tally {
    size_t files_total, files_loaded, files_unchanged, files_failed;
    int64_t rows_loaded, rows_rejected;
    int64_t rows_added, rows_changed, rows_removed;     /* against previous versions */
};

/* ledger.source's validators of one URL (strings owned by the read). */
struct etl_ledger_source {
    const char *url;
    const char *etag;           /* NULL when none */
    const char *last_modified;  /* NULL when none */
    const char *sha256;         /* NULL: never loaded */
    /*
     * The latest version refused for its content, while no version has
     * loaded since (ledger.source.refused_*; all NULL when none): its
     * ledger.file id, SHA-256, validators, reason, and the SHA-256 of the
     * YAML it was refused under.
     */
    const char *refused_file_id;
    const char *refused_sha256;
    const char *refused_etag;
    const char *refused_last_modified;
    const char *refused_reason;
    const char *refused_config;
};

/* All sources of a pipeline, sorted by URL. */
struct etl_ledger_sources {
    struct etl_ledger_source *v;
    size_t n;
    PGresult *res;              /* keeps the strings */
};

/* --- runs --- */

/*
 * Try the pipeline's advisory lock (session level) once, on 'db'.
 * *got: whether this session holds it now.  Errors: the query's.
 */
int etl_ledger_lock_try(struct pg_conn *db, const char *pipeline, bool *got,
                        struct etl_err *err) ETL_MUSTCHECK;

/*
 * Give back the lock etl_ledger_lock_try took on 'db', before closing it:
 * a closed session's backend lets go of its locks only as it exits, a
 * moment after the client, and the next run of the pipeline (the next year
 * of a backfill, at once) must not find it still held.  A transaction
 * still open on 'db' is rolled back first.  Errors are ignored: a lost
 * session has let go already.
 */
void etl_ledger_lock_release(struct pg_conn *db, const char *pipeline);

/*
 * Open a run of 'pipeline' (holding its lock): first close as failed the
 * runs still 'running' (their process died) and their pending tasks, then
 * insert the new ledger.run row with 'kind', 'params_json', this host and
 * PID.  *run_id: its id.  Errors: the queries' (with a hint to migrate).
 */
int etl_ledger_run_open(struct pg_conn *db, const char *pipeline, const char *kind,
                        const char *params_json, int64_t *run_id,
                        struct etl_err *err) ETL_MUSTCHECK;

/*
 * Insert a ledger.run row as etl_ledger_run_open does, in whatever
 * transaction is open, without closing dead runs (writes nothing else): a
 * plan's run, rolled back with everything it loaded.
 */
int etl_ledger_run_insert(struct pg_conn *db, const char *pipeline, const char *kind,
                          const char *params_json, int64_t *run_id,
                          struct etl_err *err) ETL_MUSTCHECK;

/*
 * Sum run 'run_id' up from the ledger, whoever loaded its files: a file is
 * a ledger.file row, or a task still pending or failed without one.
 */
int etl_ledger_run_tally(struct pg_conn *db, int64_t run_id, struct etl_ledger_tally *t,
                         struct etl_err *err) ETL_MUSTCHECK;

/*
 * Close run 'run_id': finished_at, the tally, 'status' (a ledger.run.status
 * name) and 'error' (NULL: none).
 */
int etl_ledger_run_close(struct pg_conn *db, int64_t run_id, const struct etl_ledger_tally *t,
                         const char *status, const char *error,
                         struct etl_err *err) ETL_MUSTCHECK;

/*
 * Close the run's pending tasks (the run ends: failed, stopped, or a
 * backfill's year rolled back): each becomes a failed ledger.file row with
 * 'error' and its task 'failed', so that every attempt is recorded and no
 * task outlives its run as pending.  run_open does the same for the
 * pending tasks of the runs that died.
 */
int etl_ledger_run_fail_pending(struct pg_conn *db, int64_t run_id, const char *error,
                                struct etl_err *err) ETL_MUSTCHECK;

/*
 * The runs of 'pipeline' another worker may join: running, not a backfill,
 * their process alive (it holds the pipeline's advisory lock), and only
 * 'run_id' when > 0.  *ids (malloc'd, free it; NULL when *n is 0) in
 * order.  Errors: the query's, ETL_E_NOMEM.
 */
int etl_ledger_runs_alive(struct pg_conn *db, const char *pipeline, int64_t run_id,
                          int64_t **ids, size_t *n, struct etl_err *err) ETL_MUSTCHECK;

/*
 * The fire time (params.scheduled_for) of the pipeline's last scheduled
 * ('nightly') run that did not fail or die, in *t; 0 when there is none.
 */
int etl_ledger_last_scheduled(struct pg_conn *db, const char *pipeline, int64_t *t,
                              struct etl_err *err) ETL_MUSTCHECK;

/* --- sources --- */

/*
 * The ledger.source row of (pipeline, url), created if missing: *source_id,
 * and in *replaces (unless NULL) whether it has a loaded version.  Its
 * priority is set to 'priority' unless that is NULL (text, an integer).
 */
int etl_ledger_source_upsert(struct pg_conn *db, const char *pipeline, const char *url,
                             const char *priority, int64_t *source_id, bool *replaces,
                             struct etl_err *err) ETL_MUSTCHECK;

/* Set the priority of every source of 'pipeline' (at the start of a run). */
int etl_ledger_sources_priority(struct pg_conn *db, const char *pipeline, long priority,
                                struct etl_err *err) ETL_MUSTCHECK;

/*
 * Keep new validators of an unchanged body (NULL keeps the old one), so
 * that the next GET is conditional.
 */
int etl_ledger_source_validators(struct pg_conn *db, int64_t source_id, const char *etag,
                                 const char *last_modified, struct etl_err *err) ETL_MUSTCHECK;

/*
 * The source's current version is now 'f' (validators, sha256), loaded as
 * 'file_id'; a refusal remembered is forgotten.
 */
int etl_ledger_source_loaded(struct pg_conn *db, int64_t source_id, const struct etl_file *f,
                             int64_t file_id, struct etl_err *err) ETL_MUSTCHECK;

/*
 * Read the validators of every source of 'pipeline' into 's' (sorted by
 * URL; free with etl_ledger_sources_free).  A NULL 'db' reads nothing.
 * Errors: the query's (context "reading the ledger's sources"), ETL_E_NOMEM.
 */
int etl_ledger_sources_read(struct pg_conn *db, const char *pipeline,
                            struct etl_ledger_sources *s, struct etl_err *err) ETL_MUSTCHECK;

/* The source of 'url' in 's', or NULL. */
const struct etl_ledger_source *etl_ledger_sources_find(const struct etl_ledger_sources *s,
                                                        const char *url);

/* Free what etl_ledger_sources_read filled; accepts a zeroed or freed 's'. */
void etl_ledger_sources_free(struct etl_ledger_sources *s);

/*
 * What the ledger knows of the sources of 'pipeline' (a plan), in *res
 * (PQclear it), sorted by URL in byte order (strcmp): url, sha256 prefix,
 * etag, last_modified, rows its current version loaded, when (local
 * "YYYY-MM-DD HH24:MI:SS"), rows of the source in the warehouse now, the
 * current file's run id -- "" for what is unknown.
 */
int etl_ledger_sources_versions(struct pg_conn *db, const char *pipeline, PGresult **res,
                                struct etl_err *err) ETL_MUSTCHECK;

/* --- files --- */

/*
 * Insert a ledger.file row of run 'run_id' for 'f' (source_id <= 0: none),
 * with 'status' and 'error' (NULL: none); *file_id receives its id.
 */
int etl_ledger_file_insert(struct pg_conn *db, int64_t run_id, int64_t source_id,
                           const struct etl_file *f, const char *status, const char *error,
                           int64_t *file_id, struct etl_err *err) ETL_MUSTCHECK;

/*
 * A load's ledger.source row (as etl_ledger_source_upsert, with 'priority')
 * and its ledger.file row (as etl_ledger_file_insert) in one statement:
 * *source_id, *replaces (unless NULL), *file_id.
 */
int etl_ledger_file_open(struct pg_conn *db, int64_t run_id, const char *pipeline,
                         const char *priority, const struct etl_file *f, const char *status,
                         const char *error, int64_t *source_id, bool *replaces,
                         int64_t *file_id, struct etl_err *err) ETL_MUSTCHECK;

/*
 * End the load 'file_id': f->status, 'error' (NULL: none), f's row counts
 * and finished_at.
 */
int etl_ledger_file_finish(struct pg_conn *db, int64_t file_id, const struct etl_file *f,
                           const char *error, struct etl_err *err) ETL_MUSTCHECK;

/*
 * Record a file that did not go down the chain (unchanged, or failed: its
 * err formatted as the row's error): its source, new validators of an
 * unchanged body (of the refused version when f->still_refused; an
 * unchanged body is the loaded version: a refusal is forgotten), its
 * ledger.file row (*file_id, may be NULL).
 */
int etl_ledger_file_record(struct pg_conn *db, int64_t run_id, const char *pipeline,
                           const struct etl_file *f, int64_t *file_id,
                           struct etl_err *err) ETL_MUSTCHECK;

/* What etl_ledger_file_end writes. */
struct etl_ledger_end {
    int64_t file_id, source_id;
    const struct etl_file *file;
    const char *error;          /* the file row's error, NULL: none */
    bool refused;               /* remember the version as refused for its content
                                 * (fetch asks with its validators and does not
                                 * load it again while unchanged), else
                                 * etl_ledger_source_loaded */
    const char *config;         /* refused: the YAML's SHA-256 */
    int64_t task_id;            /* > 0: etl_ledger_task_finish of it too */
    const char *task_state;
};

/* Most statements etl_ledger_file_end sends after the file's. */
#define LEDGER_TAIL_MAX 4

/*
 * The end of a load in one round trip (etl_pg_batch): etl_ledger_file_finish,
 * etl_ledger_source_loaded or _refused, etl_ledger_task_finish when
 * e->task_id > 0, then the 'ntail' statements of 'tail' without parameters
 * (RELEASE SAVEPOINT, COMMIT).  The first error stops the rest: a COMMIT
 * after a failed statement is not run.
 */
int etl_ledger_file_end(struct pg_conn *db, const struct etl_ledger_end *e,
                        const char *const *tail, size_t ntail,
                        struct etl_err *err) ETL_MUSTCHECK;

/* --- tasks --- */

/* Register pending file 'f' of fetch stage 'stage' as a task of the run. */
int etl_ledger_task_add(struct pg_conn *db, int64_t run_id, const char *stage,
                        const struct etl_file *f, struct etl_err *err) ETL_MUSTCHECK;

/*
 * Register pending files 'files[0..n-1]' of fetch stage 'stage' as tasks of
 * the run, in that order, all in one transaction of their own (none may be
 * open) with a few hundred per round trip: all of them or, on an error
 * (rolled back), none.
 */
int etl_ledger_tasks_add(struct pg_conn *db, int64_t run_id, const char *stage,
                         const struct etl_file *const *files, size_t n,
                         struct etl_err *err) ETL_MUSTCHECK;

/*
 * Claim the run's next pending task in the open transaction (FOR UPDATE
 * SKIP LOCKED: other workers skip it until the transaction ends).  *got is
 * false when none is left.  Otherwise *task_id, its fetch stage's name in
 * 'stage' (truncated to stage_size), and 'f' filled (owned by the caller:
 * etl_file_clear it).  Errors: the query's, ETL_E_NOMEM ('f' cleared).
 */
int etl_ledger_task_claim(struct pg_conn *db, int64_t run_id, int64_t *task_id, char *stage,
                          size_t stage_size, struct etl_file *f, bool *got,
                          struct etl_err *err) ETL_MUSTCHECK;

/*
 * etl_ledger_task_claim with statement 'before' (BEGIN) and 'after'
 * (SAVEPOINT), either NULL for none, in the same round trip: 'after' runs
 * whether a task was got or not.
 */
int etl_ledger_task_claim_tx(struct pg_conn *db, const char *before, const char *after,
                             int64_t run_id, int64_t *task_id, char *stage, size_t stage_size,
                             struct etl_file *f, bool *got, struct etl_err *err) ETL_MUSTCHECK;

/* Close task 'task_id' as 'state' ("done", "failed") by this process, with its file. */
int etl_ledger_task_finish(struct pg_conn *db, int64_t task_id, const char *state,
                           int64_t file_id, struct etl_err *err) ETL_MUSTCHECK;

/*
 * For a task whose claim ended with its transaction: in a new transaction
 * (none may be open), if it is still pending, record 'f' failed and close
 * the task failed; if another worker took it meanwhile, write nothing.
 * Errors roll the new transaction back.
 */
int etl_ledger_task_fail_unclaimed(struct pg_conn *db, int64_t run_id, const char *pipeline,
                                   const struct etl_file *f, int64_t task_id,
                                   struct etl_err *err) ETL_MUSTCHECK;

/*
 * Wait, in a transaction of its own (none may be open), until no other
 * session holds a pending task of the run; *left = tasks still pending
 * then (their claims were abandoned).
 */
int etl_ledger_tasks_wait_held(struct pg_conn *db, int64_t run_id, int64_t *left,
                               struct etl_err *err) ETL_MUSTCHECK;

/* --- status --- */

/*
 * The latest 'limit' runs (of 'pipeline' unless NULL; only those not ok
 * when 'failed_only'), newest first, in *res (PQclear it).  Columns: id,
 * pipeline, kind, status, started, took, files_total, files_loaded,
 * files_unchanged, files_failed, rows_loaded, rows_rejected, error ("").
 */
int etl_ledger_runs_recent(struct pg_conn *db, const char *pipeline, long limit,
                           bool failed_only, PGresult **res, struct etl_err *err) ETL_MUSTCHECK;

/*
 * The names of regions, partners and indicators the catalog does not know,
 * from ledger.unmatched (current file versions only), most rows first, in
 * *res: column, name, rows, files, up to three URLs (space-separated),
 * suggestion ("" if none).
 */
int etl_ledger_unmatched(struct pg_conn *db, PGresult **res, struct etl_err *err) ETL_MUSTCHECK;

/*
 * The files of runs 'ids' (a bigint[] literal, "{3,2}") in *res: run_id,
 * status, rows_in, rows_loaded, rows_rejected, sha256 prefix, url, error.
 */
int etl_ledger_runs_files(struct pg_conn *db, const char *ids, PGresult **res,
                          struct etl_err *err) ETL_MUSTCHECK;

/*
 * As etl_ledger_runs_recent, as one JSON array (one row, one column, built
 * by the server) of the runs with their files.
 */
int etl_ledger_runs_json(struct pg_conn *db, const char *pipeline, long limit,
                         bool failed_only, PGresult **res, struct etl_err *err) ETL_MUSTCHECK;

#endif
