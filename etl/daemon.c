/*
 * daemon.c
 *    The scheduler loop; see daemon.h.
 *
 *    Each scheduled pipeline has its next fire time.  The loop sleeps in
 *    slices of at most DAEMON_SLICE seconds (so that signals and watchdog
 *    pings are served), runs the pipeline whose time has come -- kind
 *    "nightly", recording the fire time it stands for -- and computes its
 *    next fire from the one just served, so a long run does not shift the
 *    schedule.  Runs of one daemon happen one after the other; a second
 *    daemon (or a manual run) on the same pipeline is kept out by the
 *    pipeline's advisory lock and waits for it.
 *
 *    Catch-up on start: the ledger's latest nightly run says which fire it
 *    stood for; fires missed since then (etl_daemon_missed) are run per the
 *    pipeline's policy (none; latest: one run; all: each, oldest first, at
 *    most catchup_max), before any regular fire.
 *
 *    Time is the clock's the caller hands in (etl_clock_wall by default):
 *    the loop never reads the system clock itself.
 */
#include "daemon.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "httpd.h"
#include "ledger.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "page.h"
#include "pg.h"
#include "runner.h"
#include "schedule.h"

#define DAEMON_SLICE 1.0        /* seconds between looks at flags and the clock */

volatile sig_atomic_t etl_reload_requested;

struct slot {
    struct etl_pipeline *p;
    int64_t next;               /* next fire time, seconds since the epoch */
    int64_t due;                /* next + jitter: when to start it */
    int64_t *backlog;           /* missed fires still to run (catch-up), oldest first */
    size_t nbacklog;
    size_t ncaught;             /* the backlog's size at first */
};

/*
 * The routes of the daemon's HTTP server (httpd.h): path, Content-Type,
 * render function.  A route is one line here: "/" is the status page
 * (page.h).
 */
static const struct etl_httpd_route daemon_routes[] = {
    { "/metrics", ETL_PROM_CONTENT_TYPE, etl_metrics_render },
    { "/health", "text/plain; charset=utf-8", etl_health_render },
    { "/", "text/html; charset=utf-8", etl_page_render },   /* the status page */
};
#define NDAEMON_ROUTES (sizeof(daemon_routes) / sizeof(daemon_routes[0]))

/* What the loop's helpers share. */
struct daemon {
    const struct etl_daemon_opts *opts;
    const struct etl_clock *clock;
    struct etl_httpd *httpd;    /* NULL when off */
    char listen[64];            /* the address in force, as parsed ("off" too) */
};

const struct etl_clock etl_clock_wall = {
    etl_clock_wall_now, etl_clock_wall_sleep, NULL
};

int64_t
etl_clock_wall_now(void *arg)
{
    return (int64_t)time(NULL) + (arg != NULL ? *(const int64_t *)arg : 0);
}

void
etl_clock_wall_sleep(void *arg, double seconds)
{
    struct timespec ts;

    (void)arg;
    if (seconds <= 0) {
        return;
    }
    ts.tv_sec = (time_t)seconds;
    ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
    nanosleep(&ts, NULL);       /* EINTR: a signal; the loop looks at the flags */
}

int
etl_clock_parse(const char *text, int64_t *out, struct etl_err *err)
{
    struct tm tm;
    int n = -1;
    char *end;

    memset(&tm, 0, sizeof(tm));
    if (text[0] >= '0' && text[0] <= '9') {
        long long v;

        errno = 0;
        v = strtoll(text, &end, 10);
        if (*end == '\0' && errno == 0) {
            *out = v;
            return 0;
        }
    }
    if ((sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &tm.tm_year, &tm.tm_mon,
                &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) == 6 ||
         sscanf(text, "%4d-%2d-%2dT%2d:%2dZ%n", &tm.tm_year, &tm.tm_mon,
                &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &n) == 5) &&
        n > 0 && text[n] == '\0' && tm.tm_mon >= 1 && tm.tm_mon <= 12 &&
        tm.tm_mday >= 1 && tm.tm_mday <= 31 && tm.tm_hour <= 23 &&
        tm.tm_min <= 59 && tm.tm_sec <= 60) {
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        *out = (int64_t)timegm(&tm);
        return 0;
    }
    return etl_err_set(err, ETL_E_CONFIG, "invalid clock start \"%s\": expected seconds "
                       "since the epoch or YYYY-MM-DDTHH:MM[:SS]Z", text);
}

