//! The vault query's filter: the seed's field equality (`{"status": "active",
//! "region": "eu"}`, an AND of fields) and a portable operator form that every
//! engine answers the same way:
//!
//! ```json
//! {"price": {"$gte": 10, "$lt": 100}, "tags": {"$exists": true},
//!  "$or": [{"status": {"$in": ["new", "open"]}}, {"owner": {"$ne": "bob"}}],
//!  "$not": {"archived": true}}
//! ```
//!
//! Fields must be fields of the collection's schema; values are scalars. `$ne`
//! matches documents where the field is absent too; `$exists: true` means present
//! and not null; ordered comparisons only match values of the same JSON type.

use serde_json::{Map, Value};

use crate::plugins::vault_types::{
    Compare, Comparison, FilterNode, MemberOf, Presence, QueryRequest, Scalar, SortKey,
};

/// Most nodes in one filter.
pub const MAX_NODES: usize = 256;
/// Most values in one `$in`.
pub const MAX_IN_VALUES: usize = 1000;

/// Why a filter (or sort, or projection) is refused, for a 400.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError(pub String);

/// Builds the typed request. `known` says whether a dotted path is a field.
pub fn build(
    filter: Option<&Value>,
    sort: &[String],
    projection: Option<&[String]>,
    limit: u32,
    offset: u32,
    known: &dyn Fn(&str) -> bool,
) -> Result<QueryRequest, FilterError> {
    let mut builder = Builder {
        nodes: Vec::new(),
        known,
    };
    let root = match filter {
        None | Some(Value::Null) => None,
        Some(Value::Object(map)) if map.is_empty() => None,
        Some(Value::Object(map)) => Some(builder.object(map, 0)?),
        Some(_) => return Err(FilterError("filter must be a JSON object".into())),
    };
    let mut keys = Vec::new();
    for key in sort {
        let (field, descending) = match key.strip_prefix('-') {
            Some(rest) => (rest, true),
            None => (key.as_str(), false),
        };
        if !known(field) {
            return Err(FilterError(format!(
                "cannot sort by `{field}`: not a field of the collection"
            )));
        }
        keys.push(SortKey {
            field: field.to_owned(),
            descending,
        });
    }
    if let Some(fields) = projection {
        if let Some(unknown) = fields
            .iter()
            .find(|f| !known(f) && !is_top_level_parent(f, known))
        {
            return Err(FilterError(format!(
                "cannot project `{unknown}`: not a field of the collection"
            )));
        }
    }
    Ok(QueryRequest {
        nodes: builder.nodes,
        root,
        sort: keys,
        projection: projection.map(|p| p.to_vec()),
        limit,
        offset,
    })
}

/// A top-level name whose nested fields are known (`address` for `address.zip`).
fn is_top_level_parent(name: &str, known: &dyn Fn(&str) -> bool) -> bool {
    !name.contains('.') && known(&format!("{name}.*"))
}

struct Builder<'a> {
    nodes: Vec<FilterNode>,
    known: &'a dyn Fn(&str) -> bool,
}

