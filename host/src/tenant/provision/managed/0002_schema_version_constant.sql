-- The schema version as a constant the planner folds into a plan. A read that
-- checks its schema cache with `(SELECT version FROM dl_meta.schema_state)` scans a
-- second table on every execution (about a tenth of PostgreSQL's work on a
-- primary-key read); `dl_meta.schema_version()` is an immutable SQL function whose
-- body is the number itself, so a plan carries it as a literal. Every DDL command
-- replaces the function, which invalidates every cached plan that used it, in every
-- session: the next execution plans again and sees the new number. The table stays
-- the version read in a snapshot (the schema cache's loads read it).

-- The trigger function keeps both in step, and does not count its own replacement
-- of the version function as a schema change.
CREATE OR REPLACE FUNCTION dl_meta.bump_schema_version() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
    next_version bigint;
BEGIN
    IF EXISTS (
        SELECT 1 FROM pg_event_trigger_ddl_commands() AS c
        WHERE c.object_identity = 'dl_meta.schema_version()'
    ) THEN
        RETURN;
    END IF;
    UPDATE dl_meta.schema_state SET version = schema_state.version + 1
    RETURNING schema_state.version INTO next_version;
    EXECUTE format(
        'CREATE OR REPLACE FUNCTION dl_meta.schema_version() RETURNS bigint '
        'LANGUAGE sql IMMUTABLE PARALLEL SAFE AS %L',
        'SELECT ' || next_version || '::bigint');
END $$;
REVOKE ALL ON FUNCTION dl_meta.bump_schema_version() FROM PUBLIC;

DO $$
BEGIN
    EXECUTE format(
        'CREATE OR REPLACE FUNCTION dl_meta.schema_version() RETURNS bigint '
        'LANGUAGE sql IMMUTABLE PARALLEL SAFE AS %L',
        'SELECT ' || (SELECT version FROM dl_meta.schema_state) || '::bigint');
END $$;
