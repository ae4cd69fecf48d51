//! JSON that remembers where each value was written: a finding points at the text of the
//! action, key or statement it is about, as Access Analyzer's `locations` do. serde_json keeps
//! no positions, so this is a small strict parser of its own (RFC 8259; a duplicate key is
//! kept, for the checks to report, and the policy parser refuses it anyway).

/// A place in the text as Access Analyzer counts it: the line from 1, the column from 0, and
/// the offset in characters from 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// The line, from 1.
    pub line: u32,
    /// The column, from 0, in characters.
    pub column: u32,
    /// Characters before it in the text.
    pub offset: u32,
}

/// Where a value starts and (just after) where it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// Its first character.
    pub start: Position,
    /// Just after its last character.
    pub end: Position,
}

/// A JSON value with its span.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// What it is.
    pub value: Value,
    /// Where it was written.
    pub span: Span,
}

/// A JSON value; object members keep their order (and duplicates).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null`
    Null,
    /// `true` or `false`
    Bool(bool),
    /// A number, as written.
    Number(String),
    /// A string, unescaped.
    String(String),
    /// An array.
    Array(Vec<Node>),
    /// An object: each key (with the key's own span) and its value, in order.
    Object(Vec<(String, Span, Node)>),
}

impl Node {
    /// The string this node holds, if it is one.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The members of an object node.
    pub fn members(&self) -> &[(String, Span, Node)] {
        match &self.value {
            Value::Object(members) => members,
            _ => &[],
        }
    }

    /// An object's first member named exactly `name`: its key's span and its value.
    pub fn member(&self, name: &str) -> Option<(Span, &Node)> {
        self.members()
            .iter()
            .find(|(k, _, _)| k == name)
            .map(|(_, span, v)| (*span, v))
    }

    /// A value that may be one item or a list of them, as a list (`"Action": "s3:*"` and
    /// `"Action": ["s3:*"]` alike): each item with its index in the array, if it is in one.
    pub fn items(&self) -> Vec<(Option<usize>, &Node)> {
        match &self.value {
            Value::Array(items) => items.iter().enumerate().map(|(i, n)| (Some(i), n)).collect(),
            _ => vec![(None, self)],
        }
    }
}

/// A syntax error: what was wrong, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// What the parser expected.
    pub message: String,
    /// Where it was.
    pub at: Position,
}

/// How deep arrays and objects may nest: a policy needs four levels; a document nesting
/// thousands deep is refused rather than overflowing the stack.
const MAX_DEPTH: usize = 64;

/// Parses `text` as one JSON value (whitespace around it allowed).
pub fn parse(text: &str) -> Result<Node, SyntaxError> {
    let mut p = Parser {
        chars: text.chars().collect(),
        i: 0,
        pos: Position {
            line: 1,
            column: 0,
            offset: 0,
        },
        depth: 0,
    };
    p.skip_ws();
    let node = p.value()?;
    p.skip_ws();
    if p.i < p.chars.len() {
        return Err(p.error("the end of the document"));
    }
    Ok(node)
}

