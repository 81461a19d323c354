/*
 * worker.h
 *    The claim loop of one process: claim a pending task of the run, load
 *    its file (the ledger rows and the chain of row stages, in a savepoint of
 *    the file's transaction), record the outcome, end the transaction; until
 *    no task is left or a stop is asked.  The file's outcome is typed: the
 *    chain's verdict (loaded, refused), or a failure whose SQLSTATE the
 *    chain's declared policy may turn into a retry with dedupe.
 */
#ifndef ETL_WORKER_H
#define ETL_WORKER_H

#include <stdbool.h>
#include "err.h"
#include "pg.h"
#include "pipeline.h"

/*
 * Claim and load tasks of 'run' on 'db' until none is left (or a stop is
 * asked).  Each file in its own transaction, unless 'one_tx': then the
 * caller holds one transaction around all of them and any failed file
 * fails it whole.  A file that fails is recorded failed (its task closed)
 * and the loop goes on.  Returns 0, or -1 when the worker cannot go on:
 * the run's lock connection (run->db, when not NULL) or 'db' lost, a
 * ledger error, a task naming an unknown stage (ETL_E_CONFIG), or in
 * one_tx a failed file (*err says which).
 */
int etl_worker_loop(struct etl_run *run, struct pg_conn *db, bool one_tx,
                    struct etl_err *err) ETL_MUSTCHECK;

/*
 * A plan's trial load of 'f' (fetched and pending, of fetch stage f->from)
 * inside the transaction open on 'db': the real load -- ledger rows, the
 * chain, the revisions against the source's current version, the retry
 * with dedupe -- whose outcome stays in 'f' (status, err, row counts),
 * then rolled back to where it began, so that nothing of it remains and
 * the next trial sees the warehouse as it was.  0 (whatever the file's
 * fate), or -1 when the transaction cannot go on ('err': connection lost,
 * savepoint refused).
 */
int etl_worker_trial(struct etl_run *run, struct pg_conn *db, struct etl_file *f,
                     struct etl_err *err) ETL_MUSTCHECK;

/*
 * Connect to run->conninfo to load files; the connection's cancel handle
 * serves etl_worker_cancel().  NULL with 'err' set (ETL_E_DB).
 */
struct pg_conn *etl_worker_connect(const struct etl_run *run, struct etl_err *err) ETL_MUSTCHECK;

/* Drop the cancel handle (signals blocked meanwhile) and close 'db'. */
void etl_worker_disconnect(struct pg_conn *db);

/* For a signal handler: cancel the statement in flight on the worker's connection. */
void etl_worker_cancel(void);

#endif
