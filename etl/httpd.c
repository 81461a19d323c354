/*
 * httpd.c
 *    The daemon's HTTP server; see httpd.h.  libmicrohttpd parses HTTP;
 *    this file only listens, routes, and answers.
 *
 *    A thread of its own (MHD_USE_INTERNAL_POLLING_THREAD, poll()), not an
 *    external select() loop in the daemon's loop: the daemon's loop is busy
 *    for the whole of a run -- fetching, loading files in its own process,
 *    waiting for its workers -- which takes minutes to hours, and /health
 *    must answer exactly then.  An external loop would have to be pumped
 *    from every inner loop of the runner, the chain and the fetch.  One
 *    thread serves one request at a time: the requests are a scrape and a
 *    probe now and then, and each opens its own database connection
 *    (connect timeout HTTPD_CONNECT_TIMEOUT, statement timeout
 *    HTTPD_STATEMENT_TIMEOUT), so a request cannot hang the server for long.
 *
 *    The main thread forks: worker processes (runner.c) and the .xls reader
 *    (xls.c).  fork() copies the calling thread only, but every descriptor
 *    and every lock as it is at that instant.  So, with pthread_atfork
 *    handlers registered at the first start:
 *    1. The child must not keep the port, nor a client's connection (a
 *       keep-alive connection held by a child that lives for an hour would
 *       hang the client's next request).  The child handler closes every
 *       TCP socket whose local address is the server's -- the listening one
 *       and the accepted ones, as found in /proc/self/fd -- so nothing
 *       accepted just before the fork escapes.  No MHD thread exists in the
 *       child, so it serves nothing, and it never calls into MHD.
 *    2. The child must not inherit a lock held mid-call by the server
 *       thread (libpq, the resolver, stdio, the time zone).  The server
 *       thread does all its work -- the request, the database, its log
 *       lines -- holding the environment lock (tz.h), which tz.c holds
 *       while it changes TZ, and the prepare handler takes it too: a fork
 *       waits for the request in progress (milliseconds; at most the
 *       timeouts above), and the child resets the lock.
 *    3. Signals: the server thread blocks every asynchronous signal, so
 *       SIGTERM, SIGINT, SIGHUP, SIGALRM and SIGCHLD reach the main thread,
 *       whose sleeps and waits they interrupt as before.
 *    The handlers act only in the process that started the server, and
 *    only while it runs.
 */
#include "httpd.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "pg.h"
#include "tz.h"

#define HTTPD_CONNECT_TIMEOUT 5         /* s: the database's answer to a connect */
#define HTTPD_STATEMENT_TIMEOUT "10s"   /* one statement of a request */
#define HTTPD_MAX_CONNECTIONS 16u
#define HTTPD_IDLE_SECONDS 15u          /* an idle keep-alive connection is closed */
#define HTTPD_MAX_BODY (64u << 20)

struct etl_httpd {
    struct MHD_Daemon *mhd;
    const struct etl_httpd_route *routes;
    size_t nroutes;
    char *conninfo;                 /* under the environment lock */
    char address[80];
    pid_t owner;
    bool failing;                   /* the last request was unavailable (log changes only) */
};

/*
 * For the fork handlers, which take no argument: the one server of this
 * process.  Written by the main thread only, which is also the one that
 * forks (the handlers run in the forking thread).
 */
static struct {
    pid_t owner;                    /* the process serving, 0 when none */
    struct sockaddr_storage sa;     /* the bound address, real port */
    bool locked;                    /* the prepare handler holds the lock */
} srv;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* ---- listen addresses ---- */

static int
listen_bad(const char *text, struct etl_err *err, const char *why)
{
    return etl_err_set(err, ETL_E_CONFIG, "invalid listen address \"%s\": %s", text, why);
}

/* Split "[IPv6]:PORT" into its address (to 'host') and its port text. */
static int
listen_split_v6(const char *text, char *host, size_t size, const char **port_text,
                struct etl_err *err)
{
    const char *close = strchr(text, ']');
    size_t len;

    if (close == NULL) {
        return listen_bad(text, err, "no \"]\" after the IPv6 address");
    }
    if (close[1] != ':') {
        return listen_bad(text, err, "expected [IPv6]:PORT, e.g. [::1]:9188");
    }
    len = (size_t)(close - text - 1);
    *port_text = close + 2;
    if (len == 0 || len >= size) {
        return listen_bad(text, err, "expected [IPv6]:PORT, e.g. [::1]:9188");
    }
    memcpy(host, text + 1, len);
    host[len] = '\0';
    return 0;
}

