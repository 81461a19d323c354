/*
 * pipeline.h
 *    The loaded configuration (pipelines and their stage graphs), and the
 *    objects of one run: the run itself, the files fetch produced, and the
 *    job of one file going down its chain of row stages.
 *
 *    pipeline.c reads the YAML into these structs and resolves the graph;
 *    runner.c drives a run, worker.c its files, chain.c one file's stages;
 *    the stages see a run or a job.
 */
#ifndef ETL_PIPELINE_H
#define ETL_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "config.h"
#include "err.h"
#include "retention.h"
#include "stage.h"

struct etl_resource;
struct etl_schedule;
struct pg_conn;

struct etl_pipeline {
    char *name;
    const struct etl_node *node;
    struct etl_config *config;      /* back pointer */
    struct etl_stage **stages;      /* in topological order */
    size_t nstages;
    char *schedule;                 /* five-field cron or "@every 10m", or NULL */
    char *timezone;                 /* IANA name, or NULL (local time) */
    struct etl_schedule *sched;     /* parsed 'schedule', or NULL */
    enum etl_catchup { ETL_CATCHUP_NONE, ETL_CATCHUP_LATEST, ETL_CATCHUP_ALL } catchup;
    long catchup_max;               /* "all": at most this many missed runs */
    long jitter;                    /* seconds of random delay before each run */
    long workers;                   /* file workers (connections) */
    long priority;                  /* its sources' precedence on a figure (ledger.source) */
};

struct etl_config {
    struct etl_doc *doc;
    char *path;                     /* the YAML file */
    char *spool_dir;
    char *database;                 /* libpq conninfo from the YAML, or NULL */
    struct etl_retention retention; /* the YAML's "retention" (retention.h) */
    char *http_listen;              /* the daemon's "http: { listen }" (checked), or NULL */
    struct etl_resource *resources; /* loaded with the config (resource.h) */
    size_t nresources;
    struct etl_pipeline **pipelines;
    size_t npipelines;
};

/* Status of one file of a run, as kept in ledger.file.status. */
enum etl_file_status {
    ETL_FILE_PENDING = 0,   /* fetched, not yet loaded */
    ETL_FILE_UNCHANGED,     /* 304, or same sha256 as the loaded version */
    ETL_FILE_LOADED,
    ETL_FILE_FAILED
};
extern const char *const etl_file_status_names[];

/* One source file of a run: what fetch produced. */
struct etl_file {
    char *url;
    int year;                   /* the {year} it was expanded with, 0 if none */
    char *spool_path;           /* the spooled body, NULL if none */
    char sha256[65];            /* hex, "" if no body */
    int64_t bytes;
    char *etag;                 /* from the response, NULL if none */
    char *last_modified;
    long http_status;
    enum etl_file_status status;
    struct etl_err err;         /* why it failed */
    const struct etl_stage *from;   /* the fetch stage that produced it */
    /* counts, filled when loaded */
    int64_t rows_in, rows_loaded, rows_rejected, rows_deleted;
    /*
     * What the load changed against the source's previous version (rows
     * added, changed, removed), -1 for a first version; the largest
     * relative change of a value in percent, as text ("" if none).
     */
    int64_t rows_added, rows_changed, rows_removed;
    char max_change_pct[32];
    /*
     * What the file says besides its rows (a table's title, unit line and
     * footnotes), one per line, as its reader kept them; NULL if nothing.
     * Owned by the stage that set it, valid until that stage's next file.
     */
    const char *notes;
    /*
     * Set by fetch when the body is the version its source last refused,
     * unchanged (304, or the same SHA-256) under the same YAML: recorded
     * failed again without a download or a parse (ledger.source.refused_*).
     */
    bool still_refused;
};

/*
 * Counts of a run for a progress display, handed to the callback of
 * struct etl_run_opts (runner.h) as they change.
 */
struct etl_progress {
    const char *pipeline;
    size_t files_done;          /* by this process */
    size_t files_total;         /* registered as tasks by this run */
    int64_t bytes;              /* read from the spool by this process */
    int64_t rows;               /* of the files done */
    bool final;                 /* the run's last report */
};

