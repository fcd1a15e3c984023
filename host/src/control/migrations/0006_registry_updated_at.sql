-- Workspace Tables: when a table's definition last changed through Plinth.
ALTER TABLE table_registry ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
