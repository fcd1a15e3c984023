//! The Data API's parsed query string as host types. A filter parser answers its WIT
//! `query`, whose trees are flattened into index lists; `plugins::filter` checks it
//! and converts it once (the parse cache keeps the result) into these owned trees,
//! which the planner walks. Nothing past the plugin boundary names a WIT type.

/// A parsed query string: what to select, filter and order, and the page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    /// The requested table's select list; empty means `*`.
    pub select: Vec<SelectItem>,
    /// The filter parameters, in query-string order; several at one level are ANDed.
    pub filters: Vec<Filter>,
    /// `order=`, in order.
    pub order: Vec<OrderTerm>,
    /// `limit=`.
    pub limit: Option<u64>,
    /// `offset=`.
    pub offset: Option<u64>,
    /// `on_conflict=a,b` (upserts).
    pub on_conflict: Vec<String>,
    /// `columns=a,b`: the columns a POST body may set.
    pub columns: Vec<String>,
}

/// A column, optionally followed by a JSON path: `data->address->>city`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The column's name.
    pub name: String,
    /// The path's steps, in order.
    pub json_path: Vec<JsonStep>,
}

/// One step of a JSON path: `->key` keeps JSON, `->>key` (`as_text`) yields text; a
/// key made of digits indexes an array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonStep {
    /// The key or index.
    pub key: String,
    /// `->>`.
    pub as_text: bool,
}

/// One item of a select list.
#[derive(Debug, Clone, PartialEq)]
pub enum SelectItem {
    /// `*`: every column.
    Star,
    /// `alias:field::cast`.
    Column {
        /// The column and its JSON path.
        field: Field,
        /// The key it gets in each row.
        alias: Option<String>,
        /// An allow-listed cast.
        cast: Option<String>,
    },
    /// `alias:relation!hint!inner(children)`.
    Embed(Embed),
}

/// An embedded relation.
#[derive(Debug, Clone, PartialEq)]
pub struct Embed {
    /// The key the embedded value gets in each row; the relation's name when absent.
    pub alias: Option<String>,
    /// The related table, as the client named it.
    pub relation: String,
    /// A foreign-key (or column) name that picks one of several relationships.
    pub hint: Option<String>,
    /// `!inner`: keep only parents that have a matching child.
    pub inner: bool,
    /// The embedded select list; empty means `*`.
    pub children: Vec<SelectItem>,
}

/// One filter parameter: a boolean tree applied at the embedding level `path` (empty
/// for the requested table, `["customers"]` for `customers.name=eq.x`).
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    /// The embedding level.
    pub path: Vec<String>,
    /// The condition.
    pub tree: FilterTree,
}

/// A boolean tree of conditions.
#[derive(Debug, Clone, PartialEq)]
pub enum FilterTree {
    /// `field=op.operand`.
    Condition(Condition),
    /// `and=(...)`: every child holds.
    All(Vec<FilterTree>),
    /// `or=(...)`: some child holds.
    Any(Vec<FilterTree>),
    /// The `not.` prefix.
    Not(Box<FilterTree>),
}

/// `field op operand`, e.g. `price=gte.50`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// The column (and JSON path) compared.
    pub field: Field,
    /// The operator.
    pub op: Operator,
    /// What it is compared with.
    pub operand: Operand,
}

/// The comparison operators of the grammar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    /// `eq`: `=`.
    Eq,
    /// `neq`: `<>`.
    Neq,
    /// `gt`: `>`.
    Gt,
    /// `gte`: `>=`.
    Gte,
    /// `lt`: `<`.
    Lt,
    /// `lte`: `<=`.
    Lte,
    /// `like`.
    Like,
    /// `ilike`.
    Ilike,
    /// `in.(a,b)`.
    In,
    /// `is.null` and friends.
    Is,
}

/// The right-hand side of a condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operand {
    /// One value, quotes and escapes already removed.
    Value(String),
    /// The list of `in.(a,b,"c,d")`.
    Values(Vec<String>),
    /// The keyword of `is.`.
    Is(IsValue),
}

/// The keywords of `is.`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IsValue {
    /// `is.null`.
    Null,
    /// `is.not_null`.
    NotNull,
    /// `is.true`.
    True,
    /// `is.false`.
    False,
    /// `is.unknown`.
    Unknown,
}

/// One term of `order=`, at an embedding level as for filters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderTerm {
    /// The embedding level.
    pub path: Vec<String>,
    /// The column (and JSON path) sorted by.
    pub field: Field,
    /// `.desc`.
    pub descending: bool,
    /// `.nullsfirst` / `.nullslast`.
    pub nulls: Option<NullsOrder>,
}

/// Where nulls sort.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NullsOrder {
    /// `nullsfirst`.
    First,
    /// `nullslast`.
    Last,
}
