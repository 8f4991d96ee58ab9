//! Flink's lookup join syntax, `JOIN t FOR SYSTEM_TIME AS OF x.proc_time AS
//! s ON …`: DataFusion plans no temporal table clause, so the clause is
//! taken out of the query text and the table remembered; the planner
//! lowers a join with that table to a `LookupJoin` that reads it whole
//! (its rows as of the time of each lookup: the table is bounded).

/// The query without its `FOR SYSTEM_TIME AS OF <column>` clauses, and the
/// tables they followed.
pub fn strip_system_time(query: &str) -> (String, Vec<String>) {
    let mut out = String::with_capacity(query.len());
    let mut tables = Vec::new();
    let mut rest = query;
    while let Some((start, end)) = find_clause(rest) {
        let before = &rest[..start];
        if let Some(table) = last_word(before) {
            tables.push(table);
        }
        out.push_str(before.trim_end());
        rest = &rest[end..];
    }
    out.push_str(rest);
    (out, tables)
}

/// Where the next `FOR SYSTEM_TIME AS OF <name>` is (from the space before
/// `FOR` to the end of the name).
fn find_clause(text: &str) -> Option<(usize, usize)> {
    let upper = text.to_ascii_uppercase();
    let mut from = 0;
    while let Some(at) = upper[from..].find("FOR") {
        let start = from + at;
        from = start + 3;
        let word_start = start == 0 || !is_name_byte(upper.as_bytes()[start - 1]);
        if !word_start {
            continue;
        }
        let mut at = start + 3;
        let mut matched = true;
        for word in ["SYSTEM_TIME", "AS", "OF"] {
            let spaces = upper[at..].len() - upper[at..].trim_start().len();
            if spaces == 0 || !upper[at + spaces..].starts_with(word) {
                matched = false;
                break;
            }
            at += spaces + word.len();
        }
        if !matched {
            continue;
        }
        let spaces = upper[at..].len() - upper[at..].trim_start().len();
        let name = text[at + spaces..]
            .bytes()
            .take_while(|&b| is_name_byte(b) || b == b'.' || b == b'`')
            .count();
        if spaces == 0 || name == 0 {
            continue;
        }
        return Some((start, at + spaces + name));
    }
    None
}

fn is_name_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
}

/// The table name that ends `text` (backticks and a qualifier dropped).
fn last_word(text: &str) -> Option<String> {
    let trimmed = text.trim_end();
    let length = trimmed
        .bytes()
        .rev()
        .take_while(|&b| is_name_byte(b) || b == b'.' || b == b'`')
        .count();
    let word = &trimmed[trimmed.len() - length..];
    let name = word.rsplit('.').next()?.trim_matches('`');
    (!name.is_empty()).then(|| name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clause_is_taken_out_and_its_table_named() {
        let query = "SELECT * FROM bid B JOIN side_input for system_time AS OF B.p_time AS S ON B.a = S.key";
        let (stripped, tables) = strip_system_time(query);
        assert_eq!(
            stripped,
            "SELECT * FROM bid B JOIN side_input AS S ON B.a = S.key"
        );
        assert_eq!(tables, ["side_input"]);
        let quoted = "JOIN `db`.`rates`\n  FOR SYSTEM_TIME AS OF o.`proc`\n  r ON true";
        let (stripped, tables) = strip_system_time(quoted);
        assert_eq!(stripped, "JOIN `db`.`rates`\n  r ON true");
        assert_eq!(tables, ["rates"]);
        let plain = "SELECT format FROM t WHERE x = 'FOR'";
        assert_eq!(strip_system_time(plain), (plain.to_string(), vec![]));
    }
}
