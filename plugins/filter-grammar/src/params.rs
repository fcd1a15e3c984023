//! Splitting a raw query string into decoded `key=value` pairs that remember where
//! they stood.

use crate::ast::ParseError;

/// One decoded parameter.
#[derive(Debug)]
pub struct Param {
    /// Decoded key.
    pub key: String,
    /// Byte offset of the key in the raw string.
    pub key_pos: u32,
    /// Decoded value.
    pub value: String,
    /// Byte offset of the value in the raw string.
    pub value_pos: u32,
}

/// Splits on `&`, then on the first `=`, and percent-decodes both sides (`+` is a
/// space, as in HTML forms). Empty pieces (`a=1&&b=2`) are skipped.
pub fn split_params(raw: &str) -> Result<Vec<Param>, ParseError> {
    let mut params = Vec::new();
    let mut offset = 0usize;
    for piece in raw.split('&') {
        let start = offset;
        offset += piece.len() + 1;
        if piece.is_empty() {
            continue;
        }
        let (key, value, value_start) = match piece.find('=') {
            Some(eq) => (&piece[..eq], &piece[eq + 1..], start + eq + 1),
            None => (piece, "", start + piece.len()),
        };
        let key = decode(key, start)?;
        if key.is_empty() {
            return Err(ParseError {
                parameter: String::new(),
                position: start as u32,
                message: "a parameter has no name".into(),
            });
        }
        let value = decode(value, value_start)?;
        params.push(Param {
            key,
            key_pos: start as u32,
            value,
            value_pos: value_start as u32,
        });
    }
    Ok(params)
}

fn decode(text: &str, position: usize) -> Result<String, ParseError> {
    let spaced = text.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| ParseError {
            parameter: String::new(),
            position: position as u32,
            message: "the query string is not valid UTF-8 once percent-decoded".into(),
        })
}
