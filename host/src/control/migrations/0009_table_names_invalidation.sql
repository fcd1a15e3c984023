-- The scoped query caches each workspace's table names per process: a table
-- registered or removed is announced as `tables:<workspace>` (PostgreSQL sends a
-- payload once per transaction however many rows repeat it).
CREATE FUNCTION notify_table_registry_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('plinth_invalidate', 'tables:' || coalesce(NEW.workspace_id, OLD.workspace_id));
    RETURN NULL;
END $$;
CREATE TRIGGER table_registry_invalidate AFTER INSERT OR DELETE OR UPDATE OF table_name, physical_name ON table_registry
    FOR EACH ROW EXECUTE FUNCTION notify_table_registry_change();
