/*
 * http.c
 *    Concurrent downloads into the spool with libcurl's multi interface; see
 *    http.h.  One struct http_xfer per URL holds its state between attempts:
 *    QUEUED (with the time it may start), RUNNING (an easy handle in the
 *    multi), DONE.  The loop starts due transfers while fewer than
 *    'parallel' run, drives curl, reads the finished ones, and waits in
 *    curl_multi_poll() no longer than until the next due retry, so a retry
 *    waiting for its backoff never holds up the others.
 *
 *    Each turn also feeds the systemd watchdog and asks the caller's cancel
 *    predicate; a cancel drops the transfers left and their temp files.
 *
 *    The write callback streams the body of a 2xx response into a spool temp
 *    file (spool.c) and its hash; the body of any other response is thrown
 *    away.  The header callback keeps ETag, Last-Modified and Retry-After of
 *    the last response (a redirect or 100 Continue starts over).
 */
#include "http.h"

#include <curl/curl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "notify.h"
#include "url.h"

/* Retries queued by this process (etl_http_retry_count). */
static _Atomic uint64_t http_retries;

/* See http.h. */
uint64_t
etl_http_retry_count(void)
{
    return atomic_load(&http_retries);
}

#ifndef ETL_VERSION
#define ETL_VERSION "dev"
#endif

/*
 * Longest single wait in curl_multi_poll(): a bound, not a tick; also how
 * late a cancel is seen at worst (a signal ends the wait at once).
 */
#define HTTP_POLL_MAX_MS 250
/* Longest header value kept (ETag, Last-Modified); longer ones are dropped. */
#define HTTP_HEADER_MAX 1024
/*
 * Longest URL in messages: more than an error message holds (256), so a
 * longer URL is cut there anyway.
 */
#define HTTP_SHOWN_MAX 512

enum xfer_state { XFER_QUEUED, XFER_RUNNING, XFER_DONE };

/* Most sockets of one etl_http_fetch() call tracked for http_ack_now(). */
#define HTTP_SOCKS_MAX 64

/*
 * The TCP sockets of one etl_http_fetch() call's connections, as curl opens
 * and closes them (CURLOPT_SOCKOPTFUNCTION, CURLOPT_CLOSESOCKETFUNCTION): a
 * kept-alive connection serves many easy handles, and an easy handle
 * cannot name its socket while its transfer runs.
 */
struct http_socks {
    curl_socket_t fd[HTTP_SOCKS_MAX];
    size_t n;
};

struct http_xfer {
    struct etl_http_req *req;
    const struct etl_http_opts *opts;
    struct http_socks *socks;       /* the call's connections */
    enum xfer_state state;
    int64_t due_ms;                 /* QUEUED: not before this (monotonic) */
    CURL *easy;
    struct curl_slist *hdrs;
    struct etl_spool_file spool;
    /* per attempt */
    bool body_seen;                 /* the write callback ran once */
    bool discard;                   /* not a 2xx: drop the body */
    bool toobig;                    /* body passed max_bytes */
    bool failed;                    /* a callback failed: 'cb_err' says why */
    struct etl_err cb_err;
    long retry_after;               /* s, -1 when none */
    char reason[64];                /* reason phrase of the status line */
    char *etag, *last_modified;     /* of the last response */
    char errbuf[CURL_ERROR_SIZE];
    char shown[HTTP_SHOWN_MAX];     /* the URL for messages: redacted */
};

int
etl_http_global_init(struct etl_err *err)
{
    const curl_version_info_data *vi;
    CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);

    if (rc != CURLE_OK) {
        return etl_err_set(err, ETL_E_NET, "could not initialize libcurl: %s",
                           curl_easy_strerror(rc));
    }
    vi = curl_version_info(CURLVERSION_NOW);
    for (const char *const *p = vi->protocols; p != NULL && *p != NULL; p++) {
        if (strcmp(*p, "http") == 0) {
            return 0;
        }
    }
    curl_global_cleanup();
    return etl_err_set(err, ETL_E_NET, "libcurl %s has no http support", vi->version);
}

