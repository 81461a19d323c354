/*
 * daemon.h
 *    `ewc-etl daemon`: run every scheduled pipeline at its fire times until
 *    told to stop.  SIGHUP reloads the YAML (an invalid one is logged and the
 *    running configuration kept); SIGTERM/SIGINT stop it: no new file is
 *    started, the file in flight commits or rolls back, and it returns 0.
 *    Speaks the systemd notify protocol when NOTIFY_SOCKET is set.
 *
 *    Also here: the daemon's clock (the wall clock unless the caller hands
 *    it another) and the catch-up computation, a pure function.
 */
#ifndef ETL_DAEMON_H
#define ETL_DAEMON_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include "err.h"
#include "pipeline.h"

/* Set by SIGHUP's handler. */
extern volatile sig_atomic_t etl_reload_requested;

/*
 * Where the daemon's time comes from.  now(): seconds since the epoch;
 * sleep(): wait up to 'seconds' (a signal may end it early).  'arg' is
 * passed to both.
 */
struct etl_clock {
    int64_t (*now)(void *arg);
    void (*sleep)(void *arg, double seconds);
    void *arg;
};

/*
 * The wall clock: time(NULL) plus the shift that 'arg' points to (an
 * int64_t, seconds), or plus nothing for arg NULL; sleep is nanosleep.
 * etl_clock_wall has arg NULL.
 */
int64_t etl_clock_wall_now(void *arg);
void etl_clock_wall_sleep(void *arg, double seconds);
extern const struct etl_clock etl_clock_wall;

/*
 * The name of the environment variable that starts the daemon's clock at
 * a given instant: the wall clock shifted so that it reads that instant
 * when the daemon starts, and runs at real speed from there.  For tests.
 */
#define ETL_CLOCK_START_ENV "EWC_ETL_CLOCK_START"

/*
 * Parse an instant for ETL_CLOCK_START_ENV: seconds since the epoch
 * ("1767225600") or UTC ISO 8601, "2026-01-01T00:00Z" or
 * "2026-01-01T00:00:00Z".  0, or -1 with ETL_E_CONFIG
 * ('invalid clock start "x": expected seconds since the epoch or
 * YYYY-MM-DDTHH:MM[:SS]Z').
 */
int etl_clock_parse(const char *text, int64_t *out, struct etl_err *err) ETL_MUSTCHECK;

/*
 * The fires of 's' missed up to 'now' (inclusive) since 'last', the fire
 * the latest scheduled run stood for (0 or less: none, so nothing was
 * missed), per the catch-up policy: none, nothing; latest, the latest
 * missed fire; all, the latest 'max' missed fires (max < 1 counts as 1).
 * Written to 'out', oldest first; 'out' has room for 'max' entries (one
 * for latest).  Returns how many.  Costs: one etl_schedule_next per fire
 * between 'last' and 'now'.
 */
size_t etl_daemon_missed(const struct etl_schedule *s, int64_t last, int64_t now,
                         enum etl_catchup policy, long max, int64_t *out);

struct etl_daemon_opts {
    const char *config_path;    /* reloaded on SIGHUP */
    const char *conninfo;       /* --db, or NULL */
    /*
     * --listen: where the HTTP server (/metrics, /health) listens, over
     * the YAML's http.listen and ETL_LISTEN_DEFAULT; "off" for none.
     * Checked by the caller (etl_listen_parse).
     */
    const char *listen;
    const struct etl_clock *clock;  /* NULL: etl_clock_wall */
    /*
     * For tests: what the daemon does instead of the ledger and the runner.
     * last_fire: the fire the latest nightly run of 'p' stood for, 0 if
     * none; run: one scheduled run of 'p' for 'fire'.  NULL: the real ones.
     */
    int64_t (*last_fire)(void *arg, struct etl_pipeline *p);
    void (*run)(void *arg, struct etl_pipeline *p, int64_t fire);
    void *hook_arg;
};

/*
 * Run until stopped (etl_stop_requested).  Takes 'cfg' (freed here, also
 * when replaced by a reload).  Serves /metrics and /health (metrics.h)
 * while it runs, unless the listen address is "off"; a reload that
 * changes the address moves the server.  Returns 0 after a clean stop, -1
 * with 'err' when it cannot run: no pipeline has a schedule
 * (ETL_E_CONFIG), the address cannot be listened on (ETL_E_IO).
 */
int etl_daemon_run(struct etl_config *cfg, const struct etl_daemon_opts *opts,
                   struct etl_err *err) ETL_MUSTCHECK;

#endif
