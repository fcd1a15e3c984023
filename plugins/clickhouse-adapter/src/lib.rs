//! The `clickhouse` vault engine adapter. A collection is a MergeTree table in the
//! workspace's ClickHouse database (the host's HTTP capability pins every request to
//! it): `_id`, `_seq` (insertion order), `_doc` (the document as JSON text) and one
//! typed `Nullable` column per schema field (`f0`, `f1`, ... in field order), which
//! filters and sorts use. Inserts go in as `JSONEachRow`; updates and deletes are
//! mutations (`ALTER TABLE ... UPDATE/DELETE`), and each call waits until its
//! mutation is done, so a caller reads its own writes. Mutations are not atomic
//! across tables and ClickHouse 18.16 has no transactions: a write that fails
//! half-way may leave the mutation applied.
//!
//! ClickHouse 18.16's HTTP interface has no query parameters, so literals are
//! escaped here ([`literal`]); everything else is a fixed keyword or a generated
//! column name.

wit_bindgen::generate!({
    path: "../../wit/vault",
    world: "clickhouse-adapter",
});

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use exports::plinth::vault::adapter::Guest;
use plinth::vault::http::{self, HttpError, Method, Request};
use plinth::vault::types::{
    Collection, Comparison, EngineError, FieldType, FilterNode, Page, QueryRequest, Scalar,
};
use serde_json::{Map, Value};
use vault_filter::{Dialect, Node, WalkError};

struct ClickHouse;

/// How often a mutation's completion is checked, and how many times.
const MUTATION_POLL: Duration = Duration::from_millis(20);
const MUTATION_POLLS: u32 = 1000;

/// A ClickHouse string literal: backslashes and quotes escaped.
fn literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\0' => out.push_str("\\0"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

fn table(collection: &Collection) -> String {
    format!("`{}`", collection.storage_name.replace('`', ""))
}

fn column_type(ty: FieldType) -> &'static str {
    match ty {
        FieldType::Text | FieldType::Json | FieldType::Timestamp => "Nullable(String)",
        FieldType::Integer => "Nullable(Int64)",
        FieldType::Number => "Nullable(Float64)",
        FieldType::Boolean => "Nullable(UInt8)",
    }
}

fn send(sql: String) -> Result<String, EngineError> {
    let response = http::send(&Request {
        method: Method::Post,
        path_and_query: "/".into(),
        body: sql.into_bytes(),
    })
    .map_err(|e| match e {
        HttpError::Refused(m) => EngineError::Failed(format!("the host refused the request: {m}")),
        HttpError::Unreachable(m) => EngineError::Unavailable(m),
        HttpError::Timeout => EngineError::Unavailable("ClickHouse did not answer in time".into()),
    })?;
    let body = String::from_utf8_lossy(&response.body).into_owned();
    if response.status == 200 {
        return Ok(body);
    }
    let code = body
        .strip_prefix("Code: ")
        .and_then(|rest| rest.split(',').next())
        .unwrap_or("");
    Err(match code {
        "60" | "81" => EngineError::NotFound(body.trim().to_owned()),
        "57" => EngineError::Conflict(body.trim().to_owned()),
        "6" | "27" | "38" | "41" | "53" | "70" | "72" => {
            EngineError::Invalid(body.trim().to_owned())
        }
        _ => EngineError::Failed(body.trim().to_owned()),
    })
}

/// The rows of a `FORMAT JSONEachRow` answer.
fn rows(body: &str) -> Result<Vec<Map<String, Value>>, EngineError> {
    body.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| match serde_json::from_str::<Value>(l) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(EngineError::Failed(format!(
                "unexpected ClickHouse output: {l}"
            ))),
        })
        .collect()
}

