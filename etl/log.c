/*
 * log.c
 *    Logging to stderr; journald-aware.  See log.h.
 *
 *    systemd sets JOURNAL_STREAM="dev:inode" of the stream it connected to
 *    our stderr; when it matches, lines get "<N>" priority prefixes that
 *    journald parses (sd-daemon(3)) and no timestamp (journald adds its own).
 *
 *    On a terminal, a status line (a run's progress) may sit below the log:
 *    every log line first clears the terminal's current line ("\r", erase
 *    to its end) -- a progress line of this process or of its parent -- and
 *    the process that owns the status line draws it again after the log
 *    line.  So progress and log never share a line, whichever process of a
 *    run writes.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int etl_log_max = ETL_LOG_INFO;
static bool log_journal;
static bool log_tty;                /* stderr is a terminal (not the journal) */
static char log_status[256];        /* the status line shown, "" if none */
static pid_t log_status_pid;        /* the process that shows it */

/* Erase the terminal's current line: carriage return, erase to its end. */
#define LOG_CLEAR_LINE "\r\033[K"

static bool
stderr_is_journal(void)
{
    const char *js = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat sb;

    if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2) {
        return false;
    }
    if (fstat(STDERR_FILENO, &sb) < 0) {
        return false;
    }
    return (unsigned long long)sb.st_dev == dev && (unsigned long long)sb.st_ino == ino;
}

void
etl_log_init(int max_level)
{
    etl_log_max = max_level;
    log_journal = stderr_is_journal();
    log_tty = !log_journal && isatty(STDERR_FILENO);
}

/* Whether this process shows a status line now (a fork's copy does not). */
static bool
status_shown(void)
{
    return log_status[0] != '\0' && log_status_pid == getpid();
}

/* Show, replace or end the status line; see log.h. */
void
etl_log_status(const char *line, bool final)
{
    if (!log_tty) {
        return;
    }
    if (line == NULL) {
        if (status_shown()) {
            fputs(LOG_CLEAR_LINE, stderr);
        }
        log_status[0] = '\0';
    } else if (final) {
        fprintf(stderr, LOG_CLEAR_LINE "%s\n", line);
        log_status[0] = '\0';
    } else {
        snprintf(log_status, sizeof(log_status), "%s", line);
        log_status_pid = getpid();
        fprintf(stderr, LOG_CLEAR_LINE "%s", log_status);
    }
    fflush(stderr);
}

bool
etl_log_is_tty(void)
{
    return log_tty;
}

static const char *
level_word(int level)
{
    switch (level) {
    case ETL_LOG_ERR: return "ERROR";
    case ETL_LOG_WARNING: return "WARNING";
    case ETL_LOG_NOTICE: return "NOTICE";
    case ETL_LOG_INFO: return "INFO";
    default: return "DEBUG";
    }
}

void
etl_log_write(int level, const char *fmt, ...)
{
    char line[2048];
    va_list ap;
    int n;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    for (char *p = line; *p != '\0'; p++) {
        if (*p == '\n') {
            *p = ' ';
        }
    }
    if (log_journal) {
        n = fprintf(stderr, "<%d>%s\n", level, line);
    } else {
        char ts[32];
        struct timespec now;
        struct tm tm;

        clock_gettime(CLOCK_REALTIME, &now);
        localtime_r(&now.tv_sec, &tm);
        strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", &tm);
        n = fprintf(stderr, "%s%s.%03ld %s: %s\n", log_tty ? LOG_CLEAR_LINE : "", ts,
                    now.tv_nsec / 1000000L, level_word(level), line);
        if (status_shown()) {
            fputs(log_status, stderr);
            fflush(stderr);
        }
    }
    (void)n;
}
