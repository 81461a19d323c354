/*
 * runner.h
 *    One run of a pipeline: take the pipeline's lock, open the run in the
 *    ledger, run the stages in graph order -- run kinds once, each file
 *    through its chain of row stages in its own transaction -- and close the
 *    run with its status.  The ledger's statements are ledger*.c's, the
 *    claim loop worker.c's, one file's chain chain.c's.
 */
#ifndef ETL_RUNNER_H
#define ETL_RUNNER_H

#include <signal.h>
#include <stdbool.h>
#include "err.h"
#include "pipeline.h"

enum etl_run_status {
    ETL_RUN_OK = 0,
    ETL_RUN_OK_WITH_REJECTS,
    ETL_RUN_PARTIAL,
    ETL_RUN_FAILED
};
extern const char *const etl_run_status_names[];   /* as in ledger.run.status */

struct etl_run_opts {
    const char *conninfo;       /* NULL: the config's, else libpq defaults */
    const char *kind;           /* "manual" (default), "nightly", "backfill" */
    int year;                   /* 0: none; required for a backfill */
    const int *years;           /* a run of several years (--year 2020..2022), else NULL */
    size_t nyears;
    bool offline;               /* files from the spool, as the ledger last saw them */
    bool wait_lock;             /* wait for another run of the pipeline, not fail */
    /*
     * Called with the run's counts as files and bytes go by (often: the
     * callee throttles), and once more with p->final at the end; NULL:
     * none.  The engine prints nothing itself.
     */
    void (*progress)(const struct etl_progress *p, void *arg);
    void *progress_arg;
    long workers;               /* 0: the pipeline's "workers" */
    int64_t scheduled_for;      /* the schedule's fire time (daemon), 0 if none */
};

struct etl_run_summary {
    int64_t run_id;
    enum etl_run_status status;
    size_t files_total, files_loaded, files_unchanged, files_failed;
    int64_t rows_loaded, rows_rejected;
    int64_t rows_added, rows_changed, rows_removed;     /* against previous versions */
    double seconds;
};

/* Set by a signal handler: no new file is started once it is non-zero. */
extern volatile sig_atomic_t etl_stop_requested;

/*
 * For signal handlers (both async-signal-safe): ask this process and its
 * worker children to stop starting files; cancel the statement of the file
 * in flight (after a grace period), so that its transaction rolls back.
 */
void etl_runner_stop(void);
void etl_runner_cancel(void);

/*
 * Join the running runs of 'p' (or only run 'run_id' when > 0) as an extra
 * worker: claim and load their pending files until none is left.  *files
 * receives how many this process handled.
 */
int etl_run_worker(struct etl_pipeline *p, const char *conninfo, int64_t run_id,
                   size_t *files, struct etl_err *err) ETL_MUSTCHECK;

/*
 * Run 'p' once.  Returns 0 when the run took place (whatever the files'
 * fate: see sum->status), -1 when it could not start or broke off (no
 * database, lock held by another process: ETL_E_BUSY, ledger errors).
 */
int etl_run_pipeline(struct etl_pipeline *p, const struct etl_run_opts *opts,
                     struct etl_run_summary *sum, struct etl_err *err) ETL_MUSTCHECK;

/*
 * Count 'bytes' read from the spool, and file 'done' (NULL: none) as done,
 * in run->counts; then call the run's progress callback, if any.
 */
void etl_run_report(struct etl_run *run, size_t bytes, const struct etl_file *done);

/* The conninfo to use: the option, else $EWC_DB, else the config's, else "". */
const char *etl_run_conninfo(const struct etl_config *cfg, const char *opt);

#endif
