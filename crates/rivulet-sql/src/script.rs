//! Splitting a Flink SQL script into statements.
//!
//! Statements end at `;` outside quotes and comments. `--` and `/* */`
//! comments are dropped. `EXECUTE STATEMENT SET BEGIN … END;` is one statement
//! holding its inner statements. Each statement keeps the line and column where
//! it starts, so errors can point into the script.

/// One statement of a script, without its terminating `;`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptStatement {
    pub text: String,
    /// 1-based position of the statement's first character in the script.
    pub line: usize,
    pub column: usize,
}

impl ScriptStatement {
    /// The line and column of byte `offset` within this statement.
    pub fn position_of(&self, offset: usize) -> (usize, usize) {
        let before = &self.text[..offset.min(self.text.len())];
        let newlines = before.matches('\n').count();
        if newlines == 0 {
            (self.line, self.column + before.chars().count())
        } else {
            let last_line = before.rsplit('\n').next().unwrap_or("");
            (self.line + newlines, last_line.chars().count() + 1)
        }
    }

    /// The statement's words in upper case, up to `count`, for classifying it.
    pub fn leading_words(&self, count: usize) -> Vec<String> {
        self.text
            .split(|c: char| c.is_whitespace() || c == '(' || c == '\'')
            .filter(|w| !w.is_empty())
            .take(count)
            .map(|w| w.to_ascii_uppercase())
            .collect()
    }
}

/// An error in the script's lexical structure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptError {
    pub message: String,
    pub line: usize,
    pub column: usize,
}

/// Splits `script` into statements; empty statements are skipped.
pub fn split_statements(script: &str) -> Result<Vec<ScriptStatement>, ScriptError> {
    let pieces = split_on_semicolons(script)?;
    let mut statements = Vec::new();
    let mut open_set: Option<ScriptStatement> = None;
    for piece in pieces {
        let words = piece.leading_words(4);
        match open_set.as_mut() {
            Some(set) => {
                if words == ["END"] {
                    if let Some(done) = open_set.take() {
                        statements.push(done);
                    }
                } else {
                    set.text.push_str(";\n");
                    set.text.push_str(&piece.text);
                }
            }
            None if words.starts_with(&["EXECUTE".into(), "STATEMENT".into(), "SET".into()]) => {
                open_set = Some(piece);
            }
            None => statements.push(piece),
        }
    }
    if let Some(set) = open_set {
        return Err(ScriptError {
            message: "EXECUTE STATEMENT SET BEGIN has no matching END".into(),
            line: set.line,
            column: set.column,
        });
    }
    Ok(statements)
}

/// Splits on `;` outside quotes and comments, removing comments.
fn split_on_semicolons(script: &str) -> Result<Vec<ScriptStatement>, ScriptError> {
    let chars: Vec<char> = script.chars().collect();
    let mut statements = Vec::new();
    let mut current = String::new();
    let mut start: Option<(usize, usize)> = None;
    let (mut line, mut column) = (1usize, 1usize);
    let mut i = 0;
    let advance = |c: char, line: &mut usize, column: &mut usize| {
        if c == '\n' {
            *line += 1;
            *column = 1;
        } else {
            *column += 1;
        }
    };
    let finish = |current: &mut String,
                  start: &mut Option<(usize, usize)>,
                  out: &mut Vec<ScriptStatement>| {
        let text = current.trim().to_string();
        if let (false, Some((line, column))) = (text.is_empty(), *start) {
            out.push(ScriptStatement { text, line, column });
        }
        current.clear();
        *start = None;
    };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '-' && next == Some('-') {
            while i < chars.len() && chars[i] != '\n' {
                advance(chars[i], &mut line, &mut column);
                i += 1;
            }
            continue;
        }
        if c == '/' && next == Some('*') {
            let (open_line, open_column) = (line, column);
            advance(c, &mut line, &mut column);
            advance('*', &mut line, &mut column);
            i += 2;
            loop {
                if i >= chars.len() {
                    return Err(ScriptError {
                        message: "unterminated /* comment".into(),
                        line: open_line,
                        column: open_column,
                    });
                }
                if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    advance('*', &mut line, &mut column);
                    advance('/', &mut line, &mut column);
                    i += 2;
                    break;
                }
                advance(chars[i], &mut line, &mut column);
                i += 1;
            }
            current.push(' ');
            continue;
        }
        if c == ';' {
            finish(&mut current, &mut start, &mut statements);
            advance(c, &mut line, &mut column);
            i += 1;
            continue;
        }
        if start.is_none() && !c.is_whitespace() {
            start = Some((line, column));
        }
        if c == '\'' || c == '"' || c == '`' {
            let (open_line, open_column) = (line, column);
            current.push(c);
            advance(c, &mut line, &mut column);
            i += 1;
            loop {
                if i >= chars.len() {
                    return Err(ScriptError {
                        message: format!("unterminated {c}-quoted text"),
                        line: open_line,
                        column: open_column,
                    });
                }
                let q = chars[i];
                current.push(q);
                advance(q, &mut line, &mut column);
                i += 1;
                if q == c {
                    // A doubled quote is an escaped quote.
                    if chars.get(i) == Some(&c) {
                        current.push(c);
                        advance(c, &mut line, &mut column);
                        i += 1;
                        continue;
                    }
                    break;
                }
            }
            continue;
        }
        // Keep the text's shape so positions inside a statement stay right.
        if current.is_empty() && c.is_whitespace() {
            advance(c, &mut line, &mut column);
            i += 1;
            continue;
        }
        current.push(c);
        advance(c, &mut line, &mut column);
        i += 1;
    }
    finish(&mut current, &mut start, &mut statements);
    Ok(statements)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_split_on_semicolons_outside_quotes_and_comments() {
        let script = "-- a comment; with a semicolon\nSET 'a' = 'x;y';\n/* block; */ CREATE TABLE t (s STRING) WITH ('k' = 'it''s');\n\nINSERT INTO t SELECT 'a;b'";
        let statements = split_statements(script).unwrap();
        assert_eq!(statements.len(), 3);
        assert_eq!(statements[0].text, "SET 'a' = 'x;y'");
        assert_eq!((statements[0].line, statements[0].column), (2, 1));
        assert!(statements[1].text.starts_with("CREATE TABLE"));
        assert_eq!((statements[1].line, statements[1].column), (3, 14));
        assert_eq!(statements[2].text, "INSERT INTO t SELECT 'a;b'");
        assert_eq!(statements[2].line, 5);
    }

    #[test]
    fn a_statement_set_is_one_statement() {
        let script = "EXECUTE STATEMENT SET\nBEGIN\n  INSERT INTO a SELECT * FROM s;\n  INSERT INTO b SELECT * FROM s;\nEND;";
        let statements = split_statements(script).unwrap();
        assert_eq!(statements.len(), 1);
        assert!(statements[0].text.contains("INSERT INTO b"));
        assert!(split_statements("EXECUTE STATEMENT SET BEGIN INSERT INTO a SELECT 1;").is_err());
    }

    #[test]
    fn unterminated_text_is_reported_where_it_starts() {
        let error = split_statements("SELECT 1;\nSELECT 'oops").unwrap_err();
        assert_eq!((error.line, error.column), (2, 8));
    }

    #[test]
    fn positions_inside_a_statement() {
        let statements = split_statements("\n  SELECT a,\n  bad FROM t").unwrap();
        let offset = statements[0].text.find("bad").unwrap();
        assert_eq!(statements[0].position_of(offset), (3, 3));
    }
}