void
etl_http_global_cleanup(void)
{
    curl_global_cleanup();
}

void
etl_http_opts_init(struct etl_http_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->parallel = ETL_HTTP_PARALLEL;
    o->retries = ETL_HTTP_RETRIES;
    o->backoff_ms = ETL_HTTP_BACKOFF_MS;
    o->backoff_max_ms = ETL_HTTP_BACKOFF_MAX_MS;
    o->timeout = ETL_HTTP_TIMEOUT;
    o->connect_timeout = ETL_HTTP_CONNECT_TIMEOUT;
    o->max_bytes = ETL_HTTP_MAX_BYTES;
}

void
etl_http_req_init(struct etl_http_req *r, const char *url, const char *etag,
                  const char *last_modified)
{
    memset(r, 0, sizeof(*r));
    r->url = url;
    r->etag = etag;
    r->last_modified = last_modified;
}

void
etl_http_req_clear(struct etl_http_req *r)
{
    free(r->spool_path);
    free(r->resp_etag);
    free(r->resp_last_modified);
    r->spool_path = NULL;
    r->resp_etag = NULL;
    r->resp_last_modified = NULL;
}

/* Monotonic milliseconds. */
static int64_t
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Case-insensitive "is this header 'name'" for a header of length n. */
static bool
header_is(const char *h, size_t n, const char *name)
{
    size_t k = strlen(name);

    return n == k && strncasecmp(h, name, k) == 0;
}

/* Copy [p, p+n) into a new string (NULL on ENOMEM). */
static char *
memdup_str(const char *p, size_t n)
{
    char *s = malloc(n + 1);

    if (s != NULL) {
        memcpy(s, p, n);
        s[n] = '\0';
    }
    return s;
}

/* Forget what the previous response of this attempt said. */
static void
xfer_reset_response(struct http_xfer *x)
{
    free(x->etag);
    free(x->last_modified);
    x->etag = NULL;
    x->last_modified = NULL;
    x->retry_after = -1;
    x->reason[0] = '\0';
}

/*
 * The header block of a response has been read: acknowledge it now, not
 * after the kernel's delayed-ACK timer (40 ms on Linux).  On a kept-alive
 * connection the kernel delays the ACKs of a request's answer; a server
 * that writes the headers and the body in two sends with Nagle's algorithm
 * on (Python's http.server, many small servers) holds the body back until
 * that ACK comes, and every small file then costs 40 ms.  TCP_QUICKACK
 * sends a pending ACK at once.  The transfer's own socket is not known
 * here: all of the call's connections (at most 'parallel', plus a redirect's)
 * are asked, which costs one system call each and nothing else.  Best
 * effort: nothing fails without it.
 */