/* A random delay of 0..jitter seconds for one run of 'p'. */
static int64_t
jitter_of(const struct etl_pipeline *p)
{
    return p->jitter > 0 ? (int64_t)(random() % (p->jitter + 1)) : 0;
}

/* The fire time the latest nightly run of 'p' stood for, 0 if none. */
static int64_t
last_scheduled(struct etl_pipeline *p, const char *conninfo)
{
    struct etl_err err;
    struct pg_conn *db;
    int64_t t = 0;

    etl_err_clear(&err);
    db = etl_pg_connect(etl_run_conninfo(p->config, conninfo), "ewc-etl daemon", &err);
    if (db == NULL) {
        etl_log(ETL_LOG_WARNING, "[%s] catch-up skipped: %s", p->name, err.msg);
        return 0;
    }
    if (etl_ledger_last_scheduled(db, p->name, &t, &err) < 0) {
        etl_log(ETL_LOG_WARNING, "[%s] catch-up skipped: %s", p->name, err.msg);
    }
    etl_pg_close(db);
    return t;
}

size_t
etl_daemon_missed(const struct etl_schedule *s, int64_t last, int64_t now,
                  enum etl_catchup policy, long max, int64_t *out)
{
    size_t cap = policy == ETL_CATCHUP_ALL && max > 1 ? (size_t)max : 1;
    size_t n = 0;
    int64_t t;

    if (policy == ETL_CATCHUP_NONE || last <= 0) {
        return 0;           /* never ran on a schedule: nothing was missed */
    }
    /* keep the latest 'cap' missed fires, in order */
    for (t = etl_schedule_next(s, last); t > 0 && t <= now; t = etl_schedule_next(s, t)) {
        if (n == cap) {
            memmove(out, out + 1, (cap - 1) * sizeof(*out));
            n--;
        }
        out[n++] = t;
    }
    return n;
}

/* Fill the slot's backlog with the fires missed since the last nightly run. */
static void
slot_catchup(const struct daemon *d, struct slot *s, int64_t now)
{
    struct etl_pipeline *p = s->p;
    int64_t last;
    size_t n;

    if (p->catchup == ETL_CATCHUP_NONE) {
        return;
    }
    last = d->opts->last_fire != NULL ? d->opts->last_fire(d->opts->hook_arg, p)
                                      : last_scheduled(p, d->opts->conninfo);
    if (last <= 0) {
        return;
    }
    s->backlog = calloc(p->catchup == ETL_CATCHUP_ALL && p->catchup_max > 1
                        ? (size_t)p->catchup_max : 1, sizeof(*s->backlog));
    if (s->backlog == NULL) {
        etl_log(ETL_LOG_ERR, "[%s] catch-up skipped: out of memory", p->name);
        return;
    }
    n = etl_daemon_missed(p->sched, last, now, p->catchup, p->catchup_max, s->backlog);
    s->nbacklog = s->ncaught = n;
    if (n > 0) {
        etl_log(ETL_LOG_NOTICE, "[%s] catch-up (%s): %zu missed run%s to make up",
                p->name, p->catchup == ETL_CATCHUP_ALL ? "all" : "latest", n, n > 1 ? "s" : "");
    }
}

/* Free slots and their backlogs; NULL is fine. */
static void
slots_free(struct slot *slots, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(slots[i].backlog);
    }
    free(slots);
}

/*
 * Slots of every scheduled pipeline of 'cfg', with their catch-up backlogs
 * if 'catchup'; *n = 0 when none.  NULL when out of memory.
 */
static struct slot *
slots_new(const struct daemon *d, struct etl_config *cfg, bool catchup, size_t *n)
{
    struct slot *slots = calloc(cfg->npipelines ? cfg->npipelines : 1, sizeof(*slots));
    int64_t now = d->clock->now(d->clock->arg);

    *n = 0;
    if (slots == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < cfg->npipelines; i++) {
        struct etl_pipeline *p = cfg->pipelines[i];
        struct slot *s;

        if (p->sched == NULL) {
            etl_log(ETL_LOG_INFO, "[%s] no schedule: not run by the daemon", p->name);
            continue;
        }
        s = &slots[(*n)++];
        s->p = p;
        etl_metrics_daemon_pipeline(p->name);     /* its counters at 0 from now */
        s->next = etl_schedule_next(p->sched, now);
        s->due = s->next > 0 ? s->next + jitter_of(p) : -1;
        if (catchup) {
            slot_catchup(d, s, now);
        }
    }
    return slots;
}