/* Split "ADDRESS:PORT" into its address (to 'host') and its port text. */
static int
listen_split_v4(const char *text, char *host, size_t size, const char **port_text,
                struct etl_err *err)
{
    const char *colon = strrchr(text, ':');
    size_t len;

    if (colon == NULL) {
        return listen_bad(text, err, "expected ADDRESS:PORT, e.g. " ETL_LISTEN_DEFAULT
                          ", or off");
    }
    if (strchr(text, ':') != colon) {
        return listen_bad(text, err, "an IPv6 address is written in brackets, e.g. "
                          "[::1]:9188");
    }
    len = (size_t)(colon - text);
    *port_text = colon + 1;
    if (len == 0 || (len == 1 && text[0] == '*')) {
        return listen_bad(text, err, "no address before the port: write "
                          "127.0.0.1:PORT for this host only, 0.0.0.0:PORT for every "
                          "interface");
    }
    if (len >= size) {
        return listen_bad(text, err, "the address is too long");
    }
    memcpy(host, text, len);
    host[len] = '\0';
    return 0;
}

/* The port: a decimal number from 0 to 65535. */
static int
listen_port(const char *text, const char *port_text, long *port, struct etl_err *err)
{
    size_t len = strlen(port_text);

    if (len == 0 || len > 5 || strspn(port_text, "0123456789") != len ||
        (*port = strtol(port_text, NULL, 10)) > 65535) {
        return listen_bad(text, err, "the port must be a number from 0 to 65535");
    }
    return 0;
}

/* Fill 'out' with the IPv6 address 'host' and 'port'. */
static int
listen_set_v6(const char *text, const char *host, long port, struct etl_listen *out,
              struct etl_err *err)
{
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&out->sa;
    char addr[INET6_ADDRSTRLEN];

    if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1) {
        return listen_bad(text, err, "not an IPv6 address");
    }
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons((uint16_t)port);
    out->salen = sizeof(*s6);
    out->loopback = IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr) ||
                    (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr) && s6->sin6_addr.s6_addr[12] == 127);
    inet_ntop(AF_INET6, &s6->sin6_addr, addr, sizeof(addr));
    snprintf(out->text, sizeof(out->text), "[%s]:%u", addr, (unsigned)port);
    return 0;
}

/* Fill 'out' with the IPv4 address (or "localhost") 'host' and 'port'. */
static int
listen_set_v4(const char *text, char *host, size_t size, long port, struct etl_listen *out,
              struct etl_err *err)
{
    struct sockaddr_in *s4 = (struct sockaddr_in *)&out->sa;
    char addr[INET6_ADDRSTRLEN];

    if (strcmp(host, "localhost") == 0) {
        snprintf(host, size, "127.0.0.1");
    }
    /* dotted decimal only: inet_pton refuses "127.1" and host names */
    if (inet_pton(AF_INET, host, &s4->sin_addr) != 1) {
        return listen_bad(text, err, "not an IPv4 address, \"localhost\" or [IPv6] "
                          "(host names are not looked up)");
    }
    s4->sin_family = AF_INET;
    s4->sin_port = htons((uint16_t)port);
    out->salen = sizeof(*s4);
    out->loopback = ((const unsigned char *)&s4->sin_addr)[0] == 127;
    inet_ntop(AF_INET, &s4->sin_addr, addr, sizeof(addr));
    snprintf(out->text, sizeof(out->text), "%s:%u", addr, (unsigned)port);
    return 0;
}

/* See httpd.h. */
int
etl_listen_parse(const char *text, struct etl_listen *out, struct etl_err *err)
{
    char host[64];
    const char *port_text = NULL;
    bool v6;
    long port = 0;

    memset(out, 0, sizeof(*out));
    if (text == NULL) {
        text = "";
    }
    if (strcmp(text, "off") == 0 || strcmp(text, "false") == 0 || strcmp(text, "no") == 0) {
        out->off = true;
        snprintf(out->text, sizeof(out->text), "off");
        return 0;
    }
    v6 = text[0] == '[';
    if ((v6 ? listen_split_v6(text, host, sizeof(host), &port_text, err)
            : listen_split_v4(text, host, sizeof(host), &port_text, err)) < 0 ||
        listen_port(text, port_text, &port, err) < 0) {
        return -1;
    }
    return v6 ? listen_set_v6(text, host, port, out, err)
              : listen_set_v4(text, host, sizeof(host), port, out, err);
}