static void
http_ack_now(const struct http_socks *socks)
{
#ifdef TCP_QUICKACK
    int one = 1;

    for (size_t i = 0; i < socks->n; i++) {
        (void)setsockopt(socks->fd[i], IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
    }
#else
    (void)socks;
#endif
}

/* CURLOPT_SOCKOPTFUNCTION: a new connection's socket, tracked for http_ack_now(). */
static int
http_sock_opened(void *ud, curl_socket_t fd, curlsocktype purpose)
{
    struct http_socks *socks = ud;

    if (purpose == CURLSOCKTYPE_IPCXN && socks->n < HTTP_SOCKS_MAX) {
        socks->fd[socks->n++] = fd;
    }
    return CURL_SOCKOPT_OK;
}

/* CURLOPT_CLOSESOCKETFUNCTION: forget a socket, then close it. */
static int
http_sock_close(void *ud, curl_socket_t fd)
{
    struct http_socks *socks = ud;

    for (size_t i = 0; i < socks->n; i++) {
        if (socks->fd[i] == fd) {
            socks->fd[i] = socks->fd[--socks->n];
            break;
        }
    }
    return close(fd);
}

/*
 * CURLOPT_HEADERFUNCTION: one header line at a time (with its CRLF).  A
 * status line starts a new response (redirects, 1xx).  Returning less than
 * the size aborts the transfer (only on ENOMEM).
 */
static size_t
http_header_cb(char *p, size_t size, size_t nmemb, void *ud)
{
    struct http_xfer *x = ud;
    size_t len = size * nmemb;
    const char *colon, *name_end, *v, *v_end;
    char tmp[64];

    if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
        const char *s = memchr(p, ' ', len);
        const char *end = p + len;

        xfer_reset_response(x);
        /* "HTTP/1.1 404 Not Found": skip version and code */
        if (s != NULL) {
            s++;
            while (s < end && *s >= '0' && *s <= '9') {
                s++;
            }
            while (s < end && *s == ' ') {
                s++;
            }
            while (end > s && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ')) {
                end--;
            }
            if (end > s) {
                size_t n = (size_t)(end - s);

                n = n < sizeof(x->reason) - 1 ? n : sizeof(x->reason) - 1;
                memcpy(x->reason, s, n);
                x->reason[n] = '\0';
            }
        }
        return len;
    }
    colon = memchr(p, ':', len);
    if (colon == NULL) {
        /* the empty line at the end: the body follows */
        http_ack_now(x->socks);
        return len;
    }
    name_end = colon;
    while (name_end > p && (name_end[-1] == ' ' || name_end[-1] == '\t')) {
        name_end--;
    }
    v = colon + 1;
    v_end = p + len;
    while (v < v_end && (*v == ' ' || *v == '\t')) {
        v++;
    }
    while (v_end > v && (v_end[-1] == '\r' || v_end[-1] == '\n' || v_end[-1] == ' ' ||
                         v_end[-1] == '\t')) {
        v_end--;
    }
    if ((size_t)(v_end - v) > HTTP_HEADER_MAX) {
        return len;
    }
    if (header_is(p, (size_t)(name_end - p), "etag")) {
        free(x->etag);
        x->etag = memdup_str(v, (size_t)(v_end - v));
        if (x->etag == NULL) {
            goto nomem;
        }
    } else if (header_is(p, (size_t)(name_end - p), "last-modified")) {
        free(x->last_modified);
        x->last_modified = memdup_str(v, (size_t)(v_end - v));
        if (x->last_modified == NULL) {
            goto nomem;
        }
    } else if (header_is(p, (size_t)(name_end - p), "retry-after") &&
               (size_t)(v_end - v) < sizeof(tmp)) {
        memcpy(tmp, v, (size_t)(v_end - v));
        tmp[v_end - v] = '\0';
        x->retry_after = etl_http_retry_after(tmp, (long long)time(NULL));
    }
    return len;

nomem:
    x->failed = true;
    etl_err_nomem(&x->cb_err);
    return 0;
}

/*
 * CURLOPT_WRITEFUNCTION: the body, in pieces of up to 16 KiB.  The first
 * call decides from the status whether the body is kept (2xx: opens the
 * spool temp file) or dropped.  A short return aborts the transfer
 * (CURLE_WRITE_ERROR): spool write error or max_bytes passed.
 */
static size_t
http_write_cb(char *p, size_t size, size_t nmemb, void *ud)
{
    struct http_xfer *x = ud;
    size_t len = size * nmemb;

    if (!x->body_seen) {
        long code = 0;

        x->body_seen = true;
        curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
        x->discard = code < 200 || code > 299;
        if (!x->discard && etl_spool_open(&x->spool, x->opts->spool_dir, &x->cb_err) < 0) {
            x->failed = true;
            return 0;
        }
    }
    if (x->discard) {
        return len;
    }
    if (x->spool.bytes + (int64_t)len > x->opts->max_bytes) {
        x->toobig = true;
        return 0;
    }
    if (etl_spool_write(&x->spool, p, len, &x->cb_err) < 0) {
        x->failed = true;
        return 0;
    }
    return len;
}