/*
 * One scheduled run of 'p' for 'fire', as kind "nightly"; logs its failure.
 * Whether it started (has a ledger row).
 */
static bool
run_one(struct etl_pipeline *p, const char *conninfo, int64_t fire)
{
    struct etl_run_opts ro;
    struct etl_run_summary sum;
    struct etl_err err;

    memset(&ro, 0, sizeof(ro));
    ro.conninfo = conninfo;
    ro.kind = "nightly";
    ro.wait_lock = true;
    ro.scheduled_for = fire;
    etl_err_clear(&err);
    (void)etl_notify("STATUS=running %s", p->name);
    if (etl_run_pipeline(p, &ro, &sum, &err) < 0) {
        char msg[1024];

        etl_err_format(&err, msg, sizeof(msg));
        etl_log(ETL_LOG_ERR, "[%s] run could not start: %s", p->name, msg);
        (void)etl_notify("STATUS=%s: could not start: %s", p->name, msg);
        return sum.run_id != 0;
    }
    (void)etl_notify("STATUS=last run %" PRId64 " of %s: %s, %zu files, %" PRId64 " rows",
                     sum.run_id, p->name, etl_run_status_names[sum.status], sum.files_total,
                     sum.rows_loaded);
    return true;
}

/* The listen address in force: --listen, else the YAML's http.listen, else the default. */
static const char *
listen_text(const struct daemon *d, const struct etl_config *cfg)
{
    return d->opts->listen != NULL ? d->opts->listen
         : cfg->http_listen != NULL ? cfg->http_listen : ETL_LISTEN_DEFAULT;
}

/* Seconds without a heartbeat that make /health unavailable. */
static double
stale_after(void)
{
    double w = etl_notify_watchdog_seconds();

    return w > 0 ? w : ETL_HEALTH_STALE_DEFAULT;
}

/* Start the HTTP server on 'at' (nothing for "off"); d->listen says where. */
static int
http_start(struct daemon *d, const struct etl_listen *at, const struct etl_config *cfg,
           struct etl_err *err)
{
    char paths[256] = "";

    snprintf(d->listen, sizeof(d->listen), "%s", at->text);
    if (at->off) {
        etl_log(ETL_LOG_INFO, "http: off (no /metrics, no /health)");
        return 0;
    }
    d->httpd = etl_httpd_start(at, daemon_routes, NDAEMON_ROUTES,
                               etl_run_conninfo(cfg, d->opts->conninfo), err);
    if (d->httpd == NULL) {
        return -1;
    }
    for (size_t i = 0; i < NDAEMON_ROUTES; i++) {
        etl_strlcat(paths, i ? ", " : "", sizeof(paths));
        etl_strlcat(paths, daemon_routes[i].path, sizeof(paths));
    }
    etl_log(ETL_LOG_NOTICE, "http: listening on %s (%s)", etl_httpd_address(d->httpd), paths);
    if (!at->loopback) {
        etl_log(ETL_LOG_WARNING, "http: %s is not a loopback address: anyone who reaches it "
                "can read %s (no authentication)", at->text, paths);
    }
    return 0;
}

/*
 * After a reload: the routes' view of the new configuration (spool,
 * database); a new listen address moves the server (stopped first: it may
 * be the same port); if the new one fails, the old one is taken again.
 */
