/*
 * runner.c
 *    Drives one run; see runner.h.
 *
 *    Two connections: the run's own (advisory lock, ledger.run, run kinds
 *    such as sql) and the files' (one transaction per file).  A file's
 *    transaction holds: its ledger.source upsert, its ledger.file row, the
 *    replacement of the source's previous rows, the new rows, its rejects.
 *    Either all of it commits or none of it does; a crash or a lost
 *    connection leaves the previous version in place and the next run
 *    fetches the file again (its source row still has the old validators).
 */
#include "runner.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "pg.h"

/* Bytes read from the spool and pushed into parse at a time. */
#define RUN_READ_BYTES (256 * 1024)

volatile sig_atomic_t etl_stop_requested;

const char *const etl_run_status_names[] = { "ok", "ok_with_rejects", "partial", "failed" };

const char *
etl_run_conninfo(const struct etl_config *cfg, const char *opt)
{
    const char *env = getenv("EWC_DB");

    if (opt != NULL) {
        return opt;
    }
    if (env != NULL && env[0] != '\0') {
        return env;
    }
    if (cfg != NULL && cfg->database != NULL) {
        return cfg->database;
    }
    return "";
}

static double
now_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t
result_id(PGresult *res)
{
    int64_t id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);

    PQclear(res);
    return id;
}

/* Take the pipeline's advisory lock on the run's connection (session level). */
static int
run_lock(struct etl_run *run, struct etl_err *err)
{
    const char *params[1] = { run->pipeline->name };
    PGresult *res;
    bool got;

    if (etl_pg_query(run->db, "SELECT pg_try_advisory_lock(hashtext('ewc-etl'), hashtext($1))",
                     1, params, &res, err) < 0) {
        return -1;
    }
    got = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    if (!got) {
        etl_err_set(err, ETL_E_BUSY, "pipeline \"%s\" is being run by another process",
                    run->pipeline->name);
        etl_err_hint(err, "see the running run with: ewc-etl status");
        return -1;
    }
    return 0;
}

static int
run_open(struct etl_run *run, struct etl_err *err)
{
    char params_json[128], pid[16], host[256] = "";
    const char *params[5];
    PGresult *res;

    snprintf(params_json, sizeof(params_json), "{\"year\": %d, \"offline\": %s}", run->year,
             run->offline ? "true" : "false");
    snprintf(pid, sizeof(pid), "%ld", (long)getpid());
    (void)gethostname(host, sizeof(host) - 1);
    params[0] = run->pipeline->name;
    params[1] = run->kind;
    params[2] = params_json;
    params[3] = host;
    params[4] = pid;
    if (etl_pg_query(run->db,
                     "INSERT INTO ledger.run (pipeline, kind, params, host, pid) "
                     "VALUES ($1, $2, $3, $4, $5) RETURNING id", 5, params, &res, err) < 0) {
        etl_err_hint(err, "has the schema been created? run: ewc-etl migrate");
        return -1;
    }
    run->id = result_id(res);
    return 0;
}

static int
run_close(struct etl_run *run, const struct etl_run_summary *sum, const char *error,
          struct etl_err *err)
{
    char v[8][24];
    const char *params[9];

    snprintf(v[0], sizeof(v[0]), "%" PRId64, run->id);
    snprintf(v[1], sizeof(v[1]), "%zu", sum->files_total);
    snprintf(v[2], sizeof(v[2]), "%zu", sum->files_loaded);
    snprintf(v[3], sizeof(v[3]), "%zu", sum->files_unchanged);
    snprintf(v[4], sizeof(v[4]), "%zu", sum->files_failed);
    snprintf(v[5], sizeof(v[5]), "%" PRId64, sum->rows_loaded);
    snprintf(v[6], sizeof(v[6]), "%" PRId64, sum->rows_rejected);
    for (int i = 0; i < 7; i++) {
        params[i] = v[i];
    }
    params[7] = etl_run_status_names[sum->status];
    params[8] = error;
    return etl_pg_query(run->db,
                        "UPDATE ledger.run SET finished_at = now(), files_total = $2, "
                        "files_loaded = $3, files_unchanged = $4, files_failed = $5, "
                        "rows_loaded = $6, rows_rejected = $7, status = $8, error = $9 "
                        "WHERE id = $1", 9, params, NULL, err);
}