impl Builder<'_> {
    fn push(&mut self, node: FilterNode) -> Result<u32, FilterError> {
        if self.nodes.len() >= MAX_NODES {
            return Err(FilterError(format!(
                "the filter has more than {MAX_NODES} conditions"
            )));
        }
        self.nodes.push(node);
        Ok((self.nodes.len() - 1) as u32)
    }

    fn object(&mut self, map: &Map<String, Value>, depth: usize) -> Result<u32, FilterError> {
        if depth > 16 {
            return Err(FilterError("the filter nests deeper than 16 levels".into()));
        }
        let mut children = Vec::new();
        for (key, value) in map {
            match key.as_str() {
                "$and" | "$or" => {
                    let list = value.as_array().ok_or_else(|| {
                        FilterError(format!("`{key}` takes an array of filter objects"))
                    })?;
                    let mut parts = Vec::new();
                    for item in list {
                        let object = item.as_object().ok_or_else(|| {
                            FilterError(format!("`{key}` takes an array of filter objects"))
                        })?;
                        parts.push(self.object(object, depth + 1)?);
                    }
                    let node = if key == "$and" {
                        FilterNode::All(parts)
                    } else {
                        FilterNode::Any(parts)
                    };
                    children.push(self.push(node)?);
                }
                "$not" => {
                    let object = value
                        .as_object()
                        .ok_or_else(|| FilterError("`$not` takes a filter object".into()))?;
                    let inner = self.object(object, depth + 1)?;
                    children.push(self.push(FilterNode::Not(inner))?);
                }
                operator if operator.starts_with('$') => {
                    return Err(FilterError(format!(
                        "unknown operator `{operator}`; use $and, $or, $not, or a field name"
                    )))
                }
                field => {
                    if !(self.known)(field) {
                        return Err(FilterError(format!(
                            "`{field}` is not a field of the collection"
                        )));
                    }
                    children.extend(self.field(field, value)?);
                }
            }
        }
        if children.len() == 1 {
            return Ok(children[0]);
        }
        self.push(FilterNode::All(children))
    }

    fn field(&mut self, field: &str, value: &Value) -> Result<Vec<u32>, FilterError> {
        let Value::Object(ops) = value else {
            let value = scalar(field, value)?;
            return Ok(vec![self.push(FilterNode::Compare(Compare {
                field: field.to_owned(),
                comparison: Comparison::Eq,
                value,
            }))?]);
        };
        if ops.is_empty() {
            return Err(FilterError(format!("`{field}`: an empty operator object")));
        }
        let mut out = Vec::new();
        for (op, operand) in ops {
            let comparison = match op.as_str() {
                "$eq" => Some(Comparison::Eq),
                "$ne" => Some(Comparison::Ne),
                "$gt" => Some(Comparison::Gt),
                "$gte" => Some(Comparison::Gte),
                "$lt" => Some(Comparison::Lt),
                "$lte" => Some(Comparison::Lte),
                _ => None,
            };
            let node = if let Some(comparison) = comparison {
                FilterNode::Compare(Compare {
                    field: field.to_owned(),
                    comparison,
                    value: scalar(field, operand)?,
                })
            } else if op == "$in" {
                let values = operand
                    .as_array()
                    .ok_or_else(|| FilterError(format!("`{field}`: $in takes an array")))?;
                if values.len() > MAX_IN_VALUES {
                    return Err(FilterError(format!(
                        "`{field}`: $in takes at most {MAX_IN_VALUES} values"
                    )));
                }
                FilterNode::MemberOf(MemberOf {
                    field: field.to_owned(),
                    values: values
                        .iter()
                        .map(|v| scalar(field, v))
                        .collect::<Result<_, _>>()?,
                })
            } else if op == "$exists" {
                FilterNode::Presence(Presence {
                    field: field.to_owned(),
                    exists: operand.as_bool().ok_or_else(|| {
                        FilterError(format!("`{field}`: $exists takes true or false"))
                    })?,
                })
            } else {
                return Err(FilterError(format!(
                    "`{field}`: unknown operator `{op}`; use $eq $ne $gt $gte $lt $lte $in $exists"
                )));
            };
            out.push(self.push(node)?);
        }
        Ok(out)
    }
}

fn scalar(field: &str, value: &Value) -> Result<Scalar, FilterError> {
    Ok(match value {
        Value::Null => Scalar::Null,
        Value::Bool(b) => Scalar::Boolean(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Scalar::Integer(i),
            None => Scalar::Number(n.as_f64().unwrap_or(0.0)),
        },
        Value::String(s) => Scalar::Text(s.clone()),
        _ => {
            return Err(FilterError(format!(
                "`{field}`: compare with a string, number, boolean or null"
            )))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn known(field: &str) -> bool {
        ["status", "price", "tags"].contains(&field)
    }

    #[test]
    fn equality_fields_are_anded() {
        let request = build(
            Some(&json!({"status": "a", "price": 3})),
            &[],
            None,
            50,
            0,
            &known,
        )
        .unwrap();
        assert_eq!(request.nodes.len(), 3);
        assert!(matches!(
            request.nodes[request.root.unwrap() as usize],
            FilterNode::All(_)
        ));
    }

    #[test]
    fn operators_and_errors() {
        let request = build(
            Some(&json!({"$or": [{"price": {"$gte": 1, "$lt": 5}}, {"tags": {"$exists": false}}]})),
            &["-price".into()],
            Some(&["status".into()]),
            10,
            0,
            &known,
        )
        .unwrap();
        assert!(request.sort[0].descending);
        for bad in [
            json!({"nope": 1}),
            json!({"price": {"$regex": "x"}}),
            json!({"$where": "1"}),
            json!({"price": {"$in": 3}}),
            json!({"price": [1]}),
            json!([1]),
        ] {
            assert!(build(Some(&bad), &[], None, 1, 0, &known).is_err(), "{bad}");
        }
        assert!(build(None, &["nope".into()], None, 1, 0, &known).is_err());
    }
}