static void
http_reload(struct daemon *d, const struct etl_config *fresh)
{
    struct etl_listen at, old;
    struct etl_err err;
    char msg[1024];

    etl_err_clear(&err);
    etl_metrics_daemon_start(fresh->spool_dir, stale_after());
    if (etl_listen_parse(listen_text(d, fresh), &at, &err) < 0 ||
        strcmp(at.text, d->listen) == 0) {
        if (d->httpd != NULL &&
            etl_httpd_set_conninfo(d->httpd, etl_run_conninfo(fresh, d->opts->conninfo),
                                   &err) < 0) {
            etl_log(ETL_LOG_ERR, "http: kept the old database: out of memory");
        }
        return;
    }
    if (etl_listen_parse(d->listen, &old, &err) < 0) {
        memset(&old, 0, sizeof(old));
        old.off = true;
    }
    etl_httpd_stop(d->httpd);
    d->httpd = NULL;
    if (http_start(d, &at, fresh, &err) == 0) {
        return;
    }
    etl_err_format(&err, msg, sizeof(msg));
    etl_log(ETL_LOG_ERR, "http: could not move to %s, back to %s: %s", at.text, old.text, msg);
    etl_err_clear(&err);
    if (http_start(d, &old, fresh, &err) < 0) {
        etl_err_format(&err, msg, sizeof(msg));
        etl_log(ETL_LOG_ERR, "http: no server now: %s", msg);
        snprintf(d->listen, sizeof(d->listen), "%s", at.text);
    }
}

