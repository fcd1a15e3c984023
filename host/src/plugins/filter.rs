//! The filter-parser world: a Data API query string in, a typed request out — checked
//! by the host before anyone trusts it.

use std::sync::Arc;

use uuid::Uuid;

use super::filter_types::{self as wit, NodeKind, ParseError, Query, SelectItem};
use super::registry::{Exports, Plugin};
use super::{PluginError, PluginFault, PluginKind, PluginRuntime};
use crate::request;

/// Most items (select items, nodes, filters, order terms) a parsed query may hold.
pub const MAX_QUERY_ITEMS: usize = 4096;
/// Bytes of query strings (with a fixed allowance per entry) the parse cache holds.
pub const PARSE_CACHE_BYTES: u64 = 16 << 20;
/// Weight of one cached parse beyond its query string.
const PARSE_ENTRY_OVERHEAD_BYTES: u32 = 512;
/// A cached parse unused this long is dropped.
const PARSE_CACHE_IDLE: std::time::Duration = std::time::Duration::from_secs(600);

/// What a parse is cached under: the workspace (so that no tenant can learn from
/// timing what another one asked), the parser's content and the query string.
type ParseKey = (Uuid, [u8; 32], String);

/// A [`ParseKey`] borrowed from the request, to look up without copying the query
/// string. It hashes as the owned key does: a tuple hashes its fields in order, and
/// a `&str` as its `String`.
#[derive(Hash)]
struct ParseKeyRef<'a>(Uuid, &'a [u8; 32], &'a str);

impl moka::Equivalent<ParseKey> for ParseKeyRef<'_> {
    fn equivalent(&self, key: &ParseKey) -> bool {
        self.0 == key.0 && *self.1 == key.1 && self.2 == key.2
    }
}

/// A parser's answer as cached: the query, or its refusal.
pub type Parsed = Result<Arc<request::Query>, ParseError>;

/// The empty query string's query: `*`, no filter, no order, the default page.
static EMPTY_QUERY: std::sync::LazyLock<Arc<request::Query>> =
    std::sync::LazyLock::new(|| Arc::new(request::Query::default()));

/// Parser answers by workspace, parser and query string. The filter-parser world
/// imports nothing, so its answer is a function of the query string alone (its WIT
/// says so); repeated query strings — the common case for an API — skip the call.
pub struct ParseCache {
    entries: moka::sync::Cache<ParseKey, Parsed>,
}

impl Default for ParseCache {
    fn default() -> Self {
        Self {
            entries: moka::sync::Cache::builder()
                .max_capacity(PARSE_CACHE_BYTES)
                .weigher(|key: &ParseKey, _| {
                    u32::try_from(key.2.len())
                        .unwrap_or(u32::MAX)
                        .saturating_add(PARSE_ENTRY_OVERHEAD_BYTES)
                })
                .time_to_idle(PARSE_CACHE_IDLE)
                .build(),
        }
    }
}

impl PluginRuntime {
    /// Parses `query` with the workspace's filter parser, or answers from the parse
    /// cache. The outer error is the plugin's failure (never cached); the inner one
    /// the parser's refusal of the query string.
    ///
    /// The empty query string is the empty query whatever the parser: it selects
    /// everything with the defaults, and needs neither the parser nor the cache.
    pub async fn parse_query(&self, workspace: Uuid, query: &str) -> Result<Parsed, PluginError> {
        if query.is_empty() {
            return Ok(Ok(EMPTY_QUERY.clone()));
        }
        let plugin = self
            .resolve(PluginKind::FilterParser, Some(workspace))
            .await?;
        let borrowed = ParseKeyRef(workspace, &plugin.digest, query);
        if let Some(hit) = self.parsed.entries.get(&borrowed) {
            return Ok(hit);
        }
        let parsed = self
            .parse_with(&plugin, Some(workspace), query)
            .await?
            .map(Arc::new);
        self.parsed
            .entries
            .insert((workspace, plugin.digest, query.to_owned()), parsed.clone());
        Ok(parsed)
    }

