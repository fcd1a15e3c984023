//! The grammar itself: parameters, select lists, conditions, boolean trees, order.

use crate::ast::*;
use crate::cursor::Cursor;
use crate::params::{split_params, Param};

/// Deepest nesting of embedded relations and of boolean trees.
pub const MAX_DEPTH: usize = 16;
/// Most parameters one query string may have.
pub const MAX_PARAMS: usize = 256;

/// Parses a raw query string.
pub fn parse(raw: &str) -> Result<Query, ParseError> {
    let params = split_params(raw)?;
    if params.len() > MAX_PARAMS {
        return Err(ParseError {
            parameter: String::new(),
            position: 0,
            message: format!("too many parameters (at most {MAX_PARAMS})"),
        });
    }
    let mut query = Query::default();
    let mut seen_select = false;
    let mut seen_order = false;
    for param in &params {
        let key = param.key.as_str();
        let mut cursor = Cursor::new(&param.value, param.value_pos, key);
        match key {
            "select" => {
                once(&mut seen_select, param)?;
                query.top = select_list(&mut cursor, &mut query, 0, None)?;
            }
            "order" => {
                once(&mut seen_order, param)?;
                order_list(&mut cursor, &mut query, Vec::new())?;
            }
            "limit" => query.limit = Some(number(&mut cursor, query.limit.is_some())?),
            "offset" => query.offset = Some(number(&mut cursor, query.offset.is_some())?),
            "on_conflict" => query.on_conflict = name_list(&mut cursor)?,
            "columns" => query.columns = name_list(&mut cursor)?,
            _ => filter_param(param, &mut query)?,
        }
    }
    Ok(query)
}

fn once(seen: &mut bool, param: &Param) -> Result<(), ParseError> {
    if *seen {
        return Err(ParseError {
            parameter: param.key.clone(),
            position: param.key_pos,
            message: format!("`{}` is given twice", param.key),
        });
    }
    *seen = true;
    Ok(())
}

fn number(cursor: &mut Cursor, repeated: bool) -> Result<u64, ParseError> {
    if repeated {
        return Err(cursor.error("given twice"));
    }
    let text = cursor.take_rest();
    text.parse::<u64>()
        .map_err(|_| cursor.error_at(0, format!("`{text}` is not a non-negative integer")))
}

fn name_list(cursor: &mut Cursor) -> Result<Vec<String>, ParseError> {
    let mut names = vec![cursor.identifier("a column name")?];
    while cursor.eat(",") {
        names.push(cursor.identifier("a column name")?);
    }
    if !cursor.at_end() {
        return Err(cursor.error("expected `,` or the end of the list"));
    }
    Ok(names)
}

/// `name(->key|->>key)*`
fn field(cursor: &mut Cursor) -> Result<Field, ParseError> {
    let name = cursor.identifier("a column name")?;
    let mut json_path = Vec::new();
    loop {
        let as_text = if cursor.eat("->>") {
            true
        } else if cursor.eat("->") {
            false
        } else {
            break;
        };
        let key = json_key(cursor)?;
        json_path.push(JsonStep { key, as_text });
    }
    Ok(Field { name, json_path })
}

fn json_key(cursor: &mut Cursor) -> Result<String, ParseError> {
    if cursor.peek() == Some('"') {
        return cursor.quoted();
    }
    let rest = cursor.rest();
    let mut len = 0;
    for (i, c) in rest.char_indices() {
        if rest[i..].starts_with("->") || matches!(c, ',' | '(' | ')' | ':' | '!' | '.') {
            break;
        }
        len = i + c.len_utf8();
    }
    if len == 0 {
        return Err(cursor.error("expected a JSON key after `->`"));
    }
    let key = rest[..len].to_owned();
    cursor.eat(&key);
    Ok(key)
}

