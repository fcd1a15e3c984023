//! DDL text for Workspace Tables. Every identifier is quoted here; types are fixed
//! keywords from [`ColumnType::sql`]. PostgreSQL cannot bind parameters into DDL, so a
//! literal default is first checked and canonicalised by PostgreSQL as a bound
//! parameter (see [`canonical_literal`]) and only that canonical text is written,
//! through [`quote_literal`] and an explicit cast.

use crate::names::TABLES_SCHEMA;
use crate::sql::{quote_ident, quote_literal, quote_qualified};

use super::validate::{ColumnType, ValidColumn, ValidDefault, ValidTable};

/// Checks a literal against a type and returns its canonical text: `$1` is the
/// literal as text, `{type}` a fixed type keyword.
pub fn canonical_literal(ty: ColumnType) -> String {
    format!("SELECT ($1::text)::{ty}::text", ty = ty.sql())
}

/// The quoted, schema-qualified name of a physical table.
pub fn table(physical: &str) -> String {
    quote_qualified(TABLES_SCHEMA, physical)
}

/// A default's SQL expression; `canonical` is the literal after
/// [`canonical_literal`] (`None` for `NULL`).
pub fn default_expression(default: &ValidDefault, ty: ColumnType) -> String {
    match default {
        ValidDefault::Literal(None) => "NULL".to_owned(),
        ValidDefault::Literal(Some(text)) => format!("{}::{}", quote_literal(text), ty.sql()),
        ValidDefault::UuidV4 => match ty {
            ColumnType::Text => "gen_random_uuid()::text".to_owned(),
            _ => "gen_random_uuid()".to_owned(),
        },
        ValidDefault::Now => match ty {
            ColumnType::Timestamptz => "now()".to_owned(),
            _ => format!("now()::{}", ty.sql()),
        },
        ValidDefault::CurrentDate => match ty {
            ColumnType::Date => "CURRENT_DATE".to_owned(),
            _ => format!("CURRENT_DATE::{}", ty.sql()),
        },
    }
}

/// A column definition inside `CREATE TABLE` or `ADD COLUMN`; literal defaults must
/// already be canonical.
pub fn column_definition(column: &ValidColumn) -> String {
    let mut out = format!("{} {}", quote_ident(&column.name), column.column_type.sql());
    if !column.nullable {
        out.push_str(" NOT NULL");
    }
    if let Some(default) = &column.default {
        out.push_str(" DEFAULT ");
        out.push_str(&default_expression(default, column.column_type));
    }
    out
}

