/*
 * page.c
 *    The operators' status page; see page.h.  One read-only snapshot of
 *    the ledger and the ewc views, written as one HTML document with its
 *    CSS inline: recent runs, failed files with a hint each, rejects by
 *    reason, the coverage grid and the national series (charts drawn by
 *    page_svg.c).  Nothing is fetched when the page is shown and there is
 *    no script.  Every text that comes from the database goes through
 *    etl_page_escape, URLs redacted once more as etl/status.c does.
 *
 *    The engine reads the ewc views by name only (plain SQL); it includes
 *    nothing of the domain wing (etl/ewc/).
 */
#include "page.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "url.h"

/* How far back the page looks: runs shown, whose failed files and rejects. */
#define PAGE_RUNS 20
/* At most this many failed files and reject reasons (the rest: counted). */
#define PAGE_FAILED_MAX 100
#define PAGE_REASONS_MAX 50
/* A number macro as an SQL literal. */
#define PAGE_STR_(x) #x
#define PAGE_STR(x) PAGE_STR_(x)

/* URLs in the ledger are redacted already; take out userinfo once more. */
static const char *const page_no_params[] = { NULL };

/* A period's label from period_kind, period_start, period_end (as columns). */
#define PAGE_PERIOD_LABEL \
    "CASE WHEN period_kind = 'year' THEN to_char(period_start, 'YYYY') " \
    "     WHEN period_kind = 'half' THEN to_char(period_start, 'YYYY') " \
    "          || CASE WHEN extract(month FROM period_start) < 7 THEN ' H1' ELSE ' H2' END " \
    "     WHEN period_kind = 'quarter' THEN to_char(period_start, 'YYYY \"Q\"Q') " \
    "     WHEN period_kind = 'month' THEN to_char(period_start, 'YYYY-MM') " \
    "     WHEN extract(doy FROM period_start) = 1 AND extract(doy FROM period_end) = 1 " \
    "          THEN to_char(period_start, 'YYYY') || '–' || to_char(period_end - 1, 'YYYY') " \
    "     WHEN extract(day FROM period_start) = 1 AND extract(day FROM period_end) = 1 " \
    "          THEN to_char(period_start, 'YYYY-MM') || '–' || to_char(period_end - 1, 'YYYY-MM') " \
    "     ELSE to_char(period_start, 'YYYY-MM-DD') || '–' " \
    "          || to_char(period_end - 1, 'YYYY-MM-DD') END"
/* The order of the kinds of period: years first, ranges last. */
#define PAGE_PERIOD_ORDER \
    "coalesce(array_position(ARRAY['year', 'half', 'quarter', 'month', 'months', 'range'], " \
    "period_kind), 99)"
/* The runs the page looks at. */
#define PAGE_RECENT_RUNS \
    "(SELECT id FROM ledger.run ORDER BY id DESC LIMIT " PAGE_STR(PAGE_RUNS) ")"

static const char page_style[] =
    "body{font:14px/1.4 sans-serif;margin:1.5em;color:#222;background:#fff}"
    "h1{font-size:1.5em;margin:0 0 .2em}h2{font-size:1.2em;margin:1.6em 0 .4em;"
    "border-bottom:1px solid #ccc}h3{font-size:1em;margin:1em 0 .2em}"
    "table{border-collapse:collapse;margin:.3em 0}"
    "th,td{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}"
    "th{background:#eee}td.n{text-align:right;font-variant-numeric:tabular-nums}"
    "td.err,td.url{word-break:break-all;max-width:36em}td.hint{max-width:28em}"
    ".wide{overflow-x:auto}code{background:#f3f3f3;padding:0 2px}"
    ".s-ok{background:#dff0d8}.s-ok_with_rejects{background:#fcf8e3}"
    ".s-partial{background:#fde2c4}.s-failed{background:#f2dede}.s-running{background:#d9edf7}"
    "td.reported{background:#dff0d8}td.summed{background:#d9edf7}"
    "td.missing{background:#f2dede;font-weight:bold}td.none{color:#999}"
    "td small{display:block;color:#555}p.note{color:#555}"
    ".series{display:inline-block;vertical-align:top;margin:0 2em 1em 0;max-width:100%}"
    ".series h3{max-width:24em}svg.chart{display:block;margin:.2em 0 1em}svg .frame{fill:#fafafa;stroke:#ccc}"
    "svg .grid{stroke:#e3e3e3}svg .zero{stroke:#333}svg .bar{fill:#4a7ab5}"
    "svg .neg{fill:#c0504d}svg text{font:11px sans-serif;fill:#333}"
    "svg .head{font-weight:bold;font-size:12px}svg .gap{fill:#999}";

