-- The Workspace Tables registry and the Data API's idempotency records.

CREATE TABLE table_registry (
    id            uuid PRIMARY KEY,
    workspace_id  uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    table_name    text NOT NULL,
    physical_name text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (workspace_id, table_name),
    UNIQUE (workspace_id, physical_name)
);
CREATE INDEX table_registry_newest ON table_registry (workspace_id, created_at DESC);

-- One row per (workspace, Idempotency-Key): `pending` while the first request runs,
-- then `done` with its status and body, until `expires_at`.
CREATE TABLE idempotency_keys (
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    key          text NOT NULL,
    request_hash bytea NOT NULL,
    state        text NOT NULL CHECK (state IN ('pending', 'done')),
    status       integer,
    body         bytea,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    PRIMARY KEY (workspace_id, key)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);
