/*
 * plan.h
 *    What a run or a backfill would do, before it does it: `ewc-etl plan`
 *    and `ewc-etl backfill --dry-run`.  For each URL the run's fetch stages
 *    would ask for (templates expanded), what the ledger knows of its
 *    source -- the current version (sha256 prefix, ETag, Last-Modified,
 *    rows it loaded, when) and the rows the source has in the warehouse now,
 *    which a load would replace.
 *
 *    Without 'fetch' nothing is downloaded and nothing written (one read of
 *    the ledger).  With 'fetch' each URL is downloaded as a run does
 *    (conditional GET: 304 or the same sha256 is "unchanged") into the
 *    spool, and each changed file is loaded by the real worker path
 *    (worker.h, etl_worker_trial) in one transaction that is rolled back:
 *    the rows it would load and reject and what it would revise (added,
 *    changed, removed) are the real counts, and nothing remains -- not the
 *    rows, not the ledger's run, file, source, task or revision rows.  The
 *    spooled bodies stay (content-addressed, as a run leaves them); the
 *    sequences behind the ledger's ids advance, as a rolled-back
 *    transaction always makes them.  Stages that are not fetch or row
 *    stages (sql) are not run.
 */
#ifndef ETL_PLAN_H
#define ETL_PLAN_H

#include <stdbool.h>
#include <stdio.h>
#include "err.h"
#include "pipeline.h"

struct etl_plan_opts {
    const char *conninfo;       /* NULL: the config's, else libpq defaults */
    const char *pipeline;       /* only this one; NULL: all */
    const int *years;           /* --year (sorted); none: the stages' "years" */
    size_t nyears;
    bool backfill;              /* a backfill's URLs: those without {year} are skipped */
    bool fetch;                 /* download, and try the changed files' loads */
    bool json;                  /* one JSON array of the pipelines, else tables */
};

/*
 * Plan every selected pipeline of 'cfg' and print the report to 'out'.
 * 0, or -1 with 'err' (database unreachable or schema missing: ETL_E_DB;
 * another run holds the pipeline with 'fetch': ETL_E_BUSY; configuration:
 * ETL_E_CONFIG).  A URL that fails to download or load is part of the
 * report, not an error.
 */
int etl_plan_print(struct etl_config *cfg, const struct etl_plan_opts *opts, FILE *out,
                   struct etl_err *err) ETL_MUSTCHECK;

#endif
