-- Replicas sharing this control database, and their acknowledgements of the
-- invalidations that must take effect everywhere before the change is reported
-- (API-key revocation).

CREATE TABLE replicas (
    id           uuid PRIMARY KEY,
    started_at   timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE invalidation_acks (
    replica_id uuid NOT NULL REFERENCES replicas (id) ON DELETE CASCADE,
    payload    text NOT NULL,
    acked_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (replica_id, payload)
);
