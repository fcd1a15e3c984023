//! The `postgres` vault engine adapter. A collection is a table
//! `vault.<storage-name>` in the workspace database: `id text` primary key, the
//! document as `jsonb`, `created_at` and `updated_at`, and an expression index per
//! field the host marks indexed. Every value travels as a bound parameter through the
//! host's SQL capability (the workspace's vault role, one transaction per call);
//! identifiers are `[a-z0-9_]` storage names, quoted anyway.

wit_bindgen::generate!({
    path: "../../wit/vault",
    world: "postgres-adapter",
});

use exports::plinth::vault::adapter::Guest;
use plinth::vault::sql::{self, SqlError, Value};
use plinth::vault::types::{
    Collection, Comparison, EngineError, FilterNode, Page, QueryRequest, Scalar,
};
use vault_filter::{Dialect, Node, WalkError};

struct Postgres;

fn table(collection: &Collection) -> String {
    format!(
        "\"vault\".\"{}\"",
        collection.storage_name.replace('"', "\"\"")
    )
}

/// A string constant for DDL, which takes no parameters.
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn path_array(field: &str) -> Vec<String> {
    field.split('.').map(str::to_owned).collect()
}

/// A dotted path as a `text[]` constant: `'{"a","b"}'`.
fn path_literal(field: &str) -> String {
    let segments = path_array(field)
        .iter()
        .map(|p| format!("\"{}\"", p.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect::<Vec<_>>()
        .join(",");
    literal(&format!("{{{segments}}}"))
}

fn engine_error(error: SqlError) -> EngineError {
    match error.code.as_str() {
        "" => EngineError::Unavailable(error.message),
        "23505" => EngineError::Conflict(error.message),
        "42P01" => EngineError::NotFound(error.message),
        code if code.starts_with("22") => EngineError::Invalid(error.message),
        _ => EngineError::Failed(format!("{} ({})", error.message, error.code)),
    }
}

fn scalar_json(value: &Scalar) -> String {
    match value {
        Scalar::Null => "null".to_owned(),
        Scalar::Boolean(b) => b.to_string(),
        Scalar::Integer(i) => i.to_string(),
        Scalar::Number(n) => serde_json::Number::from_f64(*n)
            .map(|n| n.to_string())
            .unwrap_or_else(|| "null".to_owned()),
        Scalar::Text(t) => serde_json::Value::String(t.clone()).to_string(),
    }
}

/// Builds SQL with numbered parameters.
#[derive(Default)]
struct Builder {
    params: Vec<Value>,
}

impl Builder {
    fn bind(&mut self, value: Value) -> String {
        self.params.push(value);
        format!("${}", self.params.len())
    }

    /// The value at a dotted path of the document, as `jsonb`. The path is written
    /// as a constant — exactly the expression of the field's index, so the planner
    /// can use it; its segments are `[A-Za-z0-9_]` (the host checks), quoted anyway.
    fn field(&mut self, field: &str) -> String {
        format!("(doc #> {}::text[])", path_literal(field))
    }
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

impl Dialect for Builder {
    type Leaf = FilterNode;
    type Error = EngineError;

    fn leaf(&mut self, node: &FilterNode) -> Result<String, EngineError> {
        Ok(match node {
            FilterNode::Compare(c) => {
                let field = self.field(&c.field);
                let value = self.bind(Value::Json(scalar_json(&c.value)));
                let value = format!("{value}::jsonb");
                match c.comparison {
                    Comparison::Eq => format!("{field} = {value}"),
                    Comparison::Ne => format!("({field} IS NULL OR {field} <> {value})"),
                    Comparison::Gt => format!(
                        "({field} > {value} AND jsonb_typeof({field}) = jsonb_typeof({value}))"
                    ),
                    Comparison::Gte => format!(
                        "({field} >= {value} AND jsonb_typeof({field}) = jsonb_typeof({value}))"
                    ),
                    Comparison::Lt => format!(
                        "({field} < {value} AND jsonb_typeof({field}) = jsonb_typeof({value}))"
                    ),
                    Comparison::Lte => format!(
                        "({field} <= {value} AND jsonb_typeof({field}) = jsonb_typeof({value}))"
                    ),
                }
            }
            FilterNode::MemberOf(m) => {
                let field = self.field(&m.field);
                let values: Vec<String> = m.values.iter().map(scalar_json).collect();
                let list = self.bind(Value::Json(format!("[{}]", values.join(","))));
                format!("coalesce({field} IN (SELECT jsonb_array_elements({list}::jsonb)), false)")
            }
            FilterNode::Presence(p) => {
                let field = self.field(&p.field);
                let present = format!("coalesce(jsonb_typeof({field}) <> 'null', false)");
                if p.exists {
                    present
                } else {
                    format!("NOT {present}")
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
            true => "true".into(),
            false => format!("({})", parts.join(" AND ")),
        }
    }

    fn any(&mut self, parts: Vec<String>) -> String {
        match parts.is_empty() {
            true => "false".into(),
            false => format!("({})", parts.join(" OR ")),
        }
    }

    fn not(&mut self, part: String) -> String {
        format!("NOT coalesce(({part}), false)")
    }
}

fn document_expr() -> &'static str {
    "doc || jsonb_build_object('_id', id)"
}

impl Guest for Postgres {
    fn create_collection(collection: Collection) -> Result<(), EngineError> {
        let table = table(&collection);
        sql::execute(
            &format!(
                "CREATE TABLE {table} (
                    id text PRIMARY KEY,
                    doc jsonb NOT NULL,
                    created_at timestamptz NOT NULL DEFAULT now(),
                    updated_at timestamptz NOT NULL DEFAULT now())"
            ),
            &[],
        )
        .map_err(engine_error)?;
        for (i, field) in collection.fields.iter().filter(|f| f.indexed).enumerate() {
            sql::execute(
                &format!(
                    "CREATE INDEX \"{}_f{i}\" ON {table} ((doc #> {}::text[]))",
                    collection.storage_name,
                    path_literal(&field.path)
                ),
                &[],
            )
            .map_err(engine_error)?;
        }
        Ok(())
    }

    fn drop_collection(collection: Collection) -> Result<(), EngineError> {
        sql::execute(&format!("DROP TABLE IF EXISTS {}", table(&collection)), &[])
            .map_err(engine_error)?;
        Ok(())
    }

    /// The page and the filter's total in one statement: the total is the row
    /// keyed 0, the page's documents follow keyed by their place in the order.
    fn query(collection: Collection, request: QueryRequest) -> Result<Page, EngineError> {
        let mut b = Builder::default();
        let filter = match request.root {
            Some(root) => vault_filter::walk(&mut b, &node_at(&request.nodes), root)?,
            None => "true".to_owned(),
        };
        let table = table(&collection);
        let mut order = Vec::new();
        for key in &request.sort {
            let field = b.field(&key.field);
            order.push(format!(
                "{field} {} NULLS LAST",
                if key.descending { "DESC" } else { "ASC" }
            ));
        }
        order.push("created_at, id".to_owned());
        let order = order.join(", ");
        let shape = match &request.projection {
            Some(fields) => {
                let names = b.bind(Value::Json(
                    serde_json::to_string(fields).unwrap_or_default(),
                ));
                format!(
                    "coalesce((SELECT jsonb_object_agg(key, value) FROM jsonb_each(doc)
                       WHERE key IN (SELECT jsonb_array_elements_text({names}::jsonb))), '{{}}'::jsonb)
                     || jsonb_build_object('_id', id)"
                )
            }
            None => document_expr().to_owned(),
        };
        let limit = b.bind(Value::Integer(request.limit as i64));
        let offset = b.bind(Value::Integer(request.offset as i64));
        let rows = sql::query_json(
            &format!(
                "SELECT j FROM (
                   SELECT 0::bigint AS k, to_jsonb(count(*)) AS j FROM {table} WHERE {filter}
                   UNION ALL
                   SELECT row_number() OVER (ORDER BY {order}), {shape}
                   FROM (SELECT id, doc, created_at FROM {table} WHERE {filter}
                         ORDER BY {order} LIMIT {limit} OFFSET {offset}) page
                 ) r ORDER BY k"
            ),
            &b.params,
        )
        .map_err(engine_error)?;
        let mut rows = rows.into_iter();
        let total = rows
            .next()
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| EngineError::Failed("the query returned no total".into()))?;
        Ok(Page {
            items: rows.collect(),
            total,
        })
    }

    fn count(collection: Collection) -> Result<u64, EngineError> {
        let rows = sql::query_json(
            &format!("SELECT to_jsonb(count(*)) FROM {}", table(&collection)),
            &[],
        )
        .map_err(engine_error)?;
        Ok(rows.first().and_then(|t| t.parse().ok()).unwrap_or(0))
    }

    fn insert(collection: Collection, id: String, document: String) -> Result<String, EngineError> {
        let rows = sql::query_json(
            &format!(
                "INSERT INTO {} (id, doc) VALUES ($1, $2::jsonb) RETURNING {}",
                table(&collection),
                document_expr()
            ),
            &[Value::Text(id), Value::Json(document)],
        )
        .map_err(engine_error)?;
        rows.into_iter()
            .next()
            .ok_or_else(|| EngineError::Failed("the insert returned nothing".into()))
    }

    fn update(
        collection: Collection,
        id: String,
        document: String,
    ) -> Result<Option<String>, EngineError> {
        let rows = sql::query_json(
            &format!(
                "UPDATE {} SET doc = $2::jsonb, updated_at = now() WHERE id = $1 RETURNING {}",
                table(&collection),
                document_expr()
            ),
            &[Value::Text(id), Value::Json(document)],
        )
        .map_err(engine_error)?;
        Ok(rows.into_iter().next())
    }

    fn delete(collection: Collection, id: String) -> Result<bool, EngineError> {
        let affected = sql::execute(
            &format!("DELETE FROM {} WHERE id = $1", table(&collection)),
            &[Value::Text(id)],
        )
        .map_err(engine_error)?;
        Ok(affected > 0)
    }
}

export!(Postgres);
