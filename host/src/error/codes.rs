//! Every stable code Plinth answers with, grouped by the stage that raises it, with
//! its HTTP status and what it means. This table is the only place a code is spelt;
//! `docs/errors.md` is generated from it (see [`reference`]).

use axum::http::StatusCode;

/// Declares [`Code`] and its table: per stage, `Variant = "code", STATUS, "meaning"`.
macro_rules! codes {
    ($( $stage:literal { $( $variant:ident = $code:literal, $status:ident, $meaning:literal; )+ } )+) => {
        /// A stable, machine-readable error code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code {
            $( $(
                #[doc = $meaning]
                $variant,
            )+ )+
        }

        impl Code {
            /// Every code, in the table's order.
            pub const ALL: &'static [Code] = &[$( $( Code::$variant, )+ )+];

            /// The code as clients see it (`insufficient_scope`).
            pub fn as_str(self) -> &'static str {
                match self {
                    $( $( Code::$variant => $code, )+ )+
                }
            }

            /// The HTTP status it is answered with.
            pub fn status(self) -> StatusCode {
                match self {
                    $( $( Code::$variant => StatusCode::$status, )+ )+
                }
            }

            /// The stage of the request that raises it.
            pub fn stage(self) -> &'static str {
                match self {
                    $( $( Code::$variant => $stage, )+ )+
                }
            }

            /// What it means, for the reference.
            pub fn meaning(self) -> &'static str {
                match self {
                    $( $( Code::$variant => $meaning, )+ )+
                }
            }
        }
    };
}

codes! {
    "HTTP" {
        InvalidRequest = "invalid_request", BAD_REQUEST, "The request is malformed: a path parameter, header or body that cannot be read.";
        InvalidBody = "invalid_body", BAD_REQUEST, "The body is not the JSON the endpoint takes; the message names the field.";
        UnsupportedApiVersion = "unsupported_api_version", BAD_REQUEST, "The API version asked for is not served.";
        NotFound = "not_found", NOT_FOUND, "No such resource (workspace, key, row, document, collection, table, plugin).";
        MethodNotAllowed = "method_not_allowed", METHOD_NOT_ALLOWED, "The route does not take this method.";
        Conflict = "conflict", CONFLICT, "The resource exists already, or is changing.";
        PayloadTooLarge = "payload_too_large", PAYLOAD_TOO_LARGE, "The body is larger than the configured limit.";
        UnsupportedMediaType = "unsupported_media_type", UNSUPPORTED_MEDIA_TYPE, "The body is not `application/json`.";
        Unprocessable = "unprocessable", UNPROCESSABLE_ENTITY, "The request is well-formed but refused.";
        Internal = "internal", INTERNAL_SERVER_ERROR, "A fault of Plinth's; the cause is logged.";
        NotReady = "not_ready", SERVICE_UNAVAILABLE, "The readiness probe: the server cannot serve yet (or any more).";
        RequestTimeout = "request_timeout", GATEWAY_TIMEOUT, "The request ran past the server's request deadline.";
    }
    "Authentication" {
        MissingCredential = "missing_credential", UNAUTHORIZED, "No API key, JWT or admin token was sent.";
        InvalidCredential = "invalid_credential", UNAUTHORIZED, "The credential is unknown, revoked or malformed.";
        TokenExpired = "token_expired", UNAUTHORIZED, "The JWT has expired.";
        InsufficientScope = "insufficient_scope", FORBIDDEN, "The credential lacks the scope the operation needs.";
        WorkspaceMismatch = "workspace_mismatch", FORBIDDEN, "The credential belongs to another workspace.";
        AdminOnly = "admin_only", FORBIDDEN, "Only the platform admin token may do this.";
        WorkspaceRequired = "workspace_required", BAD_REQUEST, "The admin token needs `X-Workspace-Id` to name the workspace.";
    }
    "Customer data access and the workspace database" {
        WorkspaceNotProvisioned = "workspace_not_provisioned", SERVICE_UNAVAILABLE, "The workspace has no database yet; provision it first.";
        ProvisioningFailed = "provisioning_failed", INTERNAL_SERVER_ERROR, "Provisioning failed; the cause is logged, and a retry resumes it.";
        InvalidRecord = "invalid_record", BAD_REQUEST, "A line of a base-records upload is not a valid record; the message names the line.";
        PoolerUnavailable = "pooler_unavailable", SERVICE_UNAVAILABLE, "A pooled URI was asked for, and no connection pooler runs.";
        DatabaseUnavailable = "database_unavailable", SERVICE_UNAVAILABLE, "The database cannot be reached right now; retry shortly.";
        WriteOutcomeUnknown = "write_outcome_unknown", SERVICE_UNAVAILABLE, "The connection failed while a write committed: it may or may not have taken effect.";
        RetryTransaction = "retry_transaction", CONFLICT, "A serialization failure or deadlock: retry the request.";
        UniqueViolation = "unique_violation", CONFLICT, "A row with the same unique key exists.";
        ForeignKeyViolation = "foreign_key_violation", CONFLICT, "A referenced row is missing, or a referencing row remains.";
        NotNullViolation = "not_null_violation", BAD_REQUEST, "A required column was left empty.";
        CheckViolation = "check_violation", BAD_REQUEST, "A check constraint refused the row.";
        InsufficientPrivilege = "insufficient_privilege", FORBIDDEN, "PostgreSQL refused the workspace's role (row-level security, grants).";
        StatementTimeout = "statement_timeout", GATEWAY_TIMEOUT, "The statement ran past its timeout.";
        InvalidValue = "invalid_value", BAD_REQUEST, "A value does not fit its column's type.";
        DatabaseError = "database_error", BAD_REQUEST, "Another error of a valid statement; the message is PostgreSQL's.";
    }
    "Row authorizer" {
        DeniedByAuthorizer = "denied_by_authorizer", FORBIDDEN, "The workspace's row authorizer denies the action, or a written row falls outside what it allows.";
    }
    "Data API" {
        InvalidQuery = "invalid_query", BAD_REQUEST, "The query string does not parse; the details name the parameter and position.";
        UnknownTable = "unknown_table", NOT_FOUND, "No exposed table or view has that name.";
        UnknownColumn = "unknown_column", BAD_REQUEST, "The table has no such column.";
        AmbiguousEmbedding = "ambiguous_embedding", BAD_REQUEST, "Several relationships match an embed; the details list them for a hint.";
        InvalidEmbedding = "invalid_embedding", BAD_REQUEST, "No relationship joins the embedded table, or a filter names a level not embedded.";
        ReadOnly = "read_only", METHOD_NOT_ALLOWED, "The relation cannot be written.";
        FilterRequired = "filter_required", BAD_REQUEST, "An update or delete without a filter; send `Prefer: whole-table` to mean it.";
        IdempotencyKeyRequired = "idempotency_key_required", BAD_REQUEST, "Writes need an `Idempotency-Key` header.";
        IdempotencyKeyReused = "idempotency_key_reused", UNPROCESSABLE_ENTITY, "The key was used for another request.";
        IdempotencyInProgress = "idempotency_in_progress", CONFLICT, "A request with this key is still running.";
    }
    "Workspace Tables" {
        ValidationFailed = "validation_failed", BAD_REQUEST, "The request (or document) breaks rules; the details list each field and rule.";
        AlterFailed = "alter_failed", BAD_REQUEST, "An alter action failed and none was applied; answered with the status of the action's own error.";
    }
    "Scoped query" {
        InvalidSql = "invalid_sql", UNPROCESSABLE_ENTITY, "The statement does not parse, or is not exactly one statement.";
        StatementNotAllowed = "statement_not_allowed", UNPROCESSABLE_ENTITY, "Only SELECT, WITH ... SELECT, INSERT, UPDATE and DELETE run.";
        TableNotAllowed = "table_not_allowed", UNPROCESSABLE_ENTITY, "The statement names a table that is not one of the workspace's tables.";
        FunctionNotAllowed = "function_not_allowed", UNPROCESSABLE_ENTITY, "The function is not on the scoped query's allow-list.";
        TypeNotAllowed = "type_not_allowed", UNPROCESSABLE_ENTITY, "The type is an OID alias or not on the allow-list.";
        ConstructNotAllowed = "construct_not_allowed", UNPROCESSABLE_ENTITY, "The construct could reach beyond the workspace's tables.";
    }
    "Data Vault" {
        EngineUnavailable = "engine_unavailable", BAD_GATEWAY, "The collection's engine cannot be reached.";
        EngineFailed = "engine_failed", BAD_GATEWAY, "The collection's engine failed the operation.";
    }
    "Plugins" {
        InvalidPlugin = "invalid_plugin", UNPROCESSABLE_ENTITY, "The upload is not a component of the kind's world, or imports beyond it.";
        PluginFailed = "plugin_failed", BAD_GATEWAY, "A plugin trapped or answered something unusable.";
        PluginTimeout = "plugin_timeout", GATEWAY_TIMEOUT, "A plugin call ran past its deadline.";
        PluginBusy = "plugin_busy", SERVICE_UNAVAILABLE, "Every instance (or compile slot) is busy; retry after `Retry-After`.";
    }
}

