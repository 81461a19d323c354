/*
 * metrics.c
 *    Metrics for operators; see metrics.h.  The format helpers, the
 *    ledger's queries, the daemon's own counters and its /metrics and
 *    /health; the textfile of a run is metrics_file.c's.
 *
 *    Label values stay few: pipelines (the YAML's), the fixed statuses, and
 *    reject reasons folded as the view ewc.quality folds them (a quoted
 *    name becomes "…", a number N), of which the ETL_METRICS_TOP_REASONS
 *    most frequent over the ledger are kept and the rest summed as
 *    "other".  A reason that enters or leaves the top makes its series
 *    appear or stop, and "other" fall: a counter reset for Prometheus.
 *
 *    Cost of a scrape: one pass over ledger.run, ledger.file and
 *    ledger.reject (the reasons' regular expressions on every reject row),
 *    and a walk of the spool directory.  On a ledger of millions of
 *    rejects, scrape less often; each statement has the HTTP server's
 *    statement timeout.
 */
#include "metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "notify.h"
#include "pg.h"
#include "metrics_int.h"
#include "runner.h"

#ifndef ETL_VERSION
#define ETL_VERSION "dev"
#endif

/* ---- the exposition format ---- */

/* See metrics.h. */
void
etl_prom_format_value(double v, char *out, size_t size)
{
    if (isnan(v)) {
        snprintf(out, size, "NaN");
    } else if (isinf(v)) {
        snprintf(out, size, v > 0 ? "+Inf" : "-Inf");
    } else if (v == 0) {
        snprintf(out, size, "0");
    } else if (v == floor(v) && fabs(v) < 1e15) {
        snprintf(out, size, "%.0f", v);
    } else {
        snprintf(out, size, "%.15g", v);
    }
}

/* Append 's' with backslash and newline escaped, and '"' too if 'quote'. */
static int
prom_escape(struct etl_buf *b, const char *s, bool quote, struct etl_err *err)
{
    for (const char *p = s; *p != '\0'; p++) {
        int rc;

        if (*p == '\\') {
            rc = etl_buf_add(b, "\\\\", 2, err);
        } else if (*p == '\n') {
            rc = etl_buf_add(b, "\\n", 2, err);
        } else if (*p == '"' && quote) {
            rc = etl_buf_add(b, "\\\"", 2, err);
        } else {
            rc = etl_buf_addc(b, *p, err);
        }
        if (rc < 0) {
            return -1;
        }
    }
    return 0;
}

/* See metrics.h. */
int
etl_prom_label_value(struct etl_buf *b, const char *value, struct etl_err *err)
{
    return prom_escape(b, value != NULL ? value : "", true, err);
}

/* See metrics.h. */
int
etl_prom_family(struct etl_buf *b, const char *name, const char *type, const char *help,
                struct etl_err *err)
{
    if (etl_buf_printf(b, err, "# HELP %s ", name) < 0 || prom_escape(b, help, false, err) < 0 ||
        etl_buf_printf(b, err, "\n# TYPE %s %s\n", name, type) < 0) {
        return -1;
    }
    return 0;
}

/* See metrics.h. */
int
etl_prom_sample(struct etl_buf *b, const char *name, const char *const *labels, double value,
                struct etl_err *err)
{
    char v[64];

    if (etl_buf_addstr(b, name, err) < 0) {
        return -1;
    }
    if (labels != NULL && labels[0] != NULL) {
        for (size_t i = 0; labels[i] != NULL; i += 2) {
            if (etl_buf_printf(b, err, "%s%s=\"", i == 0 ? "{" : ",", labels[i]) < 0 ||
                etl_prom_label_value(b, labels[i + 1], err) < 0 ||
                etl_buf_addc(b, '"', err) < 0) {
                return -1;
            }
        }
        if (etl_buf_addc(b, '}', err) < 0) {
            return -1;
        }
    }
    etl_prom_format_value(value, v, sizeof(v));
    return etl_buf_printf(b, err, " %s\n", v);
}


void
metrics_family(struct prom *p, const char *name, const char *type, const char *help)
{
    if (p->rc == 0 && etl_prom_family(p->out, name, type, help, p->err) < 0) {
        p->rc = -1;
    }
}

void
metrics_sample(struct prom *p, const char *name, const char *const *labels, double v)
{
    if (p->rc == 0 && etl_prom_sample(p->out, name, labels, v, p->err) < 0) {
        p->rc = -1;
    }
}

