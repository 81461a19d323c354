/*
 * pg.h
 *    Thin helpers over libpq: connect, run a statement, COPY FROM STDIN, and
 *    turn a PGresult error into an etl_err (SQLSTATE in err->sqlstate and
 *    in the detail, a lost connection marked retryable).  Connection settings come only from
 *    libpq's own sources: the conninfo string, PG* variables, the service and
 *    password files.
 */
#ifndef ETL_PG_H
#define ETL_PG_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "buf.h"
#include "err.h"

/* SQLSTATEs the engine acts on (PostgreSQL's errcodes.txt). */
#define ETL_SQLSTATE_UNIQUE_VIOLATION "23505"

struct pg_conn {
    PGconn *conn;
    bool in_copy;
};

/* Connect; NULL with ETL_E_DB set.  'conninfo' may be NULL or "" (PG* vars). */
struct pg_conn *etl_pg_connect(const char *conninfo, const char *appname,
                               struct etl_err *err) ETL_MUSTCHECK;
/*
 * The same, waiting at most 'seconds' (2 at least, as libpq) for the server
 * to answer: this connect_timeout wins over the conninfo's and
 * PGCONNECT_TIMEOUT's.  For the HTTP server's requests, which must not hang
 * on an unreachable host.
 */
struct pg_conn *etl_pg_connect_timeout(const char *conninfo, const char *appname, int seconds,
                                       struct etl_err *err) ETL_MUSTCHECK;
void etl_pg_close(struct pg_conn *db);

/* Whether the connection is still up (false for NULL, or after the server
 * ended the session). */
bool etl_pg_alive(const struct pg_conn *db);

/* Run statements without parameters (may be several, separated by ';'). */
int etl_pg_exec(struct pg_conn *db, const char *sql, struct etl_err *err) ETL_MUSTCHECK;

/*
 * Run one statement with text parameters (NULL pointer = SQL NULL).  If 'res'
 * is not NULL the result is stored there for the caller to PQclear();
 * otherwise it is cleared here.
 */
int etl_pg_query(struct pg_conn *db, const char *sql, int nparams,
                 const char *const *params, PGresult **res, struct etl_err *err) ETL_MUSTCHECK;

/* One statement of a batch (etl_pg_batch): text parameters as etl_pg_query's. */
struct etl_pg_stmt {
    const char *sql;
    int nparams;
    const char *const *params;
    PGresult **res;             /* NULL: the result is cleared; else the caller's to PQclear */
};

/*
 * Run 'n' statements in one round trip (libpq's pipeline mode, one sync at
 * the end), in order, inside whatever transaction is open; as etl_pg_query
 * each.  The first error stops the batch: the statements after it are not
 * run (the server skips them up to the sync), and 'err' says which failed.
 * Each stmts[i].res is set (NULL for those not run or failed).  Without an
 * open transaction the batch is one implicit transaction.  Not with COPY.
 */
int etl_pg_batch(struct pg_conn *db, const struct etl_pg_stmt *stmts, size_t n,
                 struct etl_err *err) ETL_MUSTCHECK;

/*
 * Whether the session is still there, without a round trip when it can
 * be: fails when libpq knows the connection broken or the server closed
 * it (read at once: a terminated backend, a restart); a statement goes to
 * the server only when 'probe' is true.  0, or -1 with 'err' set.
 */
int etl_pg_check(struct pg_conn *db, bool probe, struct etl_err *err) ETL_MUSTCHECK;

/* Start COPY ... FROM STDIN (the statement given). */
int etl_pg_copy_begin(struct pg_conn *db, const char *copy_sql, struct etl_err *err) ETL_MUSTCHECK;
/* Send bytes of COPY data (any split). */
int etl_pg_copy_put(struct pg_conn *db, const char *data, size_t len, struct etl_err *err) ETL_MUSTCHECK;
/*
 * End COPY.  'abort_msg' NULL: finish normally and check the result (a
 * constraint error surfaces here); otherwise abort the COPY with that message
 * (the transaction is then in error and must be rolled back).
 */
int etl_pg_copy_end(struct pg_conn *db, const char *abort_msg, struct etl_err *err);

/*
 * Fill 'err' from a failed result (or the connection's message when res is
 * NULL): message, detail "SQLSTATE xxxxx, <detail>; context: <context>"
 * (the parts present), err->sqlstate, retryable
 * for a lost connection or a transaction rollback.  Nothing when 'err' is
 * already set (the first error wins).  Returns -1.
 */
int etl_pg_fail(struct pg_conn *db, PGresult *res, const char *what, struct etl_err *err);

/*
 * Append one COPY text-format field to 'b': backslash, tab, newline and CR
 * escaped; NULL written as \N.  'last' ends the row with a newline, else a tab.
 */
int etl_copy_field(struct etl_buf *b, const char *s, bool last, struct etl_err *err) ETL_MUSTCHECK;
int etl_copy_field_n(struct etl_buf *b, const char *s, size_t n, bool last,
                     struct etl_err *err) ETL_MUSTCHECK;

#endif
