/*
 * runner.h
 *    One run of a pipeline: take the pipeline's lock, open the run in the
 *    ledger, run the stages in graph order -- run kinds once, each file
 *    through its chain of row stages in its own transaction -- and close the
 *    run with its status.
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
    int year;                   /* 0: none */
    bool offline;
};

struct etl_run_summary {
    int64_t run_id;
    enum etl_run_status status;
    size_t files_total, files_loaded, files_unchanged, files_failed;
    int64_t rows_loaded, rows_rejected;
    double seconds;
};

/* Set by a signal handler: no new file is started once it is non-zero. */
extern volatile sig_atomic_t etl_stop_requested;

/*
 * Run 'p' once.  Returns 0 when the run took place (whatever the files'
 * fate: see sum->status), -1 when it could not start or broke off (no
 * database, lock held by another process: ETL_E_BUSY, ledger errors).
 */
int etl_run_pipeline(struct etl_pipeline *p, const struct etl_run_opts *opts,
                     struct etl_run_summary *sum, struct etl_err *err) ETL_MUSTCHECK;

/* The conninfo to use: the option, else $EWC_DB, else the config's, else "". */
const char *etl_run_conninfo(const struct etl_config *cfg, const char *opt);

#endif
