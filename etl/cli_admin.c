/*
 * cli_admin.c
 *    The commands that do not load: check, migrate, daemon, status, prune,
 *    unmatched and page.  See cli.h.
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
#include "httpd.h"
#include "log.h"
#include "migrate.h"
#include "page.h"
#include "pg.h"
#include "prune.h"
#include "resource.h"
#include "schedule.h"
#include "status.h"
#include "usage.h"

int
cli_check(const struct globals *g, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    const char *path = cli_config_path(g);
    struct etl_config *cfg;
    struct etl_diags d;

    etl_diags_init(&d);
    cfg = etl_config_check(path, &d);
    etl_diags_sort(&d);
    if (cli_print_diags(&d, path) > 0) {
        etl_diags_free(&d);
        etl_config_free(cfg);
        return EXIT_USAGE;
    }
    etl_diags_free(&d);
    printf("%s: ok\n", cfg->path);
    for (size_t i = 0; i < cfg->nresources; i++) {
        const struct etl_resource *r = &cfg->resources[i];

        printf("%s: %s\n", r->name, r->source != NULL ? r->source : "loaded");
    }
    printf("spool: %s\n", cfg->spool_dir);
    printf("http: %s (the daemon's /metrics, /health and status page)\n",
           cfg->http_listen != NULL ? cfg->http_listen : ETL_LISTEN_DEFAULT);
    for (size_t i = 0; i < cfg->npipelines; i++) {
        const struct etl_pipeline *p = cfg->pipelines[i];

        printf("\npipeline %s", p->name);
        if (p->schedule != NULL) {
            printf(" (schedule \"%s\"%s%s)", p->schedule, p->timezone ? ", " : "",
                   p->timezone ? p->timezone : "");
        }
        printf(":\n");
        printf("  workers %ld, priority %ld, catchup %s, jitter %ld s\n", p->workers,
               p->priority, p->catchup == ETL_CATCHUP_NONE ? "none"
               : p->catchup == ETL_CATCHUP_ALL ? "all" : "latest", p->jitter);
        if (p->sched != NULL) {
            char next[1024];

            etl_schedule_format_next(p->sched, (int64_t)time(NULL), 5, next, sizeof(next));
            printf("  next runs:\n");
            for (char *line = strtok(next, "\n"); line != NULL; line = strtok(NULL, "\n")) {
                printf("    %s\n", line);
            }
        }
        for (size_t k = 0; k < p->nstages; k++) {
            const struct etl_stage *st = p->stages[k];

            printf("  %zu. %-12s %-11s", k + 1, st->name, st->kind->name);
            if (st->nneeds > 0) {
                printf(" after ");
                for (size_t n = 0; n < st->nneeds; n++) {
                    printf("%s%s", n ? ", " : "", st->needs[n]);
                }
            }
            if (st->next != NULL) {
                printf(" -> rows to %s", st->next->name);
            }
            printf("\n");
            if (st->kind->describe != NULL) {
                char line[512];

                st->kind->describe(st, line, sizeof(line));
                printf("     %-12s %s\n", "", line);
            }
        }
    }
    etl_config_free(cfg);
    return EXIT_OK;
}

int
cli_migrate(const struct globals *g, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    struct etl_err err;
    struct etl_config *cfg;
    struct pg_conn *db = NULL;
    int applied = 0, rc = EXIT_OK;

    etl_err_clear(&err);
    cfg = cli_load_config(g, &err);
    if (cfg == NULL) {
        cli_print_err(&err);
        return EXIT_USAGE;
    }
    db = etl_pg_connect(etl_run_conninfo(cfg, g->db), "ewc-etl migrate", &err);
    if (db == NULL || etl_migrate(db, &applied, &err) < 0) {
        cli_print_err(&err);
        rc = EXIT_NOSTART;
    } else {
        printf("migrations: %d applied\n", applied);
        /* then what the resources keep in the database (the dimensions) */
        for (size_t i = 0; i < cfg->nresources && rc == EXIT_OK; i++) {
            const struct etl_resource *r = &cfg->resources[i];
            char summary[256] = "";

            if (r->kind == NULL || r->kind->sync == NULL) {
                continue;
            }
            if (r->kind->sync(r->ptr, db, summary, sizeof(summary), &err) < 0) {
                cli_print_err(&err);
                rc = EXIT_NOSTART;
            } else {
                printf("%s: %s\n", r->name, summary);
            }
        }
    }
    etl_pg_close(db);
    etl_config_free(cfg);
    return rc;
}

