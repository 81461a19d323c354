/*
 * prune.c
 *    Old runs out of the ledger, old files out of the spool; see prune.h
 *    for what is kept.  The ledger's statements run on temporary tables of
 *    the runs and files chosen, in one transaction; a dry run rolls it
 *    back after counting, so that it prints what the real prune would do.
 *    The sizes `ewc-etl status` shows are here too.
 */
#include "prune.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "retention.h"
#include "spool.h"

/* The runs and files chosen, for the transaction only. */
static const char prune_tables_sql[] =
    "SET LOCAL lock_timeout = '10s'; "
    "SET LOCAL client_min_messages = warning; "
    "CREATE TEMP TABLE IF NOT EXISTS etl_prune_run (id bigint PRIMARY KEY) ON COMMIT DROP; "
    "CREATE TEMP TABLE IF NOT EXISTS etl_prune_file (id bigint PRIMARY KEY) ON COMMIT DROP";

/* $1 = age in seconds, $2 = most runs (NULL: all).  The oldest first. */
static const char prune_runs_sql[] =
    "INSERT INTO etl_prune_run "
    "SELECT id FROM ledger.run "
    "WHERE status <> 'running' AND finished_at < now() - $1::bigint * interval '1 second' "
    "ORDER BY id LIMIT $2::bigint";

/*
 * The files of those runs nothing needs (prune.h): not a source's current
 * or refused version, not named by a revision, not a loaded version of a
 * source that has rows or revisions (as-of answers need them all).  Rows
 * are written only by a load, under its file and that file's source: a
 * file the observations name is a loaded version of a source with rows.
 */
static const char prune_files_sql[] =
    "INSERT INTO etl_prune_file "
    "SELECT f.id FROM ledger.file f JOIN etl_prune_run r ON r.id = f.run_id "
    "WHERE NOT EXISTS (SELECT 1 FROM ledger.source s WHERE s.file_id = f.id) "
    "  AND NOT EXISTS (SELECT 1 FROM ledger.source s WHERE s.refused_file_id = f.id) "
    "  AND NOT EXISTS (SELECT 1 FROM warehouse.revision v WHERE v.file_id = f.id) "
    "  AND NOT EXISTS (SELECT 1 FROM warehouse.revision v WHERE v.old_file_id = f.id) "
    "  AND NOT (f.status = 'loaded' AND f.source_id IS NOT NULL AND "
    "           (EXISTS (SELECT 1 FROM warehouse.observation o "
    "                    WHERE o.source_id = f.source_id) OR "
    "            EXISTS (SELECT 1 FROM warehouse.revision v "
    "                    WHERE v.source_id = f.source_id)))";

/* How many files of the chosen runs stay. */
static const char prune_kept_sql[] =
    "SELECT count(*) FROM ledger.file f JOIN etl_prune_run r ON r.id = f.run_id "
    "WHERE f.id NOT IN (SELECT id FROM etl_prune_file)";

/* The deletes, in the order the foreign keys want; each one's count. */
static const char *const prune_delete_sql[] = {
    "DELETE FROM ledger.task t USING etl_prune_run r WHERE t.run_id = r.id",
    "DELETE FROM ledger.reject j USING etl_prune_file p WHERE j.file_id = p.id",
    "DELETE FROM ledger.reconcile c USING etl_prune_file p WHERE c.file_id = p.id",
    "DELETE FROM ledger.file f USING etl_prune_file p WHERE f.id = p.id",
    ("DELETE FROM ledger.run r USING etl_prune_run p WHERE r.id = p.id "
     "AND NOT EXISTS (SELECT 1 FROM ledger.file f WHERE f.run_id = r.id)"),
};

/* Every SHA-256 the ledger still names: spool files to keep.  Sorted as strcmp. */
static const char prune_spool_names_sql[] =
    "SELECT h FROM (SELECT sha256 FROM ledger.file WHERE sha256 IS NOT NULL "
    "               UNION SELECT sha256 FROM ledger.task "
    "               UNION SELECT sha256 FROM ledger.source WHERE sha256 IS NOT NULL) s (h) "
    "ORDER BY h COLLATE \"C\"";