/* Does a URL start with http:// or https:// (any case)? */
static bool
scheme_ok(const char *url)
{
    return strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0;
}

/* Release the easy handle and header list of an attempt (not the spool). */
static void
xfer_release(struct http_xfer *x, CURLM *multi)
{
    if (x->easy != NULL) {
        curl_multi_remove_handle(multi, x->easy);
        curl_easy_cleanup(x->easy);
        x->easy = NULL;
    }
    curl_slist_free_all(x->hdrs);
    x->hdrs = NULL;
}

/* Append "Name: value" to the request's header list; false on ENOMEM. */
static bool
hdr_add(struct curl_slist **list, const char *name, const char *value)
{
    struct curl_slist *l;
    size_t n = strlen(name) + 2 + strlen(value) + 1;
    char *line = malloc(n);

    if (line == NULL) {
        return false;
    }
    snprintf(line, n, "%s: %s", name, value);
    l = curl_slist_append(*list, line);
    free(line);
    if (l == NULL) {
        return false;
    }
    *list = l;
    return true;
}

/*
 * Start one attempt: a new easy handle with all options, added to the
 * multi.  -1 only when nothing can go on (ENOMEM, multi error).
 */
static int
xfer_start(struct http_xfer *x, CURLM *multi, struct etl_err *err)
{
    const struct etl_http_opts *o = x->opts;
    struct etl_http_req *r = x->req;
    CURLcode rc = CURLE_OK;
    CURLMcode mc;

    etl_spool_init(&x->spool);
    x->body_seen = x->discard = x->toobig = x->failed = false;
    etl_err_clear(&x->cb_err);
    xfer_reset_response(x);
    x->errbuf[0] = '\0';
    r->attempts++;

    x->easy = curl_easy_init();
    if (x->easy == NULL) {
        return etl_err_set(err, ETL_E_NOMEM, "out of memory (curl_easy_init)");
    }
    for (size_t i = 0; i < o->nheaders; i++) {
        struct curl_slist *l = curl_slist_append(x->hdrs, o->headers[i]);

        if (l == NULL) {
            return etl_err_nomem(err);
        }
        x->hdrs = l;
    }
    if ((r->etag != NULL && !hdr_add(&x->hdrs, "If-None-Match", r->etag)) ||
        (r->last_modified != NULL &&
         !hdr_add(&x->hdrs, "If-Modified-Since", r->last_modified))) {
        return etl_err_nomem(err);
    }

#define SETOPT(opt, val) \
    do { if (rc == CURLE_OK) { rc = curl_easy_setopt(x->easy, opt, val); } } while (0)
    SETOPT(CURLOPT_URL, r->url);           /* the real one: secrets and all */
    SETOPT(CURLOPT_PRIVATE, (void *)x);
    SETOPT(CURLOPT_ERRORBUFFER, x->errbuf);
    SETOPT(CURLOPT_NOSIGNAL, 1L);
    SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
    SETOPT(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    SETOPT(CURLOPT_FOLLOWLOCATION, 1L);
    SETOPT(CURLOPT_MAXREDIRS, (long)ETL_HTTP_MAX_REDIRECTS);
    SETOPT(CURLOPT_USERAGENT, "ewc-etl/" ETL_VERSION);
    SETOPT(CURLOPT_CONNECTTIMEOUT, o->connect_timeout);
    SETOPT(CURLOPT_LOW_SPEED_LIMIT, 1L);
    SETOPT(CURLOPT_LOW_SPEED_TIME, o->timeout);
    SETOPT(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_bytes);
    SETOPT(CURLOPT_TCP_KEEPALIVE, 1L);
    SETOPT(CURLOPT_HEADERFUNCTION, http_header_cb);
    SETOPT(CURLOPT_HEADERDATA, (void *)x);
    SETOPT(CURLOPT_WRITEFUNCTION, http_write_cb);
    SETOPT(CURLOPT_WRITEDATA, (void *)x);
    SETOPT(CURLOPT_SOCKOPTFUNCTION, http_sock_opened);
    SETOPT(CURLOPT_SOCKOPTDATA, (void *)x->socks);
    SETOPT(CURLOPT_CLOSESOCKETFUNCTION, http_sock_close);
    SETOPT(CURLOPT_CLOSESOCKETDATA, (void *)x->socks);
    if (x->hdrs != NULL) {
        SETOPT(CURLOPT_HTTPHEADER, x->hdrs);
    }
#undef SETOPT
    if (rc != CURLE_OK) {
        return etl_err_set(err, rc == CURLE_OUT_OF_MEMORY ? ETL_E_NOMEM : ETL_E_INTERNAL,
                           "could not set up GET %s: %s", x->shown, curl_easy_strerror(rc));
    }
    mc = curl_multi_add_handle(multi, x->easy);
    if (mc != CURLM_OK) {
        return etl_err_set(err, ETL_E_INTERNAL, "could not start GET %s: %s", x->shown,
                           curl_multi_strerror(mc));
    }
    etl_log(ETL_LOG_DEBUG, "GET %s (attempt %d%s%s%s%s)", x->shown, r->attempts,
            r->etag != NULL ? ", If-None-Match: " : "", r->etag != NULL ? r->etag : "",
            r->last_modified != NULL ? ", If-Modified-Since: " : "",
            r->last_modified != NULL ? r->last_modified : "");
    x->state = XFER_RUNNING;
    return 0;
}

/* curl results worth another attempt: the network, not the request. */
static bool
curl_retryable(CURLcode rc)
{
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return true;
    default:
        return false;
    }
}