/// A select list up to the end of the value, or to `)` when nested.
fn select_list(
    cursor: &mut Cursor,
    query: &mut Query,
    depth: usize,
    closing: Option<usize>,
) -> Result<Vec<u32>, ParseError> {
    if depth > MAX_DEPTH {
        return Err(cursor.error(format!(
            "embedding is nested deeper than {MAX_DEPTH} levels"
        )));
    }
    let mut items = Vec::new();
    loop {
        let item = select_item(cursor, query, depth)?;
        query.select.push(item);
        items.push((query.select.len() - 1) as u32);
        if cursor.eat(",") {
            continue;
        }
        match closing {
            Some(open) => {
                if !cursor.eat(")") {
                    return Err(if cursor.at_end() {
                        cursor.error_at(open, "unclosed `(`")
                    } else {
                        cursor.error("expected `,` or `)`")
                    });
                }
            }
            None => {
                if !cursor.at_end() {
                    return Err(cursor.error("expected `,` or the end of `select`"));
                }
            }
        }
        return Ok(items);
    }
}

fn select_item(
    cursor: &mut Cursor,
    query: &mut Query,
    depth: usize,
) -> Result<SelectItem, ParseError> {
    if cursor.eat("*") {
        return Ok(SelectItem::Star);
    }
    let start = cursor.pos();
    let first = cursor.identifier("a column, `*` or a relation")?;
    // `alias:` (but not `::cast`).
    let (alias, name) = if cursor.rest().starts_with(':') && !cursor.rest().starts_with("::") {
        cursor.eat(":");
        let name = if cursor.peek() == Some('"') {
            cursor.quoted()?
        } else {
            cursor.identifier("a column or a relation after the alias")?
        };
        (Some(first), name)
    } else {
        (None, first)
    };
    if matches!(cursor.peek(), Some('!') | Some('(')) {
        let mut hint = None;
        let mut inner = false;
        while cursor.eat("!") {
            let word = cursor.identifier("a foreign-key hint or `inner` after `!`")?;
            if word == "inner" {
                inner = true;
            } else if hint.is_none() {
                hint = Some(word);
            } else {
                return Err(cursor.error("only one hint may follow a relation"));
            }
        }
        let open = cursor.pos();
        cursor.expect("(", "`(` and the embedded select list")?;
        let children = select_list(cursor, query, depth + 1, Some(open))?;
        return Ok(SelectItem::Embed(Embed {
            alias,
            relation: name,
            hint,
            inner,
            children,
        }));
    }
    // A column, possibly with a JSON path and a cast.
    let mut json_path = Vec::new();
    loop {
        let as_text = if cursor.eat("->>") {
            true
        } else if cursor.eat("->") {
            false
        } else {
            break;
        };
        json_path.push(JsonStep {
            key: json_key(cursor)?,
            as_text,
        });
    }
    let cast = if cursor.eat("::") {
        Some(cursor.identifier("a type name after `::`")?)
    } else {
        None
    };
    if cursor.pos() == start {
        return Err(cursor.error("expected a select item"));
    }
    Ok(SelectItem::Column(SelectColumn {
        field: Field { name, json_path },
        alias,
        cast,
    }))
}

fn order_list(cursor: &mut Cursor, query: &mut Query, path: Vec<String>) -> Result<(), ParseError> {
    loop {
        let field = field(cursor)?;
        let mut direction = Direction::Asc;
        let mut nulls = None;
        while cursor.eat(".") {
            let word_at = cursor.pos();
            let word = cursor.identifier("`asc`, `desc`, `nullsfirst` or `nullslast`")?;
            match word.as_str() {
                "asc" => direction = Direction::Asc,
                "desc" => direction = Direction::Desc,
                "nullsfirst" => nulls = Some(NullsOrder::First),
                "nullslast" => nulls = Some(NullsOrder::Last),
                other => {
                    return Err(cursor.error_at(
                        word_at,
                        format!("unknown order modifier `{other}`; expected asc, desc, nullsfirst or nullslast"),
                    ))
                }
            }
        }
        query.order.push(OrderTerm {
            path: path.clone(),
            field,
            direction,
            nulls,
        });
        if cursor.eat(",") {
            continue;
        }
        if !cursor.at_end() {
            return Err(cursor.error("expected `,` or the end of `order`"));
        }
        return Ok(());
    }
}

