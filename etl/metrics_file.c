/*
 * metrics_file.c
 *    One run's metrics: the last-run gauges, and the --metrics-file of a
 *    `run` or `backfill`, written atomically for node_exporter's textfile
 *    collector.  See metrics.h.
 */
#include "metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "metrics_int.h"
#include "pg.h"
#include "runner.h"

/* The run ids and the statuses (with not_started when 'not_started'). */
static void
last_run_status(struct prom *p, const struct etl_metrics_run *runs, size_t n,
                bool not_started)
{
    static const char *const states[] = { "ok", "ok_with_rejects", "partial", "failed",
                                          "not_started" };
    size_t nstates = not_started ? 5 : 4;

    metrics_family(p, "ewc_etl_last_run_id", "gauge",
             "ledger.run.id of the pipeline's latest finished run (0: it could not start).");
    for (size_t i = 0; i < n; i++) {
        metrics_sample(p, "ewc_etl_last_run_id", (const char *[]){ "pipeline", runs[i].pipeline, NULL },
                 (double)runs[i].run_id);
    }
    metrics_family(p, "ewc_etl_last_run_status", "gauge",
             "Status of the pipeline's latest finished run: 1 for its status, 0 for the others.");
    for (size_t i = 0; i < n; i++) {
        for (size_t s = 0; s < nstates; s++) {
            metrics_sample(p, "ewc_etl_last_run_status", (const char *[]){ "pipeline",
                     runs[i].pipeline, "status", states[s], NULL },
                     strcmp(runs[i].status, states[s]) == 0 ? 1 : 0);
        }
    }
}

/* The runs' ends and durations. */
static void
last_run_times(struct prom *p, const struct etl_metrics_run *runs, size_t n)
{
    metrics_family(p, "ewc_etl_last_run_timestamp_seconds", "gauge",
             "End of the pipeline's latest finished run, seconds since the epoch.");
    for (size_t i = 0; i < n; i++) {
        metrics_sample(p, "ewc_etl_last_run_timestamp_seconds", (const char *[]){ "pipeline",
                 runs[i].pipeline, NULL }, runs[i].finished_at);
    }
    metrics_family(p, "ewc_etl_last_run_duration_seconds", "gauge",
             "Duration of the pipeline's latest finished run.");
    for (size_t i = 0; i < n; i++) {
        metrics_sample(p, "ewc_etl_last_run_duration_seconds", (const char *[]){ "pipeline",
                 runs[i].pipeline, NULL }, runs[i].finished_at - runs[i].started_at);
    }
}

/* The files by status and the rows loaded and rejected of the runs that started. */
static void
last_run_files(struct prom *p, const struct etl_metrics_run *runs, size_t n)
{
    metrics_family(p, "ewc_etl_last_run_files", "gauge",
             "Files of the pipeline's latest finished run by status.");
    for (size_t i = 0; i < n; i++) {
        const struct etl_metrics_run *m = &runs[i];
        static const char *const fs[] = { "loaded", "unchanged", "failed" };
        const int64_t v[] = { m->files_loaded, m->files_unchanged, m->files_failed };

        for (int s = 0; s < 3 && m->run_id != 0; s++) {
            metrics_sample(p, "ewc_etl_last_run_files", (const char *[]){ "pipeline", m->pipeline,
                     "status", fs[s], NULL }, (double)v[s]);
        }
    }
    metrics_family(p, "ewc_etl_last_run_rows_loaded", "gauge",
             "Rows the pipeline's latest finished run loaded.");
    for (size_t i = 0; i < n; i++) {
        if (runs[i].run_id != 0) {
            metrics_sample(p, "ewc_etl_last_run_rows_loaded", (const char *[]){ "pipeline",
                     runs[i].pipeline, NULL }, (double)runs[i].rows_loaded);
        }
    }
    metrics_family(p, "ewc_etl_last_run_rows_rejected", "gauge",
             "Rows the pipeline's latest finished run rejected.");
    for (size_t i = 0; i < n; i++) {
        if (runs[i].run_id != 0) {
            metrics_sample(p, "ewc_etl_last_run_rows_rejected", (const char *[]){ "pipeline",
                     runs[i].pipeline, NULL }, (double)runs[i].rows_rejected);
        }
    }
}