fn count(sql: String) -> Result<u64, EngineError> {
    let body = send(format!("{sql} FORMAT JSONEachRow"))?;
    let rows = rows(&body)?;
    let value = rows
        .first()
        .and_then(|r| r.values().next())
        .cloned()
        .unwrap_or(Value::Null);
    Ok(match value {
        Value::Number(n) => n.as_u64().unwrap_or(0),
        Value::String(s) => s.parse().unwrap_or(0),
        _ => 0,
    })
}

/// The value at a dotted path of a document.
fn at<'a>(document: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(document, |v, key| v.get(key))
}

/// The typed column values of a document, as JSON for `JSONEachRow`.
fn columns(collection: &Collection, document: &Value) -> Map<String, Value> {
    let mut out = Map::new();
    for (i, field) in collection.fields.iter().enumerate() {
        let value = at(document, &field.path).cloned().unwrap_or(Value::Null);
        let typed = match (field.field_type, &value) {
            (_, Value::Null) => Value::Null,
            (FieldType::Integer, Value::Number(n)) if n.is_i64() => value.clone(),
            (FieldType::Number, Value::Number(_)) => value.clone(),
            (FieldType::Boolean, Value::Bool(b)) => Value::from(u8::from(*b)),
            (FieldType::Text | FieldType::Timestamp, Value::String(_)) => value.clone(),
            (FieldType::Json, v) => Value::String(v.to_string()),
            _ => Value::Null,
        };
        out.insert(format!("f{i}"), typed);
    }
    out
}

/// The SQL literal of a typed column value (for mutations).
fn column_literal(value: &Value) -> String {
    match value {
        Value::Null => "NULL".into(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => literal(s),
        other => literal(&other.to_string()),
    }
}

/// Which field a path names: its column and type.
fn field(collection: &Collection, path: &str) -> Result<(String, FieldType), EngineError> {
    collection
        .fields
        .iter()
        .position(|f| f.path == path)
        .map(|i| (format!("f{i}"), collection.fields[i].field_type))
        .ok_or_else(|| EngineError::Invalid(format!("`{path}` is not a field of the collection")))
}

/// A scalar as a literal of the column's type, or `None` when it cannot equal any
/// value of that column (so the comparison matches nothing, as on every engine).
fn typed_scalar(ty: FieldType, value: &Scalar) -> Option<String> {
    match (ty, value) {
        (FieldType::Integer | FieldType::Number, Scalar::Integer(i)) => Some(i.to_string()),
        (FieldType::Integer | FieldType::Number, Scalar::Number(n)) if n.is_finite() => {
            Some(format!("{n:?}"))
        }
        (FieldType::Boolean, Scalar::Boolean(b)) => Some(u8::from(*b).to_string()),
        (FieldType::Text | FieldType::Timestamp, Scalar::Text(t)) => Some(literal(t)),
        _ => None,
    }
}

/// Writes a filter's conditions over a collection's typed columns.
struct Conditions<'a> {
    collection: &'a Collection,
}

impl From<WalkError> for EngineError {
    fn from(error: WalkError) -> Self {
        EngineError::Invalid(error.to_string())
    }
}

/// The node at an index of the request's flat tree, as the shared walk sees it.
fn node_at<'a>(nodes: &'a [FilterNode]) -> impl Fn(u32) -> Option<Node<'a, FilterNode>> + 'a {
    move |index| {
        Some(match nodes.get(index as usize)? {
            FilterNode::All(children) => Node::All(children),
            FilterNode::Any(children) => Node::Any(children),
            FilterNode::Not(child) => Node::Not(*child),
            leaf => Node::Leaf(leaf),
        })
    }
}