/// A filter parameter: `col`, `rel.col`, `or`, `not.and`, `rel.or`, `rel.order`.
fn filter_param(param: &Param, query: &mut Query) -> Result<(), ParseError> {
    let key_error = |offset: usize, message: String| ParseError {
        parameter: param.key.clone(),
        position: param.key_pos + offset as u32,
        message,
    };
    // Split the key into dot-separated segments outside JSON paths.
    let arrow = param.key.find("->").unwrap_or(param.key.len());
    let (dotted, json) = param.key.split_at(arrow);
    let mut segments: Vec<&str> = dotted.split('.').collect();
    let last = segments.pop().unwrap_or_default();
    let mut negated = false;
    if last == "or" || last == "and" {
        if segments.last() == Some(&"not") {
            segments.pop();
            negated = true;
        }
        let path = path_names(&segments).map_err(|m| key_error(0, m))?;
        let mut cursor = Cursor::new(&param.value, param.value_pos, &param.key);
        let open = cursor.pos();
        cursor.expect("(", "`(` starting the list of conditions")?;
        let children = logic_items(&mut cursor, query, 1, open)?;
        if !cursor.at_end() {
            return Err(cursor.error("unexpected text after the closing `)`"));
        }
        let kind = if last == "or" {
            NodeKind::Any(children)
        } else {
            NodeKind::All(children)
        };
        let root = push_node(query, negated, kind);
        query.filters.push(Filter { path, root });
        return Ok(());
    }
    if last == "order" && json.is_empty() && !segments.is_empty() {
        let path = path_names(&segments).map_err(|m| key_error(0, m))?;
        let mut cursor = Cursor::new(&param.value, param.value_pos, &param.key);
        return order_list(&mut cursor, query, path);
    }
    if matches!(last, "limit" | "offset") && !segments.is_empty() {
        return Err(key_error(
            0,
            format!("`{}` on an embedded relation is not supported", param.key),
        ));
    }
    let path = path_names(&segments).map_err(|m| key_error(0, m))?;
    let field_text = format!("{last}{json}");
    let field_offset = param.key.len() - field_text.len();
    let mut field_cursor =
        Cursor::new(&field_text, param.key_pos + field_offset as u32, &param.key);
    let field = field(&mut field_cursor).map_err(|mut e| {
        e.message = format!("`{}` is not a column filter: {}", param.key, e.message);
        e
    })?;
    if !field_cursor.at_end() {
        return Err(key_error(
            field_offset + field_cursor.pos(),
            format!("`{}` is not a column name", param.key),
        ));
    }
    let mut cursor = Cursor::new(&param.value, param.value_pos, &param.key);
    let negated = cursor.eat("not.");
    let condition = condition_rhs(&mut cursor, field, false)?;
    let root = push_node(query, negated, NodeKind::Condition(condition));
    query.filters.push(Filter { path, root });
    Ok(())
}

fn path_names(segments: &[&str]) -> Result<Vec<String>, String> {
    segments
        .iter()
        .map(|s| {
            if !s.is_empty()
                && s.chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || c == '$')
            {
                Ok((*s).to_owned())
            } else {
                Err(format!("`{s}` is not a relation name"))
            }
        })
        .collect()
}

fn push_node(query: &mut Query, negated: bool, kind: NodeKind) -> u32 {
    query.nodes.push(FilterNode { negated, kind });
    (query.nodes.len() - 1) as u32
}