    /// Parses `query` with a given filter-parser plugin: always a call (no cache).
    pub async fn parse_with(
        &self,
        plugin: &Arc<Plugin>,
        workspace: Option<Uuid>,
        query: &str,
    ) -> Result<Result<request::Query, ParseError>, PluginError> {
        let text = query.to_owned();
        let parsed = self
            .invoke(plugin, workspace, move |store, exports| {
                Box::pin(async move {
                    match exports {
                        Exports::Filter(guest) => guest.call_parse(store, &text).await,
                        _ => Err(wasmtime::Error::msg("not a filter parser")),
                    }
                })
            })
            .await?;
        match parsed {
            Ok(query) => Ok(Ok(into_request(query).map_err(|message| {
                PluginError::new(plugin.kind, &plugin.name, PluginFault::BadOutput(message))
            })?)),
            Err(refused) => Ok(Err(refused)),
        }
    }
}

/// Checks a parser's answer and converts it into the host's [`request::Query`]: sizes
/// bounded, indices in range, every child before its parent (so the trees have no
/// cycles) and one parent each, and/or nodes with children.
pub fn into_request(query: Query) -> Result<request::Query, String> {
    let sizes = [
        ("select items", query.select.len()),
        ("filter nodes", query.nodes.len()),
        ("filters", query.filters.len()),
        ("order terms", query.order.len()),
    ];
    for (what, n) in sizes {
        if n > MAX_QUERY_ITEMS {
            return Err(format!(
                "{n} {what}; at most {MAX_QUERY_ITEMS} are accepted"
            ));
        }
    }
    // Built bottom-up: a child, which comes before its parent, is taken out of its
    // slot when the parent is built, so a second claim on it finds the slot empty.
    let mut items: Vec<Option<request::SelectItem>> = Vec::with_capacity(query.select.len());
    for (i, item) in query.select.into_iter().enumerate() {
        let item = match item {
            SelectItem::Star => request::SelectItem::Star,
            SelectItem::Column(c) => request::SelectItem::Column {
                field: field(c.field),
                alias: c.alias,
                cast: c.cast,
            },
            SelectItem::Embed(e) => request::SelectItem::Embed(request::Embed {
                alias: e.alias,
                relation: e.relation,
                hint: e.hint,
                inner: e.inner,
                children: claim(&mut items, &e.children, i, "select item")?,
            }),
        };
        items.push(Some(item));
    }
    let select = claim(&mut items, &query.top, usize::MAX, "select item")?;
    let mut nodes: Vec<Option<request::FilterTree>> = Vec::with_capacity(query.nodes.len());
    for (i, node) in query.nodes.into_iter().enumerate() {
        let tree = match node.kind {
            NodeKind::Condition(c) => request::FilterTree::Condition(condition(c)),
            NodeKind::All(children) | NodeKind::Any(children) if children.is_empty() => {
                return Err(format!("filter node {i} has no children"));
            }
            NodeKind::All(children) => {
                request::FilterTree::All(claim(&mut nodes, &children, i, "filter node")?)
            }
            NodeKind::Any(children) => {
                request::FilterTree::Any(claim(&mut nodes, &children, i, "filter node")?)
            }
        };
        nodes.push(Some(match node.negated {
            true => request::FilterTree::Not(Box::new(tree)),
            false => tree,
        }));
    }
    let mut filters = Vec::with_capacity(query.filters.len());
    for filter in query.filters {
        let [tree] = claim(&mut nodes, &[filter.root], usize::MAX, "filter root")?
            .try_into()
            .map_err(|_| "a filter has one root".to_owned())?;
        filters.push(request::Filter {
            path: filter.path,
            tree,
        });
    }
    Ok(request::Query {
        select,
        filters,
        order: query.order.into_iter().map(order_term).collect(),
        limit: query.limit,
        offset: query.offset,
        on_conflict: query.on_conflict,
        columns: query.columns,
    })
}

/// Takes `children` out of `built` for the item at `parent` (`usize::MAX` for a
/// root): each must be built already (before the parent) and unclaimed.
fn claim<T>(
    built: &mut [Option<T>],
    children: &[u32],
    parent: usize,
    what: &str,
) -> Result<Vec<T>, String> {
    children
        .iter()
        .map(|&child| {
            let c = child as usize;
            if c >= built.len() || c >= parent {
                return Err(format!("{what} {child} is out of order or out of range"));
            }
            built[c]
                .take()
                .ok_or_else(|| format!("{what} {child} has two parents"))
        })
        .collect()
}

fn field(field: wit::Field) -> request::Field {
    request::Field {
        name: field.name,
        json_path: field
            .json_path
            .into_iter()
            .map(|step| request::JsonStep {
                key: step.key,
                as_text: step.as_text,
            })
            .collect(),
    }
}

