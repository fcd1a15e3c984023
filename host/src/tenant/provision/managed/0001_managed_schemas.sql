-- The managed schemas of seed 000, the customer schema, and Plinth's own schemas.

CREATE SCHEMA IF NOT EXISTS dl_meta;
CREATE SCHEMA dl_cache;
CREATE SCHEMA dl_override;
CREATE SCHEMA dl_resolved;
CREATE SCHEMA tenant_custom;
CREATE SCHEMA workspace_tables;
CREATE SCHEMA vault;
REVOKE ALL ON SCHEMA public FROM PUBLIC;

CREATE TABLE dl_meta.tenant_settings (
    key        text PRIMARY KEY,
    value      jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Base records, loaded by the platform (never written by tenants).
CREATE TABLE dl_cache.person_enrichments (
    identity_key     text PRIMARY KEY,
    status           text NOT NULL DEFAULT 'active',
    identity_payload jsonb NOT NULL DEFAULT '{}',
    raw_payload      jsonb NOT NULL DEFAULT '{}',
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE dl_cache.company_enrichments (LIKE dl_cache.person_enrichments INCLUDING ALL);

-- Customer corrections: patches over the base payloads.
CREATE TABLE dl_override.person_overrides (
    identity_key           text PRIMARY KEY,
    status                 text,
    identity_payload_patch jsonb,
    raw_payload_patch      jsonb,
    tombstoned             boolean NOT NULL DEFAULT false,
    updated_at             timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE dl_override.company_overrides (LIKE dl_override.person_overrides INCLUDING ALL);

-- RFC 7386 JSON merge patch: objects merge key by key, `null` removes a key,
-- anything else replaces.
CREATE FUNCTION dl_meta.jsonb_merge_patch(target jsonb, patch jsonb)
RETURNS jsonb LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    result jsonb;
    k text;
    v jsonb;
BEGIN
    IF patch IS NULL THEN
        RETURN target;
    END IF;
    IF jsonb_typeof(patch) <> 'object' THEN
        RETURN patch;
    END IF;
    result := CASE WHEN jsonb_typeof(target) = 'object' THEN target ELSE '{}'::jsonb END;
    FOR k, v IN SELECT * FROM jsonb_each(patch) LOOP
        IF jsonb_typeof(v) = 'null' THEN
            result := result - k;
        ELSE
            result := jsonb_set(result, ARRAY[k], dl_meta.jsonb_merge_patch(result -> k, v), true);
        END IF;
    END LOOP;
    RETURN result;
END $$;

CREATE FUNCTION dl_meta.person_display_name(payload jsonb, identity_key text)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(
        nullif(payload ->> 'display_name', ''),
        nullif(payload ->> 'full_name', ''),
        nullif(payload ->> 'name', ''),
        nullif(trim(concat_ws(' ', payload ->> 'first_name', payload ->> 'last_name')), ''),
        nullif(payload ->> 'email', ''),
        identity_key)
$$;

CREATE FUNCTION dl_meta.company_display_name(payload jsonb, identity_key text)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(
        nullif(payload ->> 'display_name', ''),
        nullif(payload ->> 'name', ''),
        nullif(payload ->> 'legal_name', ''),
        nullif(payload ->> 'domain', ''),
        identity_key)
$$;

-- Each base record merged with its override: patches applied over the base payloads,
-- the override's status winning, tombstoned records hidden, override-only records present.
CREATE VIEW dl_resolved.people AS
SELECT m.identity_key,
       dl_meta.person_display_name(m.identity_payload, m.identity_key) AS display_name,
       m.status,
       m.identity_payload,
       m.raw_payload,
       m.updated_at
FROM (
    SELECT coalesce(b.identity_key, o.identity_key) AS identity_key,
           coalesce(o.status, b.status, 'active') AS status,
           dl_meta.jsonb_merge_patch(coalesce(b.identity_payload, '{}'), o.identity_payload_patch) AS identity_payload,
           dl_meta.jsonb_merge_patch(coalesce(b.raw_payload, '{}'), o.raw_payload_patch) AS raw_payload,
           greatest(b.updated_at, o.updated_at) AS updated_at,
           coalesce(o.tombstoned, false) AS tombstoned
    FROM dl_cache.person_enrichments b
    FULL JOIN dl_override.person_overrides o ON o.identity_key = b.identity_key
) m
WHERE NOT m.tombstoned;

CREATE VIEW dl_resolved.companies AS
SELECT m.identity_key,
       dl_meta.company_display_name(m.identity_payload, m.identity_key) AS display_name,
       m.status,
       m.identity_payload,
       m.raw_payload,
       m.updated_at
FROM (
    SELECT coalesce(b.identity_key, o.identity_key) AS identity_key,
           coalesce(o.status, b.status, 'active') AS status,
           dl_meta.jsonb_merge_patch(coalesce(b.identity_payload, '{}'), o.identity_payload_patch) AS identity_payload,
           dl_meta.jsonb_merge_patch(coalesce(b.raw_payload, '{}'), o.raw_payload_patch) AS raw_payload,
           greatest(b.updated_at, o.updated_at) AS updated_at,
           coalesce(o.tombstoned, false) AS tombstoned
    FROM dl_cache.company_enrichments b
    FULL JOIN dl_override.company_overrides o ON o.identity_key = b.identity_key
) m
WHERE NOT m.tombstoned;

-- The seed's role access table.
GRANT USAGE ON SCHEMA dl_resolved TO dl_tenant_read, dl_tenant_override, dl_platform_runtime;
GRANT SELECT ON ALL TABLES IN SCHEMA dl_resolved TO dl_tenant_read, dl_tenant_override, dl_platform_runtime;
GRANT USAGE ON SCHEMA dl_override TO dl_tenant_override, dl_platform_runtime;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA dl_override TO dl_tenant_override, dl_platform_runtime;
GRANT USAGE, CREATE ON SCHEMA tenant_custom TO dl_tenant_override;
GRANT USAGE ON SCHEMA dl_cache, dl_meta TO dl_platform_runtime;
-- The views call the merge functions in dl_meta as the reader: usage of the schema
-- (not of its tables) is needed for that.
GRANT USAGE ON SCHEMA dl_meta TO dl_tenant_read, dl_tenant_override;
GRANT ALL ON ALL TABLES IN SCHEMA dl_cache, dl_meta TO dl_platform_runtime;

-- The schema version the host's schema cache compares against; bumped by the event
-- trigger (installed when the administrator may) on every DDL command.
CREATE TABLE dl_meta.schema_state (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    version   bigint NOT NULL DEFAULT 0
);
INSERT INTO dl_meta.schema_state DEFAULT VALUES;

CREATE FUNCTION dl_meta.bump_schema_version() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
    UPDATE dl_meta.schema_state SET version = version + 1;
END $$;
REVOKE ALL ON FUNCTION dl_meta.bump_schema_version() FROM PUBLIC;
