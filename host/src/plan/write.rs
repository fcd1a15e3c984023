//! Planning writes: inserts (single or batch, with upsert), updates and deletes.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use serde::de::IgnoredAny;
use serde::Deserialize;

use super::error::PlanError;
use super::grants::{conditions, Grants, WriteGrants};
use super::read::{embedded_relations, key_condition};
use super::select::{each_embed, shape};
use super::types::{Expr, Shape};
use super::where_clause::tree;
use crate::request::Query;
use crate::schema_cache::{Relation, SchemaCache};

/// Most rows one insert may carry.
pub const MAX_BATCH_ROWS: usize = 10_000;

/// What an upsert does with a conflicting row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictAction {
    /// `resolution=merge-duplicates`: update it.
    Merge,
    /// `resolution=ignore-duplicates`: keep it.
    Ignore,
}

/// `ON CONFLICT (columns) DO ...`.
#[derive(Debug, Clone)]
pub struct Conflict {
    /// The conflict target.
    pub columns: Vec<String>,
    /// What to do.
    pub action: ConflictAction,
}

/// A planned insert.
#[derive(Debug, Clone)]
pub struct InsertPlan {
    /// The table.
    pub relation: Arc<Relation>,
    /// The columns written.
    pub columns: Vec<String>,
    /// The rows as a JSON array, bound as one parameter.
    pub rows_json: String,
    /// How many rows were sent.
    pub row_count: usize,
    /// Upsert behaviour.
    pub conflict: Option<Conflict>,
    /// What to return of the inserted rows; `None` when the response leaves them out
    /// (they are still counted and checked).
    pub returning: Option<Shape>,
    /// Conditions every inserted row must meet (the authorizer's for `insert`).
    pub checks: Vec<Expr>,
    /// An upsert's conditions on a conflicting row, before and after its update (the
    /// authorizer's for `update`); a conflicting row they do not hold on is left
    /// alone and the write refused.
    pub conflict_checks: Vec<Expr>,
}

/// A planned update.
#[derive(Debug, Clone)]
pub struct UpdatePlan {
    /// The table.
    pub relation: Arc<Relation>,
    /// The columns written.
    pub columns: Vec<String>,
    /// The new values as one JSON object, bound as one parameter.
    pub row_json: String,
    /// Which rows.
    pub filter: Vec<Expr>,
    /// What to return of the updated rows; `None` when the response leaves them out
    /// (they are still counted and checked).
    pub returning: Option<Shape>,
    /// Conditions every row must meet before and after (the authorizer's).
    pub checks: Vec<Expr>,
}

