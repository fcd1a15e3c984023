//! Rendering a [`Query`] back into a canonical query string, so that
//! `parse(render(q)) == q` can be tested.

use std::fmt::Write;

use crate::ast::*;

const QUOTE_IN_LIST: &[char] = &[',', ')', '(', '"', '\\'];

fn encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        match b {
            b'&' | b'=' | b'+' | b'%' | b'#' => {
                let _ = write!(out, "%{b:02X}");
            }
            b' ' => out.push('+'),
            _ => out.push(b as char),
        }
    }
    out
}

fn name(text: &str) -> String {
    if !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '$')
    {
        text.to_owned()
    } else {
        quote(text)
    }
}

fn quote(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

fn json_key(key: &str) -> String {
    let plain = !key.is_empty()
        && !key.contains("->")
        && !key.starts_with('"')
        && !key.contains([',', '(', ')', ':', '!', '.', '"']);
    if plain {
        key.to_owned()
    } else {
        quote(key)
    }
}

fn field(f: &Field) -> String {
    let mut out = name(&f.name);
    for step in &f.json_path {
        out.push_str(if step.as_text { "->>" } else { "->" });
        out.push_str(&json_key(&step.key));
    }
    out
}

fn list_value(v: &str) -> String {
    if v.is_empty() || v.contains(QUOTE_IN_LIST) {
        quote(v)
    } else {
        v.to_owned()
    }
}

fn rhs(c: &Condition, nested: bool) -> String {
    let value = match &c.operand {
        Operand::Value(v) => {
            let v = if matches!(c.op, Operator::Like | Operator::Ilike) {
                v.replace('%', "*")
            } else {
                v.clone()
            };
            if nested {
                list_value(&v)
            } else {
                v
            }
        }
        Operand::Values(vs) => format!(
            "({})",
            vs.iter()
                .map(|v| list_value(v))
                .collect::<Vec<_>>()
                .join(",")
        ),
        Operand::Is(is) => is.keyword().to_owned(),
    };
    format!("{}.{value}", c.op.keyword())
}

fn node(q: &Query, index: u32) -> String {
    let n = &q.nodes[index as usize];
    let not = if n.negated { "not." } else { "" };
    match &n.kind {
        NodeKind::Condition(c) => format!("{not}{}.{}", field(&c.field), rhs(c, true)),
        NodeKind::All(children) | NodeKind::Any(children) => {
            let word = if matches!(n.kind, NodeKind::All(_)) {
                "and"
            } else {
                "or"
            };
            let inner: Vec<String> = children.iter().map(|c| node(q, *c)).collect();
            format!("{not}{word}({})", inner.join(","))
        }
    }
}

fn select_items(q: &Query, items: &[u32]) -> String {
    items
        .iter()
        .map(|i| match &q.select[*i as usize] {
            SelectItem::Star => "*".to_owned(),
            SelectItem::Column(c) => {
                let mut out = String::new();
                if let Some(alias) = &c.alias {
                    out.push_str(&name(alias));
                    out.push(':');
                }
                out.push_str(&field(&c.field));
                if let Some(cast) = &c.cast {
                    out.push_str("::");
                    out.push_str(cast);
                }
                out
            }
            SelectItem::Embed(e) => {
                let mut out = String::new();
                if let Some(alias) = &e.alias {
                    out.push_str(&name(alias));
                    out.push(':');
                }
                out.push_str(&name(&e.relation));
                if let Some(hint) = &e.hint {
                    out.push('!');
                    out.push_str(hint);
                }
                if e.inner {
                    out.push_str("!inner");
                }
                out.push('(');
                out.push_str(&select_items(q, &e.children));
                out.push(')');
                out
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn order_term(t: &OrderTerm) -> String {
    let mut out = field(&t.field);
    out.push_str(match t.direction {
        Direction::Asc => ".asc",
        Direction::Desc => ".desc",
    });
    match t.nulls {
        Some(NullsOrder::First) => out.push_str(".nullsfirst"),
        Some(NullsOrder::Last) => out.push_str(".nullslast"),
        None => {}
    }
    out
}

/// The canonical query string of a parsed query.
pub fn render(q: &Query) -> String {
    let mut params: Vec<String> = Vec::new();
    if !q.top.is_empty() {
        params.push(format!("select={}", encode(&select_items(q, &q.top))));
    }
    for f in &q.filters {
        let prefix: String = f.path.iter().map(|p| format!("{p}.")).collect();
        let n = &q.nodes[f.root as usize];
        match &n.kind {
            NodeKind::Condition(c) => {
                let not = if n.negated { "not." } else { "" };
                params.push(format!(
                    "{}{}={}{}",
                    encode(&prefix),
                    encode(&field(&c.field)),
                    not,
                    encode(&rhs(c, false))
                ));
            }
            NodeKind::All(_) | NodeKind::Any(_) => {
                let rendered = node(q, f.root);
                let not = if n.negated { "not." } else { "" };
                let (word, body) = rendered
                    .trim_start_matches("not.")
                    .split_once('(')
                    .unwrap_or(("and", ""));
                params.push(format!("{}{not}{word}=({}", encode(&prefix), encode(body)));
            }
        }
    }
    let mut paths: Vec<&Vec<String>> = Vec::new();
    for t in &q.order {
        if !paths.contains(&&t.path) {
            paths.push(&t.path);
        }
    }
    for path in paths {
        let terms: Vec<String> = q
            .order
            .iter()
            .filter(|t| &t.path == path)
            .map(order_term)
            .collect();
        let prefix: String = path.iter().map(|p| format!("{p}.")).collect();
        params.push(format!(
            "{}order={}",
            encode(&prefix),
            encode(&terms.join(","))
        ));
    }
    if let Some(limit) = q.limit {
        params.push(format!("limit={limit}"));
    }
    if let Some(offset) = q.offset {
        params.push(format!("offset={offset}"));
    }
    if !q.on_conflict.is_empty() {
        params.push(format!("on_conflict={}", encode(&q.on_conflict.join(","))));
    }
    if !q.columns.is_empty() {
        params.push(format!("columns={}", encode(&q.columns.join(","))));
    }
    params.join("&")
}
