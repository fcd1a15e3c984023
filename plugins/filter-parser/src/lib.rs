//! The built-in filter parser: `filter-grammar` behind the `plinth:filter` world.

wit_bindgen::generate!({
    path: "../../wit/filter",
    world: "filter-parser",
});

use exports::plinth::filter::parser::Guest;
use plinth::filter::types as wit;

struct Parser;

impl Guest for Parser {
    fn parse(query_string: String) -> Result<wit::Query, wit::ParseError> {
        filter_grammar::parse(&query_string)
            .map(query)
            .map_err(|e| wit::ParseError {
                parameter: e.parameter,
                position: e.position,
                message: e.message,
            })
    }
}

export!(Parser);

fn field(f: filter_grammar::Field) -> wit::Field {
    wit::Field {
        name: f.name,
        json_path: f
            .json_path
            .into_iter()
            .map(|s| wit::JsonStep {
                key: s.key,
                as_text: s.as_text,
            })
            .collect(),
    }
}

fn operator(op: filter_grammar::Operator) -> wit::Operator {
    use filter_grammar::Operator as O;
    match op {
        O::Eq => wit::Operator::Eq,
        O::Neq => wit::Operator::Neq,
        O::Gt => wit::Operator::Gt,
        O::Gte => wit::Operator::Gte,
        O::Lt => wit::Operator::Lt,
        O::Lte => wit::Operator::Lte,
        O::Like => wit::Operator::Like,
        O::Ilike => wit::Operator::Ilike,
        O::In => wit::Operator::In,
        O::Is => wit::Operator::Is,
    }
}

fn operand(o: filter_grammar::Operand) -> wit::Operand {
    use filter_grammar::{IsValue as I, Operand as O};
    match o {
        O::Value(v) => wit::Operand::Value(v),
        O::Values(vs) => wit::Operand::Values(vs),
        O::Is(i) => wit::Operand::Is(match i {
            I::Null => wit::IsValue::Null,
            I::NotNull => wit::IsValue::NotNull,
            I::True => wit::IsValue::True,
            I::False => wit::IsValue::False,
            I::Unknown => wit::IsValue::Unknown,
        }),
    }
}

fn query(q: filter_grammar::Query) -> wit::Query {
    use filter_grammar::{Direction, NodeKind, NullsOrder, SelectItem};
    wit::Query {
        select: q
            .select
            .into_iter()
            .map(|item| match item {
                SelectItem::Star => wit::SelectItem::Star,
                SelectItem::Column(c) => wit::SelectItem::Column(wit::SelectColumn {
                    field: field(c.field),
                    alias: c.alias,
                    cast: c.cast,
                }),
                SelectItem::Embed(e) => wit::SelectItem::Embed(wit::Embed {
                    alias: e.alias,
                    relation: e.relation,
                    hint: e.hint,
                    inner: e.inner,
                    children: e.children,
                }),
            })
            .collect(),
        top: q.top,
        nodes: q
            .nodes
            .into_iter()
            .map(|n| wit::FilterNode {
                negated: n.negated,
                kind: match n.kind {
                    NodeKind::Condition(c) => wit::NodeKind::Condition(wit::Condition {
                        field: field(c.field),
                        op: operator(c.op),
                        operand: operand(c.operand),
                    }),
                    NodeKind::All(children) => wit::NodeKind::All(children),
                    NodeKind::Any(children) => wit::NodeKind::Any(children),
                },
            })
            .collect(),
        filters: q
            .filters
            .into_iter()
            .map(|f| wit::Filter {
                path: f.path,
                root: f.root,
            })
            .collect(),
        order: q
            .order
            .into_iter()
            .map(|t| wit::OrderTerm {
                path: t.path,
                field: field(t.field),
                direction: match t.direction {
                    Direction::Asc => wit::Direction::Asc,
                    Direction::Desc => wit::Direction::Desc,
                },
                nulls: t.nulls.map(|n| match n {
                    NullsOrder::First => wit::NullsOrder::First,
                    NullsOrder::Last => wit::NullsOrder::Last,
                }),
            })
            .collect(),
        limit: q.limit,
        offset: q.offset,
        on_conflict: q.on_conflict,
        columns: q.columns,
    }
}