fn condition(c: wit::Condition) -> request::Condition {
    request::Condition {
        field: field(c.field),
        op: match c.op {
            wit::Operator::Eq => request::Operator::Eq,
            wit::Operator::Neq => request::Operator::Neq,
            wit::Operator::Gt => request::Operator::Gt,
            wit::Operator::Gte => request::Operator::Gte,
            wit::Operator::Lt => request::Operator::Lt,
            wit::Operator::Lte => request::Operator::Lte,
            wit::Operator::Like => request::Operator::Like,
            wit::Operator::Ilike => request::Operator::Ilike,
            wit::Operator::In => request::Operator::In,
            wit::Operator::Is => request::Operator::Is,
        },
        operand: match c.operand {
            wit::Operand::Value(v) => request::Operand::Value(v),
            wit::Operand::Values(vs) => request::Operand::Values(vs),
            wit::Operand::Is(is) => request::Operand::Is(match is {
                wit::IsValue::Null => request::IsValue::Null,
                wit::IsValue::NotNull => request::IsValue::NotNull,
                wit::IsValue::True => request::IsValue::True,
                wit::IsValue::False => request::IsValue::False,
                wit::IsValue::Unknown => request::IsValue::Unknown,
            }),
        },
    }
}

fn order_term(term: wit::OrderTerm) -> request::OrderTerm {
    request::OrderTerm {
        path: term.path,
        field: field(term.field),
        descending: matches!(term.direction, wit::Direction::Desc),
        nulls: term.nulls.map(|nulls| match nulls {
            wit::NullsOrder::First => request::NullsOrder::First,
            wit::NullsOrder::Last => request::NullsOrder::Last,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_borrowed_parse_key_finds_the_owned_one() {
        let cache: moka::sync::Cache<ParseKey, u8> = moka::sync::Cache::new(10);
        let workspace = Uuid::new_v4();
        let digest = [7u8; 32];
        cache.insert((workspace, digest, "select=id&limit=2".to_owned()), 1);
        assert_eq!(
            cache.get(&ParseKeyRef(workspace, &digest, "select=id&limit=2")),
            Some(1)
        );
        assert_eq!(
            cache.get(&ParseKeyRef(workspace, &digest, "select=id")),
            None
        );
        assert_eq!(
            cache.get(&ParseKeyRef(workspace, &[8u8; 32], "select=id&limit=2")),
            None
        );
    }

    fn wit_query(select: Vec<SelectItem>, top: Vec<u32>) -> Query {
        Query {
            select,
            top,
            nodes: Vec::new(),
            filters: Vec::new(),
            order: Vec::new(),
            limit: None,
            offset: None,
            on_conflict: Vec::new(),
            columns: Vec::new(),
        }
    }

    fn embed(relation: &str, children: Vec<u32>) -> SelectItem {
        SelectItem::Embed(wit::Embed {
            alias: None,
            relation: relation.into(),
            hint: None,
            inner: false,
            children,
        })
    }

    #[test]
    fn flat_trees_become_owned_trees() {
        let query = wit_query(vec![SelectItem::Star, embed("orders", vec![0])], vec![1]);
        let converted = into_request(query).expect("a well-formed query");
        let [request::SelectItem::Embed(orders)] = converted.select.as_slice() else {
            panic!("one embed: {converted:?}")
        };
        assert_eq!(orders.children, vec![request::SelectItem::Star]);
    }

    #[test]
    fn cycles_shared_children_and_stray_indices_are_refused() {
        for (select, top, expected) in [
            (vec![embed("a", vec![0])], vec![0], "out of order"),
            (
                vec![embed("a", vec![1]), embed("b", vec![0])],
                vec![1],
                "out of order",
            ),
            (
                vec![SelectItem::Star, embed("a", vec![0])],
                vec![0, 1],
                "two parents",
            ),
            (vec![SelectItem::Star], vec![7], "out of range"),
        ] {
            let refused = into_request(wit_query(select, top)).expect_err("refused");
            assert!(refused.contains(expected), "{refused}");
        }
        let mut negated = wit_query(Vec::new(), Vec::new());
        negated.nodes.push(wit::FilterNode {
            negated: true,
            kind: NodeKind::All(Vec::new()),
        });
        assert!(into_request(negated).unwrap_err().contains("no children"));
    }
}
