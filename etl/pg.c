/*
 * pg.c
 *    libpq helpers; see pg.h.  COPY follows psql's handleCopyIn: data goes
 *    out with PQputCopyData, the end with PQputCopyEnd (an error message
 *    aborts it), and the outcome is read with PQgetResult until NULL.
 */
#include "pg.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/*
 * Connect 'db' (allocated by the caller: valgrind's suppression of a worker
 * child's copy names etl_pg_connect as the allocator) with 'conninfo'
 * expanded (a full conninfo string or URI may be given as dbname), the
 * application name as fallback, and, when 'connect_timeout' is not NULL,
 * that connect_timeout (seconds) over the conninfo's and PGCONNECT_TIMEOUT:
 * libpq takes the last value of a key.  'db' is freed on failure.
 */
static struct pg_conn *
pg_connect(struct pg_conn *db, const char *conninfo, const char *appname,
           const char *connect_timeout, struct etl_err *err)
{
    const char *keys[] = { "dbname", "application_name", "fallback_application_name",
                           connect_timeout != NULL ? "connect_timeout" : NULL, NULL };
    const char *vals[] = { conninfo != NULL ? conninfo : "", NULL, appname, connect_timeout,
                           NULL };

    /* expand_dbname=1: 'dbname' may be a full conninfo string or URI */
    db->conn = PQconnectdbParams(keys, vals, 1);
    if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK) {
        etl_err_set(err, ETL_E_DB, "could not connect to the database: %s",
                    db->conn != NULL ? PQerrorMessage(db->conn) : "out of memory");
        err->retryable = true;
        etl_err_hint(err, "set the connection with --db, EWC_DB or the PG* variables");
        etl_pg_close(db);
        return NULL;
    }
    return db;
}

struct pg_conn *
etl_pg_connect(const char *conninfo, const char *appname, struct etl_err *err)
{
    struct pg_conn *db = calloc(1, sizeof(*db));

    if (db == NULL) {
        etl_err_nomem(err);
        return NULL;
    }
    return pg_connect(db, conninfo, appname, NULL, err);
}

struct pg_conn *
etl_pg_connect_timeout(const char *conninfo, const char *appname, int seconds,
                       struct etl_err *err)
{
    struct pg_conn *db = calloc(1, sizeof(*db));
    char t[16];

    if (db == NULL) {
        etl_err_nomem(err);
        return NULL;
    }
    snprintf(t, sizeof(t), "%d", seconds < 2 ? 2 : seconds);
    return pg_connect(db, conninfo, appname, t, err);
}

bool
etl_pg_alive(const struct pg_conn *db)
{
    return db != NULL && db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK;
}

void
etl_pg_close(struct pg_conn *db)
{
    if (db == NULL) {
        return;
    }
    PQfinish(db->conn);
    free(db);
}

/*
 * err->detail from a failed result's parts, each one separated:
 * "SQLSTATE 57014, <detail>; context: COPY reconcile, line 2".  The
 * context's lines (innermost first, as the server stacks them) are joined
 * with "; ".  Any part may be NULL.  Truncated to fit err->detail.
 */
static void
pg_fail_detail(struct etl_err *err, const char *state, const char *detail, const char *context)
{
    char out[sizeof(err->detail)] = "";

    if (state != NULL) {
        etl_strlcat(out, "SQLSTATE ", sizeof(out));
        etl_strlcat(out, state, sizeof(out));
    }
    if (detail != NULL) {
        etl_strlcat(out, out[0] != '\0' ? ", " : "", sizeof(out));
        etl_strlcat(out, detail, sizeof(out));
    }
    if (context != NULL && context[0] != '\0') {
        etl_strlcat(out, out[0] != '\0' ? "; context: " : "context: ", sizeof(out));
        for (const char *p = context; *p != '\0'; p++) {
            char c[2] = { *p, '\0' };

            if (*p != '\n') {
                etl_strlcat(out, c, sizeof(out));
            } else if (p[1] != '\0') {
                etl_strlcat(out, "; ", sizeof(out));
            }
        }
    }
    etl_err_detail(err, "%s", out);
}

