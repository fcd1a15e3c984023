-- Committed writes per table, so that an exact count can be reused while its table
-- has not changed (the Data API's `total`). Every INSERT, UPDATE, DELETE, TRUNCATE,
-- MERGE and COPY statement on a tracked table adds one to a counter in its own
-- transaction, whoever runs it: through Plinth, a customer's direct connection, a
-- cascade or a view. The sum of a table's counters therefore moves with every
-- committed write, and a count read in the same snapshot as that sum is exact for
-- every snapshot that shows the same sum.
--
-- One row per table and backend, so that concurrent writers never wait for each
-- other's counter. A backend's first write to a table folds the rows of backends
-- that have exited into its own (skipping rows another backend is folding), which
-- keeps the rows to sum about as many as the backends that write, and the sum
-- unchanged.
CREATE TABLE dl_meta.table_changes (
    relid   oid     NOT NULL,
    backend integer NOT NULL,
    changes bigint  NOT NULL,
    PRIMARY KEY (relid, backend)
);
-- Counts of writes per table: readable by the workspace's own roles (only they may
-- connect to its database), writable by the trigger function alone.
GRANT SELECT ON dl_meta.table_changes TO PUBLIC;

CREATE FUNCTION dl_meta.note_table_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
    UPDATE dl_meta.table_changes SET changes = changes + 1
    WHERE relid = TG_RELID AND backend = pg_backend_pid();
    IF NOT FOUND THEN
        WITH exited AS (
            SELECT ctid FROM dl_meta.table_changes
            WHERE relid = TG_RELID
              AND backend NOT IN (SELECT pid FROM pg_stat_get_activity(NULL) WHERE pid IS NOT NULL)
            FOR UPDATE SKIP LOCKED
        ), folded AS (
            DELETE FROM dl_meta.table_changes
            WHERE ctid IN (SELECT ctid FROM exited)
            RETURNING changes
        )
        INSERT INTO dl_meta.table_changes AS c (relid, backend, changes)
        SELECT TG_RELID, pg_backend_pid(), 1 + coalesce(sum(folded.changes), 0) FROM folded
        ON CONFLICT (relid, backend) DO UPDATE SET changes = c.changes + excluded.changes;
    END IF;
    RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION dl_meta.note_table_change() FROM PUBLIC;

-- Installs the tracking trigger on a table of an exposed schema.
CREATE FUNCTION dl_meta.track_table_changes(target regclass) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
    EXECUTE format(
        'CREATE TRIGGER plinth_table_changes '
        'AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %s '
        'FOR EACH STATEMENT EXECUTE FUNCTION dl_meta.note_table_change()', target);
END $$;
REVOKE ALL ON FUNCTION dl_meta.track_table_changes(regclass) FROM PUBLIC;

-- The event trigger function now also tracks every table created in an exposed
-- schema. Neither its replacement of the version function nor its own tracking
-- trigger counts as a schema change (each fires the event trigger again, alone).
CREATE OR REPLACE FUNCTION dl_meta.bump_schema_version() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
    next_version bigint;
    created record;
BEGIN
    IF EXISTS (
        SELECT 1 FROM pg_event_trigger_ddl_commands() AS c
        WHERE c.object_identity = 'dl_meta.schema_version()'
           OR (c.command_tag = 'CREATE TRIGGER'
               AND c.object_identity LIKE 'plinth\_table\_changes on %')
    ) THEN
        RETURN;
    END IF;
    FOR created IN
        SELECT c.objid FROM pg_event_trigger_ddl_commands() AS c
        WHERE c.command_tag IN ('CREATE TABLE', 'CREATE TABLE AS', 'SELECT INTO')
          AND c.object_type = 'table'
          AND c.schema_name IN ('tenant_custom', 'workspace_tables', 'dl_override')
    LOOP
        IF EXISTS (SELECT 1 FROM pg_class WHERE oid = created.objid AND relkind = 'r') THEN
            PERFORM dl_meta.track_table_changes(created.objid::regclass);
        END IF;
    END LOOP;
    UPDATE dl_meta.schema_state SET version = schema_state.version + 1
    RETURNING schema_state.version INTO next_version;
    EXECUTE format(
        'CREATE OR REPLACE FUNCTION dl_meta.schema_version() RETURNS bigint '
        'LANGUAGE sql IMMUTABLE PARALLEL SAFE AS %L',
        'SELECT ' || next_version || '::bigint');
END $$;
REVOKE ALL ON FUNCTION dl_meta.bump_schema_version() FROM PUBLIC;

-- Tables that exist already. A table the administrator may not add a trigger to
-- stays untracked: its counts are simply never reused.
DO $$
DECLARE
    existing regclass;
BEGIN
    FOR existing IN
        SELECT c.oid::regclass FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind = 'r'
          AND n.nspname IN ('tenant_custom', 'workspace_tables', 'dl_override')
          AND NOT EXISTS (SELECT 1 FROM pg_trigger t
                          WHERE t.tgrelid = c.oid AND t.tgname = 'plinth_table_changes')
    LOOP
        BEGIN
            PERFORM dl_meta.track_table_changes(existing);
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE NOTICE 'table % stays untracked: %', existing, SQLERRM;
        END;
    END LOOP;
END $$;
