-- Installed plugins: a workspace's own (workspace_id set) or the platform's (NULL).

CREATE TABLE plugins (
    id           uuid PRIMARY KEY,
    workspace_id uuid REFERENCES workspaces (id) ON DELETE CASCADE,
    kind         text NOT NULL,
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    digest       bytea NOT NULL,
    wasm         bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX plugins_of_workspace ON plugins (workspace_id, kind) WHERE workspace_id IS NOT NULL;
CREATE UNIQUE INDEX plugins_of_platform ON plugins (kind) WHERE workspace_id IS NULL;

CREATE FUNCTION notify_plugin_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed plugins;
BEGIN
    changed := coalesce(NEW, OLD);
    PERFORM pg_notify('plinth_invalidate',
                      'plugins:' || coalesce(changed.workspace_id::text, 'platform'));
    RETURN NULL;
END $$;
CREATE TRIGGER plugins_invalidate AFTER INSERT OR UPDATE OR DELETE ON plugins
    FOR EACH ROW EXECUTE FUNCTION notify_plugin_change();