/* "ADDR:PORT" of a bound socket address. */
static void
format_address(const struct sockaddr_storage *sa, char *out, size_t size)
{
    char addr[INET6_ADDRSTRLEN] = "?";

    if (sa->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

        inet_ntop(AF_INET6, &s6->sin6_addr, addr, sizeof(addr));
        snprintf(out, size, "[%s]:%u", addr, ntohs(s6->sin6_port));
    } else {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

        inet_ntop(AF_INET, &s4->sin_addr, addr, sizeof(addr));
        snprintf(out, size, "%s:%u", addr, ntohs(s4->sin_port));
    }
}

/* ---- fork ---- */

/*
 * Whether 'fd' is a TCP socket of the server: the listening one, or one it
 * accepted (same local port, and address unless it listens on all).
 * Async-signal-safe calls only.
 */
static bool
server_socket(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    int type = 0;
    socklen_t tlen = sizeof(type);

    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0 || ss.ss_family != srv.sa.ss_family ||
        getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) < 0 || type != SOCK_STREAM) {
        return false;
    }
    if (ss.ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)&ss;
        const struct sockaddr_in *b = (const struct sockaddr_in *)&srv.sa;

        return a->sin_port == b->sin_port && (b->sin_addr.s_addr == htonl(INADDR_ANY) ||
                                              a->sin_addr.s_addr == b->sin_addr.s_addr);
    }
    if (ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&ss;
        const struct sockaddr_in6 *b = (const struct sockaddr_in6 *)&srv.sa;

        return a->sin6_port == b->sin6_port &&
               (IN6_IS_ADDR_UNSPECIFIED(&b->sin6_addr) ||
                memcmp(&a->sin6_addr, &b->sin6_addr, sizeof(a->sin6_addr)) == 0);
    }
    return false;
}

/* In a forked child: close the server's sockets, found in /proc/self/fd. */
static void
close_server_sockets(void)
{
    char block[4096];
    int dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ssize_t n;

    if (dir < 0) {
        /* no /proc: look at the low descriptors, where the sockets are */
        for (int fd = 3; fd < 1024; fd++) {
            if (server_socket(fd)) {
                close(fd);
            }
        }
        return;
    }
    while ((n = getdents64(dir, block, sizeof(block))) > 0) {
        for (ssize_t off = 0; off < n;) {
            const struct dirent64 *d = (const struct dirent64 *)(block + off);
            int fd = 0;
            const char *p = d->d_name;

            off += d->d_reclen;
            if (*p < '0' || *p > '9') {
                continue;
            }
            for (; *p >= '0' && *p <= '9'; p++) {
                fd = fd * 10 + (*p - '0');
            }
            if (fd != dir && server_socket(fd)) {
                close(fd);
            }
        }
    }
    close(dir);
}

/* Before a fork in the serving process: wait for the request in progress. */
static void
fork_prepare(void)
{
    if (srv.owner != 0 && srv.owner == getpid()) {
        etl_env_lock();
        srv.locked = true;
    }
}

static void
fork_parent(void)
{
    if (srv.locked) {
        srv.locked = false;
        etl_env_unlock();
    }
}

/* In the child: nothing of the server is kept, and the lock is new. */
static void
fork_child(void)
{
    if (srv.locked) {
        srv.locked = false;
        etl_env_lock_reset();
        close_server_sockets();
    }
    srv.owner = 0;
}

static void
atfork_register(void)
{
    (void)pthread_atfork(fork_prepare, fork_parent, fork_child);
}

/* ---- requests ---- */

/* MHD's messages, as log lines (the server thread's: under the lock). */
static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    size_t n;

    (void)cls;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r')) {
        msg[--n] = '\0';
    }
    etl_env_lock();
    etl_log(ETL_LOG_WARNING, "http: %s", msg);
    etl_env_unlock();
}

/* An answer being made. */
struct reply {
    unsigned status;
    const char *content_type;
    bool allow;                     /* add "Allow: GET, HEAD" (405) */
    struct etl_buf body;
};

/* The body of a failed request: "unavailable: <error>" on one line. */
static void
reply_error(struct reply *r, const char *word, const struct etl_err *err)
{
    char msg[2048];
    struct etl_err ignore;
    size_t n;

    etl_err_format(err, msg, sizeof(msg));
    for (char *p = msg; *p != '\0'; p++) {
        if (*p == '\n' || *p == '\r' || *p == '\t') {
            *p = ' ';
        }
    }
    n = strlen(msg);
    while (n > 0 && msg[n - 1] == ' ') {
        msg[--n] = '\0';
    }
    etl_err_clear(&ignore);
    etl_buf_reset(&r->body);
    r->content_type = "text/plain; charset=utf-8";
    (void)!etl_buf_printf(&r->body, &ignore, "%s: %s\n", word, msg);
}

