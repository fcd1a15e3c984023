-- Data Vault: each workspace's collections (engine, storage name, schema) and the
-- audit trail of vault actions.

CREATE TABLE vault_collections (
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name         text NOT NULL,
    engine       text NOT NULL,
    storage_name text NOT NULL,
    description  text,
    json_schema  jsonb NOT NULL,
    fields       jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, name)
);

CREATE TABLE vault_audit (
    id           bigserial PRIMARY KEY,
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    actor        text NOT NULL,
    action       text NOT NULL,
    collection   text NOT NULL,
    document_id  text,
    outcome      text NOT NULL CHECK (outcome IN ('success', 'failure')),
    status       integer NOT NULL,
    at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX vault_audit_newest ON vault_audit (workspace_id, at DESC, id DESC);