/// `op.value` after the field (and after `not.`). In a boolean tree (`nested`), a
/// value may be double-quoted and ends at `,` or `)`; at the top level it is the
/// whole rest, verbatim.
fn condition_rhs(cursor: &mut Cursor, field: Field, nested: bool) -> Result<Condition, ParseError> {
    let op_at = cursor.pos();
    let word = cursor.identifier("an operator")?;
    let op = Operator::from_keyword(&word).ok_or_else(|| {
        cursor.error_at(
            op_at,
            format!(
                "unknown operator `{word}`; expected one of {}",
                Operator::ALL
                    .iter()
                    .map(|(_, k)| *k)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    })?;
    cursor.expect(".", &format!("`.` and a value after `{word}`"))?;
    let operand = match op {
        Operator::In => {
            let open = cursor.pos();
            cursor.expect("(", "`(` starting the list of `in`")?;
            let mut values = Vec::new();
            if !cursor.eat(")") {
                loop {
                    values.push(list_value(cursor)?);
                    if cursor.eat(",") {
                        continue;
                    }
                    if cursor.eat(")") {
                        break;
                    }
                    return Err(if cursor.at_end() {
                        cursor.error_at(open, "unclosed `(` of `in`")
                    } else {
                        cursor.error("expected `,` or `)` in the list of `in`")
                    });
                }
            }
            Operand::Values(values)
        }
        Operator::Is => {
            let at = cursor.pos();
            let word = cursor.identifier("null, not_null, true, false or unknown")?;
            let value = match word.to_ascii_lowercase().as_str() {
                "null" => IsValue::Null,
                "not_null" => IsValue::NotNull,
                "true" => IsValue::True,
                "false" => IsValue::False,
                "unknown" => IsValue::Unknown,
                other => {
                    return Err(cursor.error_at(
                        at,
                        format!("`is.{other}`: expected null, not_null, true, false or unknown"),
                    ))
                }
            };
            Operand::Is(value)
        }
        _ => {
            let text = if nested {
                list_value(cursor)?
            } else {
                cursor.take_rest().to_owned()
            };
            if matches!(op, Operator::Like | Operator::Ilike) {
                Operand::Value(text.replace('*', "%"))
            } else {
                Operand::Value(text)
            }
        }
    };
    if !nested && !cursor.at_end() {
        return Err(cursor.error("unexpected text after the value"));
    }
    Ok(Condition { field, op, operand })
}

/// A value inside `(...)`: double-quoted, or up to the next `,` or `)`.
fn list_value(cursor: &mut Cursor) -> Result<String, ParseError> {
    if cursor.peek() == Some('"') {
        return cursor.quoted();
    }
    let rest = cursor.rest();
    let len = rest.find([',', ')']).unwrap_or(rest.len());
    let value = rest[..len].to_owned();
    cursor.eat(&value);
    Ok(value)
}

/// The items of `(a.eq.1,or(b.gt.2,not.c.is.null))` after the `(`, through the `)`.
fn logic_items(
    cursor: &mut Cursor,
    query: &mut Query,
    depth: usize,
    open: usize,
) -> Result<Vec<u32>, ParseError> {
    if depth > MAX_DEPTH {
        return Err(cursor.error(format!(
            "conditions are nested deeper than {MAX_DEPTH} levels"
        )));
    }
    let mut children = Vec::new();
    loop {
        let mut negated = false;
        while cursor.eat("not.") {
            negated = !negated;
        }
        let rest = cursor.rest();
        let group = if rest.starts_with("and(") {
            Some(false)
        } else if rest.starts_with("or(") {
            Some(true)
        } else {
            None
        };
        let index = match group {
            Some(is_or) => {
                cursor.eat(if is_or { "or" } else { "and" });
                let inner_open = cursor.pos();
                cursor.expect("(", "`(`")?;
                let inner = logic_items(cursor, query, depth + 1, inner_open)?;
                let kind = if is_or {
                    NodeKind::Any(inner)
                } else {
                    NodeKind::All(inner)
                };
                push_node(query, negated, kind)
            }
            None => {
                let field = field(cursor)?;
                cursor.expect(".", "`.` and an operator after the column")?;
                let inner_negated = cursor.eat("not.");
                let condition = condition_rhs(cursor, field, true)?;
                push_node(
                    query,
                    negated ^ inner_negated,
                    NodeKind::Condition(condition),
                )
            }
        };
        children.push(index);
        if cursor.eat(",") {
            continue;
        }
        if cursor.eat(")") {
            return Ok(children);
        }
        return Err(if cursor.at_end() {
            cursor.error_at(open, "unclosed `(`")
        } else {
            cursor.error("expected `,` or `)` between conditions")
        });
    }
}
