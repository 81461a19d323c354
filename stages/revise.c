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

/*
 * The new version's rows wait in etl_new (the COPY's columns, load.c); the
 * keys that differ from the source's current rows go to etl_diff, with the
 * new row (NULL columns for a key removed) and what the comparison read of
 * the old one; the rest of the old rows, as they are deleted, to etl_old.
 * All three are created once per connection and emptied at each commit.
 */
static const char revise_table_sql[] =
    "SET LOCAL client_min_messages = warning; "
    "CREATE TEMP TABLE IF NOT EXISTS etl_new ON COMMIT DELETE ROWS AS "
    "SELECT " REVISE_COLUMNS " FROM warehouse.observation WITH NO DATA; "
    "CREATE TEMP TABLE IF NOT EXISTS etl_diff ON COMMIT DELETE ROWS AS "
    "SELECT ''::text AS change, " REVISE_COLUMNS ", value AS old_value, qualifier AS old_qualifier,"
    "       note AS old_note, tableoid AS old_part, ctid AS old_tid"
    " FROM warehouse.observation WITH NO DATA; "
    "CREATE TEMP TABLE IF NOT EXISTS etl_old ON COMMIT DELETE ROWS AS "
    "SELECT tableoid AS part, ctid AS tid, period_kind, unit, raw_value, file_id, line"
    " FROM warehouse.observation WITH NO DATA; "
    "TRUNCATE etl_new, etl_diff, etl_old";

/*
 * The keys of the new version that differ from the current rows: added,
 * removed, changed (value or qualifier), or restated (the same figure with
 * another note: the row is replaced, no revision).  One hash full join of
 * the new rows with the source's current ones (the fresh partitions' lack
 * of statistics must not make it a sort or a loop), the current side
 * hashed with only what the comparison reads: its key, value, qualifier,
 * note and place (1M rows: 108 MB, one batch; with the raw text, file,
 * line, kind and unit too it spilled to disk, 1.62 s against 1.33 s).
 * The rest of an old row is read when it is deleted (revise_apply_sql).
 * No JIT: compiling this plan over 51 partitions took 2.4 s of a 4.3 s
 * comparison (the database's jit = off, migration 009, may be missing).
 * Then the counts that tell whether the file repeats a key
 * (revise_record).  %1$s = source_id.
 */
static const char revise_diff_sql[] =
    "SET LOCAL enable_mergejoin = off; SET LOCAL enable_nestloop = off; "
    "SET LOCAL work_mem = '64MB'; SET LOCAL jit = off; "
    "INSERT INTO etl_diff "
    "SELECT CASE WHEN c.indicator IS NULL THEN 'added' WHEN n.indicator IS NULL THEN 'removed'"
    "            WHEN n.value IS DISTINCT FROM c.value OR n.qualifier <> c.qualifier"
    "            THEN 'changed' ELSE 'restated' END,"
    "       coalesce(n.indicator, c.indicator), coalesce(n.region, c.region),"
    "       CASE WHEN n.indicator IS NULL THEN c.partner ELSE n.partner END,"
    "       n.period_kind, coalesce(n.period_start, c.period_start),"
    "       coalesce(n.period_end, c.period_end), n.value, n.unit,"
    "       n.qualifier, n.raw_value, n.note, n.source_id, n.file_id, n.run_id, n.line, n.col,"
    "       coalesce(n.of_which, c.of_which),"
    "       c.value, c.qualifier, c.note, c.tableoid, c.ctid "
    "FROM etl_new n "
    "FULL JOIN (SELECT indicator, region, partner, period_start, period_end, of_which,"
    "                  value, qualifier, note, tableoid, ctid"
    "           FROM warehouse.observation WHERE source_id = %1$s) c"
    "  ON c.indicator = n.indicator AND c.region = n.region"
    " AND coalesce(c.partner, '') = coalesce(n.partner, '')"
    " AND c.period_start = n.period_start AND c.period_end = n.period_end"
    " AND c.of_which = n.of_which "
    "WHERE c.indicator IS NULL OR n.indicator IS NULL"
    "   OR n.value IS DISTINCT FROM c.value OR n.qualifier <> c.qualifier"
    "   OR n.note IS DISTINCT FROM c.note; "
    "RESET enable_mergejoin; RESET enable_nestloop; RESET work_mem; RESET jit; "
    "SELECT (SELECT count(*) FROM warehouse.observation WHERE source_id = %1$s),"
    "       count(*) FILTER (WHERE change = 'added'), count(*) FILTER (WHERE change = 'removed')"
    " FROM etl_diff";

/*
 * The current rows of those keys go, found by the partition and place the
 * comparison saw them at (a TID scan of each partition touched, not a join
 * of the keys again), and the new ones come.  What warehouse.revision
 * keeps of a deleted row and the comparison did not read (its raw text,
 * file and line; a removed key's period kind and unit) goes to etl_old.
 * The rows deleted must be exactly those: the source's rows are written by
 * its own load only, in this transaction, so anything else is an error,
 * never a row kept.  The planner knows nothing of the temporary tables:
 * no nested loops, for them or for revise_record_sql (reset after it).
 */