/* Free a file's strings and zero it (a claimed task's, or a run's). */
void etl_file_clear(struct etl_file *f);

struct etl_run {
    struct etl_pipeline *pipeline;
    int64_t id;                 /* ledger.run.id */
    struct pg_conn *db;         /* the run's own connection (ledger, locks) */
    bool locked;                /* it holds the pipeline's advisory lock */
    const char *conninfo;
    const char *kind;           /* "manual", "nightly", "backfill" */
    int year;                   /* --year, 0 when none */
    const int *years;           /* several --year (a run), else NULL */
    size_t nyears;
    bool offline;               /* take files from the spool, no HTTP */
    bool list_only;             /* fetch lists its URLs as pending files: no HTTP (a plan) */
    bool backfill;              /* the year's files ({year} URLs only), in one transaction */
    bool force;                 /* load even unchanged files (no conditional GET) */
    int64_t scheduled_for;      /* the schedule's fire time it stands for, 0 if none */
    struct etl_file *files;
    size_t nfiles, capfiles;
    /* the runner's */
    size_t tasks;               /* registered and not yet worked on */
    /* progress: counts, and the callback they go to (NULL: none) */
    struct etl_progress counts;
    void (*progress)(const struct etl_progress *p, void *arg);
    void *progress_arg;
};

/* The work of one file through its chain of row stages. */
struct etl_job {
    struct etl_run *run;
    struct etl_file *file;
    struct pg_conn *db;         /* the file's connection; its transaction is open */
    int64_t source_id;          /* ledger.source.id of the file's URL */
    int64_t file_id;            /* ledger.file.id of this load (in the open transaction) */
    bool replaces;              /* the source has a loaded version, which this load replaces */
    /*
     * Load through a staging table that turns repeated keys into rejects.
     * The worker sets it when a plain load failed with a unique violation
     * that the chain's policy turns into ETL_VERDICT_RETRY_DEDUPE (stage.h),
     * and loads the file again: the fast path stays free of per-row checks.
     * (A refusal is the chain's verdict, not a field of the job.)
     */
    bool dedupe;
};

struct etl_diags;

/*
 * Load and check the YAML, load its resources, resolve every pipeline's
 * graph.  NULL with the first error in 'err' when anything is wrong.
 */
struct etl_config *etl_config_load(const char *path, struct etl_err *err) ETL_MUSTCHECK;
/*
 * The same for `check`, as a linter: every error of the file into 'd'
 * (diag.h), going on after one wherever that is safe (the next key, stage
 * or pipeline; a YAML syntax error stops the file), and the checks of
 * etl_pipeline_lint() and etl_spool_lint() besides.  The configuration
 * only when 'd' got no error.
 */
struct etl_config *etl_config_check(const char *path, struct etl_diags *d) ETL_MUSTCHECK;

/*
 * `check`'s checks of a loaded pipeline (pipeline_lint.c), which run and
 * the daemon do not make: every stage that produces files or rows feeds a
 * stage that consumes them, so that each chain ends in a sink, a stage
 * that consumes rows and produces nothing (the load); one error per
 * stage whose output goes nowhere, into 'd'.  Returns 0 or -1.
 */
int etl_pipeline_lint(const struct etl_pipeline *p, struct etl_diags *d);
/*
 * Whether the spool directory 'dir' can be written, or created: the
 * directory, else its nearest existing ancestor, must be a directory this
 * process may write (access(2)); nothing is created.  -1 with 'err' placed
 * at 'at' otherwise.
 */
int etl_spool_lint(const char *dir, const struct etl_node *at, struct etl_err *err);
void etl_config_free(struct etl_config *cfg);
struct etl_pipeline *etl_config_pipeline(struct etl_config *cfg, const char *name);

/* Append a file to the run; returns it (zeroed but for 'url'), NULL on ENOMEM. */
struct etl_file *etl_run_add_file(struct etl_run *run, const char *url, struct etl_err *err);

#endif
