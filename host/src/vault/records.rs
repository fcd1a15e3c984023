//! Documents: query, count, create, replace and delete, each checked against the
//! collection's schema and the workspace's validation hooks first.

use serde_json::value::RawValue;
use serde_json::{json, Value};

use crate::control::vault::CollectionEntry;
use crate::error::{ApiError, Code};
use crate::plugins::validation_types::{Operation, Target, TargetKind, Verdict};

use super::spec::QueryBody;
use super::{filter, schema, wit_collection, QueryPage, Vault, DEFAULT_LIMIT, MAX_LIMIT};

impl Vault<'_> {
    /// `POST collections/{name}/query`.
    pub(super) async fn run_query(
        &self,
        entry: &CollectionEntry,
        body: &QueryBody,
    ) -> Result<QueryPage, ApiError> {
        let limit = body.limit.unwrap_or(DEFAULT_LIMIT);
        if limit == 0 || limit > MAX_LIMIT {
            return Err(ApiError::bad_request(format!(
                "limit must be between 1 and {MAX_LIMIT}"
            )));
        }
        let offset = body.offset.unwrap_or(0);
        let fields = schema::from_stored(&entry.fields);
        let known = |path: &str| -> bool {
            match path.strip_suffix(".*") {
                Some(parent) => fields
                    .iter()
                    .any(|f| f.spec.path.starts_with(&format!("{parent}."))),
                None => fields.iter().any(|f| f.spec.path == path),
            }
        };
        let request = filter::build(
            body.filter.as_ref(),
            body.sort.as_deref().unwrap_or(&[]),
            body.projection.as_deref(),
            limit,
            offset,
            &known,
        )
        .map_err(|e| ApiError::bad_request(e.0))?;
        let collection = wit_collection(entry);
        let page = self
            .engine(&entry.engine, move |store, guest| {
                Box::pin(async move { guest.call_query(store, &collection, &request).await })
            })
            .await?;
        let items: Vec<Box<RawValue>> = page
            .items
            .into_iter()
            .map(|text| RawValue::from_string(text).unwrap_or_else(|_| RawValue::NULL.to_owned()))
            .collect();
        let next = offset as u64 + items.len() as u64;
        let has_more = next < page.total;
        Ok(QueryPage {
            items,
            total: page.total,
            has_more,
            next_offset: has_more.then_some(next),
        })
    }

    /// `GET collections/{name}/count`.
    pub async fn count(&self, name: &str) -> Result<Value, ApiError> {
        self.on_collection(name, |entry| async move { self.run_count(&entry).await })
            .await
    }

    pub(super) async fn run_count(&self, entry: &CollectionEntry) -> Result<Value, ApiError> {
        let collection = wit_collection(entry);
        let count = self
            .engine(&entry.engine, move |store, guest| {
                Box::pin(async move { guest.call_count(store, &collection).await })
            })
            .await?;
        Ok(json!({ "count": count }))
    }

    pub(super) async fn validate(
        &self,
        entry: &CollectionEntry,
        operation: Operation,
        record: &Value,
    ) -> Result<String, ApiError> {
        let Value::Object(map) = record else {
            return Err(ApiError::bad_request("record must be a JSON object"));
        };
        if map.contains_key("_id") {
            return Err(ApiError::bad_request(
                "record must not carry `_id`: the vault assigns it",
            ));
        }
        let document = record.to_string();
        let schema = entry.json_schema.to_string();
        let key = format!("{}:{}", entry.name, entry.created_at.timestamp_micros());
        let target = Target {
            kind: TargetKind::Collection,
            name: entry.name.clone(),
        };
        let verdict = self
            .plugins
            .validate_document(
                self.workspace.id,
                &target,
                operation,
                &key,
                &schema,
                &document,
            )
            .await?;
        match verdict {
            Verdict::Accept => Ok(document),
            Verdict::Reject(violations) => {
                let list: Vec<Value> = violations
                    .iter()
                    .map(|v| json!({ "path": v.path, "message": v.message }))
                    .collect();
                let summary = violations
                    .iter()
                    .take(3)
                    .map(|v| {
                        format!(
                            "{}: {}",
                            if v.path.is_empty() { "/" } else { &v.path },
                            v.message
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; ");
                Err(ApiError::new(
                    Code::ValidationFailed,
                    format!("the record does not match the collection's schema: {summary}"),
                )
                .with_details(json!({ "violations": list })))
            }
        }
    }

    /// `POST collections/{name}`: 201 with the stored document.
    pub(super) async fn run_create_record(
        &self,
        entry: &CollectionEntry,
        id: &str,
        record: &Value,
    ) -> Result<Value, ApiError> {
        let document = self.validate(entry, Operation::Create, record).await?;
        let collection = wit_collection(entry);
        let doc_id = id.to_owned();
        let stored = self
            .engine(&entry.engine, move |store, guest| {
                Box::pin(async move {
                    guest
                        .call_insert(store, &collection, &doc_id, &document)
                        .await
                })
            })
            .await?;
        Ok(json!({ "document": serde_json::from_str::<Value>(&stored).unwrap_or(Value::Null) }))
    }

    /// `PUT collections/{name}/{id}`: the replaced document, or 404.
    pub(super) async fn run_update_record(
        &self,
        entry: &CollectionEntry,
        id: &str,
        record: &Value,
    ) -> Result<Value, ApiError> {
        let document = self.validate(entry, Operation::Update, record).await?;
        let collection = wit_collection(entry);
        let doc_id = id.to_owned();
        let stored = self
            .engine(&entry.engine, move |store, guest| {
                Box::pin(async move {
                    guest
                        .call_update(store, &collection, &doc_id, &document)
                        .await
                })
            })
            .await?
            .ok_or_else(|| {
                ApiError::not_found(format!(
                    "document `{id}` does not exist in `{}`",
                    entry.name
                ))
            })?;
        Ok(json!({ "document": serde_json::from_str::<Value>(&stored).unwrap_or(Value::Null) }))
    }

    /// `DELETE collections/{name}/{id}`: 204, or 404.
    pub(super) async fn run_delete_record(
        &self,
        entry: &CollectionEntry,
        id: &str,
    ) -> Result<(), ApiError> {
        let collection = wit_collection(entry);
        let doc_id = id.to_owned();
        let deleted = self
            .engine(&entry.engine, move |store, guest| {
                Box::pin(async move { guest.call_delete(store, &collection, &doc_id).await })
            })
            .await?;
        if !deleted {
            return Err(ApiError::not_found(format!(
                "document `{id}` does not exist in `{}`",
                entry.name
            )));
        }
        Ok(())
    }
}
