//! Parsing the statements of Flink's SQL dialect that DataFusion does not
//! know: `SET`, `CREATE TABLE … WITH (…)` with computed columns, watermarks
//! and primary keys, `CREATE VIEW`, `INSERT INTO`, and `EXECUTE STATEMENT SET`.
//! Queries inside them stay SQL text, planned later with DataFusion.

use std::collections::BTreeMap;

use crate::script::ScriptStatement;

/// A parse problem at a byte offset of its statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseProblem {
    pub message: String,
    pub offset: usize,
}

fn problem(message: impl Into<String>, offset: usize) -> ParseProblem {
    ParseProblem {
        message: message.into(),
        offset,
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    Set { key: String, value: String },
    CreateTable(TableDefinition),
    CreateView(ViewDefinition),
    Insert(InsertStatement),
    StatementSet(Vec<InsertStatement>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct TableDefinition {
    pub name: String,
    pub temporary: bool,
    pub columns: Vec<ColumnDefinition>,
    pub watermark: Option<WatermarkDefinition>,
    pub primary_key: Vec<String>,
    pub options: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ColumnDefinition {
    Physical {
        name: String,
        type_text: String,
        offset: usize,
    },
    Computed {
        name: String,
        expression: String,
        offset: usize,
    },
}

impl ColumnDefinition {
    pub fn name(&self) -> &str {
        match self {
            ColumnDefinition::Physical { name, .. } | ColumnDefinition::Computed { name, .. } => {
                name
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct WatermarkDefinition {
    pub column: String,
    pub expression: String,
    pub offset: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ViewDefinition {
    pub name: String,
    pub query: String,
    pub query_offset: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct InsertStatement {
    pub table: String,
    pub query: String,
    /// Byte offset of the query within its statement's text.
    pub query_offset: usize,
    /// The statement the INSERT came from (the whole set for a statement set).
    pub statement: ScriptStatement,
}

/// A cursor over a statement's text that reads words, names and quoted strings.
struct Cursor<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Cursor<'a> {
    fn skip_space(&mut self) {
        while let Some(c) = self.text[self.at..].chars().next() {
            if c.is_whitespace() {
                self.at += c.len_utf8();
            } else {
                break;
            }
        }
    }

    fn rest(&self) -> &'a str {
        &self.text[self.at..]
    }

    fn at_end(&mut self) -> bool {
        self.skip_space();
        self.at >= self.text.len()
    }

    /// Consumes `word` (case-insensitive) if it is next.
    fn accept_word(&mut self, word: &str) -> bool {
        self.skip_space();
        let rest = self.rest();
        let matches = rest.len() >= word.len()
            && rest[..word.len()].eq_ignore_ascii_case(word)
            && !rest[word.len()..]
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        if matches {
            self.at += word.len();
        }
        matches
    }

    fn expect_word(&mut self, word: &str) -> Result<(), ParseProblem> {
        if self.accept_word(word) {
            Ok(())
        } else {
            Err(problem(format!("expected {word}"), self.at))
        }
    }

    fn accept_char(&mut self, c: char) -> bool {
        self.skip_space();
        if self.rest().starts_with(c) {
            self.at += c.len_utf8();
            true
        } else {
            false
        }
    }

    /// A possibly quoted, possibly qualified name; returns its last part.
    fn name(&mut self) -> Result<String, ParseProblem> {
        self.skip_space();
        loop {
            let last;
            let start = self.at;
            let rest = self.rest();
            if let Some(quoted) = rest.strip_prefix('`') {
                let end = quoted
                    .find('`')
                    .ok_or_else(|| problem("unterminated `name`", start))?;
                last = quoted[..end].to_string();
                self.at += end + 2;
            } else {
                let len = rest
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '$'))
                    .unwrap_or(rest.len());
                if len == 0 {
                    return Err(problem("expected a name", start));
                }
                last = rest[..len].to_string();
                self.at += len;
            }
            if self.rest().starts_with('.') {
                self.at += 1;
            } else {
                return Ok(last);
            }
        }
    }

    /// A single-quoted string with `''` escapes.
    fn string(&mut self) -> Result<String, ParseProblem> {
        self.skip_space();
        let start = self.at;
        if !self.rest().starts_with('\'') {
            return Err(problem("expected a 'quoted string'", start));
        }
        let mut value = String::new();
        let mut chars = self.rest()[1..].char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if c == '\'' {
                if chars.peek().is_some_and(|(_, n)| *n == '\'') {
                    chars.next();
                    value.push('\'');
                    continue;
                }
                self.at += i + 2;
                return Ok(value);
            }
            value.push(c);
        }
        Err(problem("unterminated string", start))
    }

    /// The text up to the parenthesis matching the `(` just consumed.
    fn parenthesized(&mut self) -> Result<(usize, &'a str), ParseProblem> {
        let start = self.at;
        let end = matching_paren(self.text, start)
            .ok_or_else(|| problem("unbalanced parentheses", start))?;
        self.at = end + 1;
        Ok((start, &self.text[start..end]))
    }
}

/// The index of the `)` closing the group that starts right after `(`, at `from`.
fn matching_paren(text: &str, from: usize) -> Option<usize> {
    let mut depth = 1;
    let mut quote: Option<char> = None;
    for (i, c) in text[from..].char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"' | '`') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => {
                depth -= 1;
                if depth == 0 {
                    return Some(from + i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Splits on commas outside parentheses, quotes and type brackets (`ARRAY<…>`,
/// `MAP<…>`, `ROW<…>`). Returns each piece with its offset in `text`.
fn split_top_level(text: &str) -> Vec<(usize, &str)> {
    let mut pieces = Vec::new();
    let (mut depth, mut angle) = (0i32, 0i32);
    let mut quote: Option<char> = None;
    let mut start = 0;
    let mut word = String::new();
    let mut last_word = String::new();
    for (i, c) in text.char_indices() {
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            continue;
        }
        if c.is_ascii_alphanumeric() || c == '_' {
            word.push(c);
            continue;
        }
        if !word.is_empty() {
            last_word = std::mem::take(&mut word);
        }
        match c {
            '\'' | '"' | '`' => quote = Some(c),
            '(' => depth += 1,
            ')' => depth -= 1,
            '<' if matches!(
                last_word.to_ascii_uppercase().as_str(),
                "ARRAY" | "MAP" | "ROW" | "MULTISET"
            ) =>
            {
                angle += 1
            }
            '>' if angle > 0 => angle -= 1,
            ',' if depth == 0 && angle == 0 => {
                pieces.push((start, &text[start..i]));
                start = i + 1;
            }
            _ => {}
        }
        if !c.is_whitespace() {
            last_word.clear();
            if c.is_ascii_alphanumeric() {
                last_word.push(c);
            }
        }
    }
    pieces.push((start, &text[start..]));
    trimmed_pieces(pieces)
}

/// Trims each piece, keeping its offset pointing at its first character, and
/// drops empty pieces.
fn trimmed_pieces(pieces: Vec<(usize, &str)>) -> Vec<(usize, &str)> {
    pieces
        .into_iter()
        .map(|(offset, piece)| {
            let trimmed = piece.trim_start();
            (offset + piece.len() - trimmed.len(), trimmed.trim_end())
        })
        .filter(|(_, p)| !p.is_empty())
        .collect()
}

/// Parses one statement of a script.
pub fn parse_statement(statement: &ScriptStatement) -> Result<Statement, ParseProblem> {
    let text = statement.text.as_str();
    let mut cursor = Cursor { text, at: 0 };
    if cursor.accept_word("SET") {
        return parse_set(&mut cursor);
    }
    if cursor.accept_word("CREATE") {
        let temporary = cursor.accept_word("TEMPORARY");
        if cursor.accept_word("TABLE") {
            return parse_create_table(&mut cursor, temporary).map(Statement::CreateTable);
        }
        if cursor.accept_word("VIEW") {
            return parse_create_view(&mut cursor).map(Statement::CreateView);
        }
        return Err(problem(
            "only CREATE TABLE and CREATE VIEW are supported",
            cursor.at,
        ));
    }
    if cursor.accept_word("INSERT") {
        return parse_insert(&mut cursor, statement).map(Statement::Insert);
    }
    if cursor.accept_word("EXECUTE") {
        cursor.expect_word("STATEMENT")?;
        cursor.expect_word("SET")?;
        cursor.expect_word("BEGIN")?;
        let mut inserts = Vec::new();
        for (offset, piece) in split_statement_set(cursor.rest()) {
            let base = cursor.at + offset;
            let mut inner = Cursor { text, at: base };
            if !inner.accept_word("INSERT") {
                return Err(problem(
                    format!(
                        "only INSERT statements may appear in a statement set, found '{}'",
                        first_words(piece)
                    ),
                    base,
                ));
            }
            let mut insert = parse_insert(&mut inner, statement)?;
            insert.query = insert.query[..insert
                .query
                .len()
                .min(base + piece.len() - insert.query_offset)]
                .to_string();
            inserts.push(insert);
        }
        if inserts.is_empty() {
            return Err(problem(
                "the statement set has no INSERT statements",
                cursor.at,
            ));
        }
        return Ok(Statement::StatementSet(inserts));
    }
    Err(problem(
        format!(
            "unsupported statement '{}': expected SET, CREATE TABLE, CREATE VIEW, INSERT INTO or EXECUTE STATEMENT SET",
            first_words(text)
        ),
        0,
    ))
}

fn first_words(text: &str) -> String {
    text.split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The inner statements of `BEGIN … END`, which the script splitter joined with `;\n`.
fn split_statement_set(body: &str) -> Vec<(usize, &str)> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut quote: Option<char> = None;
    for (i, c) in body.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"' | '`') => quote = Some(c),
            (None, ';') => {
                pieces.push((start, &body[start..i]));
                start = i + 1;
            }
            _ => {}
        }
    }
    pieces.push((start, &body[start..]));
    trimmed_pieces(pieces)
}

fn parse_set(cursor: &mut Cursor) -> Result<Statement, ParseProblem> {
    cursor.skip_space();
    let key = if cursor.rest().starts_with('\'') {
        cursor.string()?
    } else {
        let start = cursor.at;
        let len = cursor
            .rest()
            .find(|c: char| c.is_whitespace() || c == '=')
            .unwrap_or(cursor.rest().len());
        cursor.at += len;
        cursor.text[start..start + len].to_string()
    };
    if key.is_empty() || !cursor.accept_char('=') {
        return Err(problem("expected SET 'key' = 'value'", cursor.at));
    }
    cursor.skip_space();
    let value = if cursor.rest().starts_with('\'') {
        cursor.string()?
    } else {
        let value = cursor.rest().trim().to_string();
        cursor.at = cursor.text.len();
        value
    };
    if !cursor.at_end() {
        return Err(problem(
            "unexpected text after SET 'key' = 'value'",
            cursor.at,
        ));
    }
    Ok(Statement::Set { key, value })
}

fn parse_create_table(
    cursor: &mut Cursor,
    temporary: bool,
) -> Result<TableDefinition, ParseProblem> {
    if cursor.accept_word("IF") {
        cursor.expect_word("NOT")?;
        cursor.expect_word("EXISTS")?;
    }
    let name = cursor.name()?;
    if !cursor.accept_char('(') {
        return Err(problem("expected ( and the column list", cursor.at));
    }
    let (body_offset, body) = cursor.parenthesized()?;
    let mut table = TableDefinition {
        name,
        temporary,
        columns: Vec::new(),
        watermark: None,
        primary_key: Vec::new(),
        options: BTreeMap::new(),
    };
    for (offset, piece) in split_top_level(body) {
        parse_table_element(&mut table, piece, body_offset + offset)?;
    }
    if cursor.accept_word("COMMENT") {
        cursor.string()?;
    }
    if cursor.accept_word("PARTITIONED") {
        return Err(problem("PARTITIONED BY is not supported yet", cursor.at));
    }
    if cursor.accept_word("WITH") {
        if !cursor.accept_char('(') {
            return Err(problem("expected ( after WITH", cursor.at));
        }
        let (options_offset, options) = cursor.parenthesized()?;
        for (offset, piece) in split_top_level(options) {
            let mut option = Cursor {
                text: cursor.text,
                at: options_offset + offset,
            };
            let key = option.string()?;
            if !option.accept_char('=') {
                return Err(problem("expected 'key' = 'value'", option.at));
            }
            let value = option.string()?;
            if option.at < options_offset + offset + piece.len() {
                return Err(problem("unexpected text after 'key' = 'value'", option.at));
            }
            table.options.insert(key, value);
        }
    }
    if !cursor.at_end() {
        return Err(problem(
            format!("unexpected '{}'", first_words(cursor.rest())),
            cursor.at,
        ));
    }
    if table.columns.is_empty() {
        return Err(problem(format!("table '{}' has no columns", table.name), 0));
    }
    Ok(table)
}

fn parse_table_element(
    table: &mut TableDefinition,
    piece: &str,
    offset: usize,
) -> Result<(), ParseProblem> {
    let mut element = Cursor { text: piece, at: 0 };
    let at = |local: usize| offset + local;
    if element.accept_word("WATERMARK") {
        element
            .expect_word("FOR")
            .map_err(|p| problem(p.message, at(p.offset)))?;
        let column = element
            .name()
            .map_err(|p| problem(p.message, at(p.offset)))?;
        element
            .expect_word("AS")
            .map_err(|p| problem(p.message, at(p.offset)))?;
        element.skip_space();
        if table.watermark.is_some() {
            return Err(problem("a table can have only one WATERMARK", offset));
        }
        table.watermark = Some(WatermarkDefinition {
            column,
            expression: element.rest().to_string(),
            offset: at(element.at),
        });
        return Ok(());
    }
    if element.accept_word("CONSTRAINT") {
        element
            .name()
            .map_err(|p| problem(p.message, at(p.offset)))?;
    }
    if element.accept_word("PRIMARY") {
        element
            .expect_word("KEY")
            .map_err(|p| problem(p.message, at(p.offset)))?;
        if !element.accept_char('(') {
            return Err(problem("expected ( after PRIMARY KEY", at(element.at)));
        }
        let (_, columns) = element
            .parenthesized()
            .map_err(|p| problem(p.message, at(p.offset)))?;
        table.primary_key = columns
            .split(',')
            .map(|c| c.trim().trim_matches('`').to_string())
            .collect();
        if !(element.accept_word("NOT") && element.accept_word("ENFORCED")) {
            return Err(problem(
                "Flink doesn't support ENFORCED mode for PRIMARY KEY constraint: use PRIMARY KEY (...) NOT ENFORCED",
                at(element.at),
            ));
        }
        return Ok(());
    }
    let name = element
        .name()
        .map_err(|p| problem(p.message, at(p.offset)))?;
    if table
        .columns
        .iter()
        .any(|c| c.name().eq_ignore_ascii_case(&name))
    {
        return Err(problem(format!("column '{name}' is defined twice"), offset));
    }
    if element.accept_word("AS") {
        element.skip_space();
        table.columns.push(ColumnDefinition::Computed {
            name,
            expression: element.rest().to_string(),
            offset: at(element.at),
        });
        return Ok(());
    }
    element.skip_space();
    let mut type_text = element.rest().to_string();
    if let Some(comment) = find_word(&type_text, "COMMENT") {
        type_text.truncate(comment);
    }
    if find_word(&type_text, "METADATA").is_some() {
        return Err(problem("METADATA columns are not supported yet", offset));
    }
    if type_text.trim().is_empty() {
        return Err(problem(format!("column '{name}' has no type"), offset));
    }
    table.columns.push(ColumnDefinition::Physical {
        name,
        type_text: type_text.trim().to_string(),
        offset: at(element.at),
    });
    Ok(())
}

/// The byte offset of `word` as a whole word outside quotes, if present.
fn find_word(text: &str, word: &str) -> Option<usize> {
    let upper = text.to_ascii_uppercase();
    let mut from = 0;
    while let Some(found) = upper[from..].find(word) {
        let start = from + found;
        let end = start + word.len();
        let before_ok = start == 0 || !upper.as_bytes()[start - 1].is_ascii_alphanumeric();
        let after_ok = end >= upper.len() || !upper.as_bytes()[end].is_ascii_alphanumeric();
        let quotes_before = text[..start].matches('\'').count();
        if before_ok && after_ok && quotes_before.is_multiple_of(2) {
            return Some(start);
        }
        from = end;
    }
    None
}

fn parse_create_view(cursor: &mut Cursor) -> Result<ViewDefinition, ParseProblem> {
    if cursor.accept_word("IF") {
        cursor.expect_word("NOT")?;
        cursor.expect_word("EXISTS")?;
    }
    let name = cursor.name()?;
    cursor.expect_word("AS")?;
    cursor.skip_space();
    Ok(ViewDefinition {
        name,
        query: cursor.rest().to_string(),
        query_offset: cursor.at,
    })
}

fn parse_insert(
    cursor: &mut Cursor,
    statement: &ScriptStatement,
) -> Result<InsertStatement, ParseProblem> {
    if cursor.accept_word("OVERWRITE") {
        return Err(problem(
            "INSERT OVERWRITE is not supported; use INSERT INTO",
            cursor.at,
        ));
    }
    cursor.expect_word("INTO")?;
    let table = cursor.name()?;
    cursor.skip_space();
    if cursor.rest().starts_with('(') {
        return Err(problem(
            "INSERT with a column list is not supported yet",
            cursor.at,
        ));
    }
    Ok(InsertStatement {
        table,
        query: cursor.rest().to_string(),
        query_offset: cursor.at,
        statement: statement.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::split_statements;

    fn parse(text: &str) -> Result<Statement, ParseProblem> {
        let statements = split_statements(text).unwrap();
        parse_statement(&statements[0])
    }

    #[test]
    fn create_table_with_everything_flink_allows() {
        let text = "CREATE TEMPORARY TABLE `cat`.db.orders (
               id BIGINT NOT NULL,
               price DECIMAL(10, 2) COMMENT 'the price',
               tags MAP<STRING, INT>,
               ts TIMESTAMP(3),
               total AS price * 2,
               WATERMARK FOR ts AS ts - INTERVAL '5' SECOND,
               PRIMARY KEY (id) NOT ENFORCED
             ) WITH ('connector' = 'datagen', 'fields.id.kind' = 'sequence', 'x' = 'it''s')";
        let Statement::CreateTable(table) = parse(text).unwrap() else {
            panic!("not a table");
        };
        assert_eq!(table.name, "orders");
        assert!(table.temporary);
        assert_eq!(table.columns.len(), 5);
        assert!(
            matches!(&table.columns[1], ColumnDefinition::Physical { type_text, .. } if type_text == "DECIMAL(10, 2)")
        );
        assert!(
            matches!(&table.columns[2], ColumnDefinition::Physical { type_text, .. } if type_text == "MAP<STRING, INT>")
        );
        assert!(
            matches!(&table.columns[4], ColumnDefinition::Computed { expression, .. } if expression == "price * 2")
        );
        let watermark = table.watermark.unwrap();
        assert_eq!(watermark.column, "ts");
        assert_eq!(watermark.expression, "ts - INTERVAL '5' SECOND");
        assert!(text[watermark.offset..].starts_with("ts - INTERVAL"));
        assert_eq!(table.primary_key, vec!["id"]);
        assert_eq!(table.options["connector"], "datagen");
        assert_eq!(table.options["x"], "it's");
    }

    #[test]
    fn set_view_insert_and_statement_set() {
        assert_eq!(
            parse("SET 'parallelism.default' = '3'").unwrap(),
            Statement::Set {
                key: "parallelism.default".into(),
                value: "3".into()
            }
        );
        let Statement::CreateView(view) = parse("CREATE VIEW v AS SELECT a FROM t").unwrap() else {
            panic!()
        };
        assert_eq!(
            (view.name.as_str(), view.query.as_str()),
            ("v", "SELECT a FROM t")
        );
        let Statement::Insert(insert) =
            parse("INSERT INTO sink SELECT * FROM src WHERE a > 1").unwrap()
        else {
            panic!()
        };
        assert_eq!(insert.table, "sink");
        assert_eq!(insert.query, "SELECT * FROM src WHERE a > 1");
        let Statement::StatementSet(inserts) = parse(
            "EXECUTE STATEMENT SET BEGIN INSERT INTO a SELECT * FROM s; INSERT INTO b SELECT x FROM s; END;",
        )
        .unwrap() else {
            panic!()
        };
        assert_eq!(inserts.len(), 2);
        assert_eq!(inserts[1].table, "b");
        assert_eq!(inserts[1].query, "SELECT x FROM s");
    }

    #[test]
    fn mistakes_are_reported_with_their_place() {
        let error =
            parse("CREATE TABLE t (a INT, PRIMARY KEY (a)) WITH ('connector' = 'x')").unwrap_err();
        assert!(error.message.contains("NOT ENFORCED"));
        let error = parse("DROP TABLE t").unwrap_err();
        assert!(
            error
                .message
                .contains("unsupported statement 'DROP TABLE t'")
        );
        let error = parse("CREATE TABLE t (a INT) WITH ('connector' 'x')").unwrap_err();
        assert!(error.message.contains("'key' = 'value'"));
        assert!(error.offset > 20);
    }
}