/* Roll back, ignoring errors: the first one is kept. */
static void
prune_rollback(struct pg_conn *db)
{
    struct etl_err ignore;

    etl_err_clear(&ignore);
    (void)!etl_pg_exec(db, "ROLLBACK", &ignore);
}

/*
 * Run a statement; *n (unless NULL) = the rows it touched, or, for a
 * query of one value (a count), that value.
 */
static int
prune_stmt(struct pg_conn *db, const char *sql, int nparams, const char *const *params,
           int64_t *n, struct etl_err *err)
{
    PGresult *res;

    if (etl_pg_query(db, sql, nparams, params, &res, err) < 0) {
        return -1;
    }
    if (n != NULL) {
        bool value = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;

        *n = strtoll(value ? PQgetvalue(res, 0, 0) : PQcmdTuples(res), NULL, 10);
    }
    PQclear(res);
    return 0;
}

/* The ledger's part, inside the open transaction. */
static int
prune_ledger(struct pg_conn *db, const struct etl_prune_opts *o, struct etl_prune_counts *c,
             struct etl_err *err)
{
    char age[24], batch[24];
    const char *params[2] = { age, o->batch > 0 ? batch : NULL };
    int64_t *counts[] = { &c->tasks, &c->rejects, &c->reconciles, &c->files, &c->runs };
    int64_t chosen = 0;

    snprintf(age, sizeof(age), "%" PRId64, o->ledger_age);
    snprintf(batch, sizeof(batch), "%ld", o->batch);
    if (etl_pg_exec(db, prune_tables_sql, err) < 0 ||
        prune_stmt(db, "TRUNCATE etl_prune_run, etl_prune_file", 0, NULL, NULL, err) < 0 ||
        prune_stmt(db, prune_runs_sql, 2, params, &chosen, err) < 0) {
        return -1;
    }
    /* No run old enough (after every run but the first of its day): the
     * files query alone, planned over the warehouse's partitions, was 20 ms
     * of every run. */
    if (chosen == 0) {
        return 0;
    }
    if (prune_stmt(db, prune_files_sql, 0, NULL, NULL, err) < 0 ||
        prune_stmt(db, prune_kept_sql, 0, NULL, &c->files_kept, err) < 0) {
        return -1;
    }
    for (size_t i = 0; i < sizeof(prune_delete_sql) / sizeof(prune_delete_sql[0]); i++) {
        if (prune_stmt(db, prune_delete_sql[i], 0, NULL, counts[i], err) < 0) {
            return -1;
        }
    }
    return 0;
}

/* A name the spool gives its files: 64 lower-case hex digits, or a temporary one. */
static bool
spool_own_name(const char *name, bool *hashed)
{
    size_t n = strlen(name);

    *hashed = false;
    if (n == ETL_SHA256_HEX - 1 && strspn(name, "0123456789abcdef") == n) {
        *hashed = true;
        return true;
    }
    return n == sizeof(".tmp-XXXXXX") - 1 && strncmp(name, ".tmp-", 5) == 0;
}

static int
name_cmp(const void *key, const void *elem)
{
    return strcmp(key, *(char *const *)elem);
}

/* The ledger's names, sorted, from 'res' (kept alive by the caller). */
static char **
spool_names(PGresult *res, size_t *n, struct etl_err *err)
{
    size_t rows = (size_t)PQntuples(res);
    char **v = calloc(rows > 0 ? rows : 1, sizeof(*v));

    if (v == NULL) {
        etl_err_nomem(err);
        return NULL;
    }
    for (size_t i = 0; i < rows; i++) {
        v[i] = PQgetvalue(res, (int)i, 0);
    }
    *n = rows;
    return v;
}

/*
 * Delete (or count) the spool's old files the ledger does not name.  Only
 * regular files with the spool's names, examined without following links
 * (fstatat AT_SYMLINK_NOFOLLOW), removed by name in the directory itself.
 */
static int
prune_spool_dir(const struct etl_prune_opts *o, char **keep, size_t nkeep,
                struct etl_prune_counts *c, struct etl_err *err)
{
    time_t cutoff = time(NULL) - (time_t)o->spool_age;
    struct dirent *de;
    DIR *d = opendir(o->spool_dir);

