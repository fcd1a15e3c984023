//! The validation-policy world: may this record be written?

use uuid::Uuid;

use super::registry::Exports;
use super::validation_types::{Operation, Target, Verdict};
use super::{PluginError, PluginFault, PluginKind, PluginRuntime};

/// Most violations accepted from a policy.
pub const MAX_VIOLATIONS: usize = 1000;

impl PluginRuntime {
    /// Validates `document` (JSON text) against `schema` with the workspace's policy.
    pub async fn validate_document(
        &self,
        workspace: Uuid,
        target: &Target,
        operation: Operation,
        schema_key: &str,
        schema: &str,
        document: &str,
    ) -> Result<Verdict, PluginError> {
        let plugin = self
            .resolve(PluginKind::ValidationPolicy, Some(workspace))
            .await?;
        let (target, schema_key, schema, document) = (
            target.clone(),
            schema_key.to_owned(),
            schema.to_owned(),
            document.to_owned(),
        );
        let answer = self
            .invoke(&plugin, Some(workspace), move |store, exports| {
                Box::pin(async move {
                    match exports {
                        Exports::Validation(guest) => {
                            guest
                                .call_validate(
                                    store,
                                    &target,
                                    operation,
                                    &schema_key,
                                    &schema,
                                    &document,
                                )
                                .await
                        }
                        _ => Err(wasmtime::Error::msg("not a validation policy")),
                    }
                })
            })
            .await?;
        let fault =
            |m: String| PluginError::new(plugin.kind, &plugin.name, PluginFault::BadOutput(m));
        match answer {
            Ok(Verdict::Reject(violations)) if violations.is_empty() => {
                Err(fault("a rejection without any violation".into()))
            }
            Ok(Verdict::Reject(violations)) if violations.len() > MAX_VIOLATIONS => {
                Err(fault(format!(
                    "{} violations; at most {MAX_VIOLATIONS} are accepted",
                    violations.len()
                )))
            }
            Ok(verdict) => Ok(verdict),
            Err(message) => Err(PluginError::new(
                plugin.kind,
                &plugin.name,
                PluginFault::Invalid(format!("refused the schema: {message}")),
            )),
        }
    }
}
