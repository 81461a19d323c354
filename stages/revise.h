/*
 * revise.h
 *    Revisions: what a re-published file changes in its source's rows.
 *
 *    A source's first version is COPY'd straight into the warehouse and
 *    records no revision (ewc.observation_asof() takes its time from
 *    ledger.file).  When the source has a version (job->replaces), the new
 *    rows go to a temporary table instead (revise_begin), and
 *    revise_record() compares them with the source's current rows by key
 *    (indicator, region, partner, period, of-which), in one hash full join:
 *
 *      added, removed, changed (value or qualifier): the current row goes,
 *          the new one comes, and the change is written to
 *          warehouse.revision with both sides;
 *      restated (the same figure, another note): the row is replaced, no
 *          revision;
 *      the same figure and note: the row stays as it is, with the file_id,
 *          line and raw text of the version that brought it.
 *
 *    So a re-publication that changes 1% of a file writes 1% of it: no
 *    delete and re-insert of every row, no index entries for rows that did
 *    not change.  All in the file's transaction: a refused file, rolled
 *    back, changes and records nothing.  The counts and the largest
 *    relative change go to the file (etl_file.rows_added ...), hence to
 *    ledger.file and the run summary.
 *
 *    Next door: load.c calls both; sql/011_history.sql has the table and
 *    the views (ewc.revision, ewc.observation_asof).
 */
#ifndef STAGES_REVISE_H
#define STAGES_REVISE_H

#include <stdint.h>

#include "etl/err.h"
#include "etl/pipeline.h"

/* The columns of a loaded row of warehouse.observation, in the order
 * load.c COPYs them (LOAD_NFIELDS there) and revise.c reads them back. */
#define REVISE_COLUMNS "indicator, region, partner, period_kind, period_start, period_end, " \
    "value, unit, qualifier, raw_value, note, source_id, file_id, run_id, line, col, of_which"

/*
 * The table the file's rows are COPY'd to, into *target:
 * "warehouse.observation" for a source's first version, else the
 * temporary "etl_new"; into *setup the statements that make it ready, to
 * run inside the load's savepoint before the COPY (NULL: none).
 */
void revise_begin(const struct etl_job *job, const char **target, const char **setup);

/*
 * Apply the keys the new rows (in etl_new) change to the source's rows,
 * record them as file 'file_id''s revisions, and fill the file's counts.
 * Without a previous version: counts of -1, nothing done.  Both ids are
 * decimal text; 'rows' is how many rows the file put in etl_new.  A file
 * that repeats a key fails with SQLSTATE 23505, as the warehouse's key
 * would fail it (the worker loads it again, repeats rejected).
 */
int revise_record(struct etl_job *job, const char *source_id, const char *file_id, int64_t rows,
                  struct etl_err *err);

#endif
