//! The request shapes of Workspace Tables (seed 002), as the client sends them.
//! Unknown fields are refused so that a typo is an error, not a silent default.

use serde::Deserialize;
use serde_json::Value;

/// `POST /v1/{workspace_id}/tables`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateTable {
    /// Workspace-facing name.
    pub table_name: String,
    /// 1–100 columns.
    pub columns: Vec<ColumnSpec>,
    /// Columns of the primary key, if any.
    #[serde(default)]
    pub primary_key: Option<Vec<String>>,
    /// Unique constraint groups of 1–32 columns.
    #[serde(default)]
    pub unique: Option<Vec<Vec<String>>>,
    /// Indexes.
    #[serde(default)]
    pub indexes: Option<Vec<IndexSpec>>,
}

/// A column definition.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnSpec {
    /// Column name.
    pub name: String,
    /// One of the eleven types, as the client spelled it (checked by validation).
    #[serde(rename = "type")]
    pub column_type: String,
    /// Whether nulls are allowed (default true).
    #[serde(default)]
    pub nullable: Option<bool>,
    /// The default, if any.
    #[serde(default)]
    pub default: Option<DefaultSpec>,
}

/// A default value specification.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DefaultSpec {
    /// `literal`, `uuid_v4`, `now` or `current_date` (checked by validation).
    pub kind: String,
    /// The literal (only for `literal`).
    #[serde(default)]
    pub value: Option<Value>,
}

/// An index of a created table (named by the platform).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexSpec {
    /// 1–32 column names.
    pub columns: Vec<String>,
}

/// `PATCH /v1/{workspace_id}/tables/{table_id}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlterTable {
    /// 1–50 actions, applied in order in one transaction.
    pub actions: Vec<AlterAction>,
}

/// One typed alter operation.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum AlterAction {
    /// Adds a column.
    AddColumn {
        /// The column.
        column: ColumnSpec,
    },
    /// Drops a column.
    DropColumn {
        /// Its name.
        name: String,
    },
    /// Renames a column.
    RenameColumn {
        /// Current name.
        from: String,
        /// New name.
        to: String,
    },
    /// Changes a column's type (existing values are cast).
    ChangeColumnType {
        /// Column name.
        name: String,
        /// One of the eleven types.
        new_type: String,
    },
    /// Sets whether a column allows nulls.
    SetColumnNullable {
        /// Column name.
        name: String,
        /// Whether nulls are allowed.
        nullable: bool,
    },
    /// Sets a column's default.
    SetColumnDefault {
        /// Column name.
        name: String,
        /// The new default.
        default: DefaultSpec,
    },
    /// Removes a column's default.
    DropColumnDefault {
        /// Column name.
        name: String,
    },
    /// Adds a unique constraint.
    AddUnique {
        /// 1–32 columns.
        columns: Vec<String>,
        /// Optional constraint name.
        #[serde(default)]
        constraint_name: Option<String>,
    },
    /// Drops a constraint of this table.
    DropConstraint {
        /// Constraint name.
        name: String,
    },
    /// Creates an index.
    AddIndex {
        /// Index name.
        index_name: String,
        /// 1–32 columns.
        columns: Vec<String>,
    },
    /// Drops an index of this table.
    DropIndex {
        /// Index name.
        index_name: String,
    },
}

impl AlterAction {
    /// The `op` as the client wrote it.
    pub fn op(&self) -> &'static str {
        match self {
            AlterAction::AddColumn { .. } => "add_column",
            AlterAction::DropColumn { .. } => "drop_column",
            AlterAction::RenameColumn { .. } => "rename_column",
            AlterAction::ChangeColumnType { .. } => "change_column_type",
            AlterAction::SetColumnNullable { .. } => "set_column_nullable",
            AlterAction::SetColumnDefault { .. } => "set_column_default",
            AlterAction::DropColumnDefault { .. } => "drop_column_default",
            AlterAction::AddUnique { .. } => "add_unique",
            AlterAction::DropConstraint { .. } => "drop_constraint",
            AlterAction::AddIndex { .. } => "add_index",
            AlterAction::DropIndex { .. } => "drop_index",
        }
    }
}
