/*
 * httpd.h
 *    The daemon's small HTTP server (libmicrohttpd): GET and HEAD of a few
 *    fixed paths, each answered by a render function that writes the body
 *    from a fresh database connection.  The daemon's routes are in
 *    daemon.c (daemon_routes); how the server lives with fork() and
 *    signals is in httpd.c's top comment.
 *
 *    Also here: the listen address ("127.0.0.1:9188", "[::1]:9188", "off"),
 *    parsed without DNS.
 */
#ifndef ETL_HTTPD_H
#define ETL_HTTPD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include "buf.h"
#include "err.h"

struct pg_conn;

/*
 * The default listen address: loopback only.  Port 9188, next to 9187,
 * which postgres_exporter takes (often on the same host as a warehouse).
 * Any other interface must be named explicitly.
 */
#define ETL_LISTEN_DEFAULT "127.0.0.1:9188"

/* A parsed listen address. */
struct etl_listen {
    bool off;                       /* "off": no server */
    bool loopback;                  /* 127.0.0.0/8 or ::1 */
    struct sockaddr_storage sa;     /* family, address and port */
    socklen_t salen;
    char text[64];                  /* normalised: "127.0.0.1:9188", "[::1]:0", "off" */
};

/*
 * Parse 'text': "IPv4:PORT", "[IPv6]:PORT", "localhost:PORT" (127.0.0.1),
 * or "off" (also "false", "no": YAML's words for it).  PORT 0..65535; 0
 * takes any free port (the log says which).  No host name is looked up and
 * no address is implied: ":9188" and "9188" are refused, so that listening
 * beyond loopback is always written out ("0.0.0.0:9188").  0, or -1 with
 * ETL_E_CONFIG: 'invalid listen address "x": <why>'.
 */
int etl_listen_parse(const char *text, struct etl_listen *out, struct etl_err *err) ETL_MUSTCHECK;

/*
 * A route: an exact path, the Content-Type of its body, and the function
 * that writes the body into 'out' from 'db' (a connection the server made
 * for this request, closed after it).  It returns 0, or -1 with 'err' set:
 * the answer is then 503 for ETL_E_DB and ETL_E_BUSY (unavailable: the
 * database, the daemon's state), else 500, with "unavailable: " or
 * "error: " and the error as a text/plain body.  A request whose
 * connection cannot be made gets 503 without calling it.
 */
struct etl_httpd_route {
    const char *path;
    const char *content_type;
    int (*render)(struct pg_conn *db, struct etl_buf *out, struct etl_err *err);
};

struct etl_httpd;

/*
 * Listen on 'at' (not "off") and serve 'routes' (n of them; the table
 * must outlive the server) until etl_httpd_stop, from a thread of its
 * own.  'conninfo' is the database of the requests (copied).  One server
 * per process.  NULL with 'err' set: ETL_E_IO ('could not listen on
 * 127.0.0.1:9188: Address already in use'), ETL_E_NOMEM, ETL_E_INTERNAL.
 */
struct etl_httpd *etl_httpd_start(const struct etl_listen *at,
                                  const struct etl_httpd_route *routes, size_t n,
                                  const char *conninfo, struct etl_err *err) ETL_MUSTCHECK;

/* The address it is bound to, with the real port: "127.0.0.1:41234". */
const char *etl_httpd_address(const struct etl_httpd *h);

/* Use 'conninfo' from the next request on (a reload).  -1: out of memory, kept. */
int etl_httpd_set_conninfo(struct etl_httpd *h, const char *conninfo,
                           struct etl_err *err) ETL_MUSTCHECK;

/*
 * Stop serving (a request in progress is finished first), close the
 * socket, free 'h'.  NULL is fine.  Does nothing but free in a forked
 * child, which never serves.
 */
void etl_httpd_stop(struct etl_httpd *h);

#endif