/* A reason phrase when the status line had none (HTTP/2). */
static const char *
status_phrase(long code)
{
    switch (code) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 410: return "Gone";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "";
    }
}

/* Move a string output from the transfer to the request. */
static void
take_str(char **dst, char **src)
{
    free(*dst);
    *dst = *src;
    *src = NULL;
}

/*
 * An attempt ended with curl's result 'rc': classify it, then either finish
 * the request (success or final failure) or queue it again after its
 * backoff.  The easy handle is released either way.
 */
static void
xfer_done(struct http_xfer *x, CURLM *multi, CURLcode rc, uint64_t *seed)
{
    const struct etl_http_opts *o = x->opts;
    struct etl_http_req *r = x->req;
    struct etl_err e;
    bool retry = false;
    long code = 0;

    etl_err_clear(&e);
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
    r->status = code;
    if (x->failed) {
        e = x->cb_err;
        etl_err_context(&e, "GET %s", x->shown);
    } else if (x->toobig || (rc == CURLE_FILESIZE_EXCEEDED && code / 100 == 2)) {
        etl_err_set(&e, ETL_E_DATA, "GET %s: body larger than max_bytes (%lld bytes)",
                    x->shown, (long long)o->max_bytes);
    } else if ((rc == CURLE_OK || rc == CURLE_FILESIZE_EXCEEDED) && code / 100 != 2 &&
               code != 304) {
        const char *phrase = x->reason[0] != '\0' ? x->reason : status_phrase(code);

        etl_err_set(&e, ETL_E_NET, "GET %s: HTTP %ld%s%s", x->shown, code,
                    phrase[0] != '\0' ? " " : "", phrase);
        retry = code == 429 || code >= 500;
        e.retryable = retry;
    } else if (rc != CURLE_OK) {
        etl_err_set(&e, ETL_E_NET, "GET %s: %s", x->shown,
                    x->errbuf[0] != '\0' ? x->errbuf : curl_easy_strerror(rc));
        retry = curl_retryable(rc);
        e.retryable = retry;
    } else if (code == 304) {
        r->not_modified = true;
    } else if (x->spool.fd < 0 && etl_spool_open(&x->spool, o->spool_dir, &e) < 0) {
        etl_err_context(&e, "GET %s", x->shown);    /* empty body, no file yet */
    } else {
        r->bytes = x->spool.bytes;
        if (etl_spool_commit(&x->spool, o->spool_dir, &r->spool_path, r->sha256, &e) < 0) {
            etl_err_context(&e, "GET %s", x->shown);
        }
    }
    xfer_release(x, multi);
    etl_spool_abort(&x->spool);

    if (e.code == ETL_E_NONE) {
        take_str(&r->resp_etag, &x->etag);
        take_str(&r->resp_last_modified, &x->last_modified);
        etl_err_clear(&r->err);
        x->state = XFER_DONE;
        return;
    }
    if (retry && r->attempts <= o->retries) {
        long delay = etl_http_backoff(o->backoff_ms, o->backoff_max_ms, r->attempts,
                                      x->retry_after >= 0 ? x->retry_after * 1000 : -1,
                                      seed);

        atomic_fetch_add(&http_retries, 1);

        etl_log(ETL_LOG_NOTICE, "%s%s; retry %d of %ld in %ld ms",
                o->log_prefix != NULL ? o->log_prefix : "", e.msg, r->attempts,
                o->retries, delay);
        x->due_ms = now_ms() + delay;
        x->state = XFER_QUEUED;
        return;
    }
    r->err = e;
    if (r->attempts > 1) {
        etl_err_detail(&r->err, "gave up after %d attempts", r->attempts);
    }
    x->state = XFER_DONE;
}