/* At most this many label pairs, besides a histogram's "le". */
#define PROM_MAX_LABELS 4

/*
 * The samples of one histogram series: name_bucket for each upper bound
 * in 'le' (cumulative counts in 'counts') and +Inf, name_sum, name_count.
 */
static void
p_histogram(struct prom *p, const char *name, const char *const *labels, const double *le,
            const double *counts, size_t n, double sum, double count)
{
    const char *l[2 * PROM_MAX_LABELS + 3];
    char bucket[128], total[128], num[64];
    size_t k = 0;

    for (; labels != NULL && labels[k] != NULL && k < 2 * PROM_MAX_LABELS; k += 2) {
        l[k] = labels[k];
        l[k + 1] = labels[k + 1];
    }
    l[k] = "le";
    l[k + 2] = NULL;
    snprintf(bucket, sizeof(bucket), "%s_bucket", name);
    for (size_t i = 0; i < n; i++) {
        etl_prom_format_value(le[i], num, sizeof(num));
        l[k + 1] = num;
        metrics_sample(p, bucket, l, counts[i]);
    }
    l[k + 1] = "+Inf";
    metrics_sample(p, bucket, l, count);
    l[k] = NULL;
    snprintf(total, sizeof(total), "%s_sum", name);
    metrics_sample(p, total, l, sum);
    snprintf(total, sizeof(total), "%s_count", name);
    metrics_sample(p, total, l, count);
}

/* ---- the ledger ---- */

/* Upper bounds of the duration histograms, seconds. */
static const double run_buckets[] = { 1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400 };
static const double file_buckets[] = { 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900 };
#define NRUN_BUCKETS (sizeof(run_buckets) / sizeof(run_buckets[0]))
#define NFILE_BUCKETS (sizeof(file_buckets) / sizeof(file_buckets[0]))

static const char *const run_statuses[] = { "ok", "ok_with_rejects", "partial", "failed" };
#define NRUN_STATUSES 4

/* A field as a number; NULL and garbage are 0. */
double
metrics_num(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? 0 : strtod(PQgetvalue(res, row, col), NULL);
}

/* ", count(*) FILTER (WHERE <col> <= le)" for each bound. */
static int
sql_buckets(struct etl_buf *sql, const char *col, const double *le, size_t n,
            struct etl_err *err)
{
    for (size_t i = 0; i < n; i++) {
        if (etl_buf_printf(sql, err, ", count(*) FILTER (WHERE %s <= %g)", col, le[i]) < 0) {
            return -1;
        }
    }
    return 0;
}

/* Run 'sql' into *res; -1 with ETL_E_DB. */
static int
query(struct pg_conn *db, const char *sql, PGresult **res, struct etl_err *err)
{
    *res = NULL;
    return etl_pg_query(db, sql, 0, NULL, res, err);
}

