-- 009_no_jit.sql -- no JIT compilation in the warehouse's database.
--
-- The analyst views read the fact table's 51 partitions.  Right after a
-- load, before autovacuum has analyzed the new rows, the planner estimates
-- such a query far above jit_above_cost, and PostgreSQL then compiles it
-- with LLVM: ten seconds spent compiling a query that runs in ten
-- milliseconds (measured on ewc.national_period over the bundled sample).
-- The warehouse's queries are small; JIT never pays for itself here.
-- Altering the database needs its owner or a superuser: without either,
-- say so and leave it (an administrator may set jit = off instead).
DO $$
BEGIN
    EXECUTE format('ALTER DATABASE %I SET jit = off', current_database());
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'could not turn JIT off for database %: set jit = off for it, or the '
                 'views will be slow to plan right after a load', current_database();
END
$$;
SET jit = off;
