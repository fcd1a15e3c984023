//! Finding the foreign key that joins an embedding to its parent, in either
//! direction, with a hint when there are several.

use super::error::PlanError;
use crate::schema_cache::{Relation, SchemaCache};

/// How an embedded relation joins its parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// `(parent column, child column)` pairs.
    pub join: Vec<(String, String)>,
    /// Many-to-one (the parent references the child): one object.
    pub to_one: bool,
    /// The foreign key's name.
    pub via: String,
}

/// The link between `parent` and `child`, picked by `hint` (a constraint name or a
/// referencing column) when there are several.
pub fn relate(
    schema: &SchemaCache,
    parent: &Relation,
    child: &Relation,
    hint: Option<&str>,
) -> Result<Link, PlanError> {
    let mut candidates = Vec::new();
    for fk in &schema.foreign_keys {
        if fk.from == parent.oid && fk.to == child.oid {
            candidates.push((
                Link {
                    join: fk
                        .from_columns
                        .iter()
                        .cloned()
                        .zip(fk.to_columns.iter().cloned())
                        .collect(),
                    to_one: true,
                    via: fk.name.clone(),
                },
                fk.from_columns.clone(),
                format!(
                    "{} ({} -> {} via {})",
                    fk.name,
                    parent.exposed,
                    child.exposed,
                    fk.from_columns.join(",")
                ),
            ));
        }
        if fk.from == child.oid && fk.to == parent.oid {
            candidates.push((
                Link {
                    join: fk
                        .to_columns
                        .iter()
                        .cloned()
                        .zip(fk.from_columns.iter().cloned())
                        .collect(),
                    to_one: false,
                    via: fk.name.clone(),
                },
                fk.from_columns.clone(),
                format!(
                    "{} ({} <- {} via {})",
                    fk.name,
                    parent.exposed,
                    child.exposed,
                    fk.from_columns.join(",")
                ),
            ));
        }
    }
    if let Some(hint) = hint {
        candidates.retain(|(link, columns, _)| {
            link.via == hint || (columns.len() == 1 && columns[0] == hint)
        });
    }
    match candidates.len() {
        0 => Err(PlanError::NoRelationship {
            parent: parent.exposed.clone(),
            child: child.exposed.clone(),
        }),
        1 => Ok(candidates.remove(0).0),
        _ => Err(PlanError::Ambiguous {
            parent: parent.exposed.clone(),
            child: child.exposed.clone(),
            candidates: candidates.into_iter().map(|(_, _, d)| d).collect(),
        }),
    }
}
