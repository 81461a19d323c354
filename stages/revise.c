/*
 * revise.c
 *    Revisions of a re-published file: the previous version's rows set
 *    aside, compared by key with the new ones, each difference written to
 *    warehouse.revision.  See revise.h.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etl/log.h"
#include "etl/pg.h"
#include "etl/text.h"
#include "revise.h"

/* The columns of a loaded row, as load.c COPYs them. */
#define REVISE_NEW "indicator, region, partner, period_kind, period_start, period_end, " \
    "value, unit, qualifier, raw_value, note, source_id, file_id, run_id, line, col, of_which"

/*
 * The new version's rows wait in etl_new (the COPY's columns, load.c); the
 * keys that differ from the source's current rows go to etl_diff, with the
 * new row (NULL columns for a key removed) and the old side.  Both are
 * created once per connection and emptied at each commit.
 */
static const char revise_table_sql[] =
    "SET LOCAL client_min_messages = warning; "
    "CREATE TEMP TABLE IF NOT EXISTS etl_new ON COMMIT DELETE ROWS AS "
    "SELECT " REVISE_NEW " FROM warehouse.observation WITH NO DATA; "
    "CREATE TEMP TABLE IF NOT EXISTS etl_diff ON COMMIT DELETE ROWS AS "
    "SELECT ''::text AS change, " REVISE_NEW ", value AS old_value, qualifier AS old_qualifier,"
    "       raw_value AS old_raw, file_id AS old_file_id, line AS old_line, note AS old_note"
    " FROM warehouse.observation WITH NO DATA; "
    /* a key repeated in the file fails the COPY, as the warehouse's key would */
    "CREATE UNIQUE INDEX IF NOT EXISTS etl_new_key ON etl_new"
    " (indicator, region, partner, period_start, period_end, of_which) NULLS NOT DISTINCT; "
    "TRUNCATE etl_new, etl_diff";

/*
 * The keys of the new version that differ from the current rows: added,
 * removed, changed (value or qualifier), or restated (the same figure with
 * another note: the row is replaced, no revision).  One hash full join of
 * the new rows with the source's current ones.  %1$s = source_id.
 */
static const char revise_diff_sql[] =
    "INSERT INTO etl_diff "
    "SELECT CASE WHEN c.indicator IS NULL THEN 'added' WHEN n.indicator IS NULL THEN 'removed'"
    "            WHEN n.value IS DISTINCT FROM c.value OR n.qualifier <> c.qualifier"
    "            THEN 'changed' ELSE 'restated' END,"
    "       coalesce(n.indicator, c.indicator), coalesce(n.region, c.region),"
    "       CASE WHEN n.indicator IS NULL THEN c.partner ELSE n.partner END,"
    "       coalesce(n.period_kind, c.period_kind), coalesce(n.period_start, c.period_start),"
    "       coalesce(n.period_end, c.period_end), n.value, coalesce(n.unit, c.unit),"
    "       n.qualifier, n.raw_value, n.note, n.source_id, n.file_id, n.run_id, n.line, n.col,"
    "       coalesce(n.of_which, c.of_which),"
    "       c.value, c.qualifier, c.raw_value, c.file_id, c.line, c.note "
    "FROM etl_new n "
    "FULL JOIN (SELECT indicator, region, partner, period_kind, period_start, period_end,"
    "                  of_which, unit, value, qualifier, raw_value, note, file_id, line"
    "           FROM warehouse.observation WHERE source_id = %1$s) c"
    "  ON c.indicator = n.indicator AND c.region = n.region"
    " AND coalesce(c.partner, '') = coalesce(n.partner, '')"
    " AND c.period_start = n.period_start AND c.period_end = n.period_end"
    " AND c.of_which = n.of_which "
    "WHERE c.indicator IS NULL OR n.indicator IS NULL"
    "   OR n.value IS DISTINCT FROM c.value OR n.qualifier <> c.qualifier"
    "   OR n.note IS DISTINCT FROM c.note; "
    /* the current rows of those keys go, the new ones come */
    "DELETE FROM warehouse.observation o USING etl_diff d "
    "WHERE d.change <> 'added' AND o.source_id = %1$s AND o.indicator = d.indicator"
    "  AND o.region = d.region AND coalesce(o.partner, '') = coalesce(d.partner, '')"
    "  AND o.period_start = d.period_start AND o.period_end = d.period_end"
    "  AND o.of_which = d.of_which; "
    "INSERT INTO warehouse.observation (" REVISE_NEW ") "
    "SELECT " REVISE_NEW " FROM etl_diff WHERE change <> 'removed'";