/// `docs/errors.md`: every code by stage, with its status and meaning.
pub fn reference() -> String {
    let mut out = String::from(
        "# Error codes\n\n\
         Every error answers `{\"error\": {\"code\", \"message\", \"details\"?, \"hint\"?}}`.\n\
         The codes below are stable; the messages are for people. Generated from\n\
         `host/src/error/codes.rs` (`PLINTH_UPDATE_DOCS=1 cargo test -p plinth --lib error_reference`).\n",
    );
    let mut stage = "";
    for code in Code::ALL {
        if code.stage() != stage {
            stage = code.stage();
            out.push_str(&format!(
                "\n## {stage}\n\n| code | status | meaning |\n| --- | --- | --- |\n"
            ));
        }
        out.push_str(&format!(
            "| `{}` | {} | {} |\n",
            code.as_str(),
            code.status().as_u16(),
            code.meaning()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn codes_are_unique_snake_case() {
        let mut seen = HashSet::new();
        for code in Code::ALL {
            let text = code.as_str();
            assert!(seen.insert(text), "`{text}` twice");
            assert!(
                text.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "`{text}`"
            );
        }
    }

    #[test]
    fn error_reference_matches_the_table() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/errors.md");
        let generated = reference();
        if std::env::var_os("PLINTH_UPDATE_DOCS").is_some() {
            std::fs::write(path, &generated).expect("docs/errors.md");
        }
        let written = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            written == generated,
            "docs/errors.md is out of date: run `PLINTH_UPDATE_DOCS=1 cargo test -p plinth --lib error_reference`"
        );
    }
}
