/*
 * revise.h
 *    Revisions: what a re-published file changes in its source's rows.
 *
 *    The load replaces a source's rows with the new version's.  When the
 *    source had a version (job->replaces), revise_set_aside() deletes the
 *    old rows into a temporary table instead of plain deleting them, and
 *    after the new rows are in, revise_record() compares the two by key
 *    (indicator, region, partner, period, of-which) and writes each key
 *    added, changed (value or qualifier) or removed to warehouse.revision,
 *    in the file's transaction: a refused file, rolled back, records
 *    nothing.  The counts and the largest relative change go to the file
 *    (etl_file.rows_added ...), hence to ledger.file and the run summary.
 *
 *    A first version records no revision: ewc.observation_asof() takes its
 *    time from ledger.file.  Cost, for a re-publication only: the old rows
 *    written once more to an unlogged temporary table, and one hash join of
 *    old against new; two statements.
 *
 *    Next door: load.c calls both; sql/011_history.sql has the table and
 *    the views (ewc.revision, ewc.observation_asof).
 */
#ifndef STAGES_REVISE_H
#define STAGES_REVISE_H

#include "etl/err.h"
#include "etl/pipeline.h"

/*
 * Delete the rows of the source's current version ('source_id', decimal
 * text), keeping them for revise_record() when job->replaces.  Inside the
 * load's savepoint.  0, or -1 with 'err'.
 */
int revise_set_aside(struct etl_job *job, const char *source_id, struct etl_err *err);

/*
 * Record what the new rows (now in warehouse.observation) change against
 * those set aside, as file 'file_id''s revisions, and fill the file's
 * counts.  Without a previous version: counts of -1, nothing written.
 */
int revise_record(struct etl_job *job, const char *source_id, const char *file_id,
                  struct etl_err *err);

#endif
