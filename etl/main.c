/*
 * main.c
 *    The ewc-etl command: the global options (before or after the
 *    command), the table of commands, help.  The commands are in cli_run.c
 *    and cli_admin.c (cli.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etl/cli.h"
#include "etl/http.h"
#include "etl/log.h"
#include "etl/stage.h"
#include "etl/usage.h"

#ifndef ETL_VERSION
#define ETL_VERSION "dev"
#endif

/* The stage kinds and their keys, from the registry itself. */
static void
print_stage_kinds(void)
{
    printf("Stage kinds (keys besides name, kind and needs):\n");
    for (size_t i = 0; etl_stage_kinds[i] != NULL; i++) {
        const struct etl_stage_kind *k = etl_stage_kinds[i];

        printf("\n  %s: %s\n", k->name, k->summary != NULL ? k->summary : "");
        for (const struct etl_key *key = k->keys; key != NULL && key->name != NULL; key++) {
            printf("    %-17s %s%s\n", key->name, key->help != NULL ? key->help : "",
                   key->required ? " (required)" : "");
        }
    }
}

/* What a command needs from main() before it runs. */
enum {
    CMD_NO_ARGS = 1 << 0,   /* takes no arguments: any is a usage error */
    CMD_HTTP = 1 << 1       /* downloads: libcurl's global init around it */
};

/* One command of the command line: its name, help text and function. */
struct command {
    const char *name;
    const char *usage;
    int (*fn)(const struct globals *g, int argc, char **argv);
    unsigned flags;
};

static const struct command commands[] = {
    { "check", etl_usage_check, cli_check, CMD_NO_ARGS },
    { "migrate", etl_usage_migrate, cli_migrate, CMD_NO_ARGS },
    { "run", etl_usage_run, cli_run, CMD_HTTP },
    { "backfill", etl_usage_backfill, cli_backfill, CMD_HTTP },
    { "plan", etl_usage_plan, cli_plan, CMD_HTTP },
    { "daemon", etl_usage_daemon, cli_daemon, CMD_HTTP },
    { "worker", etl_usage_worker, cli_worker, 0 },
    { "status", etl_usage_status, cli_status, 0 },
    { "unmatched", etl_usage_unmatched, cli_unmatched, CMD_NO_ARGS },
    { "page", etl_usage_page, cli_page, 0 },
    { "prune", etl_usage_prune, cli_prune, 0 },
};

static const struct command *
command_find(const char *name)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(commands[i].name, name) == 0) {
            return &commands[i];
        }
    }
    return NULL;
}

