//! A filter parser built only for tests: it sleeps on the WASI monotonic clock for
//! the number of milliseconds in its query string, then answers a parse error. Its
//! world imports nothing, so the host refuses to install it (the clock is not
//! linked for filter parsers); the tests show that refusal names the import.

wit_bindgen::generate!({
    path: "../../wit/filter",
    world: "filter-parser",
});

use exports::plinth::filter::parser::Guest;
use plinth::filter::types::{ParseError, Query};

struct Napper;

impl Guest for Napper {
    fn parse(query_string: String) -> Result<Query, ParseError> {
        let millis = query_string.parse::<u64>().unwrap_or(0);
        std::thread::sleep(std::time::Duration::from_millis(millis));
        Err(ParseError {
            parameter: String::new(),
            position: 0,
            message: "slept".into(),
        })
    }
}

export!(Napper);