/* The rows added, changed and removed by the runs that started. */
static void
last_run_revised(struct prom *p, const struct etl_metrics_run *runs, size_t n)
{
    static const char *const changes[] = { "added", "changed", "removed" };

    metrics_family(p, "ewc_etl_last_run_rows_revised", "gauge",
             "Rows the pipeline's latest finished run added, changed or removed against the "
             "sources' previous versions.");
    for (size_t i = 0; i < n; i++) {
        const struct etl_metrics_run *m = &runs[i];
        const int64_t v[] = { m->rows_added, m->rows_changed, m->rows_removed };

        for (int c = 0; c < 3 && m->run_id != 0; c++) {
            metrics_sample(p, "ewc_etl_last_run_rows_revised", (const char *[]){ "pipeline",
                     m->pipeline, "change", changes[c], NULL }, (double)v[c]);
        }
    }
}

/* The HTTP retries and the last successes, of the runs that know them (if any does). */
static void
last_run_optional(struct prom *p, const struct etl_metrics_run *runs, size_t n)
{
    bool any = false;

    for (size_t i = 0; i < n; i++) {
        any = any || runs[i].http_retries >= 0;
    }
    if (any) {
        metrics_family(p, "ewc_etl_last_run_http_retries", "gauge",
                 "HTTP retries of the downloads of the pipeline's latest run.");
        for (size_t i = 0; i < n; i++) {
            if (runs[i].http_retries >= 0) {
                metrics_sample(p, "ewc_etl_last_run_http_retries", (const char *[]){ "pipeline",
                         runs[i].pipeline, NULL }, (double)runs[i].http_retries);
            }
        }
    }
    any = false;
    for (size_t i = 0; i < n; i++) {
        any = any || runs[i].last_success > 0;
    }
    if (any) {
        metrics_family(p, "ewc_etl_last_success_timestamp_seconds", "gauge",
                 "End of the latest run with status ok or ok_with_rejects, by pipeline.");
        for (size_t i = 0; i < n; i++) {
            if (runs[i].last_success > 0) {
                metrics_sample(p, "ewc_etl_last_success_timestamp_seconds", (const char *[]){
                         "pipeline", runs[i].pipeline, NULL }, runs[i].last_success);
            }
        }
    }
}

/* See metrics.h. */
int
etl_metrics_last_runs(struct etl_buf *out, const struct etl_metrics_run *runs, size_t n,
                      bool not_started, struct etl_err *err)
{
    struct prom p = { out, err, 0 };

    if (n == 0) {
        return 0;
    }
    last_run_status(&p, runs, n, not_started);
    last_run_times(&p, runs, n);
    last_run_files(&p, runs, n);
    last_run_revised(&p, runs, n);
    last_run_optional(&p, runs, n);
    return p.rc;
}

/* Refresh 'm' from its ledger row and its pipeline's last success. */
static int
textfile_refresh(struct pg_conn *db, struct etl_metrics_run *m, struct etl_err *err)
{
    char id[24];
    const char *params[2] = { id, m->pipeline };
    PGresult *res = NULL;

    snprintf(id, sizeof(id), "%lld", (long long)m->run_id);
    if (etl_pg_query(db, "SELECT status, extract(epoch FROM started_at), "
                         "extract(epoch FROM finished_at), files_loaded, files_unchanged, "
                         "files_failed, rows_loaded, rows_rejected, rows_added, rows_changed, "
                         "rows_removed, "
                         "(SELECT extract(epoch FROM max(finished_at)) FROM ledger.run "
                         "  WHERE pipeline = $2 AND status IN ('ok', 'ok_with_rejects')) "
                         "FROM (SELECT 1) one LEFT JOIN ledger.run r ON r.id = $1",
                     2, params, &res, err) < 0) {
        return -1;
    }
    if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0) &&
        strcmp(PQgetvalue(res, 0, 0), "running") != 0) {
        snprintf(m->status, sizeof(m->status), "%s", PQgetvalue(res, 0, 0));
        m->started_at = metrics_num(res, 0, 1);
        m->finished_at = metrics_num(res, 0, 2);
        m->files_loaded = (int64_t)metrics_num(res, 0, 3);
        m->files_unchanged = (int64_t)metrics_num(res, 0, 4);
        m->files_failed = (int64_t)metrics_num(res, 0, 5);
        m->rows_loaded = (int64_t)metrics_num(res, 0, 6);
        m->rows_rejected = (int64_t)metrics_num(res, 0, 7);
        m->rows_added = (int64_t)metrics_num(res, 0, 8);
        m->rows_changed = (int64_t)metrics_num(res, 0, 9);
        m->rows_removed = (int64_t)metrics_num(res, 0, 10);
    }
    if (PQntuples(res) == 1) {
        m->last_success = metrics_num(res, 0, 11);
    }
    PQclear(res);
    return 0;
}

