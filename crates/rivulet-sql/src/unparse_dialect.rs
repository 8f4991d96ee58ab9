//! How the planner writes expressions back to SQL for the runtime, which
//! compiles each operator's expressions from their text.
//!
//! It quotes exactly the identifiers DataFusion's default dialect quotes
//! (keywords, and names that are not lower-case letters, digits and `_`),
//! but decides without building a regular expression for each identifier
//! as that dialect does: that was a third of the time a Nexmark query took
//! to plan.

use datafusion::sql::sqlparser::keywords::ALL_KEYWORDS;
use datafusion::sql::unparser::dialect::Dialect;

pub struct RuntimeDialect;

/// Whether `identifier` reads as itself unquoted: a letter or `_`, then
/// letters, digits and `_`, none upper-case (the parser would lower it).
fn plain(identifier: &str) -> bool {
    let word = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_';
    identifier
        .bytes()
        .next()
        .is_some_and(|first| !first.is_ascii_digit())
        && identifier.bytes().all(word)
}

impl Dialect for RuntimeDialect {
    fn identifier_quote_style(&self, identifier: &str) -> Option<char> {
        let upper = identifier.to_uppercase();
        // `ID` is a keyword of some dialects only; DataFusion leaves it bare.
        // The keywords are sorted (sqlparser searches them so too).
        let keyword = upper != "ID" && ALL_KEYWORDS.binary_search(&upper.as_str()).is_ok();
        (keyword || !plain(identifier)).then_some('"')
    }
}

#[cfg(test)]
mod tests {
    use datafusion::sql::unparser::dialect::DefaultDialect;

    use super::*;

    #[test]
    fn it_quotes_what_datafusions_default_dialect_quotes() {
        for identifier in [
            "price",
            "dateTime",
            "_x1",
            "1x",
            "",
            "id",
            "ID",
            "select",
            "Select",
            "a.b",
            "a b",
            "ünï",
            "window_start",
            "__common_expr_1",
            "$row_kind",
        ] {
            assert_eq!(
                RuntimeDialect.identifier_quote_style(identifier),
                DefaultDialect {}.identifier_quote_style(identifier),
                "{identifier:?}"
            );
        }
    }
}
