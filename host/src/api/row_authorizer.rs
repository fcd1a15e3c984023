//! The workspace's row authorizer, asked on behalf of one request: the context it is
//! given (who is asking), its decision on one relation and action, and that decision
//! resolved to [`Grant`]s (the caller's subject, a claim, ... turned into values).
//! The Data API and the scoped query both decide through here, so every path that
//! reads or writes rows asks the same question the same way.

use std::sync::Arc;

use crate::auth::{Credential, Principal, Scope};
use crate::control::workspaces::Workspace;
use crate::error::ApiError;
use crate::plan::{CompareOp, Grant, GrantOp, GrantValue};
use crate::plugins::authorizer_types::{
    Action, Comparison, CredentialKind, Decision, PredicateValue, Relation, RequestContext, Scopes,
};
use crate::plugins::PluginError;
use crate::plugins::{Plugin, PluginKind, PluginRuntime};

/// One request's view of its workspace's row authorizer.
pub struct RowAuthorizer<'a> {
    plugins: &'a PluginRuntime,
    plugin: Arc<Plugin>,
    workspace: &'a Workspace,
    principal: &'a Principal,
    /// Who is asking, built once for an installed authorizer (never for the
    /// built-in one, which is not called).
    context: Option<RequestContext>,
}

impl<'a> RowAuthorizer<'a> {
    /// The authorizer in force for `workspace` (installed, or the built-in allow-all).
    pub async fn resolve(
        plugins: &'a PluginRuntime,
        workspace: &'a Workspace,
        principal: &'a Principal,
    ) -> Result<Self, AuthorizerError> {
        let plugin = plugins
            .resolve(PluginKind::RowAuthorizer, Some(workspace.id))
            .await?;
        let context =
            (!plugin.is_builtin_allow_all()).then(|| request_context(workspace, principal));
        Ok(Self {
            plugins,
            plugin,
            workspace,
            principal,
            context,
        })
    }

    /// True for the built-in authorizer: everything is allowed with no predicates,
    /// known without a call.
    pub fn allows_everything(&self) -> bool {
        self.plugin.is_builtin_allow_all()
    }

    /// The authorizer's predicates for `action` on `schema.name`, resolved to values;
    /// a denial is a 403 carrying the authorizer's reason.
    pub async fn grants(
        &self,
        schema: &str,
        name: &str,
        action: Action,
    ) -> Result<Vec<Grant>, AuthorizerError> {
        let Some(context) = &self.context else {
            return Ok(Vec::new());
        };
        let relation = Relation {
            schema: schema.to_owned(),
            name: name.to_owned(),
        };
        let decision = self
            .plugins
            .authorize_with(&self.plugin, self.workspace.id, context, &relation, action)
            .await?;
        match decision {
            Decision::Deny(reason) => Err(AuthorizerError::Denied(format!(
                "the workspace's row authorizer denied {} on `{name}`: {reason}",
                action_name(action)
            ))),
            Decision::Allow(predicates) => Ok(predicates
                .into_iter()
                .map(|p| Grant {
                    column: p.column,
                    op: grant_op(p.comparison),
                    value: self.value(p.value),
                })
                .collect()),
        }
    }

    /// A predicate's value for this caller.
    fn value(&self, value: PredicateValue) -> GrantValue {
        match value {
            PredicateValue::Text(v) => GrantValue::One(v),
            PredicateValue::Texts(vs) => GrantValue::Many(vs),
            PredicateValue::Subject => GrantValue::One(self.principal.user_id()),
            PredicateValue::TenantId => GrantValue::One(self.workspace.tenant_id.clone()),
            PredicateValue::WorkspaceId => GrantValue::One(self.workspace.id.to_string()),
            PredicateValue::Claim(name) => match self.principal.claims.get(&name) {
                Some(serde_json::Value::String(s)) => GrantValue::One(s.clone()),
                Some(serde_json::Value::Null) | None => GrantValue::Missing,
                Some(other) => GrantValue::One(other.to_string()),
            },
        }
    }
}

/// Who is asking, as the authorizer's WIT describes it.
fn request_context(workspace: &Workspace, principal: &Principal) -> RequestContext {
    let mut scopes = Scopes::empty();
    for (scope, flag) in [
        (Scope::PostgresRead, Scopes::POSTGRES_READ),
        (Scope::PostgresWrite, Scopes::POSTGRES_WRITE),
        (Scope::WorkspaceView, Scopes::WORKSPACE_VIEW),
        (Scope::WorkspaceUpdate, Scopes::WORKSPACE_UPDATE),
        (Scope::VaultRead, Scopes::VAULT_READ),
        (Scope::VaultWrite, Scopes::VAULT_WRITE),
        (Scope::VaultDelete, Scopes::VAULT_DELETE),
        (Scope::VaultDdl, Scopes::VAULT_DDL),
        (Scope::IngestionRead, Scopes::INGESTION_READ),
        (Scope::IngestionAdmin, Scopes::INGESTION_ADMIN),
        (Scope::PluginsAdmin, Scopes::PLUGINS_ADMIN),
    ] {
        if principal.scopes.contains(scope) {
            scopes |= flag;
        }
    }
    RequestContext {
        workspace_id: workspace.id.to_string(),
        tenant_id: workspace.tenant_id.clone(),
        subject: principal.user_id(),
        credential: match principal.credential {
            Credential::Admin => CredentialKind::Admin,
            Credential::ApiKey { .. } => CredentialKind::ApiKey,
            Credential::Jwt { .. } => CredentialKind::Jwt,
        },
        scopes,
        claims: match &principal.credential {
            Credential::Jwt { .. } => principal.claims.to_string(),
            _ => "{}".into(),
        },
    }
}

/// Why the row authorizer did not grant an action.
#[derive(Debug, thiserror::Error)]
pub enum AuthorizerError {
    /// It denied the action (or a written row falls outside what it allows).
    #[error("{0}")]
    Denied(String),
    /// It could not be resolved or called.
    #[error(transparent)]
    Plugin(#[from] PluginError),
}

/// A 403 refusal by the row authorizer, as an API answer.
pub fn denied(message: String) -> ApiError {
    AuthorizerError::Denied(message).into()
}

fn grant_op(comparison: Comparison) -> GrantOp {
    match comparison {
        Comparison::Eq => GrantOp::Compare(CompareOp::Eq),
        Comparison::Neq => GrantOp::Compare(CompareOp::Neq),
        Comparison::Gt => GrantOp::Compare(CompareOp::Gt),
        Comparison::Gte => GrantOp::Compare(CompareOp::Gte),
        Comparison::Lt => GrantOp::Compare(CompareOp::Lt),
        Comparison::Lte => GrantOp::Compare(CompareOp::Lte),
        Comparison::In => GrantOp::In,
        Comparison::IsNull => GrantOp::IsNull,
        Comparison::IsNotNull => GrantOp::IsNotNull,
    }
}

fn action_name(action: Action) -> &'static str {
    match action {
        Action::Select => "reading",
        Action::Insert => "inserting",
        Action::Update => "updating",
        Action::Delete => "deleting",
    }
}