/* Runs by status, running runs, last success, run durations. */
static int
ledger_runs(struct pg_conn *db, struct prom *p)
{
    struct etl_buf sql;
    PGresult *res = NULL;
    double counts[NRUN_BUCKETS];
    int rows;

    etl_buf_init(&sql, 1 << 16);
    if (etl_buf_addstr(&sql,
            "SELECT pipeline, "
            "count(*) FILTER (WHERE status = 'ok'), "
            "count(*) FILTER (WHERE status = 'ok_with_rejects'), "
            "count(*) FILTER (WHERE status = 'partial'), "
            "count(*) FILTER (WHERE status = 'failed'), "
            "count(*) FILTER (WHERE status = 'running'), "
            "extract(epoch FROM max(finished_at) "
            "        FILTER (WHERE status IN ('ok', 'ok_with_rejects'))), "
            "coalesce(sum(d), 0), count(d)", p->err) < 0 ||
        sql_buckets(&sql, "d", run_buckets, NRUN_BUCKETS, p->err) < 0 ||
        etl_buf_addstr(&sql,
            " FROM (SELECT pipeline, status, finished_at, "
            "              CASE WHEN status <> 'running' AND finished_at IS NOT NULL "
            "                   THEN extract(epoch FROM finished_at - started_at) END AS d "
            "         FROM ledger.run) r "
            "GROUP BY pipeline ORDER BY pipeline", p->err) < 0 ||
        query(db, sql.data, &res, p->err) < 0) {
        etl_buf_free(&sql);
        return -1;
    }
    etl_buf_free(&sql);
    rows = PQntuples(res);
    metrics_family(p, "ewc_etl_runs_total", "counter",
             "Finished runs by pipeline and status (ledger.run).");
    for (int r = 0; r < rows; r++) {
        for (int s = 0; s < NRUN_STATUSES; s++) {
            metrics_sample(p, "ewc_etl_runs_total", (const char *[]){ "pipeline",
                     PQgetvalue(res, r, 0), "status", run_statuses[s], NULL }, metrics_num(res, r, 1 + s));
        }
    }
    metrics_family(p, "ewc_etl_runs_running", "gauge",
             "Runs in progress by pipeline (ledger.run status running).");
    for (int r = 0; r < rows; r++) {
        metrics_sample(p, "ewc_etl_runs_running", (const char *[]){ "pipeline", PQgetvalue(res, r, 0),
                 NULL }, metrics_num(res, r, 5));
    }
    metrics_family(p, "ewc_etl_last_success_timestamp_seconds", "gauge",
             "End of the latest run with status ok or ok_with_rejects, by pipeline.");
    for (int r = 0; r < rows; r++) {
        if (!PQgetisnull(res, r, 6)) {
            metrics_sample(p, "ewc_etl_last_success_timestamp_seconds", (const char *[]){ "pipeline",
                     PQgetvalue(res, r, 0), NULL }, metrics_num(res, r, 6));
        }
    }
    metrics_family(p, "ewc_etl_run_duration_seconds", "histogram",
             "Duration of finished runs by pipeline (ledger.run finished_at - started_at).");
    for (int r = 0; r < rows; r++) {
        for (size_t b = 0; b < NRUN_BUCKETS; b++) {
            counts[b] = metrics_num(res, r, 9 + (int)b);
        }
        p_histogram(p, "ewc_etl_run_duration_seconds", (const char *[]){ "pipeline",
                    PQgetvalue(res, r, 0), NULL }, run_buckets, counts, NRUN_BUCKETS,
                    metrics_num(res, r, 7), metrics_num(res, r, 8));
    }
    PQclear(res);
    return p->rc;
}

/* Query ledger.file by pipeline and status into *res: counts, sums, duration buckets. */
static int
files_query(struct pg_conn *db, PGresult **res, struct etl_err *err)
{
    struct etl_buf sql;

    etl_buf_init(&sql, 1 << 16);
    if (etl_buf_addstr(&sql,
            "SELECT p.pipeline, s.status, count(f.run_id), "
            "coalesce(sum(f.rows_loaded), 0), coalesce(sum(f.rows_rejected), 0), "
            "coalesce(sum(f.rows_added), 0), coalesce(sum(f.rows_changed), 0), "
            "coalesce(sum(f.rows_removed), 0), "
            "coalesce(sum(f.bytes) FILTER (WHERE f.http_status BETWEEN 200 AND 299), 0), "
            "coalesce(sum(f.d), 0)", err) < 0 ||
        sql_buckets(&sql, "f.d", file_buckets, NFILE_BUCKETS, err) < 0 ||
        etl_buf_addstr(&sql,
            " FROM (SELECT DISTINCT pipeline FROM ledger.run) p "
            "CROSS JOIN (VALUES ('loaded'), ('unchanged'), ('failed')) AS s (status) "
            "LEFT JOIN (SELECT r.pipeline, f.run_id, f.status, f.rows_loaded, f.rows_rejected, "
            "                  f.rows_added, f.rows_changed, f.rows_removed, f.bytes, "
            "                  f.http_status, "
            "                  extract(epoch FROM f.finished_at - f.started_at) AS d "
            "             FROM ledger.file f JOIN ledger.run r ON r.id = f.run_id) f "
            "       ON f.pipeline = p.pipeline AND f.status = s.status "
            "GROUP BY p.pipeline, s.status ORDER BY p.pipeline, s.status", err) < 0 ||
        query(db, sql.data, res, err) < 0) {
        etl_buf_free(&sql);
        return -1;
    }
    etl_buf_free(&sql);
    return 0;
}

