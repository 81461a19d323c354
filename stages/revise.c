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

/* The columns of a row kept for the comparison. */
#define REVISE_COLUMNS "indicator, region, partner, period_kind, period_start, period_end, " \
    "of_which, unit, value, qualifier, raw_value, file_id, line"

/* Once per connection (IF NOT EXISTS), emptied for each file. */
static const char revise_table_sql[] =
    "SET LOCAL client_min_messages = warning; "
    "CREATE TEMP TABLE IF NOT EXISTS etl_previous ON COMMIT DELETE ROWS AS "
    "SELECT " REVISE_COLUMNS " FROM warehouse.observation WITH NO DATA; "
    "TRUNCATE etl_previous";

/* $1 = source_id */
static const char revise_move_sql[] =
    "WITH gone AS (DELETE FROM warehouse.observation WHERE source_id = $1 "
    "              RETURNING " REVISE_COLUMNS ") "
    "INSERT INTO etl_previous SELECT " REVISE_COLUMNS " FROM gone";

/*
 * Old against new by key; each difference into warehouse.revision; the
 * counts and the largest relative change (signed, in percent) back.
 * $1 = source_id, $2 = file_id.  A hash full join: both sides are one
 * source's rows, the new ones found by the source index.
 */
static const char revise_record_sql[] =
    "WITH cur AS ("
    "  SELECT " REVISE_COLUMNS " FROM warehouse.observation WHERE source_id = $1),"
    " diff AS ("
    "  SELECT CASE WHEN p.indicator IS NULL THEN 'added'"
    "              WHEN c.indicator IS NULL THEN 'removed' ELSE 'changed' END AS change,"
    "         coalesce(c.indicator, p.indicator) AS indicator,"
    "         coalesce(c.region, p.region) AS region,"
    "         coalesce(c.partner, p.partner) AS partner,"
    "         coalesce(c.period_kind, p.period_kind) AS period_kind,"
    "         coalesce(c.period_start, p.period_start) AS period_start,"
    "         coalesce(c.period_end, p.period_end) AS period_end,"
    "         coalesce(c.of_which, p.of_which) AS of_which,"
    "         coalesce(c.unit, p.unit) AS unit,"
    "         p.value AS old_value, p.qualifier AS old_qualifier, p.raw_value AS old_raw,"
    "         p.file_id AS old_file_id, p.line AS old_line,"
    "         c.value AS new_value, c.qualifier AS new_qualifier, c.raw_value AS new_raw,"
    "         c.line AS new_line"
    "  FROM etl_previous p"
    "  FULL JOIN cur c"
    "    ON c.indicator = p.indicator AND c.region = p.region"
    "   AND coalesce(c.partner, '') = coalesce(p.partner, '')"
    "   AND c.period_start = p.period_start AND c.period_end = p.period_end"
    "   AND c.of_which = p.of_which"
    "  WHERE p.indicator IS NULL OR c.indicator IS NULL"
    "     OR c.value IS DISTINCT FROM p.value OR c.qualifier <> p.qualifier),"
    " ins AS ("
    "  INSERT INTO warehouse.revision (source_id, file_id, change, indicator, region, partner,"
    "         period_kind, period_start, period_end, of_which, unit, old_value, old_qualifier,"
    "         old_raw, old_file_id, old_line, new_value, new_qualifier, new_raw, new_line)"
    "  SELECT $1, $2, d.* FROM diff d"
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

/* Set the previous version aside; see revise.h. */
int
revise_set_aside(struct etl_job *job, const char *source_id, struct etl_err *err)
{
    const char *params[1] = { source_id };
    PGresult *res;

    if (!job->replaces) {
        /* nothing to compare with: a plain delete (of nothing, as a rule) */
        return etl_pg_query(job->db, "DELETE FROM warehouse.observation WHERE source_id = $1",
                            1, params, NULL, err);
    }
    if (etl_pg_exec(job->db, revise_table_sql, err) < 0 ||
        etl_pg_query(job->db, revise_move_sql, 1, params, &res, err) < 0) {
        return -1;
    }
    etl_log(ETL_LOG_DEBUG, "%s: the previous version's %s rows set aside for the revisions",
            job->file->url, PQcmdTuples(res));
    PQclear(res);
    return 0;
}

/* Record the differences; see revise.h. */
int
revise_record(struct etl_job *job, const char *source_id, const char *file_id,
              struct etl_err *err)
{
    const char *params[2] = { source_id, file_id };
    struct etl_file *f = job->file;
    PGresult *res;

    f->rows_added = f->rows_changed = f->rows_removed = -1;
    f->max_change_pct[0] = '\0';
    if (!job->replaces) {
        return 0;
    }
    if (etl_pg_query(job->db, revise_record_sql, 2, params, &res, err) < 0) {
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
