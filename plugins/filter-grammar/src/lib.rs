//! The Data API's query-string grammar (PostgREST-compatible), as plain Rust.
//!
//! The `filter-parser` component wraps this crate for the Wasm boundary; the host's
//! benchmarks also run it natively beside the component.
//!
//! ```
//! use filter_grammar::{parse, NodeKind, Operand, Operator, SelectItem};
//!
//! let q = parse("select=id,name&category=eq.electronics&price=gte.50&order=price.desc&limit=20").unwrap();
//! assert_eq!(q.top.len(), 2);
//! assert_eq!(q.filters.len(), 2);
//! let NodeKind::Condition(c) = &q.nodes[q.filters[1].root as usize].kind else { panic!() };
//! assert_eq!((c.field.name.as_str(), c.op), ("price", Operator::Gte));
//! assert_eq!(c.operand, Operand::Value("50".into()));
//! assert_eq!(q.limit, Some(20));
//! ```
//!
//! Embedded relations, JSON paths, casts and aliases:
//!
//! ```
//! use filter_grammar::{parse, SelectItem};
//!
//! let q = parse("select=id,total:amount::text,data->>city,customer:customers!orders_customer_fkey(name,email)").unwrap();
//! let SelectItem::Embed(e) = &q.select[q.top[3] as usize] else { panic!() };
//! assert_eq!(e.alias.as_deref(), Some("customer"));
//! assert_eq!(e.relation, "customers");
//! assert_eq!(e.hint.as_deref(), Some("orders_customer_fkey"));
//! assert_eq!(e.children.len(), 2);
//! ```
//!
//! Boolean trees, negation and quoted values:
//!
//! ```
//! use filter_grammar::{parse, NodeKind, Operand};
//!
//! let q = parse("or=(status.eq.active,and(price.lt.10,not.name.in.(\"a,b\",c)))").unwrap();
//! let NodeKind::Any(children) = &q.nodes[q.filters[0].root as usize].kind else { panic!() };
//! assert_eq!(children.len(), 2);
//! let quoted = q.nodes.iter().find_map(|n| match &n.kind {
//!     NodeKind::Condition(c) if n.negated => Some(c.operand.clone()),
//!     _ => None,
//! });
//! assert_eq!(quoted, Some(Operand::Values(vec!["a,b".into(), "c".into()])));
//! ```
//!
//! Errors carry the parameter and the byte offset in the query string:
//!
//! ```
//! let err = filter_grammar::parse("select=id&price=gtx.5").unwrap_err();
//! assert_eq!(err.parameter, "price");
//! assert_eq!(err.position, 16);
//! assert!(err.message.contains("unknown operator `gtx`"));
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod ast;
mod cursor;
mod params;
mod parse;
mod render;

pub use ast::*;
pub use parse::{parse, MAX_DEPTH, MAX_PARAMS};
pub use render::render;

#[cfg(test)]
mod tests;
