/*
 * page.h
 *    The operators' status page: one self-contained HTML document (inline
 *    CSS, inline SVG charts, no script, nothing fetched when shown) built
 *    from the ledger and the analysts' views: recent runs (ledger.run),
 *    failed files with what to do about each (ledger.file), rejects by
 *    reason (ewc.quality), the coverage grid (ewc.coverage) and each
 *    indicator's national series (ewc.national_period).
 *
 *    page.c queries and writes the sections; page_svg.c draws the charts
 *    from plain arrays, so that they are testable without a database;
 *    page_text.c escapes texts and picks the hints.  Every text from the
 *    database goes through etl_page_escape.  `ewc-etl page` writes the
 *    page; a server hands out what etl_page_render builds.
 */
#ifndef ETL_PAGE_H
#define ETL_PAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "buf.h"
#include "err.h"
#include "pg.h"

/* The status page, a whole HTML document, appended to 'out'. */
int etl_page_render(struct pg_conn *db, struct etl_buf *out, struct etl_err *err) ETL_MUSTCHECK;

/* The longest page etl_page_write builds, in bytes. */
#define ETL_PAGE_MAX_BYTES ((size_t)64 << 20)

/*
 * Render the page and write it whole to 'path', or to 'fp' when 'path' is
 * NULL: into "<path>.tmp" first, renamed over 'path' once complete, so a
 * reader never sees half a page and a failure leaves the old one.  Errors:
 * the database's (ETL_E_DB), the file's (ETL_E_IO).
 */
int etl_page_write(struct pg_conn *db, const char *path, FILE *fp,
                   struct etl_err *err) ETL_MUSTCHECK;

/*
 * Append 's' to 'out' escaped for HTML text and quoted attribute values:
 * & < > " ' become &amp; &lt; &gt; &quot; &#39;.  Valid UTF-8 passes as
 * is; a byte that does not start a valid sequence (overlong, surrogate,
 * beyond U+10FFFF, cut short) becomes U+FFFD, and control characters
 * other than tab, LF and CR become U+FFFD too, so the output is always
 * valid UTF-8 that HTML allows.  NULL appends nothing.
 */
int etl_page_escape(struct etl_buf *out, const char *s, struct etl_err *err) ETL_MUSTCHECK;

/*
 * What to do about a failed file, from its error text (ledger.file.error):
 * a short static sentence, never NULL.  HTTP status, unreachable server,
 * an HTML page instead of a file, reject ratio, magnitude ("× too small:
 * unit?"), reconciliation, database error, a backfill file not loaded
 * because another failed, unreadable format, a stopped run.
 */
const char *etl_page_hint(const char *error);

/* One series of a chart: n points, in order. */
struct etl_page_series {
    const char *title;              /* above the chart, e.g. "funds_east, yearly" */
    const char *unit;               /* the values' unit, on the value axis */
    size_t n;
    const char *const *labels;      /* n period labels, on the period axis */
    const double *values;           /* n values */
    const bool *present;            /* n: false where the figure is NULL; NULL: all */
};

/*
 * Append an inline SVG bar chart of 's' to 'out': a value axis from
 * min(0, lowest) to max(0, highest) with labelled ticks and the unit, a
 * zero line, one bar per point (negative ones below zero) with its exact
 * value in a <title>, the period labels under them.  A missing or
 * non-finite value leaves a gap marked "no figure"; a series without any
 * figure is drawn as an empty frame saying so.  No NaN or infinity is ever
 * written.  Texts are escaped.
 */
int etl_page_chart(struct etl_buf *out, const struct etl_page_series *s,
                   struct etl_err *err) ETL_MUSTCHECK;

/*
 * A value shortened for an axis or a bar, into 'out' (size bytes): three
 * significant digits with k, M or bn above a thousand ("1.25 M", "-300",
 * "0.5"); "0" for zero.
 */
void etl_page_number(double v, char *out, size_t size);

#endif
