//! The parsed request: flat trees, mirroring the `plinth:filter` WIT types.

/// One step of a JSON path: `->key` keeps JSON, `->>key` yields text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonStep {
    /// The key (digits index an array).
    pub key: String,
    /// `->>` rather than `->`.
    pub as_text: bool,
}

/// A column with an optional JSON path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The column.
    pub name: String,
    /// The path into it.
    pub json_path: Vec<JsonStep>,
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
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
    /// `LIKE`
    Like,
    /// `ILIKE`
    Ilike,
    /// `IN`
    In,
    /// `IS`
    Is,
}

impl Operator {
    /// Every operator with its keyword.
    pub const ALL: [(Operator, &'static str); 10] = [
        (Operator::Eq, "eq"),
        (Operator::Neq, "neq"),
        (Operator::Gt, "gt"),
        (Operator::Gte, "gte"),
        (Operator::Lt, "lt"),
        (Operator::Lte, "lte"),
        (Operator::Like, "like"),
        (Operator::Ilike, "ilike"),
        (Operator::In, "in"),
        (Operator::Is, "is"),
    ];

    /// The keyword.
    pub fn keyword(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(op, _)| *op == self)
            .map(|(_, k)| *k)
            .unwrap_or("eq")
    }

    /// Parses a keyword.
    pub fn from_keyword(word: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .find(|(_, k)| *k == word)
            .map(|(op, _)| *op)
    }
}

/// What `is.` compares against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IsValue {
    /// `null`
    Null,
    /// `not_null`
    NotNull,
    /// `true`
    True,
    /// `false`
    False,
    /// `unknown`
    Unknown,
}

impl IsValue {
    /// The keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            IsValue::Null => "null",
            IsValue::NotNull => "not_null",
            IsValue::True => "true",
            IsValue::False => "false",
            IsValue::Unknown => "unknown",
        }
    }
}

/// The right-hand side of a condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operand {
    /// One value (for `like`/`ilike`, with `*` already turned into `%`).
    Value(String),
    /// The list of `in.(...)`.
    Values(Vec<String>),
    /// The keyword of `is.`.
    Is(IsValue),
}

/// `field op operand`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// The left side.
    pub field: Field,
    /// The operator.
    pub op: Operator,
    /// The right side.
    pub operand: Operand,
}

/// The kind of a boolean-tree node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeKind {
    /// A leaf.
    Condition(Condition),
    /// `and(...)`: indices into [`Query::nodes`].
    All(Vec<u32>),
    /// `or(...)`: indices into [`Query::nodes`].
    Any(Vec<u32>),
}

/// A boolean-tree node with its `not.` prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterNode {
    /// `not.`
    pub negated: bool,
    /// What it is.
    pub kind: NodeKind,
}

/// One filter parameter: a tree rooted at `nodes[root]` at embedding level `path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    /// Embedding path (empty: the requested table).
    pub path: Vec<String>,
    /// Root node index.
    pub root: u32,
}

/// A column of the select list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectColumn {
    /// The column.
    pub field: Field,
    /// `alias:`
    pub alias: Option<String>,
    /// `::type`
    pub cast: Option<String>,
}

/// An embedded relation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Embed {
    /// `alias:`
    pub alias: Option<String>,
    /// The related table.
    pub relation: String,
    /// `!hint`
    pub hint: Option<String>,
    /// `!inner`
    pub inner: bool,
    /// Indices into [`Query::select`].
    pub children: Vec<u32>,
}

/// One select item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SelectItem {
    /// `*`
    Star,
    /// A column.
    Column(SelectColumn),
    /// An embedded relation.
    Embed(Embed),
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Ascending.
    Asc,
    /// Descending.
    Desc,
}

/// Where nulls sort.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NullsOrder {
    /// `nullsfirst`
    First,
    /// `nullslast`
    Last,
}

/// One term of `order=`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderTerm {
    /// Embedding path (empty: the requested table).
    pub path: Vec<String>,
    /// The sort key.
    pub field: Field,
    /// Direction.
    pub direction: Direction,
    /// Nulls placement, when given.
    pub nulls: Option<NullsOrder>,
}

/// The parsed query string.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Query {
    /// Every select item; [`Query::top`] lists the requested table's own.
    pub select: Vec<SelectItem>,
    /// Top-level select items (empty: `*`).
    pub top: Vec<u32>,
    /// Every boolean-tree node.
    pub nodes: Vec<FilterNode>,
    /// Filter parameters in order.
    pub filters: Vec<Filter>,
    /// Order terms in order.
    pub order: Vec<OrderTerm>,
    /// `limit=`
    pub limit: Option<u64>,
    /// `offset=`
    pub offset: Option<u64>,
    /// `on_conflict=`
    pub on_conflict: Vec<String>,
    /// `columns=`
    pub columns: Vec<String>,
}

/// A refusal, positioned in the raw query string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The parameter at fault.
    pub parameter: String,
    /// Byte offset in the raw query string.
    pub position: u32,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} (parameter `{}`, at {})",
            self.message, self.parameter, self.position
        )
    }
}

impl std::error::Error for ParseError {}
