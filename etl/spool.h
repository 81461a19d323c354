/*
 * spool.h
 *    The spool: raw downloaded bodies kept by content hash, so that a run can
 *    be repeated offline.  A body is written to spool_dir/.tmp-XXXXXX while
 *    its SHA-256 is computed; on success the file is fsync'd and renamed to
 *    spool_dir/<sha256 hex> (if that name exists already, the content is the
 *    same and the temporary file is just removed), then the directory is
 *    fsync'd.  Nothing half-written ever carries a hash name.
 *
 *    http.c writes bodies through this; stages/fetch.c finds old bodies with
 *    etl_spool_path() in offline mode.
 */
#ifndef ETL_SPOOL_H
#define ETL_SPOOL_H

#include <stdint.h>
#include "err.h"

#define ETL_SHA256_HEX 65   /* 64 hex digits and the NUL */

struct evp_md_ctx_st;

/* One body being written: a temp file and its running hash. */
struct etl_spool_file {
    int fd;                         /* -1 when not open */
    char *tmp_path;                 /* malloc'd spool_dir/.tmp-XXXXXX */
    struct evp_md_ctx_st *md;       /* OpenSSL EVP_MD_CTX */
    int64_t bytes;                  /* written so far; kept by commit/abort */
};

/*
 * Create 'dir' and its missing parents (mode 0750) and check that we can
 * write there.  -1 with ETL_E_IO naming the directory otherwise.
 */
int etl_spool_prepare(const char *dir, struct etl_err *err) ETL_MUSTCHECK;

/* Set 'sf' to "not open" (fd -1); call before open or abort. */
void etl_spool_init(struct etl_spool_file *sf);

/*
 * Create a temporary file in 'dir' and start its hash.  -1 with ETL_E_IO
 * (or ETL_E_NOMEM) on failure, 'sf' left closed.
 */
int etl_spool_open(struct etl_spool_file *sf, const char *dir, struct etl_err *err) ETL_MUSTCHECK;

/* Append bytes to the file and the hash (loops over short writes). */
int etl_spool_write(struct etl_spool_file *sf, const void *p, size_t n,
                    struct etl_err *err) ETL_MUSTCHECK;

/*
 * Finish: fsync, close, rename to dir/<sha256> (or drop the temp file when
 * that name exists), fsync the directory.  On success '*path' is the
 * malloc'd final path (the caller frees it) and 'sha256' its hex hash; 'sf'
 * is closed either way (the temp file removed on failure).
 */
int etl_spool_commit(struct etl_spool_file *sf, const char *dir, char **path,
                     char sha256[ETL_SHA256_HEX], struct etl_err *err) ETL_MUSTCHECK;

/* Drop an unfinished body: close and remove the temp file.  Accepts a closed 'sf'. */
void etl_spool_abort(struct etl_spool_file *sf);

/* "dir/<sha256>" malloc'd, or NULL when out of memory. */
char *etl_spool_path(const char *dir, const char *sha256);

/* Hex SHA-256 of a memory block (for tests and small bodies). */
void etl_sha256_hex(const void *p, size_t n, char out[ETL_SHA256_HEX]);

#endif