impl Dialect for Conditions<'_> {
    type Leaf = FilterNode;
    type Error = EngineError;

    fn leaf(&mut self, node: &FilterNode) -> Result<String, EngineError> {
        Ok(match node {
            FilterNode::Compare(c) => {
                let (column, ty) = field(self.collection, &c.field)?;
                if let Scalar::Null = c.value {
                    return Ok(match c.comparison {
                        Comparison::Eq => format!("isNull({column})"),
                        Comparison::Ne => format!("isNotNull({column})"),
                        _ => "0".into(),
                    });
                }
                let op = match c.comparison {
                    Comparison::Eq => "=",
                    Comparison::Ne => "!=",
                    Comparison::Gt => ">",
                    Comparison::Gte => ">=",
                    Comparison::Lt => "<",
                    Comparison::Lte => "<=",
                };
                match (typed_scalar(ty, &c.value), c.comparison) {
                    (Some(value), Comparison::Ne) => {
                        format!("(isNull({column}) OR {column} != {value})")
                    }
                    (Some(value), _) => format!("ifNull({column} {op} {value}, 0)"),
                    (None, Comparison::Ne) => "1".into(),
                    (None, _) => "0".into(),
                }
            }
            FilterNode::MemberOf(m) => {
                let (column, ty) = field(self.collection, &m.field)?;
                let values: Vec<String> = m
                    .values
                    .iter()
                    .filter_map(|v| typed_scalar(ty, v))
                    .collect();
                if values.is_empty() {
                    "0".into()
                } else {
                    format!("ifNull({column} IN ({}), 0)", values.join(", "))
                }
            }
            FilterNode::Presence(p) => {
                let (column, _) = field(self.collection, &p.field)?;
                if p.exists {
                    format!("isNotNull({column})")
                } else {
                    format!("isNull({column})")
                }
            }
            FilterNode::All(_) | FilterNode::Any(_) | FilterNode::Not(_) => {
                return Err(EngineError::Invalid(
                    "a connective is not a condition".into(),
                ))
            }
        })
    }

    fn all(&mut self, parts: Vec<String>) -> String {
        match parts.is_empty() {
            true => "1".into(),
            false => format!("({})", parts.join(" AND ")),
        }
    }

    fn any(&mut self, parts: Vec<String>) -> String {
        match parts.is_empty() {
            true => "0".into(),
            false => format!("({})", parts.join(" OR ")),
        }
    }

    fn not(&mut self, part: String) -> String {
        format!("NOT ({part})")
    }
}

fn wait_for_mutations(collection: &Collection) -> Result<(), EngineError> {
    let table = literal(&collection.storage_name);
    for _ in 0..MUTATION_POLLS {
        let pending = count(format!(
            "SELECT count() FROM system.mutations WHERE database = currentDatabase() AND table = {table} AND is_done = 0"
        ))?;
        if pending == 0 {
            return Ok(());
        }
        std::thread::sleep(MUTATION_POLL);
    }
    Err(EngineError::Failed(
        "the mutation did not finish in time".into(),
    ))
}

fn exists(collection: &Collection, id: &str) -> Result<bool, EngineError> {
    Ok(count(format!(
        "SELECT count() FROM {} WHERE _id = {}",
        table(collection),
        literal(id)
    ))? > 0)
}

fn with_id(doc: &str, id: &str) -> String {
    match serde_json::from_str::<Value>(doc) {
        Ok(Value::Object(mut map)) => {
            map.insert("_id".into(), Value::String(id.to_owned()));
            Value::Object(map).to_string()
        }
        _ => doc.to_owned(),
    }
}

impl Guest for ClickHouse {
    fn create_collection(collection: Collection) -> Result<(), EngineError> {
        let mut columns = vec![
            "_id String".to_owned(),
            "_seq UInt64".to_owned(),
            "_doc String".to_owned(),
        ];
        for (i, field) in collection.fields.iter().enumerate() {
            columns.push(format!("f{i} {}", column_type(field.field_type)));
        }
        send(format!(
            "CREATE TABLE {} ({}) ENGINE = MergeTree ORDER BY _id",
            table(&collection),
            columns.join(", ")
        ))?;
        Ok(())
    }

    fn drop_collection(collection: Collection) -> Result<(), EngineError> {
        send(format!("DROP TABLE IF EXISTS {}", table(&collection)))?;
        Ok(())
    }

