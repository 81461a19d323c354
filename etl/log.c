/*
 * log.c
 *    Logging to stderr; journald-aware.  See log.h.
 *
 *    systemd sets JOURNAL_STREAM="dev:inode" of the stream it connected to
 *    our stderr; when it matches, lines get "<N>" priority prefixes that
 *    journald parses (sd-daemon(3)) and no timestamp (journald adds its own).
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
        n = fprintf(stderr, "%s.%03ld %s: %s\n", ts, now.tv_nsec / 1000000L,
                    level_word(level), line);
    }
    (void)n;
}
