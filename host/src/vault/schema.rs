//! A collection's schema in its three forms: the JSON Schema clients give (or that
//! is derived from the native `fields` shape), the flattened fields the schema
//! endpoint shows, and the typed field list the engine adapters store.

use serde_json::{json, Map, Value};

use crate::plugins::vault_types::{FieldSpec, FieldType};

/// A field path segment: letters, digits and `_`, starting with a letter or `_`.
pub fn is_field_segment(segment: &str) -> bool {
    let mut chars = segment.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && segment.len() <= 63
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The wire name of a field type.
pub fn field_type_name(ty: FieldType) -> &'static str {
    match ty {
        FieldType::Text => "text",
        FieldType::Integer => "integer",
        FieldType::Number => "number",
        FieldType::Boolean => "boolean",
        FieldType::Json => "json",
        FieldType::Timestamp => "timestamp",
    }
}

/// Parses a field type name.
pub fn parse_field_type(name: &str) -> Option<FieldType> {
    Some(match name {
        "text" | "string" => FieldType::Text,
        "integer" => FieldType::Integer,
        "number" | "float" => FieldType::Number,
        "boolean" | "bool" => FieldType::Boolean,
        "json" | "object" | "array" => FieldType::Json,
        "timestamp" => FieldType::Timestamp,
        _ => return None,
    })
}

/// The JSON Schema type of a field type.
fn json_type(ty: FieldType) -> Value {
    match ty {
        FieldType::Text => json!({"type": "string"}),
        FieldType::Integer => json!({"type": "integer"}),
        FieldType::Number => json!({"type": "number"}),
        FieldType::Boolean => json!({"type": "boolean"}),
        FieldType::Json => json!({}),
        FieldType::Timestamp => json!({"type": "string", "format": "date-time"}),
    }
}

/// A flattened field with its description.
#[derive(Debug, Clone)]
pub struct Field {
    /// The typed spec.
    pub spec: FieldSpec,
    /// Free text.
    pub description: Option<String>,
}

/// Flattens a JSON Schema's properties: nested objects with `properties` become
/// dotted paths; arrays and free-form objects are `json`. Errors name the path.
pub fn flatten(schema: &Value) -> Result<Vec<Field>, String> {
    if schema.get("type").and_then(Value::as_str) != Some("object") {
        return Err("json_schema must have \"type\": \"object\"".into());
    }
    let mut out = Vec::new();
    walk(schema, "", &mut out, 0)?;
    Ok(out)
}

fn walk(schema: &Value, prefix: &str, out: &mut Vec<Field>, depth: usize) -> Result<(), String> {
    if depth > 8 {
        return Err(format!("`{prefix}` nests objects deeper than 8 levels"));
    }
    let Some(properties) = schema.get("properties") else {
        return Ok(());
    };
    let properties = properties
        .as_object()
        .ok_or_else(|| format!("`{prefix}properties` must be an object"))?;
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let indexed: Vec<&str> = schema
        .get("x-indexed")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for (name, property) in properties {
        if !is_field_segment(name) {
            return Err(format!(
                "property `{prefix}{name}`: names must be letters, digits and _ (at most 63)"
            ));
        }
        let path = format!("{prefix}{name}");
        let ty = property.get("type").and_then(Value::as_str);
        let format = property.get("format").and_then(Value::as_str);
        if ty == Some("object") && property.get("properties").is_some() {
            walk(property, &format!("{path}."), out, depth + 1)?;
            continue;
        }
        let field_type = match (ty, format) {
            (Some("string"), Some("date-time")) => FieldType::Timestamp,
            (Some("string"), _) => FieldType::Text,
            (Some("integer"), _) => FieldType::Integer,
            (Some("number"), _) => FieldType::Number,
            (Some("boolean"), _) => FieldType::Boolean,
            _ => FieldType::Json,
        };
        out.push(Field {
            spec: FieldSpec {
                path,
                field_type,
                required: required.contains(&name.as_str()),
                indexed: indexed.contains(&name.as_str())
                    || property.get("x-indexed").and_then(Value::as_bool) == Some(true),
            },
            description: property
                .get("description")
                .and_then(Value::as_str)
                .map(str::to_owned),
        });
    }
    Ok(())
}

