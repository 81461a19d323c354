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