    fn query(collection: Collection, request: QueryRequest) -> Result<Page, EngineError> {
        let filter = match request.root {
            Some(root) => {
                let mut conditions = Conditions {
                    collection: &collection,
                };
                vault_filter::walk(&mut conditions, &node_at(&request.nodes), root)?
            }
            None => "1".into(),
        };
        let table = table(&collection);
        let total = count(format!("SELECT count() FROM {table} WHERE {filter}"))?;
        let mut order = Vec::new();
        for key in &request.sort {
            let (column, _) = field(&collection, &key.field)?;
            order.push(format!(
                "{column} {} NULLS LAST",
                if key.descending { "DESC" } else { "ASC" }
            ));
        }
        order.push("_seq, _id".into());
        let body = send(format!(
            "SELECT _id, _doc FROM {table} WHERE {filter} ORDER BY {} LIMIT {}, {} FORMAT JSONEachRow",
            order.join(", "),
            request.offset,
            request.limit
        ))?;
        let mut items = Vec::new();
        for row in rows(&body)? {
            let id = row
                .get("_id")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            let doc: Value = row
                .get("_doc")
                .and_then(Value::as_str)
                .and_then(|d| serde_json::from_str(d).ok())
                .unwrap_or(Value::Object(Map::new()));
            let mut out = match (&request.projection, doc) {
                (Some(fields), Value::Object(map)) => map
                    .into_iter()
                    .filter(|(k, _)| fields.contains(k))
                    .collect::<Map<_, _>>(),
                (None, Value::Object(map)) => map,
                _ => Map::new(),
            };
            out.insert("_id".into(), Value::String(id));
            items.push(Value::Object(out).to_string());
        }
        Ok(Page { items, total })
    }

    fn count(collection: Collection) -> Result<u64, EngineError> {
        count(format!("SELECT count() FROM {}", table(&collection)))
    }

    fn insert(collection: Collection, id: String, document: String) -> Result<String, EngineError> {
        if exists(&collection, &id)? {
            return Err(EngineError::Conflict(format!("document `{id}` exists")));
        }
        let parsed: Value = serde_json::from_str(&document)
            .map_err(|e| EngineError::Invalid(format!("the document is not JSON: {e}")))?;
        let mut row = columns(&collection, &parsed);
        let seq = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        row.insert("_id".into(), Value::String(id.clone()));
        row.insert("_seq".into(), Value::from(seq));
        row.insert("_doc".into(), Value::String(document.clone()));
        send(format!(
            "INSERT INTO {} FORMAT JSONEachRow\n{}\n",
            table(&collection),
            Value::Object(row)
        ))?;
        Ok(with_id(&document, &id))
    }

    fn update(
        collection: Collection,
        id: String,
        document: String,
    ) -> Result<Option<String>, EngineError> {
        if !exists(&collection, &id)? {
            return Ok(None);
        }
        let parsed: Value = serde_json::from_str(&document)
            .map_err(|e| EngineError::Invalid(format!("the document is not JSON: {e}")))?;
        let mut assignments = vec![format!("_doc = {}", literal(&document))];
        for (column, value) in columns(&collection, &parsed) {
            assignments.push(format!("{column} = {}", column_literal(&value)));
        }
        send(format!(
            "ALTER TABLE {} UPDATE {} WHERE _id = {}",
            table(&collection),
            assignments.join(", "),
            literal(&id)
        ))?;
        wait_for_mutations(&collection)?;
        Ok(Some(with_id(&document, &id)))
    }

    fn delete(collection: Collection, id: String) -> Result<bool, EngineError> {
        if !exists(&collection, &id)? {
            return Ok(false);
        }
        send(format!(
            "ALTER TABLE {} DELETE WHERE _id = {}",
            table(&collection),
            literal(&id)
        ))?;
        wait_for_mutations(&collection)?;
        Ok(true)
    }
}

export!(ClickHouse);
