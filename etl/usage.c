/*
 * usage.c
 *    The command line's help texts; see usage.h.  main.c prints them.
 */
#include "usage.h"

#include "daemon.h"
#include "httpd.h"

/* --metrics-file, the same for run and backfill. */
#define METRICS_FILE_HELP \
    "  -M, --metrics-file FILE\n" \
    "                     at the end, write the run's metrics (Prometheus text\n" \
    "                     format) to FILE atomically, for node_exporter's textfile\n" \
    "                     collector (name it *.prom); failing to is an error\n" \
    "                     message, the exit status stays the run's\n"

const char etl_usage_main[] =
    "Usage: ewc-etl [OPTIONS] COMMAND [ARGS]\n"
    "\n"
    "Batch ETL of East-West cooperation indicator files into PostgreSQL.\n"
    "\n"
    "Commands:\n"
    "  check                      validate the YAML and print each pipeline's stage graph\n"
    "  migrate                    create or upgrade the schemas, refresh the dimensions\n"
    "  run [--pipeline P] [--year Y] [--kind K] [--workers N] [--wait]\n"
    "      [--metrics-file F]     run pipelines once now\n"
    "  backfill --year Y [--pipeline P] [--offline] [--metrics-file F]\n"
    "                             re-ingest a whole year, atomically\n"
    "  daemon [--listen ADDR:PORT]\n"
    "                             run the pipelines on their schedules; serve\n"
    "                             /metrics and /health on " ETL_LISTEN_DEFAULT "\n"
    "  worker [--pipeline P] [--run ID]\n"
    "                             help running runs load their files\n"
    "  status [--pipeline P] [--limit N] [--failed] [--json]\n"
    "                             recent runs and their files, from the ledger\n"
    "  unmatched                  names the catalog did not know, with suggestions\n"
    "  help [COMMAND|stages]      this text, a command's, or the stage kinds and keys\n"
    "  version                    print the version\n"
    "\n"
    "Options:\n"
    "  -c, --config FILE   pipeline YAML (default: $EWC_CONFIG, else\n"
    "                      " ETL_SYSCONFDIR "/pipeline.yaml)\n"
    "  -d, --db CONNINFO   libpq connection string or URI (default: $EWC_DB, else the\n"
    "                      YAML's \"database\", else the PG* variables)\n"
    "  -v, --verbose       more log output (debug)\n"
    "  -q, --quiet         warnings and errors only\n"
    "  -h, --help          help\n"
    "  -V, --version       version\n"
    "\n"
    "Exit status: 0 ok; 1 could not start (database, lock); 2 usage or configuration\n"
    "error; 3 ok but rows were rejected; 4 some files failed; 5 the run failed.\n";

const char etl_usage_run[] =
    "Usage: ewc-etl run [--pipeline P] [--year Y] [--kind manual|nightly] [--workers N]\n"
    "                   [--wait] [--metrics-file FILE]\n"
    "\n"
    "Run the pipeline(s) once: fetch every source file, load new or changed ones,\n"
    "each in its own transaction, and record the run in the ledger.\n"
    "\n"
    "  -p, --pipeline P   only this pipeline (default: every pipeline in the YAML)\n"
    "  -y, --year Y       expand {year} in URL templates with Y only\n"
    "  -k, --kind K       how the run is recorded: manual (default) or nightly\n"
    "  -w, --workers N    files loaded at once, each over its own connection\n"
    "                     (default: the pipeline's \"workers\", else 1)\n"
    "  -W, --wait         wait for a run of the same pipeline in another process\n"
    "                     instead of exiting with status 1\n"
    METRICS_FILE_HELP
    "\n"
    "SIGTERM or SIGINT: no new file is started; the file in flight finishes, or is\n"
    "rolled back after 10 seconds.\n";