/* Append a literal (or any NUL-terminated) text unescaped. */
static int
put(struct etl_buf *out, const char *s, struct etl_err *err)
{
    return etl_buf_addstr(out, s, err);
}

/* <td class="cls">escaped text</td>; 'cls' NULL or "" for none. */
static int
td(struct etl_buf *out, const char *cls, const char *text, struct etl_err *err)
{
    if (cls != NULL && cls[0] != '\0') {
        if (etl_buf_printf(out, err, "<td class=\"%s\">", cls) < 0) {
            return -1;
        }
    } else if (put(out, "<td>", err) < 0) {
        return -1;
    }
    if (etl_page_escape(out, text, err) < 0) {
        return -1;
    }
    return put(out, "</td>", err);
}

/* A row of header cells from a '|'-separated literal list. */
static int
th_row(struct etl_buf *out, const char *names, struct etl_err *err)
{
    if (put(out, "<tr>", err) < 0) {
        return -1;
    }
    for (const char *p = names; *p != '\0';) {
        size_t n = strcspn(p, "|");

        if (etl_buf_printf(out, err, "<th>%.*s</th>", (int)n, p) < 0) {
            return -1;
        }
        p += n + (p[n] == '|');
    }
    return put(out, "</tr>\n", err);
}

/* A redacted URL in a cell. */
static int
td_url(struct etl_buf *out, const char *url, struct etl_err *err)
{
    char *shown = etl_url_redact_dup(url, page_no_params);
    int rc;

    if (shown == NULL) {
        return etl_err_nomem(err);
    }
    rc = td(out, "url", shown, err);
    free(shown);
    return rc;
}

/* Recent runs: one row each, newest first, the run's error under it. */
static int
page_runs(struct pg_conn *db, struct etl_buf *out, struct etl_err *err)
{
    static const char sql[] =
        "SELECT r.id, r.pipeline, r.kind, r.status, "
        "       to_char(r.started_at, 'YYYY-MM-DD HH24:MI:SS'), "
        "       coalesce(to_char(r.finished_at - r.started_at, 'HH24:MI:SS'), 'running'), "
        "       r.files_total, r.files_loaded, r.files_unchanged, r.files_failed, "
        "       r.rows_loaded, r.rows_rejected, coalesce(r.error, '') "
        "FROM ledger.run r WHERE r.id IN " PAGE_RECENT_RUNS " ORDER BY r.id DESC";
    PGresult *res;
    int rc = -1;

    if (etl_pg_query(db, sql, 0, NULL, &res, err) < 0) {
        return -1;
    }
    if (put(out, "<section id=\"runs\"><h2>Recent runs</h2>\n", err) < 0) {
        goto done;
    }
    if (PQntuples(res) == 0) {
        rc = put(out, "<p>No runs recorded.</p></section>\n", err);
        goto done;
    }
    if (put(out, "<div class=\"wide\"><table>\n", err) < 0 ||
        th_row(out, "run|pipeline|kind|status|started|took|files|loaded|unchanged|failed|"
               "rows loaded|rows rejected|error", err) < 0) {
        goto done;
    }
    for (int i = 0; i < PQntuples(res); i++) {
        char cls[48];

        snprintf(cls, sizeof(cls), "s-%s", PQgetvalue(res, i, 3));
        if (put(out, "<tr>", err) < 0 || td(out, "n", PQgetvalue(res, i, 0), err) < 0 ||
            td(out, NULL, PQgetvalue(res, i, 1), err) < 0 ||
            td(out, NULL, PQgetvalue(res, i, 2), err) < 0 ||
            td(out, cls, PQgetvalue(res, i, 3), err) < 0) {
            goto done;
        }
        for (int c = 4; c < 12; c++) {
            if (td(out, c < 6 ? NULL : "n", PQgetvalue(res, i, c), err) < 0) {
                goto done;
            }
        }
        if (td(out, "err", PQgetvalue(res, i, 12), err) < 0 || put(out, "</tr>\n", err) < 0) {
            goto done;
        }
    }
    rc = put(out, "</table></div></section>\n", err);
done:
    PQclear(res);
    return rc;
}

