/*
 * metrics.h
 *    Metrics for operators, in the Prometheus text exposition format 0.0.4,
 *    every name prefixed ewc_etl_:
 *    - the daemon's /metrics and /health (routes of httpd.h, daemon.c),
 *    - the textfile of one `run` or `backfill` (--metrics-file), for
 *      node_exporter's textfile collector, written atomically.
 *
 *    The ledger is the source of truth: /metrics reads it on every scrape
 *    (one REPEATABLE READ snapshot), so the counters survive restarts and
 *    agree with `ewc-etl status` and SQL on ledger.*.  Rows deleted from
 *    the ledger (pruning) make its counters fall: Prometheus takes that as
 *    a counter reset, as after an exporter's restart.  Only what the
 *    ledger does not record is counted in the daemon's process (HTTP
 *    retries, runs that could not start), from the daemon's start.
 */
#ifndef ETL_METRICS_H
#define ETL_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "buf.h"
#include "err.h"

struct pg_conn;

/* ---- the exposition format ---- */

#define ETL_PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* "# HELP name help\n# TYPE name type\n"; 'help' escaped (\\ and \n). */
int etl_prom_family(struct etl_buf *b, const char *name, const char *type, const char *help,
                    struct etl_err *err) ETL_MUSTCHECK;

/*
 * One sample line: name{l1="v1",...} value.  'labels' is NULL or
 * name/value pairs ending with a NULL name; values escaped (\\, \", \n).
 */
int etl_prom_sample(struct etl_buf *b, const char *name, const char *const *labels, double value,
                    struct etl_err *err) ETL_MUSTCHECK;

/* Append a label value escaped for the format, without the quotes. */
int etl_prom_label_value(struct etl_buf *b, const char *value, struct etl_err *err) ETL_MUSTCHECK;

/* A sample value: integers without a fraction, "+Inf", "-Inf", "NaN", else %.15g. */
void etl_prom_format_value(double v, char *out, size_t size);

/* ---- what the ledger says ---- */

/* Reject reasons kept as label values; the rest are counted as "other". */
#define ETL_METRICS_TOP_REASONS 20

/*
 * Append the ledger's metrics: runs, files, rows, rejects by reason,
 * bytes fetched, run and file durations, last success and last run per
 * pipeline, the ledger's size.  In one read-only REPEATABLE READ
 * transaction on 'db'.  -1 with ETL_E_DB (no ledger: migrate first).
 */
int etl_metrics_ledger(struct pg_conn *db, struct etl_buf *out, struct etl_err *err) ETL_MUSTCHECK;

/* ---- the daemon ---- */

/*
 * What the daemon tells its routes (kept in this process, under a lock,
 * read by the HTTP server's thread).  start: at start and after each
 * reload: the spool directory (copied); 'stale_after' seconds without a
 * heartbeat (notify.h) make /health unavailable.  running: the pipeline
 * being run now, NULL when idle.  pipeline: a scheduled pipeline, whose
 * counters show 0 before it runs.  ran: after a scheduled run of
 * 'pipeline': whether it started (a ledger row), the HTTP retries it made.
 */
void etl_metrics_daemon_start(const char *spool_dir, double stale_after);
void etl_metrics_daemon_running(const char *pipeline);
void etl_metrics_daemon_pipeline(const char *pipeline);
void etl_metrics_daemon_ran(const char *pipeline, bool started, uint64_t retries);

/* Seconds without a heartbeat before /health says the loop is stuck (no watchdog). */
#define ETL_HEALTH_STALE_DEFAULT 900.0

/*
 * The routes' render functions (etl_httpd_route.render).  /metrics: the
 * ledger's metrics and the daemon's own (HTTP retries and runs that could
 * not start per pipeline, the spool's size, start time, version).
 * /health: "ok" and a few lines when the daemon's loop beat lately and
 * 'db' answers; else -1 with ETL_E_BUSY (stopping, the loop not seen) or
 * ETL_E_DB, which the server answers with 503.
 */
int etl_metrics_render(struct pg_conn *db, struct etl_buf *out, struct etl_err *err) ETL_MUSTCHECK;
int etl_health_render(struct pg_conn *db, struct etl_buf *out, struct etl_err *err) ETL_MUSTCHECK;

/* ---- one run's metrics (the daemon's "last run" and a --metrics-file) ---- */

/* What one run did, as the ewc_etl_last_run_* gauges show it. */
struct etl_metrics_run {
    const char *pipeline;
    int64_t run_id;                 /* ledger.run.id; 0: the run could not start */
    char status[24];                /* ledger.run.status, or "not_started" */
    double started_at, finished_at; /* seconds since the epoch */
    int64_t files_loaded, files_unchanged, files_failed;
    int64_t rows_loaded, rows_rejected, rows_added, rows_changed, rows_removed;
    double last_success;            /* the pipeline's latest ok run's end; 0: none */
    int64_t http_retries;           /* retries of its downloads; -1: not counted */
};

/*
 * Append the ewc_etl_last_run_* gauges of 'runs' (and
 * ewc_etl_last_success_timestamp_seconds of those that have one).
 * 'not_started': the status state set has "not_started" too (a textfile:
 * the ledger never shows a run that did not start).
 */
int etl_metrics_last_runs(struct etl_buf *out, const struct etl_metrics_run *runs, size_t n,
                          bool not_started, struct etl_err *err) ETL_MUSTCHECK;

/*
 * The --metrics-file of a `run` or `backfill`: each run's row and its
 * pipeline's last success read again from the ledger on 'conninfo' (the
 * in-process values stay when the database cannot be reached: a warning),
 * rendered and written to 'path' atomically (etl_metrics_file_write).
 */
int etl_metrics_textfile(const char *path, const char *conninfo, struct etl_metrics_run *runs,
                         size_t n, struct etl_err *err) ETL_MUSTCHECK;

/*
 * Write 'len' bytes to 'path' atomically: a temporary file ".NAME.XXXXXX"
 * in the same directory (which node_exporter does not read: not *.prom),
 * mode 0644 whatever the umask (the collector runs as another user),
 * fsync, rename over 'path', fsync of the directory.  A failure leaves
 * 'path' as it was and no temporary file.  -1 with ETL_E_IO.
 */
int etl_metrics_file_write(const char *path, const char *data, size_t len,
                           struct etl_err *err) ETL_MUSTCHECK;

/*
 * Before a run: 'path' is not a directory and its directory exists and is
 * writable.  -1 with ETL_E_CONFIG otherwise.
 */
int etl_metrics_file_check(const char *path, struct etl_err *err) ETL_MUSTCHECK;

#endif
