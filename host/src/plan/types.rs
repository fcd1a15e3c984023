//! The plan: what to select, from where, under which conditions, in which order.

use std::sync::Arc;

use crate::schema_cache::Relation;

/// One step into a JSON column: a key (or an array index when `index`), keeping JSON
/// (`->`) or yielding text (`->>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonStep {
    /// The key, or the index digits.
    pub key: String,
    /// `->>` rather than `->`.
    pub as_text: bool,
    /// The key is an array index.
    pub index: bool,
}

/// A checked column reference, with an optional JSON path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnRef {
    /// The column, as in the catalog.
    pub column: Arc<str>,
    /// Its type without modifiers.
    pub cast_type: Arc<str>,
    /// The JSON path into it.
    pub json_path: Vec<JsonStep>,
}

impl ColumnRef {
    /// The type a value compared with this reference is cast to.
    pub fn value_type(&self) -> &str {
        match self.json_path.last() {
            None => &self.cast_type,
            Some(step) if step.as_text => "text",
            Some(_) => "jsonb",
        }
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    /// `=`
    Eq,
    /// `<>`
    Neq,
    /// `>`
    Gt,
    /// `>=`
    Gte,
    /// `<`
    Lt,
    /// `<=`
    Lte,
}

/// What `IS` tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IsTest {
    /// `IS NULL`
    Null,
    /// `IS NOT NULL`
    NotNull,
    /// `IS TRUE`
    True,
    /// `IS FALSE`
    False,
    /// `IS UNKNOWN`
    Unknown,
}

/// A boolean condition over one relation's columns.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `left op value::type`
    Compare {
        /// The column.
        left: ColumnRef,
        /// The operator.
        op: CompareOp,
        /// The value, bound and cast to the column's type.
        value: String,
    },
    /// `left::text [I]LIKE pattern`
    Like {
        /// The column.
        left: ColumnRef,
        /// `ILIKE`.
        case_insensitive: bool,
        /// The pattern, bound.
        pattern: String,
    },
    /// `left = ANY(values::type[])`
    In {
        /// The column.
        left: ColumnRef,
        /// The values, bound as one array.
        values: Vec<String>,
    },
    /// `left IS ...`
    Is {
        /// The column.
        left: ColumnRef,
        /// The test.
        test: IsTest,
    },
    /// `NOT (...)`
    Not(Box<Expr>),
    /// `(... AND ...)`
    All(Vec<Expr>),
    /// `(... OR ...)`
    Any(Vec<Expr>),
    /// A constant (`false` for a grant that can never match).
    Const(bool),
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nulls {
    /// `NULLS FIRST`
    First,
    /// `NULLS LAST`
    Last,
}

/// One ORDER BY term.
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    /// The key.
    pub left: ColumnRef,
    /// Descending.
    pub descending: bool,
    /// Nulls placement.
    pub nulls: Option<Nulls>,
}

/// One output item of a level.
#[derive(Debug, Clone)]
pub enum Item {
    /// A column under an output name, with an optional (allow-listed) cast.
    Column {
        /// The column.
        left: ColumnRef,
        /// The output key.
        name: Arc<str>,
        /// The cast, from the allow-list.
        cast: Option<&'static str>,
    },
    /// An embedded relation.
    Embed(Box<Embed>),
}

/// What one level of the response selects.
#[derive(Debug, Clone, Default)]
pub struct Shape {
    /// The items in order.
    pub items: Vec<Item>,
}

/// An embedded relation: a subquery joined on a foreign key.
#[derive(Debug, Clone)]
pub struct Embed {
    /// The output key.
    pub name: String,
    /// The name the client used (filters and order refer to it).
    pub label: String,
    /// The embedded relation.
    pub relation: Arc<Relation>,
    /// `(parent column, child column)` pairs.
    pub join: Vec<(String, String)>,
    /// Many-to-one: an object (or null); else an array.
    pub to_one: bool,
    /// What it selects.
    pub shape: Shape,
    /// Its filters, ANDed (grants included).
    pub filter: Vec<Expr>,
    /// Its order.
    pub order: Vec<Order>,
    /// `!inner`: parents without a matching child are dropped.
    pub inner: bool,
}

/// How `total` is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountMode {
    /// `count(*)` in the same statement.
    Exact,
    /// The planner's estimate when above a threshold, else exact.
    Estimated,
    /// No count at all: a read by primary key, whose answer has no total and whose
    /// page's length says everything (PostgreSQL is spared a second index probe).
    None,
}

impl CountMode {
    /// Whether the planner's estimate is asked for beside the statement.
    pub fn wants_estimate(self) -> bool {
        self == Self::Estimated
    }
}
