/*
 * usage.c
 *    The command line's help texts; see usage.h.  main.c prints them.
 */
#include "usage.h"

#include "daemon.h"
#include "httpd.h"

#ifndef ETL_SYSCONFDIR
#define ETL_SYSCONFDIR "/usr/local/etc/ewc-etl"
#endif

/* --metrics-file, the same for run and backfill. */
#define METRICS_FILE_HELP \
    "  -M, --metrics-file FILE\n" \
    "                     at the end, write the run's metrics (Prometheus text\n" \
    "                     format) to FILE atomically, for node_exporter's textfile\n" \
    "                     collector (name it *.prom); failing to is an error\n" \
    "                     message, the exit status stays the run's\n"

/* The installed config: make install compiles this file for its paths. */
const char etl_default_config[] = ETL_SYSCONFDIR "/pipeline.yaml";

const char etl_usage_main[] =
    "Usage: ewc-etl [OPTIONS] COMMAND [ARGS]\n"
    "\n"
    "Batch ETL of East-West cooperation indicator files into PostgreSQL.\n"
    "\n"
    "Commands:\n"
    "  check                      every error of the YAML, or each pipeline's stage graph\n"
    "  migrate                    create or upgrade the schemas, refresh the dimensions\n"
    "  run [--pipeline P] [--year Y] [--kind K] [--workers N] [--wait]\n"
    "      [--metrics-file F]     run pipelines once now\n"
    "  backfill --year Y [--pipeline P] [--offline] [--metrics-file F]\n"
    "           [--dry-run [--fetch] [--json]]\n"
    "                             re-ingest whole years, each atomically\n"
    "  plan [--pipeline P] [--year Y] [--fetch] [--json]\n"
    "                             what a run would fetch and load; writes nothing\n"
    "  daemon [--listen ADDR:PORT]\n"
    "                             run the pipelines on their schedules; serve\n"
    "                             /metrics, /health and / on " ETL_LISTEN_DEFAULT "\n"
    "  worker [--pipeline P] [--run ID]\n"
    "                             help running runs load their files\n"
    "  status [--pipeline P] [--limit N] [--failed] [--json]\n"
    "                             recent runs and their files, from the ledger\n"
    "  unmatched                  names the catalog did not know, with suggestions\n"
    "  page [-o FILE]             the status page (HTML) to stdout or FILE\n"
    "  prune [--dry-run]          delete old runs and spool files (YAML \"retention\")\n"
    "  help [COMMAND|stages]      this text, a command's, or the stage kinds and keys\n"
    "  version                    print the version\n"
    "\n"
    "Options (before or after the command):\n"
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
    "Usage: ewc-etl run [--pipeline P] [--year Y]... [--kind manual|nightly] [--workers N]\n"
    "                   [--wait] [--metrics-file FILE]\n"
    "\n"
    "Run the pipeline(s) once: fetch every source file, load new or changed ones,\n"
    "each in its own transaction, and record the run in the ledger.\n"
    "\n"
    "  -p, --pipeline P   only this pipeline (default: every pipeline in the YAML)\n"
    "  -y, --year Y       expand {year} in URL templates with Y only; Y is a year or\n"
    "                     a range (2020..2022); repeat it for more (--year 2020\n"
    "                     --year 2022); replaces the fetch stages' \"years\"\n"
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
    "Usage: ewc-etl backfill --year Y... [--pipeline P] [--offline] [--wait]\n"
    "                        [--metrics-file FILE]\n"
    "       ewc-etl backfill --year Y... --dry-run [--pipeline P] [--fetch] [--json]\n"
    "\n"
    "Re-ingest years: every source file whose URL template has {year} is fetched\n"
    "again for the year (unconditionally), or with --offline taken from the spool\n"
    "as the ledger last recorded it, and all of them are loaded in ONE transaction\n"
    "per year: either the whole year's new data is visible, or, if any file fails\n"
    "or the process dies, the year's old data stays.  Several years are backfilled\n"
    "one after the other, each its own run; a year that fails does not undo the\n"
    "years before it.  URLs without {year} are neither fetched nor loaded.  Running\n"
    "it twice gives the same warehouse.  Progress is shown when stderr is a terminal.\n"
    "\n"
    "  -y, --year Y       a year or a range (2020..2022), repeatable (required)\n"
    "  -p, --pipeline P   only this pipeline\n"
    "  -o, --offline      no HTTP: the spooled files\n"
    "  -W, --wait         wait for another run of the pipeline to finish\n"
    "  -n, --dry-run      load nothing: print the plan of the backfill, as\n"
    "                     `ewc-etl plan` does (URLs without {year}: skipped)\n"
    "  -F, --fetch        with --dry-run: download and try the loads, rolled back\n"
    "  -j, --json         with --dry-run: the plan as JSON\n"
    METRICS_FILE_HELP;