/* See metrics.h. */
int
etl_metrics_textfile(const char *path, const char *conninfo, struct etl_metrics_run *runs,
                     size_t n, struct etl_err *err)
{
    struct pg_conn *db;
    struct etl_err lerr;
    struct etl_buf out;
    int rc;

    etl_err_clear(&lerr);
    db = etl_pg_connect_timeout(conninfo, "ewc-etl metrics", 5, &lerr);
    for (size_t i = 0; i < n && db != NULL; i++) {
        if (textfile_refresh(db, &runs[i], &lerr) < 0) {
            break;
        }
    }
    etl_pg_close(db);
    if (lerr.code != ETL_E_NONE) {
        char msg[1024];

        etl_err_format(&lerr, msg, sizeof(msg));
        etl_log(ETL_LOG_WARNING, "metrics file: the run's own figures, not the ledger's "
                "(and no last success): %s", msg);
    }
    etl_buf_init(&out, 64u << 20);
    rc = etl_metrics_last_runs(&out, runs, n, true, err);
    if (rc == 0) {
        rc = etl_metrics_file_write(path, out.data != NULL ? out.data : "", out.len, err);
    }
    etl_buf_free(&out);
    return rc;
}

/* See metrics.h. */
int
etl_metrics_file_write(const char *path, const char *data, size_t len, struct etl_err *err)
{
    char *dcopy = strdup(path), *bcopy = strdup(path), *tmp = NULL;
    const char *dir, *base;
    int fd = -1, dfd, rc = -1;
    size_t done = 0;

    if (dcopy == NULL || bcopy == NULL) {
        etl_err_nomem(err);
        goto out;
    }
    dir = dirname(dcopy);
    base = basename(bcopy);
    if (asprintf(&tmp, "%s/.%s.XXXXXX", dir, base) < 0) {
        tmp = NULL;
        etl_err_nomem(err);
        goto out;
    }
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        etl_err_errno(err, ETL_E_IO, "could not create a temporary file in \"%s\"", dir);
        free(tmp);
        tmp = NULL;
        goto out;
    }
    if (fchmod(fd, 0644) < 0) {
        etl_err_errno(err, ETL_E_IO, "could not chmod \"%s\"", tmp);
        goto out;
    }
    while (done < len) {
        ssize_t w = write(fd, data + done, len - done);

        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w < 0) {
            etl_err_errno(err, ETL_E_IO, "could not write \"%s\"", tmp);
            goto out;
        }
        done += (size_t)w;
    }
    if (fsync(fd) < 0) {
        etl_err_errno(err, ETL_E_IO, "could not fsync \"%s\"", tmp);
        goto out;
    }
    if (close(fd) < 0) {
        fd = -1;
        etl_err_errno(err, ETL_E_IO, "could not write \"%s\"", tmp);
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) < 0) {
        etl_err_errno(err, ETL_E_IO, "could not rename \"%s\" to \"%s\"", tmp, path);
        goto out;
    }
    free(tmp);
    tmp = NULL;
    /* the rename itself, on disk */
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    rc = 0;
out:
    if (fd >= 0) {
        close(fd);
    }
    if (tmp != NULL) {
        unlink(tmp);
        free(tmp);
    }
    free(dcopy);
    free(bcopy);
    if (rc < 0) {
        etl_err_context(err, "metrics file %s", path);
    }
    return rc;
}

/* See metrics.h. */
int
etl_metrics_file_check(const char *path, struct etl_err *err)
{
    char *copy = strdup(path);
    const char *dir;
    struct stat sb;
    int rc = 0;

    if (copy == NULL) {
        return etl_err_nomem(err);
    }
    dir = dirname(copy);
    if (path[0] == '\0' || (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))) {
        rc = etl_err_set(err, ETL_E_CONFIG, "--metrics-file: \"%s\" is a directory, not a "
                         "file name", path);
    } else if (stat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
        rc = etl_err_set(err, ETL_E_CONFIG, "--metrics-file: no directory \"%s\"", dir);
    } else if (access(dir, W_OK | X_OK) < 0) {
        rc = etl_err_errno(err, ETL_E_CONFIG, "--metrics-file: cannot write in \"%s\"", dir);
    }
    free(copy);
    return rc;
}
