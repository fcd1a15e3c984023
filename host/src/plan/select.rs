//! The select tree: output columns (checked, with JSON paths and allow-listed casts)
//! and embedded relations (joined through foreign keys), level by level.

use std::collections::HashSet;
use std::sync::Arc;

use super::error::PlanError;
use super::relationship::relate;
use super::types::{ColumnRef, Embed, Item, JsonStep, Shape};
use crate::request::{self, SelectItem};
use crate::schema_cache::{Relation, SchemaCache};

/// Checks a field against a relation's columns.
pub fn column_ref(relation: &Relation, field: &request::Field) -> Result<ColumnRef, PlanError> {
    let column = relation
        .column(&field.name)
        .ok_or_else(|| PlanError::UnknownColumn {
            relation: relation.exposed.clone(),
            column: field.name.clone(),
            suggestion: relation.nearest_column(&field.name).map(str::to_owned),
        })?;
    Ok(ColumnRef {
        column: column.name.clone(),
        cast_type: column.cast_type.clone(),
        json_path: field
            .json_path
            .iter()
            .map(|s| JsonStep {
                index: !s.key.is_empty()
                    && s.key.len() <= 9
                    && s.key.bytes().all(|b| b.is_ascii_digit()),
                key: s.key.clone(),
                as_text: s.as_text,
            })
            .collect(),
    })
}

/// The SQL type of an allow-listed cast.
pub fn cast(name: &str) -> Result<&'static str, PlanError> {
    Ok(match name.to_ascii_lowercase().as_str() {
        "text" | "varchar" => "text",
        "int" | "integer" | "int4" => "integer",
        "bigint" | "int8" => "bigint",
        "smallint" | "int2" => "smallint",
        "numeric" | "decimal" => "numeric",
        "real" | "float4" => "real",
        "float" | "float8" | "double" => "double precision",
        "boolean" | "bool" => "boolean",
        "date" => "date",
        "time" => "time",
        "timestamp" => "timestamp",
        "timestamptz" => "timestamptz",
        "uuid" => "uuid",
        "json" => "json",
        "jsonb" => "jsonb",
        _ => return Err(PlanError::InvalidCast(name.to_owned())),
    })
}

fn all_columns(relation: &Relation) -> impl Iterator<Item = Item> + '_ {
    relation.columns.iter().map(|c| Item::Column {
        left: ColumnRef {
            column: c.name.clone(),
            cast_type: c.cast_type.clone(),
            json_path: Vec::new(),
        },
        name: c.name.clone(),
        cast: None,
    })
}

/// The shape of one level: `items` (empty means `*`).
pub fn shape(
    schema: &SchemaCache,
    relation: &Arc<Relation>,
    items: &[SelectItem],
) -> Result<Shape, PlanError> {
    let mut out = Shape::default();
    if items.is_empty() {
        out.items.extend(all_columns(relation));
        return Ok(out);
    }
    for item in items {
        match item {
            SelectItem::Star => out.items.extend(all_columns(relation)),
            SelectItem::Column {
                field,
                alias,
                cast: wanted,
            } => {
                let left = column_ref(relation, field)?;
                let name: Arc<str> = match (alias, field.json_path.last()) {
                    (Some(alias), _) => alias.as_str().into(),
                    (None, Some(step)) => step.key.as_str().into(),
                    // The field's name is the column's: share it.
                    (None, None) => left.column.clone(),
                };
                let cast = wanted.as_deref().map(cast).transpose()?;
                out.items.push(Item::Column { left, name, cast });
            }
            SelectItem::Embed(e) => {
                let child =
                    schema
                        .relation(&e.relation)
                        .ok_or_else(|| PlanError::UnknownRelation {
                            name: e.relation.clone(),
                            suggestion: schema.nearest_relation(&e.relation).map(str::to_owned),
                        })?;
                let link = relate(schema, relation, child, e.hint.as_deref())?;
                let child_shape = shape(schema, child, &e.children)?;
                let label = e.alias.clone().unwrap_or_else(|| e.relation.clone());
                out.items.push(Item::Embed(Box::new(Embed {
                    name: label.clone(),
                    label: e.relation.clone(),
                    relation: child.clone(),
                    join: link.join,
                    to_one: link.to_one,
                    shape: child_shape,
                    filter: Vec::new(),
                    order: Vec::new(),
                    inner: e.inner,
                })));
            }
        }
    }
    if let Some(name) = first_duplicate(&out.items) {
        return Err(PlanError::DuplicateName(name.to_owned()));
    }
    Ok(out)
}

/// Items compared pairwise at most: the usual select list is a handful of items,
/// and a set costs an allocation on every read.
const PAIRWISE_DUPLICATE_CHECK: usize = 16;

/// The first output name given twice at one level.
fn first_duplicate(items: &[Item]) -> Option<&str> {
    fn name(item: &Item) -> &str {
        match item {
            Item::Column { name, .. } => name,
            Item::Embed(e) => &e.name,
        }
    }
    if items.len() <= PAIRWISE_DUPLICATE_CHECK {
        return items.iter().enumerate().find_map(|(i, item)| {
            let n = name(item);
            items[..i]
                .iter()
                .any(|earlier| name(earlier) == n)
                .then_some(n)
        });
    }
    let mut seen = HashSet::new();
    items.iter().map(name).find(|n| !seen.insert(*n))
}

/// The embedding at `path` below `shape` (matched by output name or relation name).
pub fn embed_at<'a>(shape: &'a mut Shape, path: &[String]) -> Result<&'a mut Embed, PlanError> {
    let (first, rest) = path
        .split_first()
        .ok_or_else(|| PlanError::NotEmbedded(String::new()))?;
    let found = shape.items.iter_mut().find_map(|item| match item {
        Item::Embed(e) if &e.name == first || &e.label == first => Some(e),
        _ => None,
    });
    let embed = found.ok_or_else(|| PlanError::NotEmbedded(path.join(".")))?;
    if rest.is_empty() {
        Ok(embed)
    } else {
        embed_at(&mut embed.shape, rest)
    }
}

/// Calls `visit` on every embedded relation below `shape`, depth first.
pub fn each_embed(
    shape: &mut Shape,
    visit: &mut dyn FnMut(&mut Embed) -> Result<(), String>,
) -> Result<(), String> {
    for item in &mut shape.items {
        if let Item::Embed(e) = item {
            visit(e)?;
            each_embed(&mut e.shape, visit)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(name: &str) -> Item {
        Item::Column {
            left: ColumnRef {
                column: name.into(),
                cast_type: "text".into(),
                json_path: Vec::new(),
            },
            name: name.into(),
            cast: None,
        }
    }

    #[test]
    fn the_second_use_of_a_name_is_found_in_short_and_long_lists() {
        let short: Vec<Item> = ["a", "b", "c", "b"].into_iter().map(column).collect();
        assert_eq!(first_duplicate(&short), Some("b"));
        let mut long: Vec<Item> = (0..40).map(|i| column(&format!("c{i}"))).collect();
        assert_eq!(first_duplicate(&long), None);
        long.push(column("c7"));
        assert_eq!(first_duplicate(&long), Some("c7"));
        assert_eq!(first_duplicate(&[]), None);
    }
}
