/*
 * notify.c
 *    sd_notify without libsystemd; see notify.h.
 */
#include "notify.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

int
etl_notify(const char *fmt, ...)
{
    const char *path = getenv("NOTIFY_SOCKET");
    struct sockaddr_un sa;
    socklen_t len;
    char msg[1024];
    va_list ap;
    ssize_t n;
    int fd;

    if (path == NULL || path[0] == '\0') {
        return 0;
    }
    if ((path[0] != '/' && path[0] != '@') || strlen(path) >= sizeof(sa.sun_path)) {
        return -1;
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, strlen(path));
    if (path[0] == '@') {
        sa.sun_path[0] = '\0';      /* abstract namespace */
    }
    len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    n = sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa, len);
    close(fd);
    return n < 0 ? -1 : 0;
}

/* The watchdog interval in microseconds, 0 when none is asked of us. */
static uint64_t
watchdog_usec(void)
{
    const char *usec = getenv("WATCHDOG_USEC");
    const char *pid = getenv("WATCHDOG_PID");

    if (usec == NULL || getenv("NOTIFY_SOCKET") == NULL) {
        return 0;
    }
    if (pid != NULL && strtol(pid, NULL, 10) != (long)getpid()) {
        return 0;
    }
    return strtoull(usec, NULL, 10);
}

bool
etl_notify_watchdog_enabled(void)
{
    return watchdog_usec() > 0;
}

/* The monotonic time of the latest etl_notify_watchdog(), in ms; 0: none yet. */
static _Atomic int64_t heartbeat_ms;

static double
monotonic_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double
etl_notify_heartbeat_age(void)
{
    int64_t beat = atomic_load(&heartbeat_ms);
    double age = monotonic_now() - (double)beat / 1e3;

    return beat == 0 ? -1 : age > 0 ? age : 0;
}

double
etl_notify_watchdog_seconds(void)
{
    return (double)watchdog_usec() / 1e6;
}

void
etl_notify_watchdog(void)
{
    static double last;
    uint64_t usec;
    double now = monotonic_now();
    int64_t ms = (int64_t)(now * 1e3);

    atomic_store(&heartbeat_ms, ms > 0 ? ms : 1);
    usec = watchdog_usec();
    if (usec == 0) {
        return;
    }
    if (last != 0 && now - last < (double)usec / 2e6) {
        return;
    }
    last = now;
    (void)etl_notify("WATCHDOG=1");
}
