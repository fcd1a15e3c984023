-- The scoped query's check of a written row against the workspace's row authorizer:
-- Plinth adds `dl_meta.authorized_row(<the authorizer's conditions on the new row>,
-- '<table>')` to the RETURNING list of an INSERT or UPDATE, so that a row the
-- authorizer does not allow aborts the statement (and its transaction) inside
-- PostgreSQL, before anything commits. The SQLSTATE PA403 is Plinth's own and
-- answers 403 `denied_by_authorizer`.
CREATE FUNCTION dl_meta.authorized_row(allowed boolean, relation text) RETURNS boolean
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog AS $$
BEGIN
    IF allowed IS NOT TRUE THEN
        RAISE EXCEPTION USING
            ERRCODE = 'PA403',
            MESSAGE = format('a row written to `%s` falls outside what the workspace''s row authorizer allows', relation);
    END IF;
    RETURN true;
END
$$;
GRANT EXECUTE ON FUNCTION dl_meta.authorized_row(boolean, text) TO PUBLIC;
