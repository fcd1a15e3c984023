//! The authenticated caller and the checks every handler makes of it.

use std::sync::Arc;

use serde_json::Value;
use uuid::Uuid;

use super::{AuthError, Scope, ScopeSet};

/// What kind of credential was presented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// The platform admin token.
    Admin,
    /// A workspace API key.
    ApiKey {
        /// The key's id (never the key).
        key_id: Uuid,
    },
    /// A bearer JWT.
    Jwt {
        /// Its `sub` claim.
        subject: Option<String>,
    },
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The credential kind.
    pub credential: Credential,
    /// The workspace the credential belongs to (`None` for the admin token).
    pub workspace_id: Option<Uuid>,
    /// Granted scopes.
    pub scopes: ScopeSet,
    /// Claims handed to PostgreSQL as `request.jwt.claims` (shared: an API key's are
    /// cached with it).
    pub claims: Arc<Value>,
}

impl Principal {
    /// The platform administrator: every scope on every workspace.
    pub fn admin() -> Self {
        Self {
            credential: Credential::Admin,
            workspace_id: None,
            scopes: ScopeSet::all(),
            claims: Arc::new(serde_json::json!({ "role": "platform_admin" })),
        }
    }

    /// True for the admin token.
    pub fn is_admin(&self) -> bool {
        self.credential == Credential::Admin
    }

    /// Refuses anyone but the admin.
    pub fn require_admin(&self) -> Result<(), AuthError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(AuthError::AdminOnly)
        }
    }

    /// Checks that the caller may act on `workspace` with `scope`.
    pub fn require(&self, workspace: Uuid, scope: Scope) -> Result<(), AuthError> {
        if !self.is_admin() && self.workspace_id != Some(workspace) {
            return Err(AuthError::WrongWorkspace);
        }
        if !self.scopes.contains(scope) {
            return Err(AuthError::MissingScope(scope));
        }
        Ok(())
    }

    /// The id PostgreSQL sees as `app.user_id`: the JWT subject, the API key id, or `admin`.
    pub fn user_id(&self) -> String {
        match &self.credential {
            Credential::Admin => "admin".into(),
            Credential::ApiKey { key_id } => key_id.to_string(),
            Credential::Jwt { subject } => subject.clone().unwrap_or_default(),
        }
    }

    /// A label for audit records: `admin`, `api_key:<id>` or `jwt:<sub>`.
    pub fn audit_label(&self) -> String {
        match &self.credential {
            Credential::Admin => "admin".into(),
            Credential::ApiKey { key_id } => format!("api_key:{key_id}"),
            Credential::Jwt { subject } => format!("jwt:{}", subject.as_deref().unwrap_or("")),
        }
    }
}
