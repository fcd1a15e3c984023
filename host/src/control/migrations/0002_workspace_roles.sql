-- The login roles of each workspace, with their passwords sealed under the
-- operator's key (never stored or logged in the clear).

CREATE TABLE workspace_roles (
    workspace_id    uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    kind            text NOT NULL CHECK (kind IN ('read', 'runtime', 'api', 'vault')),
    role_name       text NOT NULL UNIQUE,
    password_sealed bytea NOT NULL,
    rotated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, kind)
);

CREATE FUNCTION notify_role_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('plinth_invalidate', 'roles:' || NEW.workspace_id);
    RETURN NULL;
END $$;
CREATE TRIGGER workspace_roles_invalidate AFTER UPDATE ON workspace_roles
    FOR EACH ROW EXECUTE FUNCTION notify_role_change();
