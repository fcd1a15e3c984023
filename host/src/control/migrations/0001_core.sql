-- Workspaces, their API keys, and the invalidation channel every replica listens on.

CREATE TABLE workspaces (
    id            uuid PRIMARY KEY,
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    tenant_id     text NOT NULL CHECK (length(tenant_id) BETWEEN 1 AND 200),
    status        text NOT NULL DEFAULT 'active'
                  CHECK (status IN ('active', 'frozen')),
    plane_status  text NOT NULL DEFAULT 'unprovisioned'
                  CHECK (plane_status IN ('unprovisioned', 'provisioning', 'active', 'failed', 'frozen')),
    database_name text UNIQUE,
    provision_error text,
    provisioned_at timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
    id           uuid PRIMARY KEY,
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    lookup_id    text NOT NULL UNIQUE,
    secret_hash  bytea NOT NULL,
    scopes       text[] NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz
);
CREATE INDEX api_keys_workspace ON api_keys (workspace_id);

-- Every change that a replica may have cached is announced on `plinth_invalidate`
-- as `<kind>:<id>`; listeners drop the entry at once.
CREATE FUNCTION notify_api_key_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('plinth_invalidate', 'key:' || OLD.lookup_id);
    RETURN NULL;
END $$;
CREATE TRIGGER api_keys_invalidate AFTER UPDATE OR DELETE ON api_keys
    FOR EACH ROW EXECUTE FUNCTION notify_api_key_change();

CREATE FUNCTION notify_workspace_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('plinth_invalidate', 'workspace:' || OLD.id);
    RETURN NULL;
END $$;
CREATE TRIGGER workspaces_invalidate AFTER UPDATE OR DELETE ON workspaces
    FOR EACH ROW EXECUTE FUNCTION notify_workspace_change();