/* Free everything a transfer may still hold (on any exit of the loop). */
static void
xfer_free(struct http_xfer *x, CURLM *multi)
{
    xfer_release(x, multi);
    etl_spool_abort(&x->spool);
    free(x->etag);
    free(x->last_modified);
    x->etag = NULL;
    x->last_modified = NULL;
}

bool
etl_http_flag_set(void *arg)
{
    return *(volatile sig_atomic_t *)arg != 0;
}

/*
 * Cancel what is not done: each such request gets its error; returns -1
 * with 'err' set, for etl_http_fetch to return.
 */
static int
fetch_cancel(struct http_xfer *xs, size_t n, size_t ndone, struct etl_err *err)
{
    for (size_t i = 0; i < n; i++) {
        if (xs[i].state != XFER_DONE) {
            etl_err_set(&xs[i].req->err, ETL_E_NET, "GET %s: download cancelled",
                        xs[i].shown);
            xs[i].req->err.retryable = true;
        }
    }
    etl_err_set(err, ETL_E_NET, "download cancelled");
    etl_err_detail(err, "%zu of %zu URLs not done", n - ndone, n);
    err->retryable = true;
    return -1;
}

/*
 * Set up the transfers of reqs[0..n-1]: queued, or done at once when the
 * scheme is not allowed.  Returns how many are done.
 */
static size_t
fetch_queue(struct http_xfer *xs, struct etl_http_req *reqs, size_t n,
            const struct etl_http_opts *opts, struct http_socks *socks)
{
    size_t ndone = 0;

    for (size_t i = 0; i < n; i++) {
        struct http_xfer *x = &xs[i];

        x->req = &reqs[i];
        x->opts = opts;
        x->socks = socks;
        x->retry_after = -1;
        etl_spool_init(&x->spool);
        if (reqs[i].shown != NULL) {
            etl_strlcpy(x->shown, reqs[i].shown, sizeof(x->shown));
        } else {
            etl_url_redact(reqs[i].url, x->shown, sizeof(x->shown));
        }
        if (!scheme_ok(reqs[i].url)) {
            etl_err_set(&reqs[i].err, ETL_E_CONFIG,
                        "GET %s: scheme not allowed (only http and https)", x->shown);
            x->state = XFER_DONE;
            ndone++;
        } else {
            x->state = XFER_QUEUED;
        }
    }
    return ndone;
}

