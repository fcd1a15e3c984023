-- Vault collections are cached per process: a removed collection (or one removed and
-- created again under its name) is announced as `collection:<workspace>/<name>`.
CREATE FUNCTION notify_vault_collection_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('plinth_invalidate', 'collection:' || OLD.workspace_id || '/' || OLD.name);
    RETURN NULL;
END $$;
CREATE TRIGGER vault_collections_invalidate AFTER UPDATE OR DELETE ON vault_collections
    FOR EACH ROW EXECUTE FUNCTION notify_vault_collection_change();