/* Rows loaded, rows rejected, bytes fetched: per pipeline, the sums of its status rows. */
static void
files_sums(struct prom *p, const PGresult *res)
{
    static const struct {
        const char *name, *help;
        int col;
    } sums[] = {
        { "ewc_etl_rows_loaded_total", "Rows loaded into the warehouse, by pipeline "
          "(ledger.file rows_loaded).", 3 },
        { "ewc_etl_rows_rejected_total", "Rows rejected, by pipeline (ledger.file "
          "rows_rejected).", 4 },
        { "ewc_etl_fetched_bytes_total", "Bytes downloaded with a 2xx answer, by pipeline "
          "(ledger.file bytes; 304 and offline files excluded).", 8 },
    };
    int rows = PQntuples(res);

    for (size_t m = 0; m < sizeof(sums) / sizeof(sums[0]); m++) {
        metrics_family(p, sums[m].name, "counter", sums[m].help);
        /* a pipeline's status rows are consecutive */
        for (int r = 0; r < rows;) {
            const char *pl = PQgetvalue(res, r, 0);
            double v = 0;

            for (; r < rows && strcmp(PQgetvalue(res, r, 0), pl) == 0; r++) {
                v += metrics_num(res, r, sums[m].col);
            }
            metrics_sample(p, sums[m].name, (const char *[]){ "pipeline", pl, NULL }, v);
        }
    }
}

/* Rows added, changed and removed by new versions of sources, per pipeline. */
static void
files_revised(struct prom *p, const PGresult *res)
{
    static const char *const changes[] = { "added", "changed", "removed" };
    int rows = PQntuples(res);

    metrics_family(p, "ewc_etl_rows_revised_total", "counter",
             "Rows a new version of a source added, changed or removed against the previous "
             "one, by pipeline (ledger.file rows_added, rows_changed, rows_removed).");
    for (int r = 0; r < rows;) {
        const char *pl = PQgetvalue(res, r, 0);
        double v[3] = { 0, 0, 0 };

        for (; r < rows && strcmp(PQgetvalue(res, r, 0), pl) == 0; r++) {
            for (int c = 0; c < 3; c++) {
                v[c] += metrics_num(res, r, 5 + c);
            }
        }
        for (int c = 0; c < 3; c++) {
            metrics_sample(p, "ewc_etl_rows_revised_total", (const char *[]){ "pipeline", pl,
                     "change", changes[c], NULL }, v[c]);
        }
    }
}

/* The histogram of file durations by pipeline and status. */
static void
files_durations(struct prom *p, const PGresult *res)
{
    double counts[NFILE_BUCKETS];
    int rows = PQntuples(res);

    metrics_family(p, "ewc_etl_file_duration_seconds", "histogram",
             "Time from a file's start to its ledger row, by pipeline and status "
             "(ledger.file finished_at - started_at).");
    for (int r = 0; r < rows; r++) {
        for (size_t b = 0; b < NFILE_BUCKETS; b++) {
            counts[b] = metrics_num(res, r, 10 + (int)b);
        }
        p_histogram(p, "ewc_etl_file_duration_seconds", (const char *[]){ "pipeline",
                    PQgetvalue(res, r, 0), "status", PQgetvalue(res, r, 1), NULL },
                    file_buckets, counts, NFILE_BUCKETS, metrics_num(res, r, 9), metrics_num(res, r, 2));
    }
}

/* Files by status, rows, revisions, bytes fetched, file durations. */
static int
ledger_files(struct pg_conn *db, struct prom *p)
{
    PGresult *res = NULL;
    int rows;

    if (files_query(db, &res, p->err) < 0) {
        return -1;
    }
    rows = PQntuples(res);
    metrics_family(p, "ewc_etl_files_total", "counter",
             "Files of runs by pipeline and status: loaded, unchanged, failed (ledger.file).");
    for (int r = 0; r < rows; r++) {
        metrics_sample(p, "ewc_etl_files_total", (const char *[]){ "pipeline", PQgetvalue(res, r, 0),
                 "status", PQgetvalue(res, r, 1), NULL }, metrics_num(res, r, 2));
    }
    files_sums(p, res);
    files_revised(p, res);
    files_durations(p, res);
    PQclear(res);
    return p->rc;
}

