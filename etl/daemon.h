/*
 * daemon.h
 *    `ewc-etl daemon`: run every scheduled pipeline at its fire times until
 *    told to stop.  SIGHUP reloads the YAML (an invalid one is logged and the
 *    running configuration kept); SIGTERM/SIGINT stop it: no new file is
 *    started, the file in flight commits or rolls back, and it returns 0.
 *    Speaks the systemd notify protocol when NOTIFY_SOCKET is set.
 */
#ifndef ETL_DAEMON_H
#define ETL_DAEMON_H

#include <signal.h>
#include "err.h"
#include "pipeline.h"

/* Set by SIGHUP's handler. */
extern volatile sig_atomic_t etl_reload_requested;

struct etl_daemon_opts {
    const char *config_path;    /* reloaded on SIGHUP */
    const char *conninfo;       /* --db, or NULL */
};

/*
 * Run until stopped.  Takes 'cfg' (freed here, also when replaced by a
 * reload).  Returns 0 after a clean stop, -1 with 'err' when it cannot run
 * (no pipeline has a schedule).
 */
int etl_daemon_run(struct etl_config *cfg, const struct etl_daemon_opts *opts,
                   struct etl_err *err) ETL_MUSTCHECK;

#endif