/* Text of an optional int64/long for a parameter. */
static const char *
num_param(char *buf, size_t size, int64_t v, bool present)
{
    if (!present) {
        return NULL;
    }
    snprintf(buf, size, "%" PRId64, v);
    return buf;
}

/*
 * Write a ledger.file row in the current transaction of 'db' (or in its own
 * statement when none is open) and return its id in *id.
 */
static int
file_insert(struct pg_conn *db, struct etl_run *run, struct etl_file *f, int64_t source_id,
            const char *status, const char *error, int64_t *id, struct etl_err *err)
{
    char b[5][24];
    const char *params[13];
    PGresult *res;

    params[0] = num_param(b[0], sizeof(b[0]), run->id, true);
    params[1] = num_param(b[1], sizeof(b[1]), source_id, source_id > 0);
    params[2] = f->url;
    params[3] = f->spool_path;
    params[4] = f->sha256[0] != '\0' ? f->sha256 : NULL;
    params[5] = num_param(b[2], sizeof(b[2]), f->bytes, f->sha256[0] != '\0');
    params[6] = f->etag;
    params[7] = f->last_modified;
    params[8] = num_param(b[3], sizeof(b[3]), f->http_status, f->http_status > 0);
    params[9] = status;
    params[10] = error;
    params[11] = num_param(b[4], sizeof(b[4]), f->rows_in, true);
    params[12] = NULL;
    if (etl_pg_query(db,
                     "INSERT INTO ledger.file (run_id, source_id, url, spool_path, sha256, bytes, "
                     "etag, last_modified, http_status, status, error, rows_in, rows_rejected) "
                     "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
                     "coalesce($13::bigint, 0)) RETURNING id", 13, params, &res, err) < 0) {
        return -1;
    }
    *id = result_id(res);
    return 0;
}

static int
source_upsert(struct pg_conn *db, struct etl_run *run, const char *url, int64_t *id,
              struct etl_err *err)
{
    const char *params[2] = { run->pipeline->name, url };
    PGresult *res;

    if (etl_pg_query(db,
                     "INSERT INTO ledger.source (pipeline, url) VALUES ($1, $2) "
                     "ON CONFLICT (pipeline, url) DO UPDATE SET url = EXCLUDED.url "
                     "RETURNING id", 2, params, &res, err) < 0) {
        return -1;
    }
    *id = result_id(res);
    return 0;
}

/* Record a file that did not go down the chain: unchanged, or failed in fetch. */
static int
file_record_only(struct etl_run *run, struct pg_conn *db, struct etl_file *f,
                 struct etl_err *err)
{
    char msg[1024] = "";
    int64_t source_id = 0, id;

    if (f->status == ETL_FILE_FAILED) {
        etl_err_format(&f->err, msg, sizeof(msg));
    }
    if (source_upsert(db, run, f->url, &source_id, err) < 0) {
        return -1;
    }
    if (f->status == ETL_FILE_UNCHANGED && (f->etag != NULL || f->last_modified != NULL)) {
        /* same body under new validators: keep them, so the next GET is conditional */
        char b[24];
        const char *params[3] = { num_param(b, sizeof(b), source_id, true), f->etag,
                                  f->last_modified };

        if (etl_pg_query(db,
                         "UPDATE ledger.source SET etag = coalesce($2, etag), "
                         "last_modified = coalesce($3, last_modified) WHERE id = $1",
                         3, params, NULL, err) < 0) {
            return -1;
        }
    }
    return file_insert(db, run, f, source_id, etl_file_status_names[f->status],
                       msg[0] != '\0' ? msg : NULL, &id, err);
}