static const char revise_apply_sql[] =
    "SET LOCAL enable_nestloop = off; "
    "DO $etl$ DECLARE r record; n bigint; done bigint := 0; BEGIN"
    "  FOR r IN SELECT old_part, array_agg(old_tid) AS tids FROM etl_diff"
    "           WHERE change <> 'added' GROUP BY old_part LOOP"
    "    EXECUTE format('WITH d AS (DELETE FROM %%s WHERE ctid = ANY ($1)"
    "                    RETURNING ctid, period_kind, unit, raw_value, file_id, line)"
    "                  INSERT INTO etl_old SELECT $2, d.* FROM d',"
    "                   r.old_part::regclass) USING r.tids, r.old_part;"
    "    GET DIAGNOSTICS n = ROW_COUNT;"
    "    done := done + n;"
    "  END LOOP;"
    "  IF done <> (SELECT count(*) FROM etl_diff WHERE change <> 'added') THEN"
    "    RAISE EXCEPTION 'the previous version''s rows changed during the load'"
    "      USING ERRCODE = 'serialization_failure';"
    "  END IF;"
    " END $etl$; "
    "INSERT INTO warehouse.observation (" REVISE_COLUMNS ") "
    "SELECT " REVISE_COLUMNS " FROM etl_diff WHERE change <> 'removed'";

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
    "  SELECT %1$s, %2$s, d.change, d.indicator, d.region, d.partner,"
    "         coalesce(d.period_kind, o.period_kind), d.period_start, d.period_end, d.of_which,"
    "         coalesce(d.unit, o.unit), d.old_value, d.old_qualifier, o.raw_value, o.file_id,"
    "         o.line, d.value, d.qualifier, d.raw_value, d.line"
    "  FROM etl_diff d LEFT JOIN etl_old o ON o.part = d.old_part AND o.tid = d.old_tid"
    "  WHERE d.change <> 'restated'"
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
void
revise_begin(const struct etl_job *job, const char **target, const char **setup)
{
    *target = job->replaces ? "etl_new" : "warehouse.observation";
    *setup = job->replaces ? revise_table_sql : NULL;
}

/* Run 'sql' (several statements); the last one's single row into *res. */
static int
revise_exec(struct etl_job *job, const char *sql, const char *what, PGresult **res,
            struct etl_err *err)
{
    *res = PQexec(job->db->conn, sql);
    if (PQresultStatus(*res) != PGRES_TUPLES_OK || PQntuples(*res) != 1) {
        etl_pg_fail(job->db, *res, what, err);
        PQclear(*res);
        *res = NULL;
        return -1;
    }
    return 0;
}

/* Apply and record the differences; see revise.h. */
int
revise_record(struct etl_job *job, const char *source_id, const char *file_id, int64_t rows,
              struct etl_err *err)
{
    struct etl_file *f = job->file;
    char sql[sizeof(revise_apply_sql) + sizeof(revise_record_sql) + sizeof(revise_diff_sql) + 128];
    int64_t current, added, removed;
    PGresult *res;

    f->rows_added = f->rows_changed = f->rows_removed = -1;
    f->max_change_pct[0] = '\0';
    if (!job->replaces) {
        return 0;
    }
    /* ids are decimal numbers the load made: written in, so that several
     * statements go in one round trip */
    snprintf(sql, sizeof(sql), revise_diff_sql, source_id);
    if (revise_exec(job, sql, "the comparison with the previous version failed", &res, err) < 0) {
        return -1;
    }
    current = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    added = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
    removed = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
    PQclear(res);
    etl_log(ETL_LOG_DEBUG, "%s: %" PRId64 " rows compared with the previous version's %" PRId64,
            f->url, rows, current);
    /*
     * Each current row has its own key, so each is met by at most one new
     * row unless the file repeats a key: the new rows met (all but the
     * added) then outnumber the current rows met (all but the removed).
     * A repeated added key breaks the warehouse's key below.  Either way
     * the worker loads the file again with the repeats rejected.
     */
    if (rows - added != current - removed) {
        etl_err_set(err, ETL_E_DATA, "the file repeats a key (%" PRId64 " rows meet %" PRId64
                    " current ones)", rows - added, current - removed);
        snprintf(err->sqlstate, sizeof(err->sqlstate), "%s", ETL_SQLSTATE_UNIQUE_VIOLATION);
        return -1;
    }
    snprintf(sql, sizeof(sql), revise_apply_sql);
    snprintf(sql + strlen(sql), sizeof(sql) - strlen(sql), "; ");
    snprintf(sql + strlen(sql), sizeof(sql) - strlen(sql), revise_record_sql, source_id, file_id);
    if (revise_exec(job, sql, "the revisions failed", &res, err) < 0) {
        return -1;
    }
    f->rows_added = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    f->rows_changed = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
    f->rows_removed = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
    etl_strlcpy(f->max_change_pct, PQgetvalue(res, 0, 3), sizeof(f->max_change_pct));
    PQclear(res);
    if (etl_pg_exec(job->db, "RESET enable_nestloop", err) < 0) {
        return -1;
    }
    etl_log(ETL_LOG_DEBUG, "%s: revisions recorded: %" PRId64 " added, %" PRId64 " changed, %"
            PRId64 " removed", f->url, f->rows_added, f->rows_changed, f->rows_removed);
    return 0;
}