/* Answer 'route': a connection, its render function, the status. */
static void
serve(struct etl_httpd *h, const struct etl_httpd_route *route, struct reply *r)
{
    struct pg_conn *db;
    struct etl_err err;
    bool unavailable;

    etl_err_clear(&err);
    db = etl_pg_connect_timeout(h->conninfo, "ewc-etl daemon http", HTTPD_CONNECT_TIMEOUT,
                                &err);
    if (db != NULL &&
        etl_pg_exec(db, "SET statement_timeout = '" HTTPD_STATEMENT_TIMEOUT "'", &err) == 0 &&
        route->render(db, &r->body, &err) == 0) {
        etl_pg_close(db);
        r->status = MHD_HTTP_OK;
        r->content_type = route->content_type;
        if (h->failing) {
            h->failing = false;
            etl_log(ETL_LOG_NOTICE, "http: %s answers again", route->path);
        }
        return;
    }
    etl_pg_close(db);
    unavailable = err.code == ETL_E_DB || err.code == ETL_E_BUSY;
    r->status = unavailable ? MHD_HTTP_SERVICE_UNAVAILABLE : MHD_HTTP_INTERNAL_SERVER_ERROR;
    reply_error(r, unavailable ? "unavailable" : "error", &err);
    if (!unavailable || !h->failing) {
        etl_log(unavailable ? ETL_LOG_WARNING : ETL_LOG_ERR, "http: %s: %.*s", route->path,
                (int)(r->body.len > 0 ? r->body.len - 1 : 0),
                r->body.data != NULL ? r->body.data : "");
    }
    h->failing = unavailable;
}

/* Queue the answer on 'c'. */
static enum MHD_Result
reply_send(struct MHD_Connection *c, struct reply *r)
{
    struct MHD_Response *resp;
    enum MHD_Result rc;
    size_t len = r->body.len;
    char *body = etl_buf_take(&r->body);

    resp = body != NULL ? MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE)
                        : MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (resp == NULL) {
        free(body);
        return MHD_NO;
    }
    if (MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type) != MHD_YES ||
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store") != MHD_YES ||
        (r->allow && MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD") != MHD_YES)) {
        MHD_destroy_response(resp);
        return MHD_NO;
    }
    rc = MHD_queue_response(c, r->status, resp);
    MHD_destroy_response(resp);
    return rc;
}

/*
 * MHD's access handler.  MHD calls it when the headers are in, again for
 * each piece of a body, and once more at the request's end: the answer is
 * made then (answering at the first call would cost the keep-alive).
 */
static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
           const char *version, const char *upload_data, size_t *upload_data_size,
           void **req_cls)
{
    static int seen;                /* *req_cls of a request whose headers came */
    struct etl_httpd *h = cls;
    const struct etl_httpd_route *route = NULL;
    struct reply r = { MHD_HTTP_OK, "text/plain; charset=utf-8", false, { 0 } };
    struct etl_err ignore;
    enum MHD_Result rc;

    (void)version;
    (void)upload_data;
    if (*req_cls == NULL) {
        *req_cls = &seen;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        *upload_data_size = 0;      /* a body is dropped: no route takes one */
        return MHD_YES;
    }
    etl_buf_init(&r.body, HTTPD_MAX_BODY);
    etl_err_clear(&ignore);
    etl_env_lock();
    for (size_t i = 0; i < h->nroutes; i++) {
        if (strcmp(h->routes[i].path, url) == 0) {
            route = &h->routes[i];
            break;
        }
    }
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
        r.status = MHD_HTTP_METHOD_NOT_ALLOWED;
        r.allow = true;
        (void)!etl_buf_printf(&r.body, &ignore, "method not allowed: %s (GET or HEAD)\n",
                              method);
    } else if (route == NULL) {
        r.status = MHD_HTTP_NOT_FOUND;
        (void)!etl_buf_addstr(&r.body, "not found; the paths are:", &ignore);
        for (size_t i = 0; i < h->nroutes; i++) {
            (void)!etl_buf_printf(&r.body, &ignore, " %s", h->routes[i].path);
        }
        (void)!etl_buf_addc(&r.body, '\n', &ignore);
    } else {
        serve(h, route, &r);
    }
    rc = reply_send(c, &r);
    etl_buf_free(&r.body);
    etl_env_unlock();
    return rc;
}