/* Feed the spooled body of 'job->file' through the chain starting at 'head'. */
static int
file_stream(struct etl_stage *head, struct etl_job *job, struct etl_err *err)
{
    struct etl_file *f = job->file;
    struct etl_chunk chunk;
    char *block;
    ssize_t n;
    int fd, rc = 0;

    fd = open(f->spool_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return etl_err_errno(err, ETL_E_IO, "could not open spool file \"%s\"", f->spool_path);
    }
    block = malloc(RUN_READ_BYTES);
    if (block == NULL) {
        close(fd);
        return etl_err_set(err, ETL_E_NOMEM, "out of memory");
    }
    memset(&chunk, 0, sizeof(chunk));
    while ((n = read(fd, block, RUN_READ_BYTES)) != 0) {
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            rc = etl_err_errno(err, ETL_E_IO, "could not read spool file \"%s\"", f->spool_path);
            break;
        }
        chunk.bytes = block;
        chunk.len = (size_t)n;
        if (head->kind->process(head, &chunk, err) < 0) {
            rc = -1;
            break;
        }
    }
    if (rc == 0) {
        rc = head->kind->finish != NULL ? head->kind->finish(head, err) : 0;
    }
    free(block);
    close(fd);
    return rc;
}

/* The file's whole transaction.  On failure the transaction is rolled back. */
static int
file_load(struct etl_run *run, struct pg_conn *db, struct etl_stage *head,
          struct etl_file *f, bool dedupe, struct etl_err *err)
{
    struct etl_job job;
    struct etl_stage *st;
    struct etl_err ignore;
    const char *params[7];
    char b[6][24];

    memset(&job, 0, sizeof(job));
    job.run = run;
    job.file = f;
    job.db = db;
    job.dedupe = dedupe;
    f->rows_in = f->rows_loaded = f->rows_rejected = f->rows_deleted = 0;
    if (etl_pg_exec(db, "BEGIN", err) < 0 ||
        source_upsert(db, run, f->url, &job.source_id, err) < 0 ||
        file_insert(db, run, f, job.source_id, "failed", "incomplete", &job.file_id, err) < 0) {
        goto fail;
    }
    for (st = head; st != NULL; st = st->next) {
        st->job = &job;
    }
    for (st = head; st != NULL; st = st->next) {
        if (st->kind->begin != NULL && st->kind->begin(st, err) < 0) {
            goto abort;
        }
    }
    if (file_stream(head, &job, err) < 0) {
        goto abort;
    }
    f->status = job.refused ? ETL_FILE_FAILED : ETL_FILE_LOADED;
    if (job.refused) {
        etl_err_set(&f->err, ETL_E_DATA, "%s", job.refuse_reason);
    }
    params[0] = num_param(b[0], sizeof(b[0]), job.file_id, true);
    params[1] = etl_file_status_names[f->status];
    params[2] = job.refused ? job.refuse_reason : NULL;
    params[3] = num_param(b[1], sizeof(b[1]), f->rows_in, true);
    params[4] = num_param(b[2], sizeof(b[2]), f->rows_loaded, true);
    params[5] = num_param(b[3], sizeof(b[3]), f->rows_rejected, true);
    params[6] = num_param(b[5], sizeof(b[5]), f->rows_deleted, true);
    if (etl_pg_query(db,
                     "UPDATE ledger.file SET status = $2, error = $3, rows_in = $4, "
                     "rows_loaded = $5, rows_rejected = $6, rows_deleted = $7, "
                     "finished_at = clock_timestamp() WHERE id = $1", 7, params, NULL, err) < 0) {
        goto fail;
    }
    if (!job.refused) {
        params[0] = num_param(b[4], sizeof(b[4]), job.source_id, true);
        params[1] = f->etag;
        params[2] = f->last_modified;
        params[3] = f->sha256;
        params[4] = num_param(b[0], sizeof(b[0]), job.file_id, true);
        if (etl_pg_query(db,
                         "UPDATE ledger.source SET etag = $2, last_modified = $3, sha256 = $4, "
                         "file_id = $5 WHERE id = $1", 5, params, NULL, err) < 0) {
            goto fail;
        }
    }
    if (etl_pg_exec(db, "COMMIT", err) < 0) {
        goto fail;
    }
    for (st = head; st != NULL; st = st->next) {
        st->job = NULL;
    }
    return 0;
abort:
    for (st = head; st != NULL; st = st->next) {
        if (st->kind->abort != NULL) {
            st->kind->abort(st);
        }
    }
fail:
    for (st = head; st != NULL; st = st->next) {
        st->job = NULL;
    }
    etl_err_clear(&ignore);
    (void)!etl_pg_exec(db, "ROLLBACK", &ignore);
    return -1;
}

