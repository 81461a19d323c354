/*
 * cli.c
 *    The command line's shared parts: errors printed, the config found and
 *    loaded, the signals of a run, exit statuses.  See cli.h.
 */
#include "cli.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "diag.h"
#include "log.h"
#include "pg.h"
#include "runner.h"
#include "usage.h"

/* The help texts: usage.c. */

void
cli_print_err(const struct etl_err *err)
{
    char line[2048];

    etl_err_format(err, line, sizeof(line));
    fprintf(stderr, "ewc-etl: %s\n", line);
}

/* The path of the YAML: -c, else $EWC_CONFIG, else the installed one. */
const char *
cli_config_path(const struct globals *g)
{
    const char *path = g->config;

    if (path == NULL) {
        path = getenv("EWC_CONFIG");
    }
    if (path == NULL || path[0] == '\0') {
        path = etl_default_config;
    }
    return path;
}

/*
 * check's errors, as a compiler's: each "file:line:col: message" at the
 * start of its line on stderr, no "ewc-etl: " before it (editors and CI
 * annotations read them), then "N errors".  Returns how many.
 */
size_t
cli_print_diags(const struct etl_diags *d, const char *path)
{
    size_t n = etl_diags_count(d);
    char line[2048];

    for (size_t i = 0; i < d->n; i++) {
        etl_diag_format(&d->errs[i], path, line, sizeof(line));
        fprintf(stderr, "%s\n", line);
    }
    if (d->dropped > 0) {
        fprintf(stderr, "%s: %zu more errors not shown\n", path, d->dropped);
    }
    if (n > 0) {
        fprintf(stderr, "%zu error%s\n", n, n == 1 ? "" : "s");
    }
    return n;
}

struct etl_config *
cli_load_config(const struct globals *g, struct etl_err *err)
{
    return etl_config_load(cli_config_path(g), err);
}

/* Grace before the file in flight is cancelled after a stop signal. */
#define STOP_GRACE_SECONDS 10

static void
on_stop(int sig)
{
    (void)sig;
    if (!etl_stop_requested) {
        alarm(STOP_GRACE_SECONDS);
    } else {
        etl_runner_cancel();    /* a second signal: do not wait */
    }
    etl_runner_stop();
}

static void
on_alarm(int sig)
{
    (void)sig;
    etl_runner_cancel();
}

static void
on_hup(int sig)
{
    (void)sig;
    etl_reload_requested = 1;
}

void
cli_install_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    sa.sa_handler = on_hup;
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = SIG_IGN;    /* a closed socket is an error return, not a death */
    sigaction(SIGPIPE, &sa, NULL);
}

/* Exit status of a run's outcome. */
int
cli_exit_of(enum etl_run_status st)
{
    return st == ETL_RUN_OK ? EXIT_OK
         : st == ETL_RUN_OK_WITH_REJECTS ? EXIT_REJECTS
         : st == ETL_RUN_PARTIAL ? EXIT_PARTIAL : EXIT_RUNFAILED;
}

/* The worse of two exit statuses; "could not start" ranks with a failed run. */
int
cli_worse(int rc, int prc)
{
    return (prc == EXIT_NOSTART ? EXIT_RUNFAILED : prc) >
           (rc == EXIT_NOSTART ? EXIT_RUNFAILED : rc) ? prc : rc;
}

int
cli_parse_count(const char *opt, const char *s, long max, long *out)
{
    char *end;
    long n = strtol(s, &end, 10);

    if (*end != '\0' || n < 1 || n > max) {
        fprintf(stderr, "ewc-etl: %s: expected a number from 1 to %ld, found \"%s\"\n", opt,
                max, s);
        return -1;
    }
    *out = n;
    return 0;
}

/* The database of a command that reads the ledger only; see cli.h. */
int
cli_connect_reader(const struct globals *g, const char *who, struct etl_config **cfg,
                   struct pg_conn **db)
{
    struct etl_err err;

    etl_err_clear(&err);
    *cfg = NULL;
    *db = NULL;
    /* the YAML is optional: given, it names the database and the spool */
    if (g->config != NULL || getenv("EWC_CONFIG") != NULL) {
        if ((*cfg = cli_load_config(g, &err)) == NULL) {
            cli_print_err(&err);
            return EXIT_USAGE;
        }
    }
    if ((*db = etl_pg_connect(etl_run_conninfo(*cfg, g->db), who, &err)) == NULL) {
        cli_print_err(&err);
        etl_config_free(*cfg);
        *cfg = NULL;
        return EXIT_NOSTART;
    }
    return EXIT_OK;
}
