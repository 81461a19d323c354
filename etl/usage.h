/*
 * usage.h
 *    The command line's help texts: `ewc-etl --help`, `ewc-etl help
 *    COMMAND` and each command's --help print them (main.c).  Keep them
 *    true to what the commands do, and to the man page (ewc-etl.1).
 */
#ifndef ETL_USAGE_H
#define ETL_USAGE_H

/* SYSCONFDIR/ewc-etl/pipeline.yaml, the default of -c */
extern const char etl_default_config[];
extern const char etl_usage_main[];
extern const char etl_usage_run[];
extern const char etl_usage_backfill[];
extern const char etl_usage_plan[];
extern const char etl_usage_daemon[];
extern const char etl_usage_worker[];
extern const char etl_usage_status[];
extern const char etl_usage_unmatched[];
extern const char etl_usage_help[];
extern const char etl_usage_page[];
extern const char etl_usage_check[];
extern const char etl_usage_migrate[];
extern const char etl_usage_prune[];

#endif