/* Rejected rows by pipeline and folded reason (the top ones, "other"). */
static int
ledger_rejects(struct pg_conn *db, struct prom *p)
{
    char sql[1600];
    PGresult *res = NULL;

    /* the folding of the view ewc.quality (sql/011_history.sql) */
    snprintf(sql, sizeof(sql),
             "WITH j AS ("
             "  SELECT r.pipeline, left(regexp_replace(regexp_replace(x.reason, "
             "           '\"[^\"]*\"|\u201c[^\u201d]*\u201d', '\"\u2026\"', 'g'), "
             "           '[-+]?[0-9][0-9.,]*', 'N', 'g'), 200) AS reason "
             "    FROM ledger.reject x JOIN ledger.file f ON f.id = x.file_id "
             "    JOIN ledger.run r ON r.id = f.run_id), "
             "c AS (SELECT pipeline, reason, count(*) AS n FROM j GROUP BY 1, 2), "
             "top AS (SELECT reason FROM c GROUP BY reason "
             "        ORDER BY sum(n) DESC, reason LIMIT %d) "
             "SELECT c.pipeline, CASE WHEN t.reason IS NULL THEN 'other' ELSE c.reason END, "
             "       sum(c.n) "
             "FROM c LEFT JOIN top t ON t.reason = c.reason GROUP BY 1, 2 ORDER BY 1, 2",
             ETL_METRICS_TOP_REASONS);
    if (query(db, sql, &res, p->err) < 0) {
        return -1;
    }
    metrics_family(p, "ewc_etl_rejects_total", "counter",
             "Rejected rows by pipeline and reason (ledger.reject), quoted names folded to "
             "\"\u2026\" and numbers to N; the 20 most frequent reasons, the rest as other.");
    for (int r = 0; r < PQntuples(res); r++) {
        metrics_sample(p, "ewc_etl_rejects_total", (const char *[]){ "pipeline", PQgetvalue(res, r, 0),
                 "reason", PQgetvalue(res, r, 1), NULL }, metrics_num(res, r, 2));
    }
    PQclear(res);
    return p->rc;
}

/* The latest finished run of each pipeline, as ewc_etl_last_run_* gauges. */
static int
ledger_last_runs(struct pg_conn *db, struct prom *p)
{
    struct etl_metrics_run *runs;
    PGresult *res = NULL;
    int n;

    if (query(db, "SELECT DISTINCT ON (pipeline) pipeline, id, status, "
                  "extract(epoch FROM started_at), extract(epoch FROM finished_at), "
                  "files_loaded, files_unchanged, files_failed, rows_loaded, rows_rejected, "
                  "rows_added, rows_changed, rows_removed "
                  "FROM ledger.run WHERE status <> 'running' AND finished_at IS NOT NULL "
                  "ORDER BY pipeline, id DESC", &res, p->err) < 0) {
        return -1;
    }
    n = PQntuples(res);
    runs = calloc(n > 0 ? (size_t)n : 1, sizeof(*runs));
    if (runs == NULL) {
        PQclear(res);
        return etl_err_nomem(p->err);
    }
    for (int r = 0; r < n; r++) {
        struct etl_metrics_run *m = &runs[r];

        m->pipeline = PQgetvalue(res, r, 0);
        m->run_id = (int64_t)metrics_num(res, r, 1);
        snprintf(m->status, sizeof(m->status), "%s", PQgetvalue(res, r, 2));
        m->started_at = metrics_num(res, r, 3);
        m->finished_at = metrics_num(res, r, 4);
        m->files_loaded = (int64_t)metrics_num(res, r, 5);
        m->files_unchanged = (int64_t)metrics_num(res, r, 6);
        m->files_failed = (int64_t)metrics_num(res, r, 7);
        m->rows_loaded = (int64_t)metrics_num(res, r, 8);
        m->rows_rejected = (int64_t)metrics_num(res, r, 9);
        m->rows_added = (int64_t)metrics_num(res, r, 10);
        m->rows_changed = (int64_t)metrics_num(res, r, 11);
        m->rows_removed = (int64_t)metrics_num(res, r, 12);
        m->http_retries = -1;       /* the daemon counts them in ewc_etl_http_retries_total */
    }
    if (p->rc == 0 && etl_metrics_last_runs(p->out, runs, (size_t)n, false, p->err) < 0) {
        p->rc = -1;
    }
    free(runs);
    PQclear(res);
    return p->rc;
}

/* The size of each table of the ledger schema, indexes and TOAST included. */
static int
ledger_size(struct pg_conn *db, struct prom *p)
{
    PGresult *res = NULL;

    if (query(db, "SELECT c.relname, pg_total_relation_size(c.oid) "
                  "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                  "WHERE n.nspname = 'ledger' AND c.relkind IN ('r', 'p') ORDER BY 1",
              &res, p->err) < 0) {
        return -1;
    }
    metrics_family(p, "ewc_etl_ledger_bytes", "gauge",
             "Size of each ledger table with its indexes and TOAST "
             "(pg_total_relation_size).");
    for (int r = 0; r < PQntuples(res); r++) {
        metrics_sample(p, "ewc_etl_ledger_bytes", (const char *[]){ "table", PQgetvalue(res, r, 0),
                 NULL }, metrics_num(res, r, 1));
    }
    PQclear(res);
    return p->rc;
}