/* How long to wait for sockets: 'wait' ms at most, less if a retry is due sooner. */
static long
fetch_wait_ms(const struct http_xfer *xs, size_t n, long wait)
{
    int64_t now = now_ms();

    for (size_t i = 0; i < n; i++) {
        if (xs[i].state == XFER_QUEUED) {
            int64_t d = xs[i].due_ms - now;

            if (d < wait) {
                wait = d > 0 ? (long)d : 0;
            }
        }
    }
    return wait;
}

/*
 * Read the attempts curl has finished and classify each (xfer_done).
 * Lowers *running by their number; returns how many requests are done.
 */
static size_t
fetch_collect(CURLM *multi, long *running, uint64_t *seed)
{
    struct CURLMsg *msg;
    size_t ndone = 0;
    int left;

    while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
        struct http_xfer *x;
        char *priv = NULL;

        if (msg->msg != CURLMSG_DONE) {
            continue;
        }
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
        x = (struct http_xfer *)(void *)priv;
        xfer_done(x, multi, msg->data.result, seed);
        (*running)--;
        if (x->state == XFER_DONE) {
            ndone++;
        }
    }
    return ndone;
}

/*
 * The multi loop.  Each turn: start due transfers up to 'parallel', let curl
 * work, collect finished ones, then wait for sockets or the next due retry.
 * O(n) per turn for n URLs (a scan of the queue); fine for hundreds.
 */
int
etl_http_fetch(struct etl_http_req *reqs, size_t n, const struct etl_http_opts *opts,
               struct etl_err *err)
{
    struct http_socks socks = { .n = 0 };     /* outlives the multi: it closes them */
    struct http_xfer *xs;
    CURLM *multi;
    size_t ndone = 0;
    long running = 0;
    long parallel = opts->parallel > 0 ? opts->parallel : 1;
    uint64_t seed;
    int rc = -1;

    if (n == 0) {
        return 0;
    }
    xs = calloc(n, sizeof(*xs));
    multi = curl_multi_init();
    if (xs == NULL || multi == NULL) {
        free(xs);
        if (multi != NULL) {
            curl_multi_cleanup(multi);
        }
        return etl_err_nomem(err);
    }
    seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)xs;
    ndone = fetch_queue(xs, reqs, n, opts, &socks);

    while (ndone < n) {
        int64_t now = now_ms();
        long wait = HTTP_POLL_MAX_MS;       /* ms */
        int still;
        CURLMcode mc;

        etl_notify_watchdog();
        if (opts->cancelled != NULL && opts->cancelled(opts->cancel_arg)) {
            fetch_cancel(xs, n, ndone, err);
            goto out;
        }

        for (size_t i = 0; i < n && running < parallel; i++) {
            if (xs[i].state == XFER_QUEUED && xs[i].due_ms <= now) {
                if (xfer_start(&xs[i], multi, err) < 0) {
                    goto out;
                }
                running++;
            }
        }
        if (running > 0) {
            mc = curl_multi_perform(multi, &still);
            if (mc != CURLM_OK) {
                etl_err_set(err, ETL_E_INTERNAL, "curl_multi_perform: %s",
                            curl_multi_strerror(mc));
                goto out;
            }
        }
        ndone += fetch_collect(multi, &running, &seed);
        if (ndone == n) {
            break;
        }
        if (running < parallel) {
            wait = fetch_wait_ms(xs, n, wait);
        }
        if (wait > 0) {
            mc = curl_multi_poll(multi, NULL, 0, (int)wait, NULL);
            if (mc != CURLM_OK) {
                etl_err_set(err, ETL_E_INTERNAL, "curl_multi_poll: %s",
                            curl_multi_strerror(mc));
                goto out;
            }
        }
    }
    rc = 0;

out:
    for (size_t i = 0; i < n; i++) {
        xfer_free(&xs[i], multi);
    }
    curl_multi_cleanup(multi);
    free(xs);
    return rc;
}