/* "help [TOPIC]": the main text, a command's, or the stage kinds. */
static int
cmd_help(const char *topic)
{
    const struct command *c;

    if (topic == NULL) {
        fputs(etl_usage_main, stdout);
    } else if (strcmp(topic, "stages") == 0) {
        print_stage_kinds();
    } else if (strcmp(topic, "help") == 0) {
        fputs(etl_usage_help, stdout);
    } else if ((c = command_find(topic)) != NULL) {
        fputs(c->usage, stdout);
    } else {
        fprintf(stderr, "ewc-etl: no help for \"%s\"\n", topic);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

/*
 * The global options given after the command ("ewc-etl status -c x.yaml"):
 * taken into 'g' and out of argv (argv[0] is the command), up to a "--".
 * The commands' own options use other letters.  -1 after a usage message.
 */
static int
take_globals(int *argc, char **argv, struct globals *g)
{
    int out = 1, i;

    for (i = 1; i < *argc && strcmp(argv[i], "--") != 0; i++) {
        const char *a = argv[i];
        const char **slot = NULL;
        const char *val = NULL;

        if (strcmp(a, "--verbose") == 0 || strcmp(a, "--quiet") == 0) {
            g->verbosity += a[2] == 'v' ? 1 : -1;
            continue;
        }
        if (a[0] == '-' && (a[1] == 'v' || a[1] == 'q') && strspn(a + 1, "vq") == strlen(a + 1)) {
            for (const char *f = a + 1; *f != '\0'; f++) {     /* -v, -vv, -q */
                g->verbosity += *f == 'v' ? 1 : -1;
            }
            continue;
        }
        if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0 ||
            strncmp(a, "--config=", 9) == 0 || (strncmp(a, "-c", 2) == 0 && a[2] != '\0')) {
            slot = &g->config;
        } else if (strcmp(a, "-d") == 0 || strcmp(a, "--db") == 0 ||
                   strncmp(a, "--db=", 5) == 0 || (strncmp(a, "-d", 2) == 0 && a[2] != '\0')) {
            slot = &g->db;
        } else {
            argv[out++] = argv[i];
            continue;
        }
        if (a[1] != '-' && a[2] != '\0') {
            val = a + 2;                        /* -cFILE */
        } else if (strchr(a, '=') != NULL) {
            val = strchr(a, '=') + 1;           /* --config=FILE */
        } else if (i + 1 < *argc) {
            val = argv[++i];
        } else {
            fprintf(stderr, "ewc-etl: option %s needs a value\n", a);
            return -1;
        }
        *slot = val;
    }
    while (i < *argc) {
        argv[out++] = argv[i++];
    }
    argv[out] = NULL;
    *argc = out;
    return 0;
}

/* Run one command of the table, with libcurl set up if it downloads. */
static int
command_run(const struct command *c, const struct globals *g, int argc, char **argv)
{
    struct etl_err err;
    int rc;

    if ((c->flags & CMD_NO_ARGS) && argc > 1) {
        fputs(c->usage, stderr);
        return EXIT_USAGE;
    }
    if (!(c->flags & CMD_HTTP)) {
        return c->fn(g, argc, argv);
    }
    etl_err_clear(&err);
    if (etl_http_global_init(&err) < 0) {
        cli_print_err(&err);
        return EXIT_NOSTART;
    }
    rc = c->fn(g, argc, argv);
    etl_http_global_cleanup();
    return rc;
}

int
main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' },
        { "db", required_argument, NULL, 'd' },
        { "verbose", no_argument, NULL, 'v' },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { 0 }
    };
    struct globals g = { 0 };
    const struct command *found;
    const char *cmd;
    int c;

    /* the options before the command; "+" stops at it (see take_globals) */
    while ((c = getopt_long(argc, argv, "+c:d:vqhV", opts, NULL)) != -1) {
        switch (c) {
        case 'c': g.config = optarg; break;
        case 'd': g.db = optarg; break;
        case 'v': g.verbosity++; break;
        case 'q': g.verbosity--; break;
        case 'h': fputs(etl_usage_main, stdout); return EXIT_OK;
        case 'V': printf("ewc-etl %s\n", ETL_VERSION); return EXIT_OK;
        default: fputs(etl_usage_main, stderr); return EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        fputs(etl_usage_main, stderr);
        return EXIT_USAGE;
    }
    cmd = argv[optind];
    argc -= optind;
    argv += optind;
    if (take_globals(&argc, argv, &g) < 0) {
        return EXIT_USAGE;
    }
    etl_log_init(g.verbosity > 0 ? ETL_LOG_DEBUG : g.verbosity < 0 ? ETL_LOG_WARNING
                                                                   : ETL_LOG_INFO);
    if (strcmp(cmd, "help") == 0) {
        return cmd_help(argc > 1 ? argv[1] : NULL);
    }
    if (strcmp(cmd, "version") == 0) {
        printf("ewc-etl %s\n", ETL_VERSION);
        return EXIT_OK;
    }
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        return cmd_help(cmd);
    }
    found = command_find(cmd);
    if (found != NULL) {
        return command_run(found, &g, argc, argv);
    }
    fprintf(stderr, "ewc-etl: unknown command \"%s\"\n", cmd);
    fputs(etl_usage_main, stderr);
    return EXIT_USAGE;
}