/* See metrics.h. */
int
etl_metrics_ledger(struct pg_conn *db, struct etl_buf *out, struct etl_err *err)
{
    struct prom p = { out, err, 0 };
    int rc;

    if (etl_pg_exec(db, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err) < 0) {
        return -1;
    }
    rc = ledger_runs(db, &p) < 0 || ledger_files(db, &p) < 0 || ledger_rejects(db, &p) < 0 ||
         ledger_last_runs(db, &p) < 0 || ledger_size(db, &p) < 0 ? -1 : 0;
    if (rc < 0) {
        struct etl_err ignore;

        etl_err_clear(&ignore);
        (void)!etl_pg_exec(db, "ROLLBACK", &ignore);
        if (err->code == ETL_E_DB) {
            etl_err_hint(err, "has the database been migrated? ewc-etl migrate");
        }
        return -1;
    }
    return etl_pg_exec(db, "COMMIT", err);
}

/* ---- the daemon ---- */

#define DAEMON_MAX_PIPELINES 256

/* What the daemon's process knows that the ledger does not (under 'lock'). */
static struct {
    pthread_mutex_t lock;
    bool active;
    char *spool_dir;
    double stale_after;             /* s without a heartbeat: /health unavailable */
    double started_at;              /* the daemon's start, s since the epoch */
    char running[128];              /* the pipeline being run, "" when idle */
    struct {
        char name[128];
        uint64_t retries, start_failures;
    } pipelines[DAEMON_MAX_PIPELINES];
    size_t npipelines;
} daemon_state = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* See metrics.h. */
void
etl_metrics_daemon_start(const char *spool_dir, double stale_after)
{
    char *copy = spool_dir != NULL ? strdup(spool_dir) : NULL;

    pthread_mutex_lock(&daemon_state.lock);
    free(daemon_state.spool_dir);
    daemon_state.spool_dir = copy;
    daemon_state.stale_after = stale_after > 0 ? stale_after : ETL_HEALTH_STALE_DEFAULT;
    if (!daemon_state.active) {
        daemon_state.active = true;
        daemon_state.started_at = (double)time(NULL);
    }
    pthread_mutex_unlock(&daemon_state.lock);
}

/* See metrics.h. */
void
etl_metrics_daemon_running(const char *pipeline)
{
    pthread_mutex_lock(&daemon_state.lock);
    snprintf(daemon_state.running, sizeof(daemon_state.running), "%s",
             pipeline != NULL ? pipeline : "");
    pthread_mutex_unlock(&daemon_state.lock);
}

/* Count for 'pipeline' (registered if new; the table full: nothing). */
static void
daemon_count(const char *pipeline, uint64_t start_failures, uint64_t retries)
{
    size_t i;

    pthread_mutex_lock(&daemon_state.lock);
    for (i = 0; i < daemon_state.npipelines; i++) {
        if (strncmp(daemon_state.pipelines[i].name, pipeline,
                    sizeof(daemon_state.pipelines[i].name) - 1) == 0) {
            break;
        }
    }
    if (i == daemon_state.npipelines && i < DAEMON_MAX_PIPELINES) {
        snprintf(daemon_state.pipelines[i].name, sizeof(daemon_state.pipelines[i].name), "%s",
                 pipeline);
        daemon_state.npipelines++;
    }
    if (i < daemon_state.npipelines) {
        daemon_state.pipelines[i].retries += retries;
        daemon_state.pipelines[i].start_failures += start_failures;
    }
    pthread_mutex_unlock(&daemon_state.lock);
}

/* See metrics.h. */
void
etl_metrics_daemon_pipeline(const char *pipeline)
{
    daemon_count(pipeline, 0, 0);
}

/* See metrics.h. */
void
etl_metrics_daemon_ran(const char *pipeline, bool started, uint64_t retries)
{
    daemon_count(pipeline, started ? 0 : 1, retries);
}

/* The spool walk's sums (nftw has no argument; one walk at a time: see below). */
static double spool_bytes, spool_files;