const char etl_usage_backfill[] =
    "Usage: ewc-etl backfill --year Y [--pipeline P] [--offline] [--wait]\n"
    "                        [--metrics-file FILE]\n"
    "\n"
    "Re-ingest one year: every source file whose URL template has {year} is\n"
    "fetched again for year Y (unconditionally), or with --offline taken from the\n"
    "spool as the ledger last recorded it, and all of them are loaded in ONE\n"
    "transaction: either the whole year's new data is visible, or, if any file\n"
    "fails or the process dies, the old stays.  Running it twice gives the same\n"
    "warehouse.  Progress is shown when stderr is a terminal.\n"
    "\n"
    "  -y, --year Y       the year (required)\n"
    "  -p, --pipeline P   only this pipeline\n"
    "  -o, --offline      no HTTP: the spooled files\n"
    "  -W, --wait         wait for another run of the pipeline to finish\n"
    METRICS_FILE_HELP;

const char etl_usage_daemon[] =
    "Usage: ewc-etl daemon [--listen ADDR:PORT]\n"
    "\n"
    "Run every pipeline that has a \"schedule\" at its fire times (kind nightly),\n"
    "catching up missed runs per its \"catchup\" policy.  SIGHUP reloads the YAML\n"
    "(an invalid one is logged and the running one kept); SIGTERM or SIGINT stop\n"
    "it: no new file is started, the one in flight commits or is rolled back, exit\n"
    "0.  With NOTIFY_SOCKET set it speaks the systemd notify protocol (READY,\n"
    "RELOADING, STOPPING, STATUS, WATCHDOG).\n"
    "\n"
    "It serves over HTTP, on loopback unless told otherwise:\n"
    "  /metrics   Prometheus metrics (text format 0.0.4): runs, files, rows,\n"
    "             rejects by reason, bytes, durations, last success, from the ledger\n"
    "  /health    200 \"ok\" when its loop is alive and the database answers,\n"
    "             else 503 with the reason\n"
    "\n"
    "  -l, --listen ADDR:PORT   where (default: the YAML's http.listen, else\n"
    "                           " ETL_LISTEN_DEFAULT "); 127.0.0.1:PORT, [::1]:PORT,\n"
    "                           0.0.0.0:PORT for every interface, or off\n"
    "\n"
    "Environment:\n"
    "  " ETL_CLOCK_START_ENV "=T   start the daemon's clock at instant T (seconds since\n"
    "                          the epoch, or YYYY-MM-DDTHH:MM[:SS]Z); it then runs at\n"
    "                          real speed.  For tests of schedules and catch-up.\n";

const char etl_usage_worker[] =
    "Usage: ewc-etl worker [--pipeline P] [--run ID]\n"
    "\n"
    "Join the running runs of the pipeline(s) -- on this machine or another that\n"
    "sees the same spool -- and load their pending files until none is left.  Files\n"
    "are claimed with SELECT ... FOR UPDATE SKIP LOCKED: each is loaded once.\n"
    "\n"
    "  -p, --pipeline P   only this pipeline\n"
    "  -r, --run ID       only this run\n";

const char etl_usage_status[] =
    "Usage: ewc-etl status [--pipeline P] [--limit N] [--failed] [--json]\n"
    "\n"
    "Show recent runs and their files from the ledger (newest first).\n"
    "\n"
    "  -p, --pipeline P   only this pipeline\n"
    "  -n, --limit N      at most N runs (default 10)\n"
    "  -f, --failed       only runs that were not ok\n"
    "  -j, --json         JSON for programs instead of a table\n";

const char etl_usage_unmatched[] =
    "Usage: ewc-etl unmatched\n"
    "\n"
    "List the region, partner and indicator names that rows were rejected for\n"
    "because the catalog does not know them, in the current version of each\n"
    "source: column, name, rows, files, the nearest catalog entries and up to\n"
    "three URLs, tab-separated, most rows first.  Add them to the catalog's\n"
    "aliases (config/catalog/) and run again.\n";

const char etl_usage_check[] =
    "Usage: ewc-etl check\n"
    "\n"
    "Load the YAML and the catalogs, resolve every pipeline's stage graph and\n"
    "print it.  Errors name file:line:column.  Does not touch the database.\n";

const char etl_usage_migrate[] =
    "Usage: ewc-etl migrate\n"
    "\n"
    "Apply the schema migrations not yet applied (each once, in its own\n"
    "transaction) and refresh the region, indicator, unit and pairing tables\n"
    "from the catalogs.  Safe to run twice, and concurrently.\n";
