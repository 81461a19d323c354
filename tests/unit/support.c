/*
 * support.c
 *    Shared unit test helpers; see support.h.
 */
#include "support.h"

#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *
httpd_path(void)
{
    const char *p = getenv("EWC_HTTPD");

    if (p != NULL) {
        return p;
    }
    if (access("tests/lib/httpd.py", R_OK) == 0) {
        return "tests/lib/httpd.py";
    }
    return "../../tests/lib/httpd.py";
}

int
test_httpd_start(struct test_httpd *s, const char *tag)
{
    char portfile[160];

    memset(s, 0, sizeof(*s));
    snprintf(s->dir, sizeof(s->dir), "/tmp/ewc-test-%s.XXXXXX", tag);
    if (mkdtemp(s->dir) == NULL) {
        return -1;
    }
    snprintf(s->root, sizeof(s->root), "%s/root", s->dir);
    snprintf(s->script, sizeof(s->script), "%s/script.json", s->dir);
    snprintf(s->log, sizeof(s->log), "%s/requests.jsonl", s->dir);
    snprintf(portfile, sizeof(portfile), "%s/port", s->dir);
    if (mkdir(s->root, 0755) < 0) {
        return -1;
    }
    s->pid = fork();
    if (s->pid < 0) {
        return -1;
    }
    if (s->pid == 0) {
        execlp("python3", "python3", httpd_path(), portfile, "--root", s->root,
               "--script", s->script, "--log", s->log, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 200; i++) {
        FILE *f = fopen(portfile, "r");

        if (f != NULL) {
            int ok = fscanf(f, "%d", &s->port) == 1;

            fclose(f);
            if (ok) {
                return 0;
            }
        }
        usleep(50000);
    }
    return -1;
}

void
test_httpd_stop(struct test_httpd *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        waitpid(s->pid, NULL, 0);
        s->pid = 0;
    }
    if (s->dir[0] != '\0') {
        test_rmtree(s->dir);
        s->dir[0] = '\0';
    }
}

static int
rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int
test_rmtree(const char *dir)
{
    return nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

struct test_record test_record;

static int
record_process(struct etl_stage *st, struct etl_chunk *in, struct etl_err *err)
{
    struct etl_batch *b = etl_chunk_batch(st, in, err);

    if (b == NULL) {
        return -1;
    }
    test_record.batches++;
    test_record.rows += b->n;
    test_record.last = b;
    return 0;
}

static int
record_finish(struct etl_stage *st, struct etl_err *err)
{
    (void)st;
    (void)err;
    test_record.finished++;
    return 0;
}

static const struct etl_stage_kind record_kind = {
    .name = "record", .consumes = ETL_FLOW_ROWS, .produces = ETL_FLOW_NONE,
    .process = record_process, .finish = record_finish,
};

struct etl_stage test_record_stage = { .kind = &record_kind, .name = (char *)"record" };