    if (d == NULL) {
        if (errno == ENOENT) {
            return 0;
        }
        return etl_err_errno(err, ETL_E_IO, "could not open spool directory \"%s\"",
                             o->spool_dir);
    }
    while ((errno = 0, de = readdir(d)) != NULL) {
        struct stat sb;
        bool hashed;

        if (!spool_own_name(de->d_name, &hashed) ||
            fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0 ||
            !S_ISREG(sb.st_mode) || sb.st_mtime >= cutoff) {
            continue;
        }
        if (hashed && bsearch(de->d_name, keep, nkeep, sizeof(*keep), name_cmp) != NULL) {
            c->spool_kept++;
            continue;
        }
        if (!o->dry_run && unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT) {
            etl_err_errno(err, ETL_E_IO, "could not delete spool file \"%s/%s\"",
                          o->spool_dir, de->d_name);
            closedir(d);
            return -1;
        }
        c->spool_files++;
        c->spool_bytes += sb.st_size;
    }
    if (errno != 0) {
        etl_err_errno(err, ETL_E_IO, "could not read spool directory \"%s\"", o->spool_dir);
        closedir(d);
        return -1;
    }
    closedir(d);
    return 0;
}

/* Take the prune lock of the transaction; *got false when another prune holds it. */
static int
prune_lock(struct pg_conn *db, bool wait, bool *got, struct etl_err *err)
{
    PGresult *res;

    *got = true;
    if (wait) {
        return etl_pg_exec(db, "SELECT pg_advisory_xact_lock(hashtext('ewc-etl prune'), 0)",
                           err);
    }
    if (etl_pg_query(db, "SELECT pg_try_advisory_xact_lock(hashtext('ewc-etl prune'), 0)", 0,
                     NULL, &res, err) < 0) {
        return -1;
    }
    *got = PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    return 0;
}

/* Prune the ledger and the spool; see prune.h. */
int
etl_prune(struct pg_conn *db, const struct etl_prune_opts *o, struct etl_prune_counts *c,
          struct etl_err *err)
{
    PGresult *names = NULL;
    char **keep = NULL;
    size_t nkeep = 0;
    bool got;
    int rc = -1;

    memset(c, 0, sizeof(*c));
    if (etl_pg_exec(db, "BEGIN", err) < 0 || prune_lock(db, o->wait, &got, err) < 0) {
        goto out;
    }
    if (!got) {
        c->skipped = true;
        rc = 0;
        goto out;
    }
    if (o->ledger_age > 0 && prune_ledger(db, o, c, err) < 0) {
        goto out;
    }
    /* the names as the ledger has them after its part, dry or not */
    if (o->spool_age > 0 && o->spool_dir != NULL &&
        (etl_pg_query(db, prune_spool_names_sql, 0, NULL, &names, err) < 0 ||
         (keep = spool_names(names, &nkeep, err)) == NULL)) {
        goto out;
    }
    if (etl_pg_exec(db, o->dry_run ? "ROLLBACK" : "COMMIT", err) < 0) {
        goto out;
    }
    rc = keep != NULL ? prune_spool_dir(o, keep, nkeep, c, err) : 0;
    free(keep);
    PQclear(names);
    return rc;
out:
    prune_rollback(db);
    free(keep);
    PQclear(names);
    return rc;
}

/* One batch at the end of a run; see prune.h. */
void
etl_prune_after_run(struct pg_conn *db, const struct etl_config *cfg, const char *pipeline)
{
    struct etl_prune_opts o = { .batch = ETL_PRUNE_BATCH_RUNS };
    struct etl_prune_counts c;
    struct etl_err err;
    char size[32], msg[1024];

    if (cfg == NULL) {
        return;         /* a pipeline built by hand (tests): no retention */
    }
    o.ledger_age = cfg->retention.ledger;
    o.spool_age = cfg->retention.spool;
    o.spool_dir = cfg->spool_dir;
    if (o.ledger_age == 0 && o.spool_age == 0) {
        return;
    }
    etl_err_clear(&err);
    if (etl_prune(db, &o, &c, &err) < 0) {
        etl_err_format(&err, msg, sizeof(msg));
        etl_log(ETL_LOG_WARNING, "[%s] prune: %s", pipeline, msg);
        return;
    }
    if (c.runs + c.files + c.tasks + c.spool_files == 0) {
        return;
    }
    etl_prune_size_text(c.spool_bytes, size, sizeof(size));
    etl_log(ETL_LOG_INFO, "[%s] prune: deleted %" PRId64 " runs, %" PRId64 " files, %" PRId64
            " rejects, %" PRId64 " reconciliations, %" PRId64 " tasks of the ledger; %" PRId64
            " spool files (%s)", pipeline, c.runs, c.files, c.rejects, c.reconciles, c.tasks,
            c.spool_files, size);
}