/* One failed file's row: run, URL, HTTP status, error, hint, since. */
static int
failed_row(struct etl_buf *out, PGresult *res, int i, struct etl_err *err)
{
    const char *error = PQgetvalue(res, i, 4);
    const char *fixed = PQgetvalue(res, i, 5);
    char since[64];

    if (fixed[0] != '\0') {
        snprintf(since, sizeof(since), "loaded since (run %s)", fixed);
    } else {
        snprintf(since, sizeof(since), "not loaded since");
    }
    if (put(out, "<tr>", err) < 0 || td(out, "n", PQgetvalue(res, i, 0), err) < 0 ||
        td(out, NULL, PQgetvalue(res, i, 1), err) < 0 ||
        td_url(out, PQgetvalue(res, i, 2), err) < 0 ||
        td(out, "n", PQgetvalue(res, i, 3), err) < 0 || td(out, "err", error, err) < 0 ||
        td(out, "hint", etl_page_hint(error), err) < 0 ||
        td(out, fixed[0] != '\0' ? "s-ok" : "s-failed", since, err) < 0) {
        return -1;
    }
    return put(out, "</tr>\n", err);
}

/* The failed files of the recent runs, newest first, with what to do. */
static int
page_failed(struct pg_conn *db, struct etl_buf *out, struct etl_err *err)
{
    static const char sql[] =
        "SELECT f.run_id, to_char(f.finished_at, 'YYYY-MM-DD HH24:MI:SS'), f.url, "
        "       coalesce(f.http_status::text, ''), coalesce(f.error, ''), "
        "       coalesce((SELECT min(g.run_id)::text FROM ledger.file g "
        "                 WHERE g.url = f.url AND g.id > f.id AND g.status <> 'failed'), ''), "
        "       count(*) OVER () "
        "FROM ledger.file f "
        "WHERE f.status = 'failed' AND f.run_id IN " PAGE_RECENT_RUNS " "
        "ORDER BY f.run_id DESC, f.id LIMIT " PAGE_STR(PAGE_FAILED_MAX);
    PGresult *res;
    int rc = -1;

    if (etl_pg_query(db, sql, 0, NULL, &res, err) < 0) {
        return -1;
    }
    if (put(out, "<section id=\"failed\"><h2>Failed files</h2>\n", err) < 0) {
        goto done;
    }
    if (PQntuples(res) == 0) {
        rc = put(out, "<p>No file failed in the runs above.</p></section>\n", err);
        goto done;
    }
    if (put(out, "<div class=\"wide\"><table>\n", err) < 0 ||
        th_row(out, "run|at|URL|HTTP|error|what to do|now", err) < 0) {
        goto done;
    }
    for (int i = 0; i < PQntuples(res); i++) {
        if (failed_row(out, res, i, err) < 0) {
            goto done;
        }
    }
    if (put(out, "</table></div>\n", err) < 0 ||
        (atol(PQgetvalue(res, 0, 6)) > PAGE_FAILED_MAX &&
         etl_buf_printf(out, err, "<p class=\"note\">%d of %s failed files shown: "
                        "<code>ewc-etl status --failed</code> lists them all.</p>\n",
                        PAGE_FAILED_MAX, PQgetvalue(res, 0, 6)) < 0)) {
        goto done;
    }
    rc = put(out, "</section>\n", err);
done:
    PQclear(res);
    return rc;
}