const char etl_usage_plan[] =
    "Usage: ewc-etl plan [--pipeline P] [--year Y]... [--fetch] [--json]\n"
    "\n"
    "What a run would do, before it does it.  For each URL the run would fetch\n"
    "(templates expanded), what the ledger knows of its source: the current\n"
    "version (sha256 prefix, ETag, Last-Modified, rows it loaded and when) and\n"
    "the rows the source has in the warehouse now, which a load would replace.\n"
    "Nothing is downloaded and nothing is written.\n"
    "\n"
    "With --fetch every URL is downloaded as a run does (conditional GET: a 304 or\n"
    "the same sha256 is unchanged) and each changed file is loaded inside a\n"
    "transaction that is rolled back: the rows it would load and reject, and what\n"
    "it would revise against the source's current version (added, changed,\n"
    "removed).  Nothing is committed, not even the ledger's run; the downloaded\n"
    "files stay in the spool under their sha256.  Stages of kind sql are not run.\n"
    "\n"
    "  -p, --pipeline P   only this pipeline\n"
    "  -y, --year Y       as for run: a year or a range (2020..2022), repeatable\n"
    "  -F, --fetch        download and try the loads (rolled back)\n"
    "  -j, --json         JSON instead of the table\n"
    "\n"
    "`ewc-etl backfill --year Y --dry-run` prints the same for a backfill's URLs.\n"
    "Exit status: 0 the plan was made; 1 database unreachable, schema missing or,\n"
    "with --fetch, the pipeline being run; 2 usage or configuration error.\n";

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

const char etl_usage_help[] =
    "Usage: ewc-etl help [COMMAND|stages|help]\n"
    "\n"
    "Without an argument, the commands and the options; with a command's name,\n"
    "that command's usage (as \"ewc-etl COMMAND --help\"); with \"stages\", every\n"
    "stage kind with its keys and their defaults.\n";

const char etl_usage_page[] =
    "Usage: ewc-etl page [-o FILE]\n"
    "\n"
    "Write the status page, one self-contained HTML document (inline CSS and SVG,\n"
    "no script, nothing fetched when shown): the last 20 runs, their failed files\n"
    "with what to do about each, rejects by reason, the coverage grid of the\n"
    "national figures and each indicator's national series as a chart.  The\n"
    "database is read in one read-only snapshot.  Exit 0, or 1 when the database\n"
    "cannot be read or FILE cannot be written.\n"
    "\n"
    "  -o, --output FILE  write FILE (through FILE.tmp, renamed when complete)\n"
    "                     instead of standard output\n";

const char etl_usage_check[] =
    "Usage: ewc-etl check\n"
    "\n"
    "Load the YAML and the catalogs, resolve every pipeline's stage graph and\n"
    "print it.  Reports every error of the file, not only the first: each as\n"
    "\"file:line:column: message\" at the start of a line on stderr, with \"did\n"
    "you mean\" the nearest names for a misspelt key, kind, needs or indicator\n"
    "code, then \"N errors\"; exit status 2.  Also errors here: a pipeline\n"
    "without a load stage (rows or files that go nowhere), a spool directory\n"
    "that cannot be written or created.  Does not touch the database.\n";

const char etl_usage_migrate[] =
    "Usage: ewc-etl migrate\n"
    "\n"
    "Apply the schema migrations not yet applied (each once, in its own\n"
    "transaction) and refresh the region, indicator, unit and pairing tables\n"
    "from the catalogs.  Safe to run twice, and concurrently.\n";

const char etl_usage_prune[] =
    "Usage: ewc-etl prune [--dry-run]\n"
    "\n"
    "Apply the YAML's retention (default: retention: { ledger: 90d, spool: 30d };\n"
    "units s, min, h, d, w; \"off\" keeps everything).  Deletes the runs that ended\n"
    "longer ago than the ledger's age, with their files, rejects, reconciliations\n"
    "and tasks, except every file the warehouse needs: a source's current or\n"
    "refused version, a file a revision names, and every loaded version of a\n"
    "source that has rows or revisions (as-of answers need them; they keep their\n"
    "rejects and runs).  Then deletes the spool files older than the spool's age\n"
    "that the ledger no longer names (only its own, hash-named files).  One\n"
    "transaction; each run does the same in batches of 500 runs when it ends.\n"
    "\n"
    "  -n, --dry-run      print what would be deleted, delete nothing\n";
