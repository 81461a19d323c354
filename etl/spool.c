/*
 * spool.c
 *    Content-addressed spool files; see spool.h.  The write path is the
 *    usual durable-rename dance: write to a temp name in the same directory,
 *    fsync the file, rename, fsync the directory.  The hash is computed while
 *    writing (OpenSSL EVP, SHA-256), so a body is read once.
 *
 *    http.c (the download side) is the main user; stages/fetch.c uses
 *    etl_spool_prepare() and etl_spool_path().
 */
#include "spool.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Mode of directories the spool creates: the daemon's user and group. */
#define SPOOL_DIR_MODE 0750
/* Mode of spool files (mkstemp gives 0600; group may read, as the dir). */
#define SPOOL_FILE_MODE 0640

/*
 * mkdir -p: create 'dir' and its missing parents.  Existing directories are
 * fine; an existing non-directory is an error.  O(depth) system calls.
 */
int
etl_spool_prepare(const char *dir, struct etl_err *err)
{
    char path[PATH_MAX];
    size_t len;
    struct stat sb;

    if (dir == NULL || dir[0] == '\0') {
        return etl_err_set(err, ETL_E_CONFIG, "no spool directory configured");
    }
    len = strlen(dir);
    if (len >= sizeof(path)) {
        return etl_err_set(err, ETL_E_IO, "spool directory name too long: \"%s\"", dir);
    }
    memcpy(path, dir, len + 1);
    /* each prefix ending before a '/', then the whole path */
    for (size_t i = 1; i <= len; i++) {
        if (path[i] != '/' && path[i] != '\0') {
            continue;
        }
        if (path[i - 1] == '/') {
            continue;               /* "a//b" */
        }
        path[i] = '\0';
        if (mkdir(path, SPOOL_DIR_MODE) < 0 && errno != EEXIST) {
            return etl_err_errno(err, ETL_E_IO, "could not create spool directory \"%s\"",
                                 path);
        }
        if (i < len) {
            path[i] = '/';
        }
    }
    if (stat(dir, &sb) < 0) {
        return etl_err_errno(err, ETL_E_IO, "could not stat spool directory \"%s\"", dir);
    }
    if (!S_ISDIR(sb.st_mode)) {
        errno = ENOTDIR;
        return etl_err_errno(err, ETL_E_IO, "could not use spool directory \"%s\"", dir);
    }
    if (access(dir, W_OK | X_OK) < 0) {
        return etl_err_errno(err, ETL_E_IO, "could not write to spool directory \"%s\"",
                             dir);
    }
    return 0;
}

void
etl_spool_init(struct etl_spool_file *sf)
{
    sf->fd = -1;
    sf->tmp_path = NULL;
    sf->md = NULL;
    sf->bytes = 0;
}

/*
 * Create dir/.tmp-XXXXXX (mkstemp, O_CLOEXEC) and a fresh SHA-256 context.
 * One malloc for the name, one for the context.
 */
int
etl_spool_open(struct etl_spool_file *sf, const char *dir, struct etl_err *err)
{
    size_t n = strlen(dir) + sizeof("/.tmp-XXXXXX");

    etl_spool_init(sf);
    sf->tmp_path = malloc(n);
    sf->md = EVP_MD_CTX_new();
    if (sf->tmp_path == NULL || sf->md == NULL) {
        etl_spool_abort(sf);
        return etl_err_nomem(err);
    }
    if (EVP_DigestInit_ex(sf->md, EVP_sha256(), NULL) != 1) {
        etl_spool_abort(sf);
        return etl_err_set(err, ETL_E_INTERNAL, "could not start SHA-256");
    }
    snprintf(sf->tmp_path, n, "%s/.tmp-XXXXXX", dir);
    sf->fd = mkostemp(sf->tmp_path, O_CLOEXEC);
    if (sf->fd < 0) {
        etl_err_errno(err, ETL_E_IO, "could not create spool file \"%s\"", sf->tmp_path);
        free(sf->tmp_path);
        sf->tmp_path = NULL;        /* nothing to unlink */
        etl_spool_abort(sf);
        return -1;
    }
    (void)fchmod(sf->fd, SPOOL_FILE_MODE);
    return 0;
}