/* Load every pending file fetch stage 'from' produced, through 'head'. */
static int
run_chain(struct etl_run *run, struct pg_conn *db, struct etl_stage *head,
          struct etl_err *err)
{
    const char *pname = run->pipeline->name;

    for (size_t i = 0; i < run->nfiles; i++) {
        struct etl_file *f = &run->files[i];
        double t0 = now_seconds();
        int rc;

        if (f->from == NULL || strcmp(f->from->name, head->needs[0]) != 0 ||
            f->status != ETL_FILE_PENDING) {
            continue;
        }
        if (etl_stop_requested) {
            etl_err_set(&f->err, ETL_E_INTERNAL, "not loaded: stop requested");
            f->status = ETL_FILE_FAILED;
            continue;
        }
        rc = file_load(run, db, head, f, false, &f->err);
        if (rc < 0 && strstr(f->err.detail, "SQLSTATE 23505") != NULL &&
            PQstatus(db->conn) == CONNECTION_OK) {
            /* the file repeats a key: load it again, turning repeats into rejects */
            etl_log(ETL_LOG_NOTICE, "[%s/%s] %s repeats a key; loading it again with the "
                    "repeats rejected", pname, head->name, f->url);
            etl_err_clear(&f->err);
            rc = file_load(run, db, head, f, true, &f->err);
        }
        if (rc < 0) {
            char msg[1024];

            f->status = ETL_FILE_FAILED;
            etl_err_context(&f->err, "%s", f->url);
            etl_err_format(&f->err, msg, sizeof(msg));
            etl_log(ETL_LOG_ERR, "[%s/%s] %s", pname, head->name, msg);
            if (PQstatus(db->conn) != CONNECTION_OK) {
                PQreset(db->conn);
                if (PQstatus(db->conn) != CONNECTION_OK) {
                    return etl_err_set(err, ETL_E_DB, "lost the database connection: %s",
                                       PQerrorMessage(db->conn));
                }
            }
            /* the failure itself goes to the ledger in its own statement */
            if (file_record_only(run, db, f, err) < 0) {
                return -1;
            }
            continue;
        }
        if (f->status == ETL_FILE_FAILED) {
            etl_log(ETL_LOG_ERR, "[%s/%s] %s: %s", pname, head->name, f->url, f->err.msg);
        } else {
            etl_log(ETL_LOG_INFO,
                    "[%s/%s] %s: %" PRId64 " rows, %" PRId64 " loaded, %" PRId64
                    " rejected, %.2f s", pname, head->name, f->url, f->rows_in,
                    f->rows_loaded, f->rows_rejected, now_seconds() - t0);
        }
    }
    return 0;
}

static void
summarize(const struct etl_run *run, bool run_failed, struct etl_run_summary *sum)
{
    sum->files_total = run->nfiles;
    for (size_t i = 0; i < run->nfiles; i++) {
        const struct etl_file *f = &run->files[i];

        switch (f->status) {
        case ETL_FILE_LOADED: sum->files_loaded++; break;
        case ETL_FILE_UNCHANGED: sum->files_unchanged++; break;
        default: sum->files_failed++; break;
        }
        sum->rows_loaded += f->rows_loaded;
        sum->rows_rejected += f->rows_rejected;
    }
    if (run_failed || (sum->files_failed > 0 && sum->files_failed == sum->files_total)) {
        sum->status = ETL_RUN_FAILED;
    } else if (sum->files_failed > 0) {
        sum->status = ETL_RUN_PARTIAL;
    } else if (sum->rows_rejected > 0) {
        sum->status = ETL_RUN_OK_WITH_REJECTS;
    } else {
        sum->status = ETL_RUN_OK;
    }
}

