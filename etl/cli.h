/*
 * cli.h
 *    What the command line's files share: the exit statuses, the global
 *    options, the error printing and config loading, and the commands.
 *    main.c has the table of commands and main(); cli.c the shared parts;
 *    cli_run.c the commands that load (run, backfill, plan, worker);
 *    cli_admin.c the others.  These files are the only ones that print for
 *    the user or exit; everything else returns an etl_err.
 *
 *    Exit statuses (also in --help and the man page):
 *      0  ok                      3  ok, but rows were rejected
 *      1  could not start         4  partial: some files failed
 *      2  usage or configuration  5  the run failed
 */
#ifndef ETL_CLI_H
#define ETL_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "pipeline.h"
#include "runner.h"

enum {
    EXIT_OK = 0,
    EXIT_NOSTART = 1,
    EXIT_USAGE = 2,
    EXIT_REJECTS = 3,
    EXIT_PARTIAL = 4,
    EXIT_RUNFAILED = 5
};

/* The options before (or after) the command. */
struct globals {
    const char *config;
    const char *db;
    int verbosity;
};

struct etl_diags;

/* cli.c */
void cli_print_err(const struct etl_err *err);
/* The YAML's path: -c, else $EWC_CONFIG, else the installed default. */
const char *cli_config_path(const struct globals *g);
/* Print every error of 'd' as file:line:col: message; how many. */
size_t cli_print_diags(const struct etl_diags *d, const char *path);
struct etl_config *cli_load_config(const struct globals *g, struct etl_err *err);
/* SIGTERM/SIGINT stop (then cancel), SIGALRM cancels, SIGHUP reloads. */
void cli_install_signals(void);
/* Exit status of a run's outcome; the worse of two exit statuses. */
int cli_exit_of(enum etl_run_status st);
int cli_worse(int rc, int prc);
/*
 * For a command that reads the ledger only: the YAML if one is given
 * (-c or $EWC_CONFIG; *cfg NULL otherwise) and a connection named 'who'.
 * EXIT_OK, or the exit status after a message (nothing left open).
 */
struct pg_conn;
int cli_connect_reader(const struct globals *g, const char *who, struct etl_config **cfg,
                       struct pg_conn **db);
/* A count option from 1 to 'max' into *out; -1 after a message. */
int cli_parse_count(const char *opt, const char *s, long max, long *out);

/* The commands: argv[0] is the command's name; an exit status. */
int cli_check(const struct globals *g, int argc, char **argv);
int cli_migrate(const struct globals *g, int argc, char **argv);
int cli_run(const struct globals *g, int argc, char **argv);
int cli_backfill(const struct globals *g, int argc, char **argv);
int cli_plan(const struct globals *g, int argc, char **argv);
int cli_daemon(const struct globals *g, int argc, char **argv);
int cli_worker(const struct globals *g, int argc, char **argv);
int cli_status(const struct globals *g, int argc, char **argv);
int cli_prune(const struct globals *g, int argc, char **argv);
int cli_unmatched(const struct globals *g, int argc, char **argv);
int cli_page(const struct globals *g, int argc, char **argv);

#endif
