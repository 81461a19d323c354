/*
 * chain.c
 *    Drives one spooled file through its row stages; see chain.h.
 */
#include "chain.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "notify.h"
#include "pg.h"
#include "runner.h"

/* The first row stage after a fetch stage; see chain.h. */
struct etl_stage *
etl_chain_head(const struct etl_pipeline *p, const char *fetch_stage)
{
    for (size_t i = 0; i < p->nstages; i++) {
        struct etl_stage *st = p->stages[i];

        if (st->kind->consumes == ETL_FLOW_FILE && st->nneeds > 0 &&
            strcmp(st->needs[0], fetch_stage) == 0) {
            return st;
        }
    }
    return NULL;
}

/* Feed the spooled body of job->file through the chain from 'head', then finish it. */
static int
chain_stream(struct etl_stage *head, struct etl_job *job, struct etl_verdict *v,
             struct etl_err *err)
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
    block = malloc(ETL_CHAIN_READ_BYTES);
    if (block == NULL) {
        close(fd);
        return etl_err_nomem(err);
    }
    memset(&chunk, 0, sizeof(chunk));
    while ((n = read(fd, block, ETL_CHAIN_READ_BYTES)) != 0) {
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
        etl_run_report(job->run, (size_t)n, NULL);
        etl_notify_watchdog();
    }
    if (rc == 0 && head->kind->finish != NULL) {
        rc = head->kind->finish(head, v, err);
    }
    etl_log(ETL_LOG_DEBUG, "%s: %zd bytes through the chain from %s%s%s", f->url,
            (ssize_t)lseek(fd, 0, SEEK_CUR), head->name, rc == 0 ? ", verdict " : ", failed",
            rc == 0 ? (v->kind == ETL_VERDICT_REFUSED ? "refused" : "loaded") : "");
    free(block);
    close(fd);
    return rc;
}

/* One file through the chain; see chain.h. */
int
etl_chain_run(struct etl_stage *head, struct etl_job *job, struct etl_verdict *v,
              struct etl_err *err)
{
    struct etl_stage *st;
    int rc = -1;

    memset(v, 0, sizeof(*v));
    for (st = head; st != NULL; st = st->next) {
        st->job = job;
    }
    for (st = head; st != NULL; st = st->next) {
        if (st->kind->begin != NULL && st->kind->begin(st, err) < 0) {
            goto out;
        }
    }
    rc = chain_stream(head, job, v, err);
out:
    if (rc < 0) {
        /* every stage: abort() may follow a failed or a missing begin() */
        for (st = head; st != NULL; st = st->next) {
            if (st->kind->abort != NULL) {
                st->kind->abort(st);
            }
        }
    }
    for (st = head; st != NULL; st = st->next) {
        st->job = NULL;
    }
    return rc;
}

/* The chain's declared policy for a failure; see chain.h. */
enum etl_verdict_kind
etl_chain_policy(const struct etl_stage *head, const struct etl_err *e)
{
    if (strcmp(e->sqlstate, ETL_SQLSTATE_UNIQUE_VIOLATION) != 0) {
        return ETL_VERDICT_OK;
    }
    for (const struct etl_stage *st = head; st != NULL; st = st->next) {
        if (st->kind->on_unique_violation != ETL_VERDICT_OK) {
            return st->kind->on_unique_violation;
        }
    }
    return ETL_VERDICT_OK;
}
