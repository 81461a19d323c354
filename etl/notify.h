/*
 * notify.h
 *    The systemd notify protocol (sd_notify(3)), without libsystemd: one
 *    datagram per message to the unix socket named by NOTIFY_SOCKET (a path,
 *    or an abstract name starting with '@').  Without NOTIFY_SOCKET every
 *    call does nothing.  Watchdog pings are rate-limited to half of
 *    WATCHDOG_USEC and only sent when WATCHDOG_PID, if set, is this process.
 */
#ifndef ETL_NOTIFY_H
#define ETL_NOTIFY_H

#include <stdbool.h>
#include "err.h"

/* Send "READY=1", "STATUS=...", "RELOADING=1", "STOPPING=1" and the like.
 * Returns 0 when sent or when there is no socket; -1 when sending failed. */
int etl_notify(const char *fmt, ...) ETL_PRINTF(1, 2);

/*
 * "WATCHDOG=1", at most every WATCHDOG_USEC/2; cheap to call often.  Every
 * call is also a heartbeat of this process's loop, watchdog or not: the
 * daemon calls it on each turn of its loop, a run between files and
 * between blocks of a file.
 */
void etl_notify_watchdog(void);

/*
 * Seconds since the latest etl_notify_watchdog() of this process, -1 if
 * none yet.  Safe from any thread (the HTTP server's /health asks).
 */
double etl_notify_heartbeat_age(void);

/* WATCHDOG_USEC in seconds when a watchdog is asked of this process, else 0. */
double etl_notify_watchdog_seconds(void);

/* Whether a watchdog is asked for (WATCHDOG_USEC set for this process). */
bool etl_notify_watchdog_enabled(void);

#endif