fn column_list(columns: &[String]) -> String {
    columns
        .iter()
        .map(|c| quote_ident(c))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The statements creating a table and its indexes; literal defaults must already
/// be canonical.
pub fn create_table(physical: &str, spec: &ValidTable) -> Vec<String> {
    let mut parts: Vec<String> = spec.columns.iter().map(column_definition).collect();
    if !spec.primary_key.is_empty() {
        parts.push(format!("PRIMARY KEY ({})", column_list(&spec.primary_key)));
    }
    for group in &spec.unique {
        parts.push(format!("UNIQUE ({})", column_list(group)));
    }
    let mut statements = vec![format!(
        "CREATE TABLE {} (\n  {}\n)",
        table(physical),
        parts.join(",\n  ")
    )];
    for (i, columns) in spec.indexes.iter().enumerate() {
        statements.push(format!(
            "CREATE INDEX {} ON {} ({})",
            quote_ident(&format!("{physical}_idx_{}", i + 1)),
            table(physical),
            column_list(columns)
        ));
    }
    statements
}

/// `ALTER TABLE ... ADD COLUMN`.
pub fn add_column(physical: &str, column: &ValidColumn) -> String {
    format!(
        "ALTER TABLE {} ADD COLUMN {}",
        table(physical),
        column_definition(column)
    )
}

/// `ALTER TABLE ... DROP COLUMN`.
pub fn drop_column(physical: &str, name: &str) -> String {
    format!(
        "ALTER TABLE {} DROP COLUMN {}",
        table(physical),
        quote_ident(name)
    )
}

/// `ALTER TABLE ... RENAME COLUMN`.
pub fn rename_column(physical: &str, from: &str, to: &str) -> String {
    format!(
        "ALTER TABLE {} RENAME COLUMN {} TO {}",
        table(physical),
        quote_ident(from),
        quote_ident(to)
    )
}

/// `ALTER TABLE ... ALTER COLUMN ... TYPE ... USING col::type`.
pub fn change_column_type(physical: &str, name: &str, ty: ColumnType) -> String {
    format!(
        "ALTER TABLE {} ALTER COLUMN {c} TYPE {t} USING {c}::{t}",
        table(physical),
        c = quote_ident(name),
        t = ty.sql()
    )
}

/// `ALTER TABLE ... ALTER COLUMN ... SET/DROP NOT NULL`.
pub fn set_nullable(physical: &str, name: &str, nullable: bool) -> String {
    format!(
        "ALTER TABLE {} ALTER COLUMN {} {} NOT NULL",
        table(physical),
        quote_ident(name),
        if nullable { "DROP" } else { "SET" }
    )
}

/// `ALTER TABLE ... ALTER COLUMN ... SET DEFAULT`.
pub fn set_default(physical: &str, name: &str, default: &ValidDefault, ty: ColumnType) -> String {
    format!(
        "ALTER TABLE {} ALTER COLUMN {} SET DEFAULT {}",
        table(physical),
        quote_ident(name),
        default_expression(default, ty)
    )
}

/// `ALTER TABLE ... ALTER COLUMN ... DROP DEFAULT`.
pub fn drop_default(physical: &str, name: &str) -> String {
    format!(
        "ALTER TABLE {} ALTER COLUMN {} DROP DEFAULT",
        table(physical),
        quote_ident(name)
    )
}

/// `ALTER TABLE ... ADD [CONSTRAINT name] UNIQUE (...)`.
pub fn add_unique(physical: &str, columns: &[String], name: Option<&str>) -> String {
    let constraint = name
        .map(|n| format!("CONSTRAINT {} ", quote_ident(n)))
        .unwrap_or_default();
    format!(
        "ALTER TABLE {} ADD {constraint}UNIQUE ({})",
        table(physical),
        column_list(columns)
    )
}

/// `ALTER TABLE ... DROP CONSTRAINT`.
pub fn drop_constraint(physical: &str, name: &str) -> String {
    format!(
        "ALTER TABLE {} DROP CONSTRAINT {}",
        table(physical),
        quote_ident(name)
    )
}

/// `CREATE INDEX name ON table (...)`.
pub fn add_index(physical: &str, name: &str, columns: &[String]) -> String {
    format!(
        "CREATE INDEX {} ON {} ({})",
        quote_ident(name),
        table(physical),
        column_list(columns)
    )
}

/// `DROP INDEX schema.name`.
pub fn drop_index(name: &str) -> String {
    format!("DROP INDEX {}", quote_qualified(TABLES_SCHEMA, name))
}

/// `DROP TABLE`.
pub fn drop_table(physical: &str) -> String {
    format!("DROP TABLE {}", table(physical))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_literal_default_is_quoted_and_cast() {
        let column = ValidColumn {
            name: "note".into(),
            column_type: ColumnType::Text,
            nullable: false,
            default: Some(ValidDefault::Literal(Some(
                "it's'); DROP TABLE x; --".into(),
            ))),
        };
        assert_eq!(
            column_definition(&column),
            "\"note\" text NOT NULL DEFAULT 'it''s''); DROP TABLE x; --'::text"
        );
    }

    #[test]
    fn create_names_indexes_after_the_physical_table() {
        let spec = ValidTable {
            table_name: "orders".into(),
            columns: vec![ValidColumn {
                name: "id".into(),
                column_type: ColumnType::Uuid,
                nullable: false,
                default: Some(ValidDefault::UuidV4),
            }],
            primary_key: vec!["id".into()],
            unique: vec![],
            indexes: vec![vec!["id".into()]],
        };
        let statements = create_table("wt_1", &spec);
        assert_eq!(
            statements[0],
            "CREATE TABLE \"workspace_tables\".\"wt_1\" (\n  \"id\" uuid NOT NULL DEFAULT gen_random_uuid(),\n  PRIMARY KEY (\"id\")\n)"
        );
        assert_eq!(
            statements[1],
            "CREATE INDEX \"wt_1_idx_1\" ON \"workspace_tables\".\"wt_1\" (\"id\")"
        );
    }
}
