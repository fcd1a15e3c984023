//! Statements as Plinth sends them: SQL text with typed parameters, the same text
//! run for many requests at once, and the typed row a statement answers. Nothing here
//! knows which API built the statement.

use tokio_postgres::types::{ToSql, Type};

/// A bound parameter.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Param {
    /// Text, cast in SQL to what it is compared with.
    Text(String),
    /// A text array, cast in SQL.
    TextArray(Vec<String>),
    /// An integer (limit, offset).
    Int(i64),
}

impl Param {
    fn sql_type(&self) -> Type {
        match self {
            Param::Text(_) => Type::TEXT,
            Param::TextArray(_) => Type::TEXT_ARRAY,
            Param::Int(_) => Type::INT8,
        }
    }

    /// The value, for binding.
    pub fn value(&self) -> &(dyn ToSql + Sync) {
        match self {
            Param::Text(v) => v,
            Param::TextArray(v) => v,
            Param::Int(v) => v,
        }
    }
}

/// A statement ready to prepare (with `types`) and run (with `values`).
#[derive(Debug, Clone)]
pub struct Statement {
    /// The SQL text.
    pub text: String,
    /// Its parameters in order.
    pub params: Vec<Param>,
}

impl Statement {
    /// The parameter types, for `prepare_typed`.
    pub fn types(&self) -> Vec<Type> {
        self.params.iter().map(Param::sql_type).collect()
    }

    /// The parameter values.
    pub fn values(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.params.iter().map(Param::value).collect()
    }
}

/// A statement that runs one read for many requests (see `sql::rows::read_batch`).
#[derive(Debug)]
pub struct BatchStatement {
    /// The SQL text.
    pub text: String,
    /// Its parameter types: an array for each parameter of the single read, but for
    /// those in `shared`.
    pub types: Vec<Type>,
    /// Positions of the parameters every read of the batch has the same value for
    /// (the page's limit and offset): one value each, not an array, so that
    /// PostgreSQL plans for the page's size rather than guess it.
    pub shared: Vec<usize>,
}

impl BatchStatement {
    /// The parameter values for `reads`, statements `sql::rows::read` built from plans that
    /// gave this batch statement: each parameter as an array of every read's value,
    /// or for a [`shared`](Self::shared) one, the value all of them have. `None` when
    /// the reads' parameters do not line up with the batch's.
    pub fn values<'a>(
        &self,
        reads: &[&'a Statement],
    ) -> Option<Vec<Box<dyn ToSql + Sync + Send + 'a>>> {
        let mut values: Vec<Box<dyn ToSql + Sync + Send + 'a>> =
            Vec::with_capacity(self.types.len());
        for (position, ty) in self.types.iter().enumerate() {
            let mut column = reads.iter().copied().map(|read| read.params.get(position));
            if self.shared.contains(&position) {
                let first = column.next()??;
                if !column.all(|p| p == Some(first)) {
                    return None;
                }
                values.push(match first {
                    Param::Int(v) => Box::new(*v),
                    Param::Text(v) => Box::new(v.as_str()),
                    Param::TextArray(_) => return None,
                });
            } else if *ty == Type::INT8_ARRAY {
                let ints: Option<Vec<i64>> = column
                    .map(|p| match p {
                        Some(Param::Int(v)) => Some(*v),
                        _ => None,
                    })
                    .collect();
                values.push(Box::new(ints?));
            } else {
                let texts: Option<Vec<&'a str>> = column
                    .map(|p| match p {
                        Some(Param::Text(v)) => Some(v.as_str()),
                        _ => None,
                    })
                    .collect();
                values.push(Box::new(texts?));
            }
        }
        let aligned = reads
            .iter()
            .all(|read| read.params.len() == self.types.len());
        aligned.then_some(values)
    }
}

/// The row a statement answers, decoded in one place rather than by position where
/// it is used.
pub trait FromRow: Sized {
    /// Decodes `row`.
    fn from_row(row: &tokio_postgres::Row) -> Result<Self, tokio_postgres::Error>;

    /// The workspace's schema version, when the statement carries it (a statement
    /// run without the context statement that reads it).
    fn schema_version(&self) -> Option<i64> {
        None
    }
}