int
etl_pg_fail(struct pg_conn *db, PGresult *res, const char *what, struct etl_err *err)
{
    const char *msg = res != NULL ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *detail = res != NULL ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
    const char *context = res != NULL ? PQresultErrorField(res, PG_DIAG_CONTEXT) : NULL;

    if (msg == NULL) {
        msg = PQerrorMessage(db->conn);
    }
    if (err->code != ETL_E_NONE) {
        return -1;
    }
    etl_err_set(err, ETL_E_DB, "%s: %s", what, msg);
    /* typed, for callers that act on it (pgbench's getSQLErrorStatus) */
    if (state != NULL) {
        etl_strlcpy(err->sqlstate, state, sizeof(err->sqlstate));
    }
    if (detail != NULL || state != NULL || context != NULL) {
        pg_fail_detail(err, state, detail, context);
    }
    /* class 08: connection exception; 40: transaction rollback (deadlock, serialization) */
    if (PQstatus(db->conn) != CONNECTION_OK ||
        (state != NULL && (strncmp(state, "08", 2) == 0 || strncmp(state, "40", 2) == 0 ||
                           strcmp(state, "57P01") == 0))) {
        err->retryable = true;
    }
    return -1;
}

int
etl_pg_exec(struct pg_conn *db, const char *sql, struct etl_err *err)
{
    PGresult *res = PQexec(db->conn, sql);
    ExecStatusType st = PQresultStatus(res);

    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        etl_pg_fail(db, res, "query failed", err);
        PQclear(res);
        return -1;
    }
    PQclear(res);
    return 0;
}

int
etl_pg_query(struct pg_conn *db, const char *sql, int nparams,
             const char *const *params, PGresult **out, struct etl_err *err)
{
    PGresult *res = PQexecParams(db->conn, sql, nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);

    if (out != NULL) {
        *out = NULL;
    }
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        etl_pg_fail(db, res, "query failed", err);
        PQclear(res);
        return -1;
    }
    if (out != NULL) {
        *out = res;
    } else {
        PQclear(res);
    }
    return 0;
}

/*
 * Read the results of a batch: per statement its result and the NULL that
 * ends it, then the sync's.  A lost connection ends the reading (PQgetResult
 * returns NULL early); -1 then, and on the first failed statement.
 */
static int
pg_batch_read(struct pg_conn *db, const struct etl_pg_stmt *stmts, size_t n,
              struct etl_err *err)
{
    PGresult *res;
    int rc = 0;

    for (size_t i = 0; i < n; i++) {
        ExecStatusType st;

        res = PQgetResult(db->conn);
        if (res == NULL) {
            return etl_pg_fail(db, NULL, "query failed", err);
        }
        st = PQresultStatus(res);
        if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
            if (stmts[i].res != NULL) {
                *stmts[i].res = res;
                res = NULL;
            }
        } else if (st != PGRES_PIPELINE_ABORTED || rc == 0) {
            rc = etl_pg_fail(db, res, "query failed", err);
        }
        PQclear(res);
        /* the NULL after each statement's result */
        while ((res = PQgetResult(db->conn)) != NULL) {
            if (PQresultStatus(res) == PGRES_PIPELINE_SYNC) {
                PQclear(res);
                return etl_pg_fail(db, NULL, "query failed: batch out of step", err);
            }
            PQclear(res);
        }
    }
    res = PQgetResult(db->conn);
    if (res == NULL || PQresultStatus(res) != PGRES_PIPELINE_SYNC) {
        rc = etl_pg_fail(db, res, "query failed", err);
    }
    PQclear(res);
    return rc;
}

/* Several statements in one round trip; see pg.h. */
int
etl_pg_batch(struct pg_conn *db, const struct etl_pg_stmt *stmts, size_t n,
             struct etl_err *err)
{
    int rc = 0;