/// Builds the JSON Schema of the native `fields` shape (dotted names nest).
pub fn from_fields(fields: &[Field]) -> Value {
    let mut root = Map::new();
    root.insert("type".into(), json!("object"));
    for field in fields {
        let segments: Vec<&str> = field.spec.path.split('.').collect();
        let mut node = &mut root;
        for segment in &segments[..segments.len() - 1] {
            let properties = node
                .entry("properties")
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .expect("properties is an object");
            node = properties
                .entry(segment.to_string())
                .or_insert_with(|| json!({"type": "object"}))
                .as_object_mut()
                .expect("a nested schema is an object");
        }
        let leaf = segments[segments.len() - 1];
        let mut schema = json_type(field.spec.field_type);
        if let (Some(description), Some(map)) = (&field.description, schema.as_object_mut()) {
            map.insert("description".into(), json!(description));
        }
        if field.spec.indexed {
            if let Some(map) = schema.as_object_mut() {
                map.insert("x-indexed".into(), json!(true));
            }
        }
        node.entry("properties")
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .expect("properties is an object")
            .insert(leaf.to_owned(), schema);
        if field.spec.required {
            node.entry("required")
                .or_insert_with(|| json!([]))
                .as_array_mut()
                .expect("required is an array")
                .push(json!(leaf));
        }
    }
    Value::Object(root)
}

/// The fields as stored in the control database.
pub fn to_stored(fields: &[Field]) -> Value {
    Value::Array(
        fields
            .iter()
            .map(|f| {
                json!({
                    "path": f.spec.path,
                    "field_type": field_type_name(f.spec.field_type),
                    "required": f.spec.required,
                    "indexed": f.spec.indexed,
                    "description": f.description,
                })
            })
            .collect(),
    )
}

/// The fields back from the control database.
pub fn from_stored(stored: &Value) -> Vec<Field> {
    stored
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| {
            Some(Field {
                spec: FieldSpec {
                    path: f.get("path")?.as_str()?.to_owned(),
                    field_type: parse_field_type(f.get("field_type")?.as_str()?)?,
                    required: f.get("required").and_then(Value::as_bool).unwrap_or(false),
                    indexed: f.get("indexed").and_then(Value::as_bool).unwrap_or(false),
                },
                description: f
                    .get("description")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            })
        })
        .collect()
}

/// The schema endpoint's view of a field: its JSON Schema type name.
pub fn describe(field: &Field) -> Value {
    let ty = match field.spec.field_type {
        FieldType::Text | FieldType::Timestamp => "string",
        FieldType::Integer => "integer",
        FieldType::Number => "number",
        FieldType::Boolean => "boolean",
        FieldType::Json => "json",
    };
    json!({
        "name": field.spec.path,
        "type": ty,
        "required": field.spec.required,
        "description": field.description,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_objects_flatten_to_dotted_paths_and_back() {
        let schema = json!({
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "address": {"type": "object", "properties": {"zip": {"type": "string"}}, "required": ["zip"]},
                "tags": {"type": "array"},
                "at": {"type": "string", "format": "date-time"}
            },
            "required": ["name"]
        });
        let fields = flatten(&schema).unwrap();
        let paths: Vec<&str> = fields.iter().map(|f| f.spec.path.as_str()).collect();
        assert_eq!(paths, ["address.zip", "at", "name", "tags"]);
        assert!(fields[0].spec.required);
        assert_eq!(fields[1].spec.field_type, FieldType::Timestamp);
        assert_eq!(fields[3].spec.field_type, FieldType::Json);
        let rebuilt = from_fields(&fields);
        assert_eq!(flatten(&rebuilt).unwrap().len(), 4);
        assert!(flatten(&json!({"type": "array"})).is_err());
        assert!(flatten(&json!({"type": "object", "properties": {"a b": {}}})).is_err());
    }
}