static int
spool_visit(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)path;
    (void)ftw;
    if (type == FTW_F && S_ISREG(sb->st_mode)) {
        spool_bytes += (double)sb->st_size;
        spool_files += 1;
    }
    return 0;
}

/* See metrics.h. */
int
etl_metrics_render(struct pg_conn *db, struct etl_buf *out, struct etl_err *err)
{
    static pthread_mutex_t walk_lock = PTHREAD_MUTEX_INITIALIZER;
    struct prom p = { out, err, 0 };
    char *spool = NULL;
    bool walked = false;

    if (etl_metrics_ledger(db, out, err) < 0) {
        return -1;
    }
    pthread_mutex_lock(&daemon_state.lock);
    metrics_family(&p, "ewc_etl_http_retries_total", "counter",
             "HTTP retries of downloads (timeouts, 429, 5xx) by pipeline, counted by this "
             "daemon since it started (the ledger does not record them).");
    for (size_t i = 0; i < daemon_state.npipelines; i++) {
        metrics_sample(&p, "ewc_etl_http_retries_total", (const char *[]){ "pipeline",
                 daemon_state.pipelines[i].name, NULL }, (double)daemon_state.pipelines[i].retries);
    }
    metrics_family(&p, "ewc_etl_run_start_failures_total", "counter",
             "Scheduled runs that could not start (no database, the lock held), by pipeline, "
             "since this daemon started: they have no ledger row.");
    for (size_t i = 0; i < daemon_state.npipelines; i++) {
        metrics_sample(&p, "ewc_etl_run_start_failures_total", (const char *[]){ "pipeline",
                 daemon_state.pipelines[i].name, NULL },
                 (double)daemon_state.pipelines[i].start_failures);
    }
    metrics_family(&p, "ewc_etl_daemon_start_time_seconds", "gauge",
             "When this daemon started, seconds since the epoch (its own counters start there).");
    metrics_sample(&p, "ewc_etl_daemon_start_time_seconds", NULL, daemon_state.started_at);
    if (daemon_state.spool_dir != NULL && (spool = strdup(daemon_state.spool_dir)) == NULL) {
        p.rc = etl_err_nomem(err);
    }
    pthread_mutex_unlock(&daemon_state.lock);
    metrics_family(&p, "ewc_etl_build_info", "gauge", "The version of ewc-etl, as a label.");
    metrics_sample(&p, "ewc_etl_build_info", (const char *[]){ "version", ETL_VERSION, NULL }, 1);
    if (spool != NULL && p.rc == 0) {
        pthread_mutex_lock(&walk_lock);
        spool_bytes = spool_files = 0;
        walked = nftw(spool, spool_visit, 16, FTW_PHYS) == 0;
        if (walked) {
            metrics_family(&p, "ewc_etl_spool_bytes", "gauge",
                     "Bytes of the files in the spool directory.");
            metrics_sample(&p, "ewc_etl_spool_bytes", NULL, spool_bytes);
            metrics_family(&p, "ewc_etl_spool_files", "gauge", "Files in the spool directory.");
            metrics_sample(&p, "ewc_etl_spool_files", NULL, spool_files);
        }
        pthread_mutex_unlock(&walk_lock);
    }
    free(spool);
    return p.rc;
}

/* See metrics.h. */
int
etl_health_render(struct pg_conn *db, struct etl_buf *out, struct etl_err *err)
{
    double age = etl_notify_heartbeat_age(), limit;
    char running[128];

    pthread_mutex_lock(&daemon_state.lock);
    limit = daemon_state.stale_after > 0 ? daemon_state.stale_after : ETL_HEALTH_STALE_DEFAULT;
    snprintf(running, sizeof(running), "%s", daemon_state.running);
    pthread_mutex_unlock(&daemon_state.lock);
    if (etl_stop_requested) {
        return etl_err_set(err, ETL_E_BUSY, "the daemon is stopping");
    }
    if (age < 0 || age > limit) {
        etl_err_set(err, ETL_E_BUSY, "the daemon's loop has not been seen for %.0f s "
                    "(the limit is %.0f s)", age, limit);
        etl_err_hint(err, "a statement or a download that does not end? see the journal");
        return -1;
    }
    if (etl_pg_exec(db, "SELECT 1", err) < 0) {
        etl_err_context(err, "database");
        return -1;
    }
    return etl_buf_printf(out, err, "ok\nloop: seen %.1f s ago\ndatabase: ok\nrunning: %s\n",
                          age, running[0] != '\0' ? running : "-");
}