/* Equal texts, or both NULL. */
static bool
same_text(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/*
 * A reload keeps what the old slots owed: a pipeline whose schedule did not
 * change keeps its next fire (even one due but not yet run) and its catch-up
 * backlog.  The backlogs move over: the old slots no longer own them.
 */
static void
slots_carry(struct slot *to, size_t nto, struct slot *from, size_t nfrom)
{
    for (size_t i = 0; i < nto; i++) {
        for (size_t k = 0; k < nfrom; k++) {
            const struct etl_pipeline *a = to[i].p, *b = from[k].p;

            if (strcmp(a->name, b->name) == 0 && same_text(a->schedule, b->schedule) &&
                same_text(a->timezone, b->timezone)) {
                to[i].next = from[k].next;
                to[i].due = from[k].due;
                free(to[i].backlog);
                to[i].backlog = from[k].backlog;
                to[i].nbacklog = from[k].nbacklog;
                to[i].ncaught = from[k].ncaught;
                from[k].backlog = NULL;
                from[k].nbacklog = 0;
                break;
            }
        }
    }
}

/* Reload the YAML; on success replace *cfg and the slots. */
static void
reload(struct daemon *d, struct etl_config **cfg, struct slot **slots, size_t *nslots)
{
    const struct etl_daemon_opts *opts = d->opts;
    struct etl_config *fresh;
    struct etl_err err;
    struct slot *ns;
    size_t n;

    (void)etl_notify("RELOADING=1");
    etl_err_clear(&err);
    fresh = etl_config_load(opts->config_path, &err);
    if (fresh == NULL) {
        char msg[1024];

        etl_err_format(&err, msg, sizeof(msg));
        etl_log(ETL_LOG_ERR, "reload failed, keeping the running configuration: %s", msg);
        (void)etl_notify("READY=1\nSTATUS=reload failed: %s", msg);
        return;
    }
    ns = slots_new(d, fresh, false, &n);
    if (ns == NULL) {
        etl_config_free(fresh);
        etl_log(ETL_LOG_ERR, "reload failed: out of memory");
        (void)etl_notify("READY=1");
        return;
    }
    slots_carry(ns, n, *slots, *nslots);
    http_reload(d, fresh);
    slots_free(*slots, *nslots);
    etl_config_free(*cfg);
    *cfg = fresh;
    *slots = ns;
    *nslots = n;
    etl_log(ETL_LOG_NOTICE, "reloaded %s: %zu scheduled pipeline%s", opts->config_path, n,
            n == 1 ? "" : "s");
    (void)etl_notify("READY=1\nSTATUS=reloaded, %zu scheduled pipelines", n);
}

/*
 * The slot to run at 'now' and the fire it stands for: a catch-up backlog
 * first, else the slot due soonest, whose next fire then moves on (past
 * the fires a long run overran).  NULL when none is due; *wake is then
 * the soonest due time, -1 if none.
 */
static struct slot *
slot_pick(struct slot *slots, size_t nslots, int64_t now, int64_t *fire, int64_t *wake)
{
    struct slot *due = NULL;

    *wake = -1;
    for (size_t i = 0; i < nslots; i++) {
        struct slot *s = &slots[i];

        if (s->nbacklog > 0) {
            *fire = s->backlog[0];
            memmove(s->backlog, s->backlog + 1, (s->nbacklog - 1) * sizeof(int64_t));
            s->nbacklog--;
            return s;
        }
        if (s->due > 0 && s->due <= now && (due == NULL || s->due < due->due)) {
            due = s;
        }
        if (s->due > 0 && (*wake < 0 || s->due < *wake)) {
            *wake = s->due;
        }
    }
    if (due == NULL) {
        return NULL;
    }
    *fire = due->next;
    due->next = etl_schedule_next(due->p->sched, due->next);
    /* a run longer than the interval: skip the fires already past */
    while (due->next > 0 && due->next <= now) {
        due->next = etl_schedule_next(due->p->sched, due->next);
    }
    due->due = due->next > 0 ? due->next + jitter_of(due->p) : -1;
    return due;
}

/* Run slot 's' for 'fire' (the runner, or the opts' hook); log the catch-up's end. */
static void
slot_run(const struct daemon *d, struct slot *s, int64_t fire)
{
    char when[32];
    time_t t = (time_t)fire;
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
    etl_log(ETL_LOG_INFO, "[%s] scheduled run for %s", s->p->name, when);
    if (d->opts->run != NULL) {
        d->opts->run(d->opts->hook_arg, s->p, fire);
    } else {
        uint64_t retries = etl_http_retry_count();
        bool started;

        etl_metrics_daemon_running(s->p->name);
        started = run_one(s->p, d->opts->conninfo, fire);
        etl_metrics_daemon_ran(s->p->name, started, etl_http_retry_count() - retries);
        etl_metrics_daemon_running(NULL);
    }
    if (s->ncaught > 0 && s->nbacklog == 0) {
        etl_log(ETL_LOG_NOTICE, "[%s] made up %zu missed run%s", s->p->name, s->ncaught,
                s->ncaught > 1 ? "s" : "");
        s->ncaught = 0;
    }
}

int
etl_daemon_run(struct etl_config *cfg, const struct etl_daemon_opts *opts, struct etl_err *err)
{
    struct daemon d = { opts, opts->clock != NULL ? opts->clock : &etl_clock_wall, NULL, "" };
    struct etl_listen at;
    struct slot *slots;
    size_t nslots;

    srandom((unsigned)(time(NULL) ^ getpid()));
    if (etl_listen_parse(listen_text(&d, cfg), &at, err) < 0) {
        etl_config_free(cfg);
        return -1;
    }
    slots = slots_new(&d, cfg, true, &nslots);
    if (slots == NULL || nslots == 0) {
        slots_free(slots, nslots);
        etl_config_free(cfg);
        return slots == NULL ? etl_err_nomem(err)
                             : etl_err_set(err, ETL_E_CONFIG, "no pipeline has a schedule");
    }
    etl_notify_watchdog();      /* the loop's first heartbeat, before /health is asked */
    etl_metrics_daemon_start(cfg->spool_dir, stale_after());
    if (http_start(&d, &at, cfg, err) < 0) {
        slots_free(slots, nslots);
        etl_config_free(cfg);
        return -1;
    }
    etl_log(ETL_LOG_NOTICE, "daemon started: %zu scheduled pipeline%s", nslots,
            nslots == 1 ? "" : "s");
    (void)etl_notify("READY=1\nSTATUS=waiting, %zu scheduled pipelines", nslots);
    while (!etl_stop_requested) {
        int64_t now = d.clock->now(d.clock->arg), fire, wake;
        struct slot *due;

        etl_notify_watchdog();
        if (etl_reload_requested) {
            etl_reload_requested = 0;
            reload(&d, &cfg, &slots, &nslots);
            continue;
        }
        due = slot_pick(slots, nslots, now, &fire, &wake);
        if (due == NULL) {
            /* in slices, so that signals and watchdog pings are served */
            double wait = wake > 0 ? (double)(wake - now) : DAEMON_SLICE;

            d.clock->sleep(d.clock->arg, wait < DAEMON_SLICE ? wait : DAEMON_SLICE);
            continue;
        }
        slot_run(&d, due, fire);
    }
    (void)etl_notify("STOPPING=1");
    etl_httpd_stop(d.httpd);
    etl_log(ETL_LOG_NOTICE, "daemon stopped");
    slots_free(slots, nslots);
    etl_config_free(cfg);
    return 0;
}
