//! The `Prefer` header (RFC 7240): `count=exact|estimated`, `return=representation|
//! minimal`, `resolution=merge-duplicates|ignore-duplicates`, and `whole-table` to
//! allow a PATCH or DELETE without filters. Unknown preferences are ignored.

use axum::http::HeaderMap;

use crate::plan::write::ConflictAction;
use crate::plan::CountMode;

/// The preferences of a request.
#[derive(Debug, Clone, Copy)]
pub struct Prefer {
    /// How `total` is computed.
    pub count: CountMode,
    /// `return=representation` (true) or `return=minimal` (false); none: the default.
    pub representation: Option<bool>,
    /// Upsert behaviour.
    pub resolution: Option<ConflictAction>,
    /// A PATCH or DELETE may touch the whole table.
    pub whole_table: bool,
}

impl Prefer {
    /// Reads every `Prefer` header.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let mut prefer = Prefer {
            count: CountMode::Exact,
            representation: None,
            resolution: None,
            whole_table: false,
        };
        for value in headers.get_all("prefer") {
            let Ok(text) = value.to_str() else { continue };
            for token in text.split([',', ';']).map(str::trim) {
                match token {
                    "count=estimated" | "count=planned" => prefer.count = CountMode::Estimated,
                    "count=exact" => prefer.count = CountMode::Exact,
                    "return=representation" => prefer.representation = Some(true),
                    "return=minimal" => prefer.representation = Some(false),
                    "resolution=merge-duplicates" => {
                        prefer.resolution = Some(ConflictAction::Merge)
                    }
                    "resolution=ignore-duplicates" => {
                        prefer.resolution = Some(ConflictAction::Ignore)
                    }
                    "whole-table" | "whole-table=true" => prefer.whole_table = true,
                    _ => {}
                }
            }
        }
        prefer
    }
}