/* Rejects of the recent runs by reason (ewc.quality folds names, numbers). */
static int
page_rejects(struct pg_conn *db, struct etl_buf *out, struct etl_err *err)
{
    static const char sql[] =
        "SELECT q.detail, sum(q.rows), count(DISTINCT q.file_id), min(q.example), "
        "       max(q.run_id), min(q.url) "
        "FROM ewc.quality q "
        "WHERE q.finding = 'reject' AND q.run_id IN " PAGE_RECENT_RUNS " "
        "GROUP BY q.detail ORDER BY 2 DESC, 1 LIMIT " PAGE_STR(PAGE_REASONS_MAX);
    PGresult *res;
    int rc = -1;

    if (etl_pg_query(db, sql, 0, NULL, &res, err) < 0) {
        return -1;
    }
    if (put(out, "<section id=\"rejects\"><h2>Rejects by reason</h2>\n", err) < 0) {
        goto done;
    }
    if (PQntuples(res) == 0) {
        rc = put(out, "<p>No row rejected in the runs above.</p></section>\n", err);
        goto done;
    }
    if (put(out, "<p class=\"note\">Each row is in <code>ledger.reject</code> with its file, "
            "line and raw text; names the catalog does not know: <code>ewc-etl "
            "unmatched</code>.  Quoted names and numbers are folded.</p>\n"
            "<div class=\"wide\"><table>\n", err) < 0 ||
        th_row(out, "reason|rows|files|example|last run|a file", err) < 0) {
        goto done;
    }
    for (int i = 0; i < PQntuples(res); i++) {
        if (put(out, "<tr>", err) < 0 || td(out, "err", PQgetvalue(res, i, 0), err) < 0 ||
            td(out, "n", PQgetvalue(res, i, 1), err) < 0 ||
            td(out, "n", PQgetvalue(res, i, 2), err) < 0 ||
            td(out, "err", PQgetvalue(res, i, 3), err) < 0 ||
            td(out, "n", PQgetvalue(res, i, 4), err) < 0 ||
            td_url(out, PQgetvalue(res, i, 5), err) < 0 || put(out, "</tr>\n", err) < 0) {
            goto done;
        }
    }
    rc = put(out, "</table></div></section>\n", err);
done:
    PQclear(res);
    return rc;
}

/* One cell of the coverage grid: the national figure's status and parts. */
static int
coverage_cell(struct etl_buf *out, PGresult *res, int i, struct etl_err *err)
{
    const char *nation = PQgetvalue(res, i, 3);
    long ok = atol(PQgetvalue(res, i, 4)), parts = atol(PQgetvalue(res, i, 5));

    if (nation[0] == '\0') {
        return put(out, "<td class=\"none\" title=\"not a period of this indicator\">"
                   "\xC2\xB7</td>", err);
    }
    if (etl_buf_printf(out, err, "<td class=\"%s\">", nation) < 0 ||
        etl_page_escape(out, nation, err) < 0) {
        return -1;
    }
    if (parts > 0 && etl_buf_printf(out, err, "<small title=\"provinces and pairs that give "
                                    "it: %ld of %ld\">%ld/%ld parts</small>", ok, parts, ok,
                                    parts) < 0) {
        return -1;
    }
    return put(out, "</td>", err);
}