struct Parser {
    chars: Vec<char>,
    i: usize,
    pos: Position,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.i).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.i += 1;
        self.pos.offset += 1;
        if c == '\n' {
            self.pos.line += 1;
            self.pos.column = 0;
        } else {
            self.pos.column += 1;
        }
        Some(c)
    }

    fn error(&self, expected: &str) -> SyntaxError {
        let found = match self.peek() {
            Some(c) => format!("{c:?}"),
            None => "the end of the text".to_owned(),
        };
        SyntaxError {
            message: format!("expected {expected}, found {found}"),
            at: self.pos,
        }
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t' | '\n' | '\r')) {
            self.bump();
        }
    }

    fn expect(&mut self, c: char, what: &str) -> Result<(), SyntaxError> {
        if self.peek() == Some(c) {
            self.bump();
            Ok(())
        } else {
            Err(self.error(what))
        }
    }

    fn value(&mut self) -> Result<Node, SyntaxError> {
        let start = self.pos;
        let value = match self.peek() {
            Some('{') => self.nested(Self::object)?,
            Some('[') => self.nested(Self::array)?,
            Some('"') => Value::String(self.string()?),
            Some('t') => self.word("true", Value::Bool(true))?,
            Some('f') => self.word("false", Value::Bool(false))?,
            Some('n') => self.word("null", Value::Null)?,
            Some(c) if c == '-' || c.is_ascii_digit() => Value::Number(self.number()?),
            _ => return Err(self.error("a value")),
        };
        Ok(Node {
            value,
            span: Span { start, end: self.pos },
        })
    }

    fn nested(&mut self, inner: fn(&mut Self) -> Result<Value, SyntaxError>) -> Result<Value, SyntaxError> {
        if self.depth == MAX_DEPTH {
            return Err(self.error(&format!("at most {MAX_DEPTH} nested arrays and objects")));
        }
        self.depth += 1;
        let value = inner(self);
        self.depth -= 1;
        value
    }

    fn object(&mut self) -> Result<Value, SyntaxError> {
        self.bump();
        let mut members = Vec::new();
        self.skip_ws();
        if self.peek() == Some('}') {
            self.bump();
            return Ok(Value::Object(members));
        }
        loop {
            self.skip_ws();
            if self.peek() != Some('"') {
                return Err(self.error("a member name"));
            }
            let key_start = self.pos;
            let key = self.string()?;
            let key_span = Span {
                start: key_start,
                end: self.pos,
            };
            self.skip_ws();
            self.expect(':', "':'")?;
            self.skip_ws();
            let value = self.value()?;
            members.push((key, key_span, value));
            self.skip_ws();
            match self.peek() {
                Some(',') => {
                    self.bump();
                }
                Some('}') => {
                    self.bump();
                    return Ok(Value::Object(members));
                }
                _ => return Err(self.error("',' or '}'")),
            }
        }
    }

    fn array(&mut self) -> Result<Value, SyntaxError> {
        self.bump();
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(']') {
            self.bump();
            return Ok(Value::Array(items));
        }
        loop {
            self.skip_ws();
            items.push(self.value()?);
            self.skip_ws();
            match self.peek() {
                Some(',') => {
                    self.bump();
                }
                Some(']') => {
                    self.bump();
                    return Ok(Value::Array(items));
                }
                _ => return Err(self.error("',' or ']'")),
            }
        }
    }

    fn word(&mut self, word: &str, value: Value) -> Result<Value, SyntaxError> {
        for expected in word.chars() {
            if self.peek() != Some(expected) {
                return Err(self.error(word));
            }
            self.bump();
        }
        Ok(value)
    }

    fn number(&mut self) -> Result<String, SyntaxError> {
        let mut text = String::new();
        if self.peek() == Some('-') {
            text.extend(self.bump());
        }
        let digits = |p: &mut Self, text: &mut String| -> usize {
            let mut n = 0;
            while let Some(c) = p.peek().filter(char::is_ascii_digit) {
                text.push(c);
                p.bump();
                n += 1;
            }
            n
        };
        match self.peek() {
            Some('0') => text.extend(self.bump()),
            Some(c) if c.is_ascii_digit() => {
                digits(self, &mut text);
            }
            _ => return Err(self.error("a digit")),
        }
        if self.peek() == Some('.') {
            text.extend(self.bump());
            if digits(self, &mut text) == 0 {
                return Err(self.error("a digit"));
            }
        }
        if matches!(self.peek(), Some('e' | 'E')) {
            text.extend(self.bump());
            if matches!(self.peek(), Some('+' | '-')) {
                text.extend(self.bump());
            }
            if digits(self, &mut text) == 0 {
                return Err(self.error("a digit"));
            }
        }
        Ok(text)
    }

    fn string(&mut self) -> Result<String, SyntaxError> {
        self.bump();
        let mut out = String::new();
        loop {
            match self.bump() {
                None => return Err(self.error("'\"'")),
                Some('"') => return Ok(out),
                Some('\\') => match self.bump() {
                    Some('"') => out.push('"'),
                    Some('\\') => out.push('\\'),
                    Some('/') => out.push('/'),
                    Some('b') => out.push('\u{8}'),
                    Some('f') => out.push('\u{c}'),
                    Some('n') => out.push('\n'),
                    Some('r') => out.push('\r'),
                    Some('t') => out.push('\t'),
                    Some('u') => {
                        let unit = self.hex4()?;
                        let c = if (0xD800..0xDC00).contains(&unit) {
                            // A high surrogate must be followed by its low half.
                            if self.bump() != Some('\\') || self.bump() != Some('u') {
                                return Err(self.error("the low half of a surrogate pair"));
                            }
                            let low = self.hex4()?;
                            if !(0xDC00..0xE000).contains(&low) {
                                return Err(self.error("the low half of a surrogate pair"));
                            }
                            char::from_u32(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))
                        } else {
                            char::from_u32(unit)
                        };
                        out.push(c.ok_or_else(|| self.error("a valid \\u escape"))?);
                    }
                    _ => return Err(self.error("an escape")),
                },
                Some(c) if (c as u32) < 0x20 => return Err(self.error("no control character in a string")),
                Some(c) => out.push(c),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, SyntaxError> {
        let mut unit = 0;
        for _ in 0..4 {
            let digit = self
                .peek()
                .and_then(|c| c.to_digit(16))
                .ok_or_else(|| self.error("a hex digit"))?;
            self.bump();
            unit = unit * 16 + digit;
        }
        Ok(unit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_point_at_each_value() {
        let text = "{\n  \"Action\": [\"s3:GetObject\", \"x\"]\n}";
        let doc = parse(text).unwrap();
        let (key, action) = doc.member("Action").unwrap();
        assert_eq!((key.start.line, key.start.column), (2, 2));
        let items = action.items();
        assert_eq!(items[1].0, Some(1));
        let second = items[1].1.span;
        assert_eq!((second.start.line, second.start.column, second.end.column), (2, 29, 32));
        let offset = second.start.offset as usize;
        assert_eq!(&text[offset..offset + 3], "\"x\"");
        assert_eq!(doc.span.end.offset as usize, text.chars().count());
    }

    #[test]
    fn strict_json_only() {
        for bad in [
            "{",
            "{\"a\":}",
            "[1,]",
            "01",
            "\"\\x\"",
            "{} x",
            "\"\u{1}\"",
            "\"\\ud800\"",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        let deep = "[".repeat(1000) + &"]".repeat(1000);
        assert!(parse(&deep).is_err(), "bounded nesting");
        let doc = parse(r#"{"a":"\u00e9\ud83d\ude00","a":[true,null,-1.5e3]}"#).unwrap();
        assert_eq!(doc.members().len(), 2, "duplicates kept for the checks to report");
        assert_eq!(doc.members()[0].2.as_str(), Some("é😀"));
    }

    proptest::proptest! {
        /// Whatever serde_json accepts and prints, this parser reads back to the same strings;
        /// and no input panics it.
        #[test]
        fn agrees_with_serde_json(s in "\\PC*") {
            let printed = serde_json::to_string(&serde_json::json!({"k": [s.clone()]})).unwrap();
            let doc = parse(&printed).unwrap();
            let (_, list) = doc.member("k").unwrap();
            proptest::prop_assert_eq!(list.items()[0].1.as_str(), Some(s.as_str()));
            let _ = parse(&s);
        }
    }
}
