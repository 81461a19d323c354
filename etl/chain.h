/*
 * chain.h
 *    One spooled file through its chain of row stages: every stage's
 *    begin(), the file's bytes pushed into the head's process() a block at a
 *    time, the head's finish() (each stage finishes the next), and, when
 *    anything failed, every stage's abort().  The chain knows nothing of the
 *    ledger or of transactions: worker.c wraps it in both.
 */
#ifndef ETL_CHAIN_H
#define ETL_CHAIN_H

#include "err.h"
#include "pipeline.h"
#include "stage.h"

/* Bytes read from the spool and pushed into the head at a time. */
#define ETL_CHAIN_READ_BYTES (256 * 1024)

/* The first row stage after fetch stage 'fetch_stage' of 'p', or NULL. */
struct etl_stage *etl_chain_head(const struct etl_pipeline *p, const char *fetch_stage);

/*
 * Drive job->file (its spool_path) through the chain from 'head', every
 * stage's st->job set to 'job' meanwhile (reset on return).  Progress goes
 * to the run's callback (etl_run_report) per block.  Returns 0 with the
 * chain's verdict in *v (etl_stage.h), or -1 with 'err' filled (the spool
 * file could not be read, a stage failed) after every stage's abort().
 */
int etl_chain_run(struct etl_stage *head, struct etl_job *job, struct etl_verdict *v,
                  struct etl_err *err) ETL_MUSTCHECK;

/*
 * What the chain's stages declare for a failure 'e' (their descriptors'
 * on_unique_violation for SQLSTATE 23505): ETL_VERDICT_RETRY_DEDUPE, or
 * ETL_VERDICT_OK when no policy applies and the failure stands.
 */
enum etl_verdict_kind etl_chain_policy(const struct etl_stage *head, const struct etl_err *e);

#endif