/* The coverage grid: an indicator per row, a period per column. */
static int
page_coverage(struct pg_conn *db, struct etl_buf *out, struct etl_err *err)
{
    static const char sql[] =
        "WITH cov AS ("
        "  SELECT indicator, period_kind, period_start, period_end, "
        "         max(status) FILTER (WHERE scope = 'nation') AS nation, "
        "         count(*) FILTER (WHERE scope <> 'nation' AND status = 'reported') AS ok, "
        "         count(*) FILTER (WHERE scope <> 'nation') AS parts "
        "  FROM ewc.coverage GROUP BY 1, 2, 3, 4), "
        "per AS (SELECT DISTINCT period_kind, period_start, period_end, "
        "               " PAGE_PERIOD_LABEL " AS label, " PAGE_PERIOD_ORDER " AS ord "
        "        FROM cov), "
        "ind AS (SELECT DISTINCT indicator FROM cov) "
        "SELECT i.indicator, coalesce(w.name_zh, ''), p.label, coalesce(c.nation, ''), "
        "       coalesce(c.ok, 0), coalesce(c.parts, 0) "
        "FROM ind i CROSS JOIN per p "
        "LEFT JOIN cov c ON c.indicator = i.indicator AND c.period_kind = p.period_kind "
        "     AND c.period_start = p.period_start AND c.period_end = p.period_end "
        "LEFT JOIN warehouse.indicator w ON w.code = i.indicator "
        "ORDER BY i.indicator, p.ord, p.period_start, p.period_end";
    PGresult *res;
    int rc = -1, n, cols = 0;

    if (etl_pg_query(db, sql, 0, NULL, &res, err) < 0) {
        return -1;
    }
    n = PQntuples(res);
    while (cols < n && strcmp(PQgetvalue(res, cols, 0), PQgetvalue(res, 0, 0)) == 0) {
        cols++;                                 /* the first indicator's periods: all */
    }
    if (put(out, "<section id=\"coverage\"><h2>Coverage</h2>\n", err) < 0) {
        goto done;
    }
    if (n == 0) {
        rc = put(out, "<p>No figures loaded yet.</p></section>\n", err);
        goto done;
    }
    if (put(out, "<p class=\"note\">The national figure of each indicator and period "
            "(<code>ewc.coverage</code>): <b>reported</b> by a file, <b>summed</b> from "
            "provinces or pairs, or <b>missing</b> (a period with figures of the "
            "indicator elsewhere, or a year the catalog expects); parts: the provinces "
            "and pairs that give the indicator, of those that give it for periods of "
            "that kind.</p>\n<div class=\"wide\"><table>\n<tr><th>indicator</th>",
            err) < 0) {
        goto done;
    }
    for (int c = 0; c < cols; c++) {
        if (put(out, "<th>", err) < 0 || etl_page_escape(out, PQgetvalue(res, c, 2), err) < 0 ||
            put(out, "</th>", err) < 0) {
            goto done;
        }
    }
    for (int i = 0; i < n; i++) {
        if (i % cols == 0 &&
            (put(out, "</tr>\n<tr><th>", err) < 0 ||
             etl_page_escape(out, PQgetvalue(res, i, 0), err) < 0 ||
             put(out, "<br><small>", err) < 0 ||
             etl_page_escape(out, PQgetvalue(res, i, 1), err) < 0 ||
             put(out, "</small></th>", err) < 0)) {
            goto done;
        }
        if (coverage_cell(out, res, i, err) < 0) {
            goto done;
        }
    }
    rc = put(out, "</tr>\n</table></div></section>\n", err);
done:
    PQclear(res);
    return rc;
}

/* One series from rows [from, to) of the national query: its chart. */
static int
national_chart(struct etl_buf *out, PGresult *res, int from, int to, const char **labels,
               double *values, bool *present, struct etl_err *err)
{
    char title[256];
    struct etl_page_series s = {
        .title = title, .unit = PQgetvalue(res, from, 5), .n = (size_t)(to - from),
        .labels = labels, .values = values, .present = present,
    };

    snprintf(title, sizeof(title), "%s, %s", PQgetvalue(res, from, 0),
             PQgetvalue(res, from, 2));
    for (int i = from; i < to; i++) {
        labels[i - from] = PQgetvalue(res, i, 3);
        present[i - from] = !PQgetisnull(res, i, 4);
        values[i - from] = present[i - from] ? strtod(PQgetvalue(res, i, 4), NULL) : 0;
    }
    return etl_page_chart(out, &s, err);
}

/*
 * Each indicator's national series: a block with a heading and a chart per
 * kind of period; the blocks flow side by side as the width allows.
 */
static int
national_charts(struct etl_buf *out, PGresult *res, const char **labels, double *values,
                bool *present, struct etl_err *err)
{
    int n = PQntuples(res);

    for (int from = 0, to; from < n; from = to) {
        const char *ind = PQgetvalue(res, from, 0);

        if (from == 0 || strcmp(ind, PQgetvalue(res, from - 1, 0)) != 0) {
            if (put(out, from > 0 ? "</div>\n<div class=\"series\"><h3>"
                                  : "<div class=\"series\"><h3>", err) < 0 ||
                etl_page_escape(out, ind, err) < 0 ||
                put(out, " ", err) < 0 || etl_page_escape(out, PQgetvalue(res, from, 1),
                                                          err) < 0 ||
                put(out, "</h3>\n", err) < 0) {
                return -1;
            }
        }
        for (to = from + 1; to < n && strcmp(PQgetvalue(res, to, 0), ind) == 0 &&
             strcmp(PQgetvalue(res, to, 2), PQgetvalue(res, from, 2)) == 0; to++) {
        }
        if (national_chart(out, res, from, to, labels, values, present, err) < 0) {
            return -1;
        }
    }
    return put(out, "</div>\n", err);
}