/* write(2) all of it, retrying on EINTR and short counts. */
int
etl_spool_write(struct etl_spool_file *sf, const void *p, size_t n, struct etl_err *err)
{
    const char *s = p;

    if (EVP_DigestUpdate(sf->md, p, n) != 1) {
        return etl_err_set(err, ETL_E_INTERNAL, "could not update SHA-256");
    }
    while (n > 0) {
        ssize_t w = write(sf->fd, s, n);

        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            etl_err_errno(err, ETL_E_IO, "could not write spool file \"%s\"", sf->tmp_path);
            /* a full disk may have room on a later run */
            err->retryable = errno == ENOSPC || errno == EDQUOT;
            return -1;
        }
        s += w;
        n -= (size_t)w;
        sf->bytes += w;
    }
    return 0;
}

/* fsync a directory so that a rename in it is durable. */
static int
spool_fsync_dir(const char *dir, struct etl_err *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd < 0) {
        return etl_err_errno(err, ETL_E_IO, "could not open spool directory \"%s\"", dir);
    }
    if (fsync(fd) < 0) {
        etl_err_errno(err, ETL_E_IO, "could not fsync spool directory \"%s\"", dir);
        close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

static void
hex_encode(const unsigned char *md, unsigned n, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (unsigned i = 0; i < n; i++) {
        out[2 * i] = digits[md[i] >> 4];
        out[2 * i + 1] = digits[md[i] & 15];
    }
    out[2 * n] = '\0';
}

/*
 * fsync + close + rename (or unlink when the hash name exists) + fsync of
 * the directory.  Costs two fsyncs per body: bodies are files, not rows.
 */
int
etl_spool_commit(struct etl_spool_file *sf, const char *dir, char **path,
                 char sha256[ETL_SHA256_HEX], struct etl_err *err)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    char *final = NULL;

    *path = NULL;
    if (EVP_DigestFinal_ex(sf->md, md, &mdlen) != 1 || mdlen != 32) {
        etl_spool_abort(sf);
        return etl_err_set(err, ETL_E_INTERNAL, "could not finish SHA-256");
    }
    hex_encode(md, mdlen, sha256);
    if (fsync(sf->fd) < 0) {
        etl_err_errno(err, ETL_E_IO, "could not fsync spool file \"%s\"", sf->tmp_path);
        goto fail;
    }
    if (close(sf->fd) < 0) {
        sf->fd = -1;
        etl_err_errno(err, ETL_E_IO, "could not close spool file \"%s\"", sf->tmp_path);
        goto fail;
    }
    sf->fd = -1;
    final = etl_spool_path(dir, sha256);
    if (final == NULL) {
        etl_err_nomem(err);
        goto fail;
    }
    /* over a file of the same hash too: the same content, under a new
     * inode as young as this download, in one step -- a prune reading the
     * old file's age never deletes the new one, and a reader of the old
     * one keeps its descriptor */
    if (rename(sf->tmp_path, final) < 0) {
        etl_err_errno(err, ETL_E_IO, "could not rename spool file \"%s\" to \"%s\"",
                      sf->tmp_path, final);
        goto fail;
    }
    free(sf->tmp_path);
    sf->tmp_path = NULL;
    etl_spool_abort(sf);            /* frees the hash context */
    if (spool_fsync_dir(dir, err) < 0) {
        free(final);
        return -1;
    }
    *path = final;
    return 0;

fail:
    free(final);
    etl_spool_abort(sf);
    return -1;
}

void
etl_spool_abort(struct etl_spool_file *sf)
{
    if (sf->fd >= 0) {
        close(sf->fd);
        sf->fd = -1;
    }
    if (sf->tmp_path != NULL) {
        unlink(sf->tmp_path);
        free(sf->tmp_path);
        sf->tmp_path = NULL;
    }
    EVP_MD_CTX_free(sf->md);
    sf->md = NULL;
}

char *
etl_spool_path(const char *dir, const char *sha256)
{
    size_t n = strlen(dir) + 1 + strlen(sha256) + 1;
    char *p = malloc(n);

    if (p != NULL) {
        snprintf(p, n, "%s/%s", dir, sha256);
    }
    return p;
}

void
etl_sha256_hex(const void *p, size_t n, char out[ETL_SHA256_HEX])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;

    if (EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32) {
        out[0] = '\0';
        return;
    }
    hex_encode(md, mdlen, out);
}
