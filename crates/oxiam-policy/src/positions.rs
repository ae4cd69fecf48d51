//! Where each statement sits in a policy document's text, as the policy simulator reports
//! it (`MatchedStatements[].StartPosition` / `EndPosition`).
//!
//! AWS counts lines and columns from 1, in characters. A statement starts just after the
//! token before it (the `[` or `,` of the `Statement` array, or the statement's own `{`
//! when `Statement` is a single object) and ends just after its closing `}`. The parser
//! keeps no positions (evaluation never needs them), so this scans the text once more;
//! it is only called for the statements a simulation reports.

/// A place in a document: 1-based line and column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// The line, from 1.
    pub line: u32,
    /// The column, from 1.
    pub column: u32,
}

/// Where one statement starts and ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatementSpan {
    /// Just after the token before the statement.
    pub start: Position,
    /// Just after the statement's closing `}`.
    pub end: Position,
}

/// The span of each statement of `document`, in order; empty if the text is not a policy
/// document the scanner can follow (a document that parsed always is).
pub fn statement_spans(document: &str) -> Vec<StatementSpan> {
    Scanner::new(document).statements().unwrap_or_default()
}

struct Scanner {
    chars: Vec<char>,
    /// The position of each character.
    at: Vec<Position>,
}

impl Scanner {
    fn new(text: &str) -> Self {
        let chars: Vec<char> = text.chars().collect();
        let mut at = Vec::with_capacity(chars.len());
        let (mut line, mut column) = (1, 1);
        for &c in &chars {
            at.push(Position { line, column });
            if c == '\n' {
                line += 1;
                column = 1;
            } else {
                column += 1;
            }
        }
        Scanner { chars, at }
    }

    /// The position just after the character at `i`.
    fn after(&self, i: usize) -> Position {
        let p = self.at[i];
        Position {
            line: p.line,
            column: p.column + 1,
        }
    }

    fn peek(&self, i: usize) -> Option<char> {
        self.chars.get(i).copied()
    }

    fn skip_ws(&self, mut i: usize) -> usize {
        while self.peek(i).is_some_and(char::is_whitespace) {
            i += 1;
        }
        i
    }

    /// The statements of the top-level object's `Statement` member.
    fn statements(&self) -> Option<Vec<StatementSpan>> {
        let mut i = self.skip_ws(0);
        (self.peek(i)? == '{').then_some(())?;
        i += 1;
        loop {
            i = self.skip_ws(i);
            match self.peek(i)? {
                '}' => return Some(Vec::new()),
                ',' => {
                    i += 1;
                    continue;
                }
                '"' => {}
                _ => return None,
            }
            let key_end = self.skip_string(i)?;
            let key: String = self.chars[i + 1..key_end - 1].iter().collect();
            i = self.skip_ws(key_end);
            (self.peek(i)? == ':').then_some(())?;
            i = self.skip_ws(i + 1);
            if key == "Statement" {
                return self.statement_value(i);
            }
            i = self.skip_value(i)?;
        }
    }

    fn statement_value(&self, mut i: usize) -> Option<Vec<StatementSpan>> {
        match self.peek(i)? {
            '{' => {
                let end = self.skip_value(i)?;
                Some(vec![StatementSpan {
                    start: self.after(i),
                    end: self.after(end - 1),
                }])
            }
            '[' => {
                let mut spans = Vec::new();
                let mut delimiter = i;
                i += 1;
                loop {
                    i = self.skip_ws(i);
                    match self.peek(i)? {
                        ']' => return Some(spans),
                        ',' => {
                            delimiter = i;
                            i += 1;
                        }
                        '{' => {
                            let end = self.skip_value(i)?;
                            spans.push(StatementSpan {
                                start: self.after(delimiter),
                                end: self.after(end - 1),
                            });
                            i = end;
                        }
                        _ => i = self.skip_value(i)?,
                    }
                }
            }
            _ => None,
        }
    }

    /// The index just after the string starting at `i` (its opening quote).
    fn skip_string(&self, mut i: usize) -> Option<usize> {
        i += 1;
        loop {
            match self.peek(i)? {
                '\\' => i += 2,
                '"' => return Some(i + 1),
                _ => i += 1,
            }
        }
    }

    /// The index just after the JSON value starting at `i`.
    fn skip_value(&self, i: usize) -> Option<usize> {
        match self.peek(i)? {
            '"' => self.skip_string(i),
            '{' | '[' => {
                let mut depth = 0usize;
                let mut j = i;
                loop {
                    match self.peek(j)? {
                        '"' => {
                            j = self.skip_string(j)?;
                            continue;
                        }
                        '{' | '[' => depth += 1,
                        '}' | ']' => {
                            depth -= 1;
                            if depth == 0 {
                                return Some(j + 1);
                            }
                        }
                        _ => {}
                    }
                    j += 1;
                }
            }
            _ => {
                let mut j = i;
                while self
                    .peek(j)
                    .is_some_and(|c| !matches!(c, ',' | '}' | ']') && !c.is_whitespace())
                {
                    j += 1;
                }
                (j > i).then_some(j)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(a: (u32, u32), b: (u32, u32)) -> StatementSpan {
        StatementSpan {
            start: Position { line: a.0, column: a.1 },
            end: Position { line: b.0, column: b.1 },
        }
    }

    #[test]
    fn aws_examples() {
        // AdministratorAccess as IAM stores it: AWS's simulator reports 3:17 to 8:6.
        let admin = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n      \"Effect\": \"Allow\",\n      \"Action\": \"*\",\n      \"Resource\": \"*\"\n    }\n  ]\n}";
        assert_eq!(statement_spans(admin), vec![span((3, 17), (8, 6))]);
        // The CLI's simulate-custom-policy example, a single statement object on one line:
        // AWS reports 1:38 to 1:167.
        let compact = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"s3:ListBucket","Resource":"arn:aws:s3:::teambucket","Condition":{"StringEquals":{"s3:prefix":"x"}}}}"#;
        let spans = statement_spans(compact);
        assert_eq!(spans.len(), 1);
        assert_eq!(spans[0].start, Position { line: 1, column: 38 });
        assert_eq!(spans[0].end.column as usize, compact.chars().count());
    }

    #[test]
    fn later_statements_start_after_their_comma_and_strings_hide_brackets() {
        let doc = r#"{"Statement":[{"Sid":"a}]"},{"Sid":"b\"{"}],"Version":"2012-10-17"}"#;
        let spans = statement_spans(doc);
        assert_eq!(spans.len(), 2);
        assert_eq!(spans[0], span((1, 15), (1, 28)));
        assert_eq!(spans[1], span((1, 29), (1, 43)));
    }

    #[test]
    fn text_that_is_not_a_document_has_no_spans() {
        for doc in [
            "",
            "[",
            "{\"Statement\":",
            "{\"Statement\":[{",
            "{\"a\":1",
            "{\"Statement\":7}",
        ] {
            assert_eq!(statement_spans(doc), Vec::new(), "{doc}");
        }
    }
}
