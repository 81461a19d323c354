/*
 * log.h
 *    Logging to stderr, journald first.  Levels are syslog priorities.  When
 *    JOURNAL_STREAM names our stderr, lines carry "<3>".."<7>" prefixes and no
 *    timestamp; on a terminal or a plain file, a timestamp and a level word.
 *    The level is checked before formatting.
 */
#ifndef ETL_LOG_H
#define ETL_LOG_H

#include "err.h"

enum etl_log_level {
    ETL_LOG_ERR = 3,
    ETL_LOG_WARNING = 4,
    ETL_LOG_NOTICE = 5,
    ETL_LOG_INFO = 6,
    ETL_LOG_DEBUG = 7
};

extern int etl_log_max;     /* messages above this level are dropped */

/* Decide the output style from the environment (JOURNAL_STREAM, isatty). */
void etl_log_init(int max_level);
void etl_log_write(int level, const char *fmt, ...) ETL_PRINTF(2, 3);

/*
 * A status line below the log on a terminal (nothing otherwise): 'line'
 * replaces it; with 'final' it is written once more and ended with a
 * newline; NULL erases it.  Log lines never share its line (see log.c).
 */
void etl_log_status(const char *line, bool final);

/* Whether stderr is a terminal the status line is drawn on. */
bool etl_log_is_tty(void);

#define etl_log(level, ...) \
    do { if ((level) <= etl_log_max) etl_log_write((level), __VA_ARGS__); } while (0)

#endif
