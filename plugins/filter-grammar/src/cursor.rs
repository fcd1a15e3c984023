//! A cursor over one decoded parameter value that reports errors at their byte
//! offset in the raw query string.

use crate::ast::ParseError;

/// A position in a decoded value, with where that value starts in the raw string.
pub struct Cursor<'a> {
    text: &'a str,
    pos: usize,
    base: u32,
    parameter: &'a str,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `text`, which begins at byte `base` of the query string.
    pub fn new(text: &'a str, base: u32, parameter: &'a str) -> Self {
        Self {
            text,
            pos: 0,
            base,
            parameter,
        }
    }

    /// An error at the current position.
    pub fn error(&self, message: impl Into<String>) -> ParseError {
        self.error_at(self.pos, message)
    }

    /// An error at `pos` of this value.
    pub fn error_at(&self, pos: usize, message: impl Into<String>) -> ParseError {
        ParseError {
            parameter: self.parameter.to_owned(),
            position: self.base + pos as u32,
            message: message.into(),
        }
    }

    /// The current offset in the value.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// What is left.
    pub fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    /// True at the end.
    pub fn at_end(&self) -> bool {
        self.pos >= self.text.len()
    }

    /// The next character, without consuming it.
    pub fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    /// Consumes `s` if the rest starts with it.
    pub fn eat(&mut self, s: &str) -> bool {
        if self.rest().starts_with(s) {
            self.pos += s.len();
            true
        } else {
            false
        }
    }

    /// Consumes `s` or fails with `what` expected.
    pub fn expect(&mut self, s: &str, what: &str) -> Result<(), ParseError> {
        if self.eat(s) {
            Ok(())
        } else {
            Err(self.error(format!("expected {what}")))
        }
    }

    /// Consumes everything left.
    pub fn take_rest(&mut self) -> &'a str {
        let rest = self.rest();
        self.pos = self.text.len();
        rest
    }

    /// An identifier: letters, digits, `_`, `$`; or a double-quoted name.
    pub fn identifier(&mut self, what: &str) -> Result<String, ParseError> {
        if self.peek() == Some('"') {
            return self.quoted();
        }
        let start = self.pos;
        let len = self
            .rest()
            .char_indices()
            .find(|(_, c)| !(c.is_alphanumeric() || *c == '_' || *c == '$'))
            .map(|(i, _)| i)
            .unwrap_or(self.rest().len());
        if len == 0 {
            return Err(self.error(format!("expected {what}")));
        }
        self.pos += len;
        Ok(self.text[start..self.pos].to_owned())
    }

    /// A double-quoted string; `\"` and `\\` are escapes.
    pub fn quoted(&mut self) -> Result<String, ParseError> {
        let start = self.pos;
        self.expect("\"", "`\"`")?;
        let mut out = String::new();
        let mut chars = self.rest().char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.pos += i + 1;
                    return Ok(out);
                }
                '\\' => match chars.next() {
                    Some((_, escaped)) => out.push(escaped),
                    None => break,
                },
                c => out.push(c),
            }
        }
        Err(self.error_at(start, "unterminated double quote"))
    }
}
