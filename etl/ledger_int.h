/*
 * ledger_int.h
 *    What ledger.c and ledger_file.c share, not part of ledger.h: the
 *    text form of parameters (numbers through num_param(), an absent
 *    optional one as SQL NULL), statements built for etl_pg_batch, and the
 *    source updates that end a file.
 */
#ifndef ETL_LEDGER_INT_H
#define ETL_LEDGER_INT_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "ledger.h"

/* Text of an optional int64 for a parameter (NULL when not present). */
static inline const char *
num_param(char *buf, size_t size, int64_t v, bool present)
{
    if (!present) {
        return NULL;
    }
    snprintf(buf, size, "%" PRId64, v);
    return buf;
}

/* The int64 in the first column of a one-row result, which is cleared. */
static inline int64_t
result_id(PGresult *res)
{
    int64_t id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);

    PQclear(res);
    return id;
}

/* Roll back whatever is open, ignoring errors (the first one is kept). */
static inline void
rollback(struct pg_conn *db)
{
    struct etl_err ignore;

    etl_err_clear(&ignore);
    (void)!etl_pg_exec(db, "ROLLBACK", &ignore);
}

/*
 * One statement built for etl_pg_batch, with the storage of its
 * parameters: the functions below that run one statement build it with a
 * *_stmt() function, and the batches of the worker (etl_ledger_file_end,
 * etl_ledger_task_claim_tx) put several in one round trip.
 */
struct ledger_stmt {
    struct etl_pg_stmt s;
    const char *params[12];
    char num[8][24];
};

/* Run one built statement on its own. */
static inline int
stmt_query(struct pg_conn *db, const struct ledger_stmt *st, struct etl_err *err)
{
    return etl_pg_query(db, st->s.sql, st->s.nparams, st->s.params, NULL, err);
}

/* ledger.source after a file: its new current version, a refused one to
 * remember, or (a file recorded without a load) the refusal's validators. */
void ledger_source_loaded_stmt(struct ledger_stmt *st, int64_t source_id,
                               const struct etl_file *f, int64_t file_id);
void ledger_source_refused_stmt(struct ledger_stmt *st, int64_t source_id,
                                const struct etl_file *f, int64_t file_id, const char *config);
int ledger_source_refusal_after(struct pg_conn *db, int64_t source_id, const struct etl_file *f,
                                struct etl_err *err);

#endif
