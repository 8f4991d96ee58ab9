//! Names for a SELECT's unnamed expressions, as Flink gives them: `EXPR$0`,
//! `EXPR$1`, … by position. Flink accepts `SELECT price * 2, CAST(price * 2
//! AS STRING)`, whose two columns DataFusion would both name after
//! `price * 2` (a CAST keeps the name of what it casts) and reject. The
//! planner names them only when DataFusion rejects a query for this, so
//! every other query is planned as it was written.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Expr, Ident, Query, SelectItem, SetExpr, Statement, VisitMut, VisitorMut,
};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::Parser;

/// Whether a DataFusion error is the one that naming expressions resolves.
pub fn is_duplicate_name_error(message: &str) -> bool {
    message.contains("Projections require unique expression names")
}

/// `query` with every unnamed expression of each of its SELECTs (the
/// subqueries' included) named `EXPR$<position>`; `None` when it does not
/// parse or has none.
pub fn name_unnamed_expressions(query: &str) -> Option<String> {
    let mut statements = Parser::parse_sql(&GenericDialect {}, query).ok()?;
    let [Statement::Query(_)] = statements.as_slice() else {
        return None;
    };
    let mut namer = Namer { named: 0 };
    let _ = statements.visit(&mut namer);
    if namer.named == 0 {
        return None;
    }
    // The query is printed back as SQL: only if it reads back as the same
    // query (a printer may write some literal differently), else the
    // original error stands.
    let named = statements[0].to_string();
    let reread = Parser::parse_sql(&GenericDialect {}, &named).ok()?;
    (reread == statements).then_some(named)
}

struct Namer {
    named: usize,
}

impl VisitorMut for Namer {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        name_set_expr(&mut query.body, &mut self.named);
        ControlFlow::Continue(())
    }
}

fn name_set_expr(body: &mut SetExpr, named: &mut usize) {
    match body {
        SetExpr::Select(select) => {
            for (position, item) in select.projection.iter_mut().enumerate() {
                let SelectItem::UnnamedExpr(expr) = item else {
                    continue;
                };
                // A column keeps its own name, as in Flink.
                if matches!(expr, Expr::Identifier(_) | Expr::CompoundIdentifier(_)) {
                    continue;
                }
                *item = SelectItem::ExprWithAlias {
                    expr: expr.clone(),
                    alias: Ident::with_quote('"', format!("EXPR${position}")),
                };
                *named += 1;
            }
        }
        SetExpr::SetOperation { left, right, .. } => {
            name_set_expr(left, named);
            name_set_expr(right, named);
        }
        // A nested query is visited on its own.
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unnamed_expressions_are_named_by_position_columns_and_aliases_kept() {
        let named = name_unnamed_expressions(
            "SELECT price * 2, CAST(price * 2 AS STRING), price, b.x, 1 AS one FROM t",
        )
        .unwrap();
        assert_eq!(
            named,
            "SELECT price * 2 AS \"EXPR$0\", CAST(price * 2 AS STRING) AS \"EXPR$1\", price, b.x, 1 AS one FROM t"
        );
    }

    #[test]
    fn each_select_of_a_union_and_of_a_subquery_is_named() {
        let named = name_unnamed_expressions(
            "SELECT a + 1 FROM (SELECT a, a * 2 FROM t) UNION ALL SELECT a - 1 FROM t",
        )
        .unwrap();
        assert_eq!(
            named,
            "SELECT a + 1 AS \"EXPR$0\" FROM (SELECT a, a * 2 AS \"EXPR$1\" FROM t) \
             UNION ALL SELECT a - 1 AS \"EXPR$0\" FROM t"
        );
    }

    #[test]
    fn nothing_to_name_or_not_sql_is_none() {
        assert_eq!(name_unnamed_expressions("SELECT a, b AS c FROM t"), None);
        assert_eq!(name_unnamed_expressions("SELECT FROM WHERE"), None);
    }
}