/* The national series (ewc.national_period), one chart per kind of period. */
static int
page_national(struct pg_conn *db, struct etl_buf *out, struct etl_err *err)
{
    static const char sql[] =
        "WITH per AS ("
        "  SELECT indicator, period_kind, period_start, period_end FROM ewc.national_period "
        "  UNION "
        "  SELECT c.indicator, c.period_kind, c.period_start, c.period_end "
        "  FROM ewc.coverage c "
        "  WHERE c.scope = 'nation' AND EXISTS (SELECT 1 FROM ewc.national_period x "
        "      WHERE x.indicator = c.indicator AND x.period_kind = c.period_kind)) "
        "SELECT n.indicator, coalesce(w.name_zh, '') || coalesce(' / ' || w.name_en, ''), "
        "       n.period_kind, n.label, v.value::float8, "
        "       w.unit || coalesce(' (' || u.name_en || ')', '') "
        "FROM (SELECT per.*, " PAGE_PERIOD_LABEL " AS label, " PAGE_PERIOD_ORDER " AS ord "
        "      FROM per) n "
        "LEFT JOIN ewc.national_period v ON v.indicator = n.indicator "
        "     AND v.period_kind = n.period_kind AND v.period_start = n.period_start "
        "     AND v.period_end = n.period_end "
        "LEFT JOIN warehouse.indicator w ON w.code = n.indicator "
        "LEFT JOIN warehouse.unit u ON u.code = w.unit "
        "ORDER BY n.indicator, n.ord, n.period_start, n.period_end";
    PGresult *res;
    const char **labels = NULL;
    double *values = NULL;
    bool *present = NULL;
    size_t n;
    int rc = -1;

    if (etl_pg_query(db, sql, 0, NULL, &res, err) < 0) {
        return -1;
    }
    n = (size_t)PQntuples(res);
    if (put(out, "<section id=\"national\"><h2>National series</h2>\n", err) < 0) {
        goto done;
    }
    if (n == 0) {
        rc = put(out, "<p>No national figures yet.</p></section>\n", err);
        goto done;
    }
    labels = calloc(n, sizeof(*labels));
    values = calloc(n, sizeof(*values));
    present = calloc(n, sizeof(*present));
    if (labels == NULL || values == NULL || present == NULL) {
        etl_err_nomem(err);
        goto done;
    }
    if (put(out, "<p class=\"note\">Reported, else summed from provinces or pairs "
            "(<code>ewc.national_period</code>), in the indicator's unit; one chart per "
            "kind of period.  A dash: no national figure for a period the coverage "
            "expects.</p>\n", err) < 0 ||
        national_charts(out, res, labels, values, present, err) < 0) {
        goto done;
    }
    rc = put(out, "</section>\n", err);
done:
    free(labels);
    free(values);
    free(present);
    PQclear(res);
    return rc;
}

/* The document's head and the page's heading, with when and from where. */
static int
page_head(struct pg_conn *db, struct etl_buf *out, struct etl_err *err)
{
    PGresult *res;
    int rc;

    if (etl_pg_query(db, "SELECT to_char(now(), 'YYYY-MM-DD HH24:MI:SS TZ'), "
                     "current_database()", 0, NULL, &res, err) < 0) {
        return -1;
    }
    rc = put(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
             "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
             "<title>ewc-etl status</title>\n<style>", err) < 0 ||
         put(out, page_style, err) < 0 ||
         put(out, "</style>\n</head>\n<body>\n<h1>ewc-etl status</h1>\n<p class=\"note\">"
             "Database <b>", err) < 0 ||
         etl_page_escape(out, PQgetvalue(res, 0, 1), err) < 0 ||
         put(out, "</b>, ", err) < 0 ||
         etl_page_escape(out, PQgetvalue(res, 0, 0), err) < 0 ||
         etl_buf_printf(out, err, ".  The last %d runs; <a href=\"#runs\">runs</a> \xC2\xB7 "
                        "<a href=\"#failed\">failed files</a> \xC2\xB7 <a href=\"#rejects\">"
                        "rejects</a> \xC2\xB7 <a href=\"#coverage\">coverage</a> \xC2\xB7 "
                        "<a href=\"#national\">national series</a>.</p>\n", PAGE_RUNS) < 0
         ? -1 : 0;
    PQclear(res);
    return rc;
}

