/*
 * page_text.c
 *    The status page's texts: HTML escaping of whatever the database
 *    holds (URLs, error texts, Chinese names), and the hint shown beside
 *    a failed file, chosen from the words of its error; see page.h.
 *
 *    The hints follow the errors the engine and the stages write:
 *    etl/http.c ("GET <url>: HTTP 404 Not Found", curl's own messages),
 *    stages/parse_read.c (an HTML page), stages/validate.c ("reject ratio
 *    ... above max_reject_ratio"), stages/plausible.c ("values of X look
 *    about 10000× too small ...: unit?"), stages/load.c ("(reconcile:
 *    fail)"), stages/normalize.c ("set total_region"), etl/pg.c
 *    ("(SQLSTATE 57014 ..."), etl/runner.c ("not loaded: ...").
 */
#include "page.h"

#include <string.h>

/* U+FFFD REPLACEMENT CHARACTER, for what may not be shown. */
#define PAGE_REPLACEMENT "\xEF\xBF\xBD"

/*
 * Length of the valid UTF-8 sequence at p (1 to 4), or 0 for a byte that
 * does not start one: overlong forms, surrogates and code points beyond
 * U+10FFFF are invalid (RFC 3629).  Stops at the NUL: it is no
 * continuation byte, so nothing past the string is read.
 */
static size_t
utf8_len(const unsigned char *p)
{
    unsigned c = p[0];

    if (c < 0x80) {
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        return (p[1] & 0xC0) == 0x80 ? 2 : 0;
    }
    if (c >= 0xE0 && c <= 0xEF) {
        unsigned lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;

        return p[1] >= lo && p[1] <= hi && (p[2] & 0xC0) == 0x80 ? 3 : 0;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        unsigned lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;

        return p[1] >= lo && p[1] <= hi && (p[2] & 0xC0) == 0x80 &&
               (p[3] & 0xC0) == 0x80 ? 4 : 0;
    }
    return 0;
}

/* What replaces the character at p (len bytes), or NULL to keep it. */
static const char *
escape_of(const unsigned char *p, size_t len)
{
    switch (len == 1 ? p[0] : 0) {
    case '&': return "&amp;";
    case '<': return "&lt;";
    case '>': return "&gt;";
    case '"': return "&quot;";
    case '\'': return "&#39;";
    case '\t': case '\n': case '\r': return NULL;
    default: break;
    }
    if (len == 0 || (len == 1 && (p[0] < 0x20 || p[0] == 0x7F)) ||
        (len == 2 && p[0] == 0xC2 && p[1] < 0xA0)) {
        return PAGE_REPLACEMENT;            /* invalid, or a C0 / C1 control */
    }
    return NULL;
}

/* See page.h.  Runs of plain text are appended in one piece. */
int
etl_page_escape(struct etl_buf *out, const char *s, struct etl_err *err)
{
    const unsigned char *p = (const unsigned char *)s, *run;

    if (s == NULL) {
        return 0;
    }
    run = p;
    while (*p != '\0') {
        size_t len = utf8_len(p);
        const char *rep = escape_of(p, len);

        if (rep == NULL) {
            p += len;
            continue;
        }
        if (etl_buf_add(out, run, (size_t)(p - run), err) < 0 ||
            etl_buf_addstr(out, rep, err) < 0) {
            return -1;
        }
        p += len > 0 ? len : 1;
        run = p;
    }
    return etl_buf_add(out, run, (size_t)(p - run), err);
}

/* A hint and the words of an error it is for (any one of them). */
struct page_hint {
    const char *words[4];
    const char *hint;
};

/* First match wins: the more precise errors come first. */
static const struct page_hint page_hints[] = {
    { { "not loaded: " },
      "Not loaded because the run (or the backfill's year) failed on another file or "
      "was stopped: fix that, then run again; this file loads with it." },
    { { "\xC3\x97 too small", "\xC3\x97 too large", ": unit?" },
      "The figures are orders of magnitude off the catalog's: a unit was lost or is "
      "wrong. Check the file's unit line or the unit in its header (\xE4\xB8\x87, "
      "\xE4\xBA\xBF) against the indicator's unit in config/catalog/indicators.yaml." },
    { { "reject ratio" },
      "Too many rows were rejected: see their reasons below (ledger.reject) and the "
      "names the catalog does not know with `ewc-etl unmatched`; add aliases to the "
      "catalog, or raise max_reject_ratio if the file is right." },
    { { "(reconcile: fail)" },
      "The national figure disagrees with the sum of its provinces: see "
      "ledger.reconcile and ewc.reconciliation; correct the source, or set the load "
      "stage's reconcile to warn." },
    { { "set total_region" },
      "The file's total row was read as the wrong region: set total_region for this "
      "source in the YAML." },
    { { "HTML page", "HTML or XML document" },
      "The server sent a web page (a login or error page) instead of the file: check "
      "the URL and any credentials in it." },
    { { ": HTTP 429", ": HTTP 5" },
      "The server failed or was busy (retried with backoff): try again later, or ask "
      "the publisher if it persists." },
    { { ": HTTP 4" },
      "The server refused the request or has no such file: check the URL (path, year, "
      "file name) and its access (credentials, secret_params)." },
    { { "body larger than max_bytes" },
      "The file is larger than the fetch stage's max_bytes: raise it if the file is "
      "genuine." },
    { { "not in the spool" },
      "The spool lacks this file: run the backfill without --offline." },
    { { "SQLSTATE", "could not connect to the database", "server closed the connection" },
      "A database error: read its SQLSTATE and the PostgreSQL server log (disk space, "
      "statement_timeout, permissions, a restart). Nothing of the file was kept; the "
      "next run loads it again." },
    { { "GET " },
      "The server could not be reached or the download broke off: check the host name, "
      "the network and any proxy; the next run tries again." },
    { { "gzip", "stream", "byte sequence", "header" },
      "The file could not be read: check its compression, encoding and header line "
      "(the error names the byte or line)." },
};

/* See page.h. */
const char *
etl_page_hint(const char *error)
{
    if (error == NULL || error[0] == '\0') {
        return "See `ewc-etl status --failed` for the run.";
    }
    for (size_t i = 0; i < sizeof(page_hints) / sizeof(page_hints[0]); i++) {
        for (size_t w = 0; w < 4 && page_hints[i].words[w] != NULL; w++) {
            if (strstr(error, page_hints[i].words[w]) != NULL) {
                return page_hints[i].hint;
            }
        }
    }
    return "Read the error; `ewc-etl status --failed` shows the run and its files.";
}
