//! The filter-parser world: a Data API query string in, a typed request out — checked
//! by the host before anyone trusts it.

use std::sync::Arc;

use uuid::Uuid;

use super::filter_types::{NodeKind, ParseError, Query, SelectItem};
use super::registry::{Exports, Plugin};
use super::{PluginError, PluginFault, PluginKind, PluginRuntime};

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
pub type Parsed = Result<Arc<Query>, ParseError>;

/// The empty query string's query: `*`, no filter, no order, the default page.
static EMPTY_QUERY: std::sync::LazyLock<Arc<Query>> = std::sync::LazyLock::new(|| {
    Arc::new(Query {
        select: Vec::new(),
        top: Vec::new(),
        nodes: Vec::new(),
        filters: Vec::new(),
        order: Vec::new(),
        limit: None,
        offset: None,
        on_conflict: Vec::new(),
        columns: Vec::new(),
    })
});

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
    ) -> Result<Result<Query, ParseError>, PluginError> {
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
        if let Ok(query) = &parsed {
            check_shape(query).map_err(|message| {
                PluginError::new(plugin.kind, &plugin.name, PluginFault::BadOutput(message))
            })?;
        }
        Ok(parsed)
    }
}

/// The structural rules a parsed query must keep: bounded sizes, indices in range,
/// every child before its parent (so the trees have no cycles) and one parent each.
pub fn check_shape(query: &Query) -> Result<(), String> {
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
    let mut select_parent = vec![false; query.select.len()];
    let claim =
        |seen: &mut Vec<bool>, child: u32, parent: usize, what: &str| -> Result<(), String> {
            let c = child as usize;
            if c >= seen.len() || c >= parent {
                return Err(format!("{what} {child} is out of order or out of range"));
            }
            if std::mem::replace(&mut seen[c], true) {
                return Err(format!("{what} {child} has two parents"));
            }
            Ok(())
        };
    for (i, item) in query.select.iter().enumerate() {
        if let SelectItem::Embed(embed) = item {
            for child in &embed.children {
                claim(&mut select_parent, *child, i, "select item")?;
            }
        }
    }
    for top in &query.top {
        claim(&mut select_parent, *top, query.select.len(), "select item")?;
    }
    let mut node_parent = vec![false; query.nodes.len()];
    for (i, node) in query.nodes.iter().enumerate() {
        if let NodeKind::All(children) | NodeKind::Any(children) = &node.kind {
            if children.is_empty() {
                return Err(format!("filter node {i} has no children"));
            }
            for child in children {
                claim(&mut node_parent, *child, i, "filter node")?;
            }
        }
    }
    for filter in &query.filters {
        claim(
            &mut node_parent,
            filter.root,
            query.nodes.len(),
            "filter root",
        )?;
    }
    Ok(())
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
}
