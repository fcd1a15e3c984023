//! The request shapes of the Data Vault (seed 003).

use serde::Deserialize;
use serde_json::Value;

/// `POST .../vault/collections`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateCollection {
    /// The collection.
    pub schema: CollectionSpec,
}

/// A new collection: the `json_schema` shape or the native `fields` shape.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectionSpec {
    /// Name (`^[a-z][a-z0-9_]{0,62}$`).
    pub name: String,
    /// `postgres` or `clickhouse` (the UI shape).
    #[serde(default)]
    pub engine: Option<String>,
    /// The engine, in the native shape.
    #[serde(default)]
    pub connection: Option<String>,
    /// A JSON Schema with `type: object`.
    #[serde(default)]
    pub json_schema: Option<Value>,
    /// Native field list.
    #[serde(default)]
    pub fields: Option<Vec<NativeField>>,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
}

/// A field in the native shape.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NativeField {
    /// Name (dotted for nested fields).
    pub name: String,
    /// `text`, `integer`, `number`, `boolean`, `json` or `timestamp`.
    pub field_type: String,
    /// Whether documents must have it.
    #[serde(default)]
    pub required: bool,
    /// Whether the engine should index it.
    #[serde(default)]
    pub indexed: bool,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
}

/// `POST .../query`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueryBody {
    /// Field equality (`{"status": "active"}`) or the operator form.
    #[serde(default)]
    pub filter: Option<Value>,
    /// Field names, `-` prefixed for descending.
    #[serde(default)]
    pub sort: Option<Vec<String>>,
    /// Top-level fields to return.
    #[serde(default)]
    pub projection: Option<Vec<String>>,
    /// Page size (default 50, at most 500).
    #[serde(default)]
    pub limit: Option<u32>,
    /// Documents to skip.
    #[serde(default)]
    pub offset: Option<u32>,
}

/// `POST .../collections/{name}` and `PUT .../{id}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordBody {
    /// The document.
    pub record: Value,
}