/*
 * Each difference into warehouse.revision; the counts and the largest
 * relative change (signed, in percent) back.  %1$s = source_id,
 * %2$s = file_id.
 */
static const char revise_record_sql[] =
    "WITH ins AS ("
    "  INSERT INTO warehouse.revision (source_id, file_id, change, indicator, region, partner,"
    "         period_kind, period_start, period_end, of_which, unit, old_value, old_qualifier,"
    "         old_raw, old_file_id, old_line, new_value, new_qualifier, new_raw, new_line)"
    "  SELECT %1$s, %2$s, change, indicator, region, partner, period_kind, period_start,"
    "         period_end, of_which, unit, old_value, old_qualifier, old_raw, old_file_id,"
    "         old_line, value, qualifier, raw_value, line"
    "  FROM etl_diff WHERE change <> 'restated'"
    "  RETURNING change, old_value, new_value),"
    " pct AS ("
    "  SELECT round((new_value / old_value - 1) * 100, 2) AS p FROM ins"
    "  WHERE change = 'changed' AND old_value <> 0 AND new_value IS NOT NULL"
    "  ORDER BY abs(new_value / old_value - 1) DESC LIMIT 1)"
    "SELECT count(*) FILTER (WHERE change = 'added'),"
    "       count(*) FILTER (WHERE change = 'changed'),"
    "       count(*) FILTER (WHERE change = 'removed'),"
    "       (SELECT CASE WHEN p > 0 THEN '+' ELSE '' END || p::text FROM pct) "
    "FROM ins";

/* Where the COPY goes; see revise.h. */
int
revise_begin(struct etl_job *job, const char **target, struct etl_err *err)
{
    *target = "warehouse.observation";
    if (!job->replaces) {
        return 0;       /* a first version: the source has no rows */
    }
    *target = "etl_new";
    return etl_pg_exec(job->db, revise_table_sql, err);
}

/* Apply and record the differences; see revise.h. */
int
revise_record(struct etl_job *job, const char *source_id, const char *file_id,
              struct etl_err *err)
{
    struct etl_file *f = job->file;
    char sql[sizeof(revise_diff_sql) + sizeof(revise_record_sql) + 128];
    PGresult *res;
    ExecStatusType st;

    f->rows_added = f->rows_changed = f->rows_removed = -1;
    f->max_change_pct[0] = '\0';
    if (!job->replaces) {
        return 0;
    }
    /* ids are decimal numbers the load made: written in, so that the three
     * statements and the last one's counts are one round trip */
    snprintf(sql, sizeof(sql), revise_diff_sql, source_id);
    snprintf(sql + strlen(sql), sizeof(sql) - strlen(sql), "; ");
    snprintf(sql + strlen(sql), sizeof(sql) - strlen(sql), revise_record_sql, source_id, file_id);
    res = PQexec(job->db->conn, sql);
    st = PQresultStatus(res);
    if (st != PGRES_TUPLES_OK || PQntuples(res) != 1) {
        etl_pg_fail(job->db, res, "the revisions failed", err);
        PQclear(res);
        return -1;
    }
    f->rows_added = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    f->rows_changed = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
    f->rows_removed = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
    etl_strlcpy(f->max_change_pct, PQgetvalue(res, 0, 3), sizeof(f->max_change_pct));
    PQclear(res);
    etl_log(ETL_LOG_DEBUG, "%s: revisions recorded: %" PRId64 " added, %" PRId64 " changed, %"
            PRId64 " removed", f->url, f->rows_added, f->rows_changed, f->rows_removed);
    return 0;
}