/* The sections, in order, after the head. */
static int
page_body(struct pg_conn *db, struct etl_buf *out, struct etl_err *err)
{
    if (page_head(db, out, err) < 0 || page_runs(db, out, err) < 0 ||
        page_failed(db, out, err) < 0 || page_rejects(db, out, err) < 0 ||
        page_coverage(db, out, err) < 0 || page_national(db, out, err) < 0) {
        return -1;
    }
    return put(out, "</body>\n</html>\n", err);
}

/*
 * See page.h.  One read-only repeatable-read transaction when the
 * connection is idle, so that every section sees the same moment; the
 * text comes in UTF-8 whatever the connection's client_encoding was (set
 * back after).  On failure 'out' may hold a part of the page.
 */
int
etl_page_render(struct pg_conn *db, struct etl_buf *out, struct etl_err *err)
{
    const char *enc = PQparameterStatus(db->conn, "client_encoding");
    bool txn = PQtransactionStatus(db->conn) == PQTRANS_IDLE;
    char old_enc[64] = "";
    int rc = -1;

    if (enc != NULL && strcmp(enc, "UTF8") != 0) {
        etl_strlcpy(old_enc, enc, sizeof(old_enc));
        if (PQsetClientEncoding(db->conn, "UTF8") != 0) {
            return etl_pg_fail(db, NULL, "could not set client_encoding to UTF8", err);
        }
    }
    if (txn && etl_pg_exec(db, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err) < 0) {
        txn = false;
        goto done;
    }
    rc = page_body(db, out, err);
done:
    if (txn) {
        struct etl_err ignored;

        etl_err_clear(&ignored);
        if (etl_pg_exec(db, "ROLLBACK", &ignored) < 0) {
            /* read only: nothing to keep; a lost connection shows in 'err' already */
        }
    }
    if (old_enc[0] != '\0' && etl_pg_alive(db)) {
        PQsetClientEncoding(db->conn, old_enc);
    }
    if (rc < 0) {
        etl_err_context(err, "status page");
    }
    return rc;
}

/* Write the whole of 'b' to 'fp'; ETL_E_IO naming 'name' on failure. */
static int
write_all(FILE *fp, const struct etl_buf *b, const char *name, struct etl_err *err)
{
    if (b->len > 0 && fwrite(b->data, 1, b->len, fp) != b->len) {
        return etl_err_errno(err, ETL_E_IO, "could not write \"%s\"", name);
    }
    if (fflush(fp) != 0) {
        return etl_err_errno(err, ETL_E_IO, "could not write \"%s\"", name);
    }
    return 0;
}

/* See page.h. */
int
etl_page_write(struct pg_conn *db, const char *path, FILE *fp, struct etl_err *err)
{
    struct etl_buf b;
    char tmp[4096];
    FILE *f;
    int rc = -1;

    etl_buf_init(&b, ETL_PAGE_MAX_BYTES);
    if (etl_page_render(db, &b, err) < 0) {
        goto done;
    }
    if (path == NULL) {
        rc = write_all(fp, &b, "standard output", err);
        goto done;
    }
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
        etl_err_set(err, ETL_E_IO, "file name too long: \"%s\"", path);
        goto done;
    }
    f = fopen(tmp, "w");
    if (f == NULL) {
        etl_err_errno(err, ETL_E_IO, "could not create \"%s\"", tmp);
        goto done;
    }
    rc = write_all(f, &b, tmp, err);
    if (fclose(f) != 0 && rc == 0) {
        rc = etl_err_errno(err, ETL_E_IO, "could not write \"%s\"", tmp);
    }
    if (rc == 0 && rename(tmp, path) != 0) {
        rc = etl_err_errno(err, ETL_E_IO, "could not rename \"%s\" to \"%s\"", tmp, path);
    }
    if (rc < 0) {
        unlink(tmp);
    }
done:
    etl_buf_free(&b);
    return rc;
}