/* ---- the server ---- */

/* A listening TCP socket on 'at'; its real address in srv.sa and 'text'. */
static int
listen_socket(const struct etl_listen *at, char *text, size_t size, struct etl_err *err)
{
    socklen_t len = sizeof(srv.sa);
    int one = 1;
    int fd = socket(at->sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

    if (fd < 0) {
        return etl_err_errno(err, ETL_E_IO, "could not listen on %s", at->text);
    }
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (const struct sockaddr *)&at->sa, at->salen) < 0 || listen(fd, 16) < 0) {
        int e = errno;

        close(fd);
        errno = e;
        etl_err_errno(err, ETL_E_IO, "could not listen on %s", at->text);
        if (e == EADDRINUSE) {
            etl_err_hint(err, "another process has the port (a second daemon?): choose "
                         "another with --listen or http.listen, or turn it off");
        }
        return -1;
    }
    memset(&srv.sa, 0, sizeof(srv.sa));
    if (getsockname(fd, (struct sockaddr *)&srv.sa, &len) < 0) {
        memcpy(&srv.sa, &at->sa, at->salen);
    }
    format_address(&srv.sa, text, size);
    return fd;
}

/* See httpd.h. */
struct etl_httpd *
etl_httpd_start(const struct etl_listen *at, const struct etl_httpd_route *routes, size_t n,
                const char *conninfo, struct etl_err *err)
{
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG;
    struct etl_httpd *h;
    sigset_t block, old;
    int fd;

    if (at->off) {
        etl_err_set(err, ETL_E_INTERNAL, "the HTTP server is off");
        return NULL;
    }
    if (srv.owner != 0) {
        etl_err_set(err, ETL_E_INTERNAL, "an HTTP server runs already in this process");
        return NULL;
    }
    (void)pthread_once(&atfork_once, atfork_register);
    h = calloc(1, sizeof(*h));
    if (h == NULL || (h->conninfo = strdup(conninfo != NULL ? conninfo : "")) == NULL) {
        free(h);
        etl_err_nomem(err);
        return NULL;
    }
    h->routes = routes;
    h->nroutes = n;
    fd = listen_socket(at, h->address, sizeof(h->address), err);
    if (fd < 0) {
        free(h->conninfo);
        free(h);
        return NULL;
    }
    if (at->sa.ss_family == AF_INET6) {
        flags |= MHD_USE_IPv6;
    }
    /* the server thread inherits this mask: every asynchronous signal blocked */
    sigfillset(&block);
    sigdelset(&block, SIGSEGV);
    sigdelset(&block, SIGBUS);
    sigdelset(&block, SIGFPE);
    sigdelset(&block, SIGILL);
    sigdelset(&block, SIGABRT);
    sigdelset(&block, SIGTRAP);
    sigdelset(&block, SIGSYS);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    h->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h,
                              MHD_OPTION_EXTERNAL_LOGGER, mhd_log, (void *)NULL,
                              MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
                              MHD_OPTION_CONNECTION_LIMIT, HTTPD_MAX_CONNECTIONS,
                              MHD_OPTION_CONNECTION_TIMEOUT, HTTPD_IDLE_SECONDS,
                              MHD_OPTION_END);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (h->mhd == NULL) {
        if (fcntl(fd, F_GETFD) >= 0) {
            close(fd);
        }
        etl_err_set(err, ETL_E_INTERNAL, "could not start the HTTP server on %s", h->address);
        free(h->conninfo);
        free(h);
        return NULL;
    }
    h->owner = srv.owner = getpid();
    return h;
}

/* See httpd.h. */
const char *
etl_httpd_address(const struct etl_httpd *h)
{
    return h->address;
}

/* See httpd.h. */
int
etl_httpd_set_conninfo(struct etl_httpd *h, const char *conninfo, struct etl_err *err)
{
    char *copy = strdup(conninfo != NULL ? conninfo : "");

    if (copy == NULL) {
        return etl_err_nomem(err);
    }
    etl_env_lock();
    free(h->conninfo);
    h->conninfo = copy;
    etl_env_unlock();
    return 0;
}

/* See httpd.h. */
void
etl_httpd_stop(struct etl_httpd *h)
{
    if (h == NULL) {
        return;
    }
    if (h->mhd != NULL && h->owner == getpid()) {
        MHD_stop_daemon(h->mhd);        /* joins the thread, closes the sockets */
        srv.owner = 0;
    }
    free(h->conninfo);
    free(h);
}
