/*
 * http.h
 *    The HTTP client: downloads a set of URLs concurrently with libcurl's
 *    multi interface, each body streamed into the spool (spool.h) while its
 *    SHA-256 is computed.  Conditional GET from the previous validators
 *    (If-None-Match / If-Modified-Since; 304 = not modified), retries with
 *    exponential backoff and full jitter on timeouts, connection errors, 429
 *    and 5xx (Retry-After honoured), scheduled inside the multi loop so that
 *    a waiting retry never blocks the other transfers.  Only http and https,
 *    also across redirects.  A URL is fetched as given, its credentials
 *    too, but shown only redacted (etl/url.h): no message names a secret.
 *
 *    main.c calls etl_http_global_init() once at start (before any thread)
 *    and etl_http_global_cleanup() at exit; stages/fetch.c is the user.
 */
#ifndef ETL_HTTP_H
#define ETL_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "err.h"
#include "spool.h"

#define ETL_HTTP_PARALLEL 4                 /* transfers at once */
#define ETL_HTTP_RETRIES 3
#define ETL_HTTP_BACKOFF_MS 500             /* first retry waits up to this */
#define ETL_HTTP_BACKOFF_MAX_MS 30000       /* no wait longer, Retry-After too */
#define ETL_HTTP_TIMEOUT 60                 /* s below 1 byte/s before giving up */
#define ETL_HTTP_CONNECT_TIMEOUT 10         /* s */
#define ETL_HTTP_MAX_BYTES (INT64_C(4) << 30)   /* 4 GiB per body */
#define ETL_HTTP_MAX_REDIRECTS 5

/* Settings shared by all the transfers of one etl_http_fetch() call. */
struct etl_http_opts {
    const char *spool_dir;          /* must exist (etl_spool_prepare) */
    long parallel;                  /* 1.. */
    long retries;                   /* further attempts after the first */
    long backoff_ms;
    long backoff_max_ms;
    long timeout;                   /* s: low-speed window (< 1 byte/s) */
    long connect_timeout;           /* s */
    int64_t max_bytes;              /* larger bodies fail with ETL_E_DATA */
    const char *const *headers;     /* extra "Name: value" lines, or NULL */
    size_t nheaders;
    const char *log_prefix;         /* "[pipeline/stage] " for retry logs, or NULL */
    /*
     * Asked at every turn of the loop, at least every HTTP_POLL_MAX_MS
     * (250 ms) and on every signal: true stops all downloads (see
     * etl_http_fetch).  NULL: never.
     */
    bool (*cancelled)(void *arg);
    void *cancel_arg;
};

/* One URL to download: inputs set by the caller, outputs by etl_http_fetch(). */
struct etl_http_req {
    /* in (not owned) */
    const char *url;                /* fetched as it is, credentials too */
    /*
     * The URL for every message, log line and error (see url.h): set it
     * after etl_http_req_init() to the caller's redacted form; NULL (the
     * default) redacts 'url' with the default secret names.
     */
    const char *shown;
    const char *etag;               /* of the previously loaded version, or NULL */
    const char *last_modified;      /* idem */
    /* out (owned by the request: etl_http_req_clear() frees them) */
    long status;                    /* last HTTP status, 0 if none came */
    bool not_modified;              /* 304: no body */
    char *spool_path;               /* spool_dir/<sha256>, NULL when no body */
    char sha256[ETL_SHA256_HEX];    /* "" when no body */
    int64_t bytes;
    char *resp_etag;                /* ETag of the response, NULL if none */
    char *resp_last_modified;       /* Last-Modified of the response, NULL if none */
    int attempts;                   /* requests made */
    struct etl_err err;             /* code != 0 when this URL failed */
};

/*
 * curl_global_init(): once per process, before threads.  -1 with ETL_E_NET
 * if libcurl cannot start or lacks http.
 */
int etl_http_global_init(struct etl_err *err) ETL_MUSTCHECK;
void etl_http_global_cleanup(void);

/* The defaults above; spool_dir NULL, no extra headers. */
void etl_http_opts_init(struct etl_http_opts *o);

/*
 * Set a request's inputs (not copied: they must outlive the fetch; 'shown'
 * NULL) and zero its outputs; call before etl_http_fetch().
 */
void etl_http_req_init(struct etl_http_req *r, const char *url, const char *etag,
                       const char *last_modified);
/* Free a request's outputs; the inputs are left alone. */
void etl_http_req_clear(struct etl_http_req *r);

/*
 * Download reqs[0..n-1], at most opts->parallel at once, until each one
 * succeeded (a 2xx body spooled, or 304) or failed for good (reqs[i].err
 * set; err.retryable tells whether a later run may succeed).  A failed URL
 * does not stop the others.  Returns -1 only when nothing can go on (out of
 * memory, libcurl multi failure), with 'err' set; the requests' outputs are
 * then still to be cleared.  While it waits it feeds the systemd watchdog
 * (etl_notify_watchdog).
 *
 * When opts->cancelled says so, it drops every transfer not yet done (their
 * temp files are removed: nothing partial stays in the spool), sets each of
 * those requests' err to 'GET <url>: download cancelled', and returns -1
 * with ETL_E_NET 'download cancelled' (detail: how many URLs were left),
 * retryable: a later run may fetch them.  Time: as long as the slowest URL
 * with its retries; memory: one curl handle and one 16 KiB buffer per
 * running transfer.
 */
int etl_http_fetch(struct etl_http_req *reqs, size_t n, const struct etl_http_opts *opts,
                   struct etl_err *err) ETL_MUSTCHECK;

/*
 * A cancel predicate for etl_http_opts: true once the flag 'arg' points to
 * (a volatile sig_atomic_t, as set by a signal handler) is not 0.
 */
bool etl_http_flag_set(void *arg);

/*
 * Retries (after a timeout, a 429 or a 5xx) this process has queued since
 * it started, over all fetches: the ledger does not record them, so the
 * metrics count them here.  Safe from any thread.
 */
uint64_t etl_http_retry_count(void);

/*
 * Seconds of a Retry-After value ("120" or an HTTP date) from 'now' (time(2)
 * seconds); -1 when it is neither.  A date in the past gives 0.  This and
 * etl_http_backoff are in http_retry.c.
 */
long etl_http_retry_after(const char *value, long long now);

/*
 * The wait before retry number 'attempt' (1 = first retry): a random time in
 * [0, min(max_ms, base_ms * 2^(attempt-1))] (full jitter), or the Retry-After
 * in ms when >= 0, capped at max_ms.  'seed' is the PRNG state.
 */
long etl_http_backoff(long base_ms, long max_ms, int attempt, long retry_after_ms,
                      uint64_t *seed);

#endif