static void
run_free(struct etl_run *run)
{
    for (size_t i = 0; i < run->nfiles; i++) {
        free(run->files[i].url);
        free(run->files[i].spool_path);
        free(run->files[i].etag);
        free(run->files[i].last_modified);
    }
    free(run->files);
}

int
etl_run_pipeline(struct etl_pipeline *p, const struct etl_run_opts *opts,
                 struct etl_run_summary *sum, struct etl_err *err)
{
    struct etl_run run;
    struct pg_conn *files_db = NULL;
    struct etl_err stage_err;
    char msg[1024] = "";
    double t0 = now_seconds();
    bool failed = false;
    int rc = -1;

    memset(sum, 0, sizeof(*sum));
    memset(&run, 0, sizeof(run));
    etl_err_clear(&stage_err);
    run.pipeline = p;
    run.kind = opts->kind != NULL ? opts->kind : "manual";
    run.year = opts->year;
    run.offline = opts->offline;
    run.conninfo = etl_run_conninfo(p->config, opts->conninfo);
    run.db = etl_pg_connect(run.conninfo, "ewc-etl", err);
    if (run.db == NULL || run_lock(&run, err) < 0 || run_open(&run, err) < 0) {
        goto out;
    }
    sum->run_id = run.id;
    etl_log(ETL_LOG_INFO, "[%s] run %" PRId64 " started (%s%s)", p->name, run.id, run.kind,
            run.offline ? ", offline" : "");
    for (size_t i = 0; i < p->nstages && !failed; i++) {
        struct etl_stage *st = p->stages[i];

        if (st->kind->consumes == ETL_FLOW_FILE) {
            if (files_db == NULL) {
                files_db = etl_pg_connect(run.conninfo, "ewc-etl loader", &stage_err);
                if (files_db == NULL) {
                    failed = true;
                    break;
                }
            }
            for (size_t k = 0; k < run.nfiles; k++) {
                struct etl_file *f = &run.files[k];

                if (f->from != NULL && strcmp(f->from->name, st->needs[0]) == 0 &&
                    f->status != ETL_FILE_PENDING &&
                    file_record_only(&run, files_db, f, &stage_err) < 0) {
                    failed = true;
                }
            }
            if (!failed && run_chain(&run, files_db, st, &stage_err) < 0) {
                failed = true;
            }
        } else if (st->kind->run != NULL) {
            if (st->kind->run(st, &run, &stage_err) < 0) {
                etl_err_context(&stage_err, "stage \"%s\"", st->name);
                failed = true;
            }
        }
    }
    if (failed) {
        etl_err_format(&stage_err, msg, sizeof(msg));
        etl_log(ETL_LOG_ERR, "[%s] run %" PRId64 " failed: %s", p->name, run.id, msg);
    }
    summarize(&run, failed, sum);
    sum->seconds = now_seconds() - t0;
    if (run_close(&run, sum, failed ? msg : NULL, err) < 0) {
        goto out;
    }
    etl_log(ETL_LOG_NOTICE,
            "[%s] run %" PRId64 " %s: %zu files (%zu loaded, %zu unchanged, %zu failed), "
            "%" PRId64 " rows loaded, %" PRId64 " rejected, %.2f s", p->name, run.id,
            etl_run_status_names[sum->status], sum->files_total, sum->files_loaded,
            sum->files_unchanged, sum->files_failed, sum->rows_loaded, sum->rows_rejected,
            sum->seconds);
    rc = 0;
out:
    etl_pg_close(files_db);
    etl_pg_close(run.db);     /* closing the session releases the advisory lock */
    run_free(&run);
    return rc;
}
