/*
 * prune.h
 *    Retention applied: old runs of the ledger with their files, rejects,
 *    reconciliations and tasks, and old files of the spool, deleted -- by
 *    `ewc-etl prune [--dry-run]`, and in small batches at the end of each
 *    run.  The settings are the YAML's "retention" (retention.h).
 *
 *    What is kept, whatever its age (the rule, also in the README):
 *      - a run that is still running;
 *      - a ledger.file row that ledger.source names (the current version,
 *        file_id, or the refused one, refused_file_id), that
 *        warehouse.revision names (file_id, old_file_id), or that is a
 *        loaded version of a source with rows in warehouse.observation or in
 *        warehouse.revision: the rows' own files, and every version
 *        ewc.observation_asof() may answer with;
 *      - with a kept file: its run, its rejects and its reconciliations;
 *      - in the spool: every file whose SHA-256 the ledger still names
 *        (ledger.file, ledger.task, ledger.source), and every file younger
 *        than the spool's retention (by mtime: written or downloaded again).
 *    Tasks of pruned runs go, and those of kept old runs too (their files
 *    stay in ledger.file).  The spool deletes only regular files named as
 *    its own (64 hex digits, or a temporary ".tmp-XXXXXX"), never follows
 *    a symbolic link, never descends into a directory.
 *
 *    The ledger's part is one transaction (a transaction-level advisory
 *    lock keeps two prunes apart); foreign keys from ledger.source and
 *    warehouse.revision make any mistake roll it back.  The spool's files
 *    are deleted after its commit, from the names the ledger keeps then.
 */
#ifndef ETL_PRUNE_H
#define ETL_PRUNE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "err.h"
#include "pg.h"
#include "pipeline.h"

/* Runs pruned at most at the end of each run: one short transaction. */
#define ETL_PRUNE_BATCH_RUNS 500

struct etl_prune_opts {
    int64_t ledger_age;         /* seconds; 0: the ledger is not pruned */
    int64_t spool_age;          /* seconds; 0: the spool is not pruned */
    const char *spool_dir;      /* NULL: no spool */
    long batch;                 /* most runs pruned; 0: all */
    bool dry_run;               /* count, delete nothing (the transaction rolls back) */
    bool wait;                  /* wait for another prune, else skip (*skipped) */
};

struct etl_prune_counts {
    int64_t runs, files, rejects, reconciles, tasks;    /* deleted (or would be) */
    int64_t files_kept;         /* files of old runs kept: something refers to them */
    int64_t spool_files, spool_bytes;                   /* deleted (or would be) */
    int64_t spool_kept;         /* old spool files kept: the ledger names them */
    bool skipped;               /* another prune held the lock (opts.wait false) */
};

/*
 * Prune the ledger, then the spool, as 'o' says; *c receives the counts.
 * 'db' must have no transaction open.  Errors: the database's (the
 * transaction rolled back: nothing deleted), the spool directory's
 * (ETL_E_IO; the ledger's part stays done).
 */
int etl_prune(struct pg_conn *db, const struct etl_prune_opts *o, struct etl_prune_counts *c,
              struct etl_err *err) ETL_MUSTCHECK;

/*
 * At the end of a run: one batch of etl_prune with the config's retention
 * on 'db' (the run's connection), skipped when another prune is under
 * way.  Logs what it deleted (INFO) or its failure (WARNING); never fails
 * the run.
 */
void etl_prune_after_run(struct pg_conn *db, const struct etl_config *cfg, const char *pipeline);

/* Print the counts for `ewc-etl prune` (two lines: ledger, spool) to 'out'. */
void etl_prune_print(const struct etl_prune_opts *o, const struct etl_prune_counts *c,
                     FILE *out);

/*
 * The spool's own files in 'dir' (hash-named and temporary, regular files):
 * *files and *bytes.  A missing directory counts 0.  Errors: ETL_E_IO.
 */
int etl_prune_spool_usage(const char *dir, int64_t *files, int64_t *bytes,
                          struct etl_err *err) ETL_MUSTCHECK;

/*
 * The ledger's size: pg_total_relation_size of the tables of schema ledger
 * (with their indexes and TOAST) in *bytes, and its runs and files.
 */
int etl_prune_ledger_size(struct pg_conn *db, int64_t *bytes, int64_t *runs, int64_t *files,
                          struct etl_err *err) ETL_MUSTCHECK;

/* "12.3 MB" (SI units, one decimal; "512 B" below a kilobyte) into 'out'. */
void etl_prune_size_text(int64_t bytes, char *out, size_t size);

#endif
