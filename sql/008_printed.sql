-- 008_printed.sql -- tables as agencies print them: a file's notes, a cell's column.
--
-- Tables as agencies print them carry a title, a unit line and footnotes
-- (注：…, 数据来源：…).  The parse stage keeps them, one per line, and the
-- load records them with the file.

ALTER TABLE ledger.file ADD COLUMN notes text;

COMMENT ON COLUMN ledger.file.notes IS
    'the file''s lines that are not rows: title, unit line, 数据库/指标/时间 lines '
    'and footnotes, one per line, as parse kept them (at most 4 KiB)';

-- A wide table (one column per indicator or period) makes one observation
-- per cell: the cell's column joins its line, in the fact table and in the
-- rejects, so that two cells of one line are two rejects.  0: a row that is
-- the whole record (long tables, as before).
ALTER TABLE warehouse.observation ADD COLUMN col integer NOT NULL DEFAULT 0;
COMMENT ON COLUMN warehouse.observation.col IS
    'the column of the cell in a wide table, from 1; 0 when the row is the whole record';
ALTER TABLE ledger.reject ADD COLUMN col integer NOT NULL DEFAULT 0;
ALTER TABLE ledger.reject DROP CONSTRAINT reject_pkey;
ALTER TABLE ledger.reject ADD PRIMARY KEY (file_id, line, col);
COMMENT ON COLUMN ledger.reject.col IS
    'the column of the cell in a wide table, from 1; 0 when the reject is the whole record';

-- Names the catalog does not know, for an operator extending it: each
-- rejected row whose region, partner or indicator is unknown keeps the
-- column and the name as written.
ALTER TABLE ledger.reject ADD COLUMN unmatched_column text
    CHECK (unmatched_column IN ('region', 'partner', 'indicator'));
ALTER TABLE ledger.reject ADD COLUMN unmatched text;
COMMENT ON COLUMN ledger.reject.unmatched_column IS
    'for a row rejected for a name the catalog does not know: the column of that name';
COMMENT ON COLUMN ledger.reject.unmatched IS
    'for a row rejected for a name the catalog does not know: the name as written';

-- Every unknown name of the current versions of the sources, with its
-- count, the files it is in and the catalog entries it is near (the
-- reject reason's "did you mean").  `ewc-etl unmatched` prints it.
CREATE VIEW ledger.unmatched AS
WITH current_file AS (
    SELECT DISTINCT ON (f.source_id) f.id, f.url
    FROM ledger.file f
    WHERE f.status = 'loaded'
    ORDER BY f.source_id, f.id DESC
)
SELECT r.unmatched_column AS column_name,
       r.unmatched AS name,
       count(*) AS rows,
       count(DISTINCT r.file_id) AS files,
       (array_agg(DISTINCT c.url))[1:3] AS urls,
       CASE WHEN min(r.reason) LIKE '%did you mean %'
            THEN substring(min(r.reason) FROM 'did you mean (.*)\?$') END AS suggestion
FROM ledger.reject r
JOIN current_file c ON c.id = r.file_id
WHERE r.unmatched IS NOT NULL
GROUP BY r.unmatched_column, r.unmatched
ORDER BY count(*) DESC, r.unmatched_column, r.unmatched;

COMMENT ON VIEW ledger.unmatched IS
    'names of regions, partners and indicators the catalog does not know, in the current '
    'version of each source: rows, files, up to three URLs and the nearest catalog entries';
