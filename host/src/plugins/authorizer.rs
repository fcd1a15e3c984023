//! The row-authorizer world: may this caller do this action on this relation, and on
//! which rows?

use std::sync::Arc;

use uuid::Uuid;

use super::authorizer_types::{Action, Decision, PredicateValue, Relation, RequestContext};
use super::registry::{Exports, Plugin};
use super::{PluginError, PluginFault, PluginKind, PluginRuntime};

/// Most predicates an authorizer may add to one statement.
pub const MAX_PREDICATES: usize = 64;

impl PluginRuntime {
    /// Asks the workspace's authorizer.
    pub async fn authorize(
        &self,
        workspace: Uuid,
        context: &RequestContext,
        relation: &Relation,
        action: Action,
    ) -> Result<Decision, PluginError> {
        let plugin = self
            .resolve(PluginKind::RowAuthorizer, Some(workspace))
            .await?;
        self.authorize_with(&plugin, workspace, context, relation, action)
            .await
    }

    /// Asks a given authorizer plugin (always a call, even for the built-in one).
    pub async fn authorize_with(
        &self,
        plugin: &Arc<Plugin>,
        workspace: Uuid,
        context: &RequestContext,
        relation: &Relation,
        action: Action,
    ) -> Result<Decision, PluginError> {
        let (context, relation) = (context.clone(), relation.clone());
        let decision = self
            .invoke(plugin, Some(workspace), move |store, exports| {
                Box::pin(async move {
                    match exports {
                        Exports::Authorizer(guest) => {
                            guest
                                .call_authorize(store, &context, &relation, action)
                                .await
                        }
                        _ => Err(wasmtime::Error::msg("not a row authorizer")),
                    }
                })
            })
            .await?;
        if let Decision::Allow(predicates) = &decision {
            let bad =
                |m: String| PluginError::new(plugin.kind, &plugin.name, PluginFault::BadOutput(m));
            if predicates.len() > MAX_PREDICATES {
                return Err(bad(format!(
                    "{} predicates; at most {MAX_PREDICATES} are accepted",
                    predicates.len()
                )));
            }
            for p in predicates {
                if let PredicateValue::Texts(list) = &p.value {
                    if list.len() > 1000 {
                        return Err(bad("an `in` list of more than 1000 values".into()));
                    }
                }
            }
        }
        Ok(decision)
    }
}