int
cli_daemon(const struct globals *g, int argc, char **argv)
{
    static const struct option opts[] = {
        { "listen", required_argument, NULL, 'l' },
        { "help", no_argument, NULL, 'h' },
        { 0 }
    };
    struct etl_daemon_opts d = { 0 };
    struct etl_clock clock = etl_clock_wall;
    struct etl_config *cfg;
    struct etl_listen addr;
    struct etl_err err;
    const char *path = g->config != NULL ? g->config : getenv("EWC_CONFIG");
    const char *start = getenv(ETL_CLOCK_START_ENV);   /* "" is unset */
    int64_t shift = 0;
    int c;

    etl_err_clear(&err);
    optind = 1;
    while ((c = getopt_long(argc, argv, "l:h", opts, NULL)) != -1) {
        switch (c) {
        case 'l':
            if (etl_listen_parse(optarg, &addr, &err) < 0) {
                etl_err_context(&err, "--listen");
                cli_print_err(&err);
                return EXIT_USAGE;
            }
            d.listen = optarg;
            break;
        case 'h': fputs(etl_usage_daemon, stdout); return EXIT_OK;
        default: fputs(etl_usage_daemon, stderr); return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fputs(etl_usage_daemon, stderr);
        return EXIT_USAGE;
    }
    cfg = cli_load_config(g, &err);
    if (cfg == NULL) {
        cli_print_err(&err);
        return EXIT_USAGE;
    }
    d.config_path = path != NULL && path[0] != '\0' ? path : etl_default_config;
    d.conninfo = g->db;
    if (start != NULL && start[0] != '\0') {
        int64_t at;

        if (etl_clock_parse(start, &at, &err) < 0) {
            etl_config_free(cfg);
            cli_print_err(&err);
            return EXIT_USAGE;
        }
        shift = at - etl_clock_wall_now(NULL);
        clock.arg = &shift;
        d.clock = &clock;
    }
    cli_install_signals();
    if (etl_daemon_run(cfg, &d, &err) < 0) {
        cli_print_err(&err);
        return err.code == ETL_E_CONFIG ? EXIT_USAGE : EXIT_NOSTART;
    }
    return EXIT_OK;
}

int
cli_status(const struct globals *g, int argc, char **argv)
{
    static const struct option opts[] = {
        { "pipeline", required_argument, NULL, 'p' },
        { "limit", required_argument, NULL, 'n' },
        { "failed", no_argument, NULL, 'f' },
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        { 0 }
    };
    struct etl_status_opts so = { .limit = 10 };
    struct etl_config *cfg = NULL;
    struct pg_conn *db;
    struct etl_err err;
    int c, rc = EXIT_OK;

    optind = 1;
    while ((c = getopt_long(argc, argv, "p:n:fjh", opts, NULL)) != -1) {
        switch (c) {
        case 'p': so.pipeline = optarg; break;
        case 'n': {
            char *end;

            so.limit = strtol(optarg, &end, 10);
            if (*end != '\0' || so.limit < 1) {
                fprintf(stderr, "ewc-etl: --limit: expected a positive number\n");
                return EXIT_USAGE;
            }
            break;
        }
        case 'f': so.failed_only = true; break;
        case 'j': so.json = true; break;
        case 'h': fputs(etl_usage_status, stdout); return EXIT_OK;
        default: fputs(etl_usage_status, stderr); return EXIT_USAGE;
        }
    }
    if ((rc = cli_connect_reader(g, "ewc-etl status", &cfg, &db)) != EXIT_OK) {
        return rc;
    }
    so.spool_dir = cfg != NULL ? cfg->spool_dir : NULL;
    etl_err_clear(&err);
    if (etl_status_print(db, &so, stdout, &err) < 0) {
        cli_print_err(&err);
        rc = EXIT_NOSTART;
    }
    etl_pg_close(db);
    etl_config_free(cfg);
    return rc;
}

/* "prune [--dry-run]": the YAML's retention applied to the ledger and the spool. */
int
cli_prune(const struct globals *g, int argc, char **argv)
{
    static const struct option opts[] = {
        { "dry-run", no_argument, NULL, 'n' },
        { "help", no_argument, NULL, 'h' },
        { 0 }
    };
    struct etl_prune_opts po = { .wait = true };
    struct etl_prune_counts pc;
    struct etl_config *cfg;
    struct pg_conn *db;
    struct etl_err err;
    int c, rc = EXIT_OK;

    optind = 1;
    while ((c = getopt_long(argc, argv, "nh", opts, NULL)) != -1) {
        switch (c) {
        case 'n': po.dry_run = true; break;
        case 'h': fputs(etl_usage_prune, stdout); return EXIT_OK;
        default: fputs(etl_usage_prune, stderr); return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fputs(etl_usage_prune, stderr);
        return EXIT_USAGE;
    }
    etl_err_clear(&err);
    cfg = cli_load_config(g, &err);
    if (cfg == NULL) {
        cli_print_err(&err);
        return EXIT_USAGE;
    }
    po.ledger_age = cfg->retention.ledger;
    po.spool_age = cfg->retention.spool;
    po.spool_dir = cfg->spool_dir;
    db = etl_pg_connect(etl_run_conninfo(cfg, g->db), "ewc-etl prune", &err);
    if (db == NULL || etl_prune(db, &po, &pc, &err) < 0) {
        cli_print_err(&err);
        rc = EXIT_NOSTART;
    } else {
        etl_prune_print(&po, &pc, stdout);
    }
    etl_pg_close(db);
    etl_config_free(cfg);
    return rc;
}

/* "unmatched": the names the catalog does not know, from the ledger. */
int
cli_unmatched(const struct globals *g, int argc, char **argv)
{
    struct etl_config *cfg = NULL;
    struct pg_conn *db;
    struct etl_err err;
    int rc = EXIT_OK;

    (void)argc;
    (void)argv;
    if ((rc = cli_connect_reader(g, "ewc-etl unmatched", &cfg, &db)) != EXIT_OK) {
        return rc;
    }
    etl_err_clear(&err);
    if (etl_status_unmatched(db, stdout, &err) < 0) {
        cli_print_err(&err);
        rc = EXIT_NOSTART;
    }
    etl_pg_close(db);
    etl_config_free(cfg);
    return rc;
}

/* "page [-o FILE]": the status page, to stdout or FILE. */
int
cli_page(const struct globals *g, int argc, char **argv)
{
    static const struct option opts[] = {
        { "output", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },
        { 0 }
    };
    struct etl_config *cfg = NULL;
    const char *path = NULL;
    struct pg_conn *db;
    struct etl_err err;
    int c, rc = EXIT_OK;

    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o': path = optarg; break;
        case 'h': fputs(etl_usage_page, stdout); return EXIT_OK;
        default: fputs(etl_usage_page, stderr); return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fputs(etl_usage_page, stderr);
        return EXIT_USAGE;
    }
    if ((rc = cli_connect_reader(g, "ewc-etl page", &cfg, &db)) != EXIT_OK) {
        return rc;
    }
    etl_err_clear(&err);
    if (etl_page_write(db, path, stdout, &err) < 0) {
        cli_print_err(&err);
        rc = EXIT_NOSTART;
    }
    etl_pg_close(db);
    etl_config_free(cfg);
    return rc;
}
