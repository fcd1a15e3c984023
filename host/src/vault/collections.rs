//! Collections: list, schema, create (from JSON Schema or fields) and drop.

use serde_json::{json, Value};
use uuid::Uuid;

use crate::control::vault::CollectionEntry;
use crate::error::ApiError;
use crate::tables::validate::is_valid_name;

use super::schema::Field;
use super::spec::CollectionSpec;
use super::{schema, wit_collection, Vault, ENGINES};

impl Vault<'_> {
    /// `GET collections`: name, engine, document count, description.
    pub async fn list(&self) -> Result<Value, ApiError> {
        let mut out = Vec::new();
        for entry in self.tenancy.control.collections(self.workspace.id).await? {
            let collection = wit_collection(&entry);
            let count = self
                .engine(&entry.engine, move |store, guest| {
                    Box::pin(async move { guest.call_count(store, &collection).await })
                })
                .await?;
            out.push(json!({
                "name": entry.name,
                "engine": entry.engine,
                "document_count": count,
                "description": entry.description,
            }));
        }
        Ok(json!({ "collections": out }))
    }

    /// `GET collections/{name}/schema`.
    pub async fn schema(&self, name: &str) -> Result<Value, ApiError> {
        let entry = self.entry(name).await?;
        let fields: Vec<Value> = schema::from_stored(&entry.fields)
            .iter()
            .map(schema::describe)
            .collect();
        Ok(json!({
            "name": entry.name,
            "engine": entry.engine,
            "fields": fields,
            "raw_schema": entry.json_schema,
        }))
    }

    /// `POST collections`: 201 with the collection.
    pub(super) async fn run_create_collection(
        &self,
        spec: CollectionSpec,
    ) -> Result<Value, ApiError> {
        if !is_valid_name(&spec.name) {
            return Err(ApiError::bad_request(format!(
                "schema.name `{}` must match ^[a-z][a-z0-9_]{{0,62}}$",
                spec.name
            )));
        }
        let engine = match (spec.engine.as_deref(), spec.connection.as_deref()) {
            (Some(a), Some(b)) if a != b => {
                return Err(ApiError::bad_request(
                    "schema.engine and schema.connection disagree",
                ))
            }
            (Some(e), _) | (None, Some(e)) => e.to_owned(),
            (None, None) => "postgres".to_owned(),
        };
        if !ENGINES.contains(&engine.as_str()) {
            return Err(ApiError::bad_request(format!(
                "engine `{engine}` is not one of {}",
                ENGINES.join(", ")
            )));
        }
        if engine == "clickhouse" {
            self.ensure_clickhouse_database().await?;
        }
        let (json_schema, fields) = match (spec.json_schema, spec.fields) {
            (Some(schema), None) => {
                let fields = schema::flatten(&schema)
                    .map_err(|e| ApiError::bad_request(format!("schema.json_schema: {e}")))?;
                (schema, fields)
            }
            (None, Some(native)) => {
                let mut fields = Vec::new();
                for (i, f) in native.iter().enumerate() {
                    if f.name.split('.').any(|s| !schema::is_field_segment(s)) {
                        return Err(ApiError::bad_request(format!(
                            "schema.fields[{i}].name `{}`: names are letters, digits and _ (dots nest)",
                            f.name
                        )));
                    }
                    let field_type = schema::parse_field_type(&f.field_type).ok_or_else(|| {
                        ApiError::bad_request(format!(
                            "schema.fields[{i}].field_type `{}` is not one of text, integer, number, boolean, json, timestamp",
                            f.field_type
                        ))
                    })?;
                    fields.push(Field {
                        spec: crate::plugins::vault_types::FieldSpec {
                            path: f.name.clone(),
                            field_type,
                            required: f.required,
                            indexed: f.indexed,
                        },
                        description: f.description.clone(),
                    });
                }
                (schema::from_fields(&fields), fields)
            }
            _ => {
                return Err(ApiError::bad_request(
                    "give exactly one of schema.json_schema and schema.fields",
                ))
            }
        };
        let entry = CollectionEntry {
            workspace_id: self.workspace.id,
            name: spec.name.clone(),
            engine: engine.clone(),
            storage_name: format!("c_{}", &Uuid::new_v4().simple().to_string()[..16]),
            description: spec.description,
            json_schema,
            fields: schema::to_stored(&fields),
            created_at: chrono::Utc::now(),
        };
        if !self.tenancy.control.insert_collection(&entry).await? {
            return Err(ApiError::conflict(format!(
                "a collection named `{}` already exists",
                entry.name
            )));
        }
        let collection = wit_collection(&entry);
        let created = self
            .engine(&engine, move |store, guest| {
                Box::pin(async move { guest.call_create_collection(store, &collection).await })
            })
            .await;
        if let Err(error) = created {
            if let Err(e) = self
                .tenancy
                .control
                .delete_collection(self.workspace.id, &entry.name)
                .await
            {
                tracing::error!(error = %e, "could not forget a collection whose storage failed");
            }
            self.tenancy
                .collections
                .forget(self.workspace.id, &entry.name)
                .await;
            return Err(error);
        }
        Ok(json!({
            "name": entry.name,
            "engine": entry.engine,
            "document_count": 0,
            "description": entry.description,
        }))
    }

    /// `DELETE collections/{name}`: drops the storage and forgets the collection.
    pub(super) async fn run_drop_collection(&self, name: &str) -> Result<(), ApiError> {
        let entry = self.entry(name).await?;
        let collection = wit_collection(&entry);
        self.engine(&entry.engine, move |store, guest| {
            Box::pin(async move { guest.call_drop_collection(store, &collection).await })
        })
        .await?;
        self.tenancy
            .control
            .delete_collection(self.workspace.id, name)
            .await?;
        self.tenancy
            .collections
            .forget(self.workspace.id, name)
            .await;
        Ok(())
    }
}
