//! The filter-parser world: a Data API query string in, a typed request out — checked
//! by the host before anyone trusts it.

use std::sync::Arc;

use uuid::Uuid;

use super::filter_types::{NodeKind, ParseError, Query, SelectItem};
use super::registry::{Exports, Plugin};
use super::{PluginError, PluginFault, PluginKind, PluginRuntime};

/// Most items (select items, nodes, filters, order terms) a parsed query may hold.
pub const MAX_QUERY_ITEMS: usize = 4096;

impl PluginRuntime {
    /// Parses `query` with the workspace's filter parser. The outer error is the
    /// plugin's failure; the inner one the parser's refusal of the query string.
    pub async fn parse_query(
        &self,
        workspace: Uuid,
        query: &str,
    ) -> Result<Result<Query, ParseError>, PluginError> {
        let plugin = self
            .resolve(PluginKind::FilterParser, Some(workspace))
            .await?;
        self.parse_with(&plugin, Some(workspace), query).await
    }

    /// Parses `query` with a given filter-parser plugin.
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