/// A planned delete.
#[derive(Debug, Clone)]
pub struct DeletePlan {
    /// The table.
    pub relation: Arc<Relation>,
    /// Which rows (the authorizer's conditions included).
    pub filter: Vec<Expr>,
    /// What to return of the deleted rows; `None` when the response leaves them out
    /// (they are still counted and checked).
    pub returning: Option<Shape>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Body<'a> {
    Many(#[serde(borrow)] Vec<HashMap<Cow<'a, str>, IgnoredAny>>),
    One(#[serde(borrow)] HashMap<Cow<'a, str>, IgnoredAny>),
}

fn writable(relation: &Relation, name: &str) -> Result<String, PlanError> {
    let column = relation
        .column(name)
        .ok_or_else(|| PlanError::UnknownColumn {
            relation: relation.exposed.clone(),
            column: name.to_owned(),
            suggestion: relation.nearest_column(name).map(str::to_owned),
        })?;
    if column.generated {
        return Err(PlanError::Generated(name.to_owned()));
    }
    Ok(column.name.to_string())
}

fn top_filters(relation: &Relation, query: &Query) -> Result<Vec<Expr>, PlanError> {
    query
        .filters
        .iter()
        .map(|f| {
            if f.path.is_empty() {
                tree(relation, &f.tree)
            } else {
                Err(PlanError::NotEmbedded(f.path.join(".")))
            }
        })
        .collect()
}

fn check_writable(relation: &Relation) -> Result<(), PlanError> {
    if relation.read_only {
        Err(PlanError::ReadOnly(relation.exposed.clone()))
    } else {
        Ok(())
    }
}

/// Plans an insert of `body` (an object or an array of objects with the same keys).
pub fn insert(
    schema: &SchemaCache,
    relation: &Arc<Relation>,
    query: &Query,
    body: &str,
    resolution: Option<ConflictAction>,
) -> Result<InsertPlan, PlanError> {
    check_writable(relation)?;
    let parsed: Body = serde_json::from_str(body).map_err(|e| {
        PlanError::InvalidBody(format!(
            "the body must be a JSON object or an array of objects: {e}"
        ))
    })?;
    let (rows, is_array) = match parsed {
        Body::Many(rows) => (rows, true),
        Body::One(row) => (vec![row], false),
    };
    if rows.is_empty() {
        return Err(PlanError::InvalidBody(
            "the array is empty: nothing to insert".into(),
        ));
    }
    if rows.len() > MAX_BATCH_ROWS {
        return Err(PlanError::InvalidBody(format!(
            "{} rows in one request; at most {MAX_BATCH_ROWS}",
            rows.len()
        )));
    }
    let columns: Vec<String> = if query.columns.is_empty() {
        let mut first: Vec<&str> = rows[0].keys().map(|k| k.as_ref()).collect();
        first.sort_unstable();
        for (i, row) in rows.iter().enumerate().skip(1) {
            let mut keys: Vec<&str> = row.keys().map(|k| k.as_ref()).collect();
            keys.sort_unstable();
            if keys != first {
                return Err(PlanError::InvalidBody(format!(
                    "row {} has other keys than the first row; send `columns=` to name the columns",
                    i + 1
                )));
            }
        }
        first
            .into_iter()
            .map(|k| writable(relation, k))
            .collect::<Result<_, _>>()?
    } else {
        query
            .columns
            .iter()
            .map(|k| writable(relation, k))
            .collect::<Result<_, _>>()?
    };
    let conflict = match resolution {
        None => None,
        Some(action) => {
            let target: Vec<String> = if query.on_conflict.is_empty() {
                if relation.primary_key.is_empty() {
                    return Err(PlanError::InvalidBody(format!(
                        "`{}` has no primary key; name the conflict columns with `on_conflict=`",
                        relation.exposed
                    )));
                }
                relation.primary_key.clone()
            } else {
                query
                    .on_conflict
                    .iter()
                    .map(|c| writable(relation, c))
                    .collect::<Result<_, _>>()?
            };
            Some(Conflict {
                columns: target,
                action,
            })
        }
    };
    let rows_json = if is_array {
        body.to_owned()
    } else {
        format!("[{body}]")
    };
    Ok(InsertPlan {
        relation: relation.clone(),
        columns,
        row_count: rows.len(),
        rows_json,
        conflict,
        returning: Some(shape(schema, relation, &query.select)?),
        checks: Vec::new(),
        conflict_checks: Vec::new(),
    })
}

/// Plans an update of the rows the filters select (or the one `single_key` names).
pub fn update(
    schema: &SchemaCache,
    relation: &Arc<Relation>,
    query: &Query,
    body: &str,
    whole_table: bool,
    single_key: Option<&str>,
) -> Result<UpdatePlan, PlanError> {
    check_writable(relation)?;
    let row: HashMap<Cow<str>, IgnoredAny> = serde_json::from_str(body)
        .map_err(|e| PlanError::InvalidBody(format!("the body must be one JSON object: {e}")))?;
    if row.is_empty() {
        return Err(PlanError::InvalidBody(
            "the object is empty: nothing to update".into(),
        ));
    }
    let mut columns: Vec<String> = row
        .keys()
        .map(|k| writable(relation, k))
        .collect::<Result<_, _>>()?;
    columns.sort();
    let mut filter = top_filters(relation, query)?;
    if let Some(key) = single_key {
        filter.push(key_condition(relation, key)?);
    } else if filter.is_empty() && !whole_table {
        return Err(PlanError::FilterRequired("PATCH"));
    }
    Ok(UpdatePlan {
        relation: relation.clone(),
        columns,
        row_json: body.to_owned(),
        filter,
        returning: Some(shape(schema, relation, &query.select)?),
        checks: Vec::new(),
    })
}

/// Plans a delete of the rows the filters select (or the one `single_key` names).
pub fn delete(
    schema: &SchemaCache,
    relation: &Arc<Relation>,
    query: &Query,
    whole_table: bool,
    single_key: Option<&str>,
) -> Result<DeletePlan, PlanError> {
    check_writable(relation)?;
    let mut filter = top_filters(relation, query)?;
    if let Some(key) = single_key {
        filter.push(key_condition(relation, key)?);
    } else if filter.is_empty() && !whole_table {
        return Err(PlanError::FilterRequired("DELETE"));
    }
    Ok(DeletePlan {
        relation: relation.clone(),
        filter,
        returning: Some(shape(schema, relation, &query.select)?),
    })
}

/// The relations a write's returned rows embed, each read under the authorizer's
/// `select` predicates.
pub fn returned_relations(returning: Option<&Shape>) -> Vec<Arc<Relation>> {
    let mut out = Vec::new();
    if let Some(shape) = returning {
        embedded_relations(shape, &mut out);
    }
    out
}

/// ANDs each embedded relation's read conditions into the returned rows' embeds.
fn filter_embeds(returning: Option<&mut Shape>, grants: &Grants) -> Result<(), String> {
    match returning {
        Some(shape) => each_embed(shape, &mut |e| {
            let extra = grants.conditions(&e.relation)?;
            e.filter.extend(extra);
            Ok(())
        }),
        None => Ok(()),
    }
}

impl InsertPlan {
    /// Whether the statement may update existing rows (`ON CONFLICT ... DO UPDATE`).
    pub fn updates_on_conflict(&self) -> bool {
        self.conflict.as_ref().is_some_and(|conflict| {
            conflict.action == ConflictAction::Merge
                && self.columns.iter().any(|c| !conflict.columns.contains(c))
        })
    }

    /// The authorizer's conditions: checks on the new rows, and for an upsert the
    /// conditions a conflicting row must meet to be updated.
    pub fn apply_grants(&mut self, grants: &WriteGrants) -> Result<(), String> {
        self.checks = conditions(&grants.target, &self.relation)?;
        if let Some(update) = &grants.conflict_update {
            self.conflict_checks = conditions(update, &self.relation)?;
        }
        filter_embeds(self.returning.as_mut(), &grants.embeds)
    }
}

impl UpdatePlan {
    /// The authorizer's conditions select the rows and check them afterwards.
    pub fn apply_grants(&mut self, grants: &WriteGrants) -> Result<(), String> {
        let conditions = conditions(&grants.target, &self.relation)?;
        self.filter.extend(conditions.iter().cloned());
        self.checks = conditions;
        filter_embeds(self.returning.as_mut(), &grants.embeds)
    }
}

impl DeletePlan {
    /// The authorizer's conditions select the rows.
    pub fn apply_grants(&mut self, grants: &WriteGrants) -> Result<(), String> {
        self.filter
            .extend(conditions(&grants.target, &self.relation)?);
        filter_embeds(self.returning.as_mut(), &grants.embeds)
    }
}
