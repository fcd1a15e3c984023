//! A hostile filter parser, built only for tests. The query string picks the attack:
//!
//! - `loop`: spins forever;
//! - `bomb`: allocates until memory runs out;
//! - `recurse`: recurses until the stack runs out;
//! - `panic`: panics;
//! - `huge`: returns far more select items than the host accepts;
//! - anything else: an empty, valid query.

wit_bindgen::generate!({
    path: "../../wit/filter",
    world: "filter-parser",
});

use exports::plinth::filter::parser::Guest;
use plinth::filter::types::{Field, ParseError, Query, SelectColumn, SelectItem};

struct Hostile;

fn empty() -> Query {
    Query {
        select: Vec::new(),
        top: Vec::new(),
        nodes: Vec::new(),
        filters: Vec::new(),
        order: Vec::new(),
        limit: None,
        offset: None,
        on_conflict: Vec::new(),
        columns: Vec::new(),
    }
}

#[inline(never)]
#[allow(unconditional_recursion)]
fn recurse(depth: u64, trail: &mut [u8; 256]) -> u64 {
    trail[(depth % 256) as usize] = depth as u8;
    1 + recurse(depth + 1, trail) + trail[((depth + 7) % 256) as usize] as u64
}

impl Guest for Hostile {
    fn parse(query_string: String) -> Result<Query, ParseError> {
        match query_string.as_str() {
            "loop" => {
                let mut n: u64 = 0;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            "bomb" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 1 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            "recurse" => {
                let mut trail = [0u8; 256];
                let n = recurse(0, &mut trail);
                Err(ParseError {
                    parameter: String::new(),
                    position: n as u32,
                    message: String::new(),
                })
            }
            "panic" => panic!("the hostile plugin panics on purpose"),
            "huge" => {
                let mut q = empty();
                let column = SelectItem::Column(SelectColumn {
                    field: Field {
                        name: "x".repeat(16),
                        json_path: Vec::new(),
                    },
                    alias: None,
                    cast: None,
                });
                q.select = vec![column; 50_000];
                Ok(q)
            }
            _ => Ok(empty()),
        }
    }
}

export!(Hostile);