/* The counts of `ewc-etl prune`; see prune.h. */
void
etl_prune_print(const struct etl_prune_opts *o, const struct etl_prune_counts *c, FILE *out)
{
    const char *verb = o->dry_run ? "would delete" : "deleted";
    char age[32], size[32];

    if (c->skipped) {
        fprintf(out, "another prune is under way: nothing done\n");
        return;
    }
    etl_duration_format(o->ledger_age, age, sizeof(age));
    if (o->ledger_age > 0) {
        fprintf(out, "ledger, older than %s: %s %" PRId64 " runs, %" PRId64 " files, %" PRId64
                " rejects, %" PRId64 " reconciliations, %" PRId64 " tasks; kept %" PRId64
                " old files the warehouse needs\n", age, verb, c->runs, c->files, c->rejects,
                c->reconciles, c->tasks, c->files_kept);
    } else {
        fprintf(out, "ledger: retention off, nothing deleted\n");
    }
    etl_duration_format(o->spool_age, age, sizeof(age));
    etl_prune_size_text(c->spool_bytes, size, sizeof(size));
    if (o->spool_age > 0 && o->spool_dir != NULL) {
        fprintf(out, "spool %s, older than %s: %s %" PRId64 " files (%s); kept %" PRId64
                " old files the ledger names\n", o->spool_dir, age, verb, c->spool_files, size,
                c->spool_kept);
    } else {
        fprintf(out, "spool: retention off, nothing deleted\n");
    }
}

/* Count the spool's own files; see prune.h. */
int
etl_prune_spool_usage(const char *dir, int64_t *files, int64_t *bytes, struct etl_err *err)
{
    struct dirent *de;
    DIR *d = opendir(dir);

    *files = *bytes = 0;
    if (d == NULL) {
        if (errno == ENOENT) {
            return 0;
        }
        return etl_err_errno(err, ETL_E_IO, "could not open spool directory \"%s\"", dir);
    }
    while ((errno = 0, de = readdir(d)) != NULL) {
        struct stat sb;
        bool hashed;

        if (spool_own_name(de->d_name, &hashed) &&
            fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
            S_ISREG(sb.st_mode)) {
            (*files)++;
            *bytes += sb.st_size;
        }
    }
    if (errno != 0) {
        etl_err_errno(err, ETL_E_IO, "could not read spool directory \"%s\"", dir);
        closedir(d);
        return -1;
    }
    closedir(d);
    return 0;
}

/* The ledger's size; see prune.h. */
int
etl_prune_ledger_size(struct pg_conn *db, int64_t *bytes, int64_t *runs, int64_t *files,
                      struct etl_err *err)
{
    PGresult *res;

    if (etl_pg_query(db,
                     "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint, "
                     "       (SELECT count(*) FROM ledger.run), (SELECT count(*) FROM ledger.file) "
                     "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                     "WHERE n.nspname = 'ledger' AND c.relkind IN ('r', 'p', 'm')",
                     0, NULL, &res, err) < 0) {
        return -1;
    }
    *bytes = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    *runs = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
    *files = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
    PQclear(res);
    return 0;
}

/* "12.3 MB"; see prune.h. */
void
etl_prune_size_text(int64_t bytes, char *out, size_t size)
{
    static const char *const units[] = { "kB", "MB", "GB", "TB" };
    double v = (double)bytes;
    size_t u = 0;

    if (bytes < 1000) {
        snprintf(out, size, "%" PRId64 " B", bytes);
        return;
    }
    v /= 1000;
    while (v >= 1000 && u + 1 < sizeof(units) / sizeof(units[0])) {
        v /= 1000;
        u++;
    }
    snprintf(out, size, "%.1f %s", v, units[u]);
}
