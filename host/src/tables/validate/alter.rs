//! Alter requests: the eleven actions, each checked for shape before the database
//! says whether the columns exist.

use super::{
    check_name, column, group_size, ColumnType, ValidAction, Violation, MAX_ACTIONS, TYPE_NAMES,
};
use crate::tables::spec::AlterAction;

/// Checks an alter request's shape (names, types, group sizes); whether the columns
/// exist is the database's to say, action by action.
pub fn alter(actions: &[AlterAction]) -> Result<Vec<ValidAction>, Vec<Violation>> {
    let mut out = Vec::new();
    if actions.is_empty() || actions.len() > MAX_ACTIONS {
        out.push(Violation::new(
            "actions",
            format!("must hold 1 to {MAX_ACTIONS} actions"),
        ));
    }
    let mut valid = Vec::new();
    for (i, action) in actions.iter().enumerate() {
        let field = format!("actions[{i}]");
        let before = out.len();
        let name = |out: &mut Vec<Violation>, key: &str, value: &str| {
            check_name(out, &format!("{field}.{key}"), value)
        };
        let action = match action {
            AlterAction::AddColumn { column: spec } => {
                column(&mut out, &format!("{field}.column"), spec).map(ValidAction::AddColumn)
            }
            AlterAction::DropColumn { name: n } => {
                name(&mut out, "name", n);
                Some(ValidAction::DropColumn(n.clone()))
            }
            AlterAction::RenameColumn { from, to } => {
                name(&mut out, "from", from);
                name(&mut out, "to", to);
                Some(ValidAction::RenameColumn {
                    from: from.clone(),
                    to: to.clone(),
                })
            }
            AlterAction::ChangeColumnType { name: n, new_type } => {
                name(&mut out, "name", n);
                match ColumnType::parse(new_type) {
                    Some(ty) => Some(ValidAction::ChangeColumnType(n.clone(), ty)),
                    None => {
                        out.push(Violation::new(
                            format!("{field}.new_type"),
                            format!("must be one of {TYPE_NAMES}; `{new_type}` is not supported"),
                        ));
                        None
                    }
                }
            }
            AlterAction::SetColumnNullable { name: n, nullable } => {
                name(&mut out, "name", n);
                Some(ValidAction::SetColumnNullable(n.clone(), *nullable))
            }
            AlterAction::SetColumnDefault { name: n, default } => {
                name(&mut out, "name", n);
                if !matches!(
                    default.kind.as_str(),
                    "literal" | "uuid_v4" | "now" | "current_date"
                ) {
                    out.push(Violation::new(
                        format!("{field}.default.kind"),
                        format!(
                            "must be one of literal, uuid_v4, now, current_date; `{}` is not",
                            default.kind
                        ),
                    ));
                }
                Some(ValidAction::SetColumnDefault(n.clone(), default.clone()))
            }
            AlterAction::DropColumnDefault { name: n } => {
                name(&mut out, "name", n);
                Some(ValidAction::DropColumnDefault(n.clone()))
            }
            AlterAction::AddUnique {
                columns,
                constraint_name,
            } => {
                group_size(&mut out, &format!("{field}.columns"), columns.len());
                for (j, c) in columns.iter().enumerate() {
                    name(&mut out, &format!("columns[{j}]"), c);
                }
                if let Some(c) = constraint_name {
                    name(&mut out, "constraint_name", c);
                }
                Some(ValidAction::AddUnique(
                    columns.clone(),
                    constraint_name.clone(),
                ))
            }
            AlterAction::DropConstraint { name: n } => {
                name(&mut out, "name", n);
                Some(ValidAction::DropConstraint(n.clone()))
            }
            AlterAction::AddIndex {
                index_name,
                columns,
            } => {
                name(&mut out, "index_name", index_name);
                group_size(&mut out, &format!("{field}.columns"), columns.len());
                for (j, c) in columns.iter().enumerate() {
                    name(&mut out, &format!("columns[{j}]"), c);
                }
                Some(ValidAction::AddIndex(index_name.clone(), columns.clone()))
            }
            AlterAction::DropIndex { index_name } => {
                name(&mut out, "index_name", index_name);
                Some(ValidAction::DropIndex(index_name.clone()))
            }
        };
        if out.len() == before {
            valid.extend(action);
        }
    }
    if out.is_empty() {
        Ok(valid)
    } else {
        Err(out)
    }
}