    for (size_t i = 0; i < n; i++) {
        if (stmts[i].res != NULL) {
            *stmts[i].res = NULL;
        }
    }
    if (n == 0) {
        return 0;
    }
    if (PQenterPipelineMode(db->conn) != 1) {
        return etl_pg_fail(db, NULL, "could not start a batch", err);
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (PQsendQueryParams(db->conn, stmts[i].sql, stmts[i].nparams, NULL, stmts[i].params,
                              NULL, NULL, 0) != 1) {
            rc = etl_pg_fail(db, NULL, "query failed", err);
        }
    }
    if (rc == 0 && PQpipelineSync(db->conn) != 1) {
        rc = etl_pg_fail(db, NULL, "query failed", err);
    }
    if (rc == 0) {
        rc = pg_batch_read(db, stmts, n, err);
    }
    /* results left unread (a send failed half-way, a batch out of step) */
    for (size_t i = 0; PQexitPipelineMode(db->conn) != 1 && i < 4 * n + 8; i++) {
        PQclear(PQgetResult(db->conn));
    }
    if (PQpipelineStatus(db->conn) != PQ_PIPELINE_OFF) {
        /* out of step for good: end the session (its transaction rolls
         * back) rather than read a stale result later */
        rc = etl_pg_fail(db, NULL, "could not end a batch", err);
        shutdown(PQsocket(db->conn), SHUT_RDWR);
    }
    if (rc < 0) {
        for (size_t i = 0; i < n; i++) {
            if (stmts[i].res != NULL) {
                PQclear(*stmts[i].res);
                *stmts[i].res = NULL;
            }
        }
    }
    return rc;
}

/* Is the session still there; see pg.h. */
int
etl_pg_check(struct pg_conn *db, bool probe, struct etl_err *err)
{
    struct pollfd pfd;

    if (PQstatus(db->conn) != CONNECTION_OK) {
        return etl_pg_fail(db, NULL, "connection lost", err);
    }
    pfd.fd = PQsocket(db->conn);
    pfd.events = POLLIN;
    pfd.revents = 0;
    /* readable while idle: a message (a FATAL before the end) or the end */
    if (pfd.fd >= 0 && poll(&pfd, 1, 0) > 0 &&
        (PQconsumeInput(db->conn) != 1 || PQstatus(db->conn) != CONNECTION_OK)) {
        return etl_pg_fail(db, NULL, "connection lost", err);
    }
    return probe ? etl_pg_exec(db, "SELECT 1", err) : 0;
}

int
etl_pg_copy_begin(struct pg_conn *db, const char *copy_sql, struct etl_err *err)
{
    PGresult *res = PQexec(db->conn, copy_sql);

    if (PQresultStatus(res) != PGRES_COPY_IN) {
        etl_pg_fail(db, res, "could not start COPY", err);
        PQclear(res);
        return -1;
    }
    PQclear(res);
    db->in_copy = true;
    return 0;
}

int
etl_pg_copy_put(struct pg_conn *db, const char *data, size_t len, struct etl_err *err)
{
    /* libpq takes an int length: send big buffers in pieces */
    while (len > 0) {
        int n = len > (1u << 30) ? (1 << 30) : (int)len;

        if (PQputCopyData(db->conn, data, n) != 1) {
            return etl_pg_fail(db, NULL, "could not send COPY data", err);
        }
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

int
etl_pg_copy_end(struct pg_conn *db, const char *abort_msg, struct etl_err *err)
{
    PGresult *res;
    int rc = 0;

    if (!db->in_copy) {
        return 0;
    }
    db->in_copy = false;
    if (PQputCopyEnd(db->conn, abort_msg) != 1) {
        rc = etl_pg_fail(db, NULL, "could not end COPY", err);
    }
    while ((res = PQgetResult(db->conn)) != NULL) {
        if (PQresultStatus(res) != PGRES_COMMAND_OK && abort_msg == NULL && rc == 0) {
            rc = etl_pg_fail(db, res, "COPY failed", err);
        }
        PQclear(res);
    }
    return rc;
}

int
etl_copy_field_n(struct etl_buf *b, const char *s, size_t n, bool last, struct etl_err *err)
{
    size_t start = 0;

    if (s == NULL) {
        if (etl_buf_add(b, "\\N", 2, err) < 0) {
            return -1;
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            char esc;

            switch (s[i]) {
            case '\\': esc = '\\'; break;
            case '\t': esc = 't'; break;
            case '\n': esc = 'n'; break;
            case '\r': esc = 'r'; break;
            default: continue;
            }
            if (etl_buf_add(b, s + start, i - start, err) < 0 ||
                etl_buf_addc(b, '\\', err) < 0 || etl_buf_addc(b, esc, err) < 0) {
                return -1;
            }
            start = i + 1;
        }
        if (etl_buf_add(b, s + start, n - start, err) < 0) {
            return -1;
        }
    }
    return etl_buf_addc(b, last ? '\n' : '\t', err);
}

int
etl_copy_field(struct etl_buf *b, const char *s, bool last, struct etl_err *err)
{
    return etl_copy_field_n(b, s, s != NULL ? strlen(s) : 0, last, err);
}
