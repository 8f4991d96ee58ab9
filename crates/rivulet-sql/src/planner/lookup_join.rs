//! Lowering a lookup join (`JOIN t FOR SYSTEM_TIME AS OF x.p AS s ON
//! key = s.k`, see [`crate::lookup`]): the lookup table's source becomes
//! part of a `LookupJoin` operator, chained behind the other side's Calc
//! that adds the lookup key, as Flink chains its LookupJoin. Only bounded
//! tables are looked up (a filesystem table, read whole), on one key.

use std::collections::HashSet;

use datafusion::common::NullEquality;
use datafusion::logical_expr::{Expr, Join, JoinType, LogicalPlan, TableScan};
use rivulet_runtime::operators::{LookupJoinSpec, OperatorSpec};

use super::join::{JOIN_KEY, expression_by_position, unique_name};
use super::source_reuse::scanned_table;
use super::{GraphBuilder, Stream, identity_projections};
use crate::connectors;

impl GraphBuilder<'_> {
    /// The scan of a lookup table `plan` is, if it is one.
    pub(super) fn lookup_scan<'p>(&self, plan: &'p LogicalPlan) -> Option<&'p TableScan> {
        match plan {
            LogicalPlan::SubqueryAlias(alias) => self.lookup_scan(&alias.input),
            LogicalPlan::TableScan(scan)
                if self
                    .lookup_tables
                    .contains(scanned_table(scan.table_name.table())) =>
            {
                Some(scan)
            }
            _ => None,
        }
    }

    pub(super) fn lower_lookup_join(
        &mut self,
        join: &Join,
        scan: &TableScan,
    ) -> Result<Stream, String> {
        let keep_unmatched = match join.join_type {
            JoinType::Inner => false,
            JoinType::Left => true,
            other => return Err(format!("a lookup join is INNER or LEFT, not {other}")),
        };
        let [(key, table_key)] = join.on.as_slice() else {
            return Err("a lookup join on one key is supported yet".into());
        };
        let Expr::Column(table_key) = table_key else {
            return Err(format!(
                "the lookup key '{table_key}' must be a column of the lookup table"
            ));
        };
        if join.null_equality != NullEquality::NullEqualsNothing || !scan.filters.is_empty() {
            return Err("this lookup join is not supported yet".into());
        }
        let table_name = scanned_table(scan.table_name.table()).to_string();
        let table = self
            .tables
            .get(&table_name)
            .ok_or_else(|| format!("Object '{table_name}' not found"))?;
        let projected = arrow_schema::Schema::new(
            scan.projected_schema
                .fields()
                .iter()
                .map(|f| table.physical.field_with_name(f.name()).cloned())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| e.to_string())?,
        );
        let name = self.operator_name(&table_name);
        let source = connectors::source_operator(
            &table.definition.options,
            &table.physical,
            &projected,
            name,
        )?;
        let OperatorSpec::FileSource(file) = source else {
            return Err(format!(
                "the lookup table '{table_name}' must be a filesystem table: Rivulet looks up bounded tables, read whole"
            ));
        };
        // The key as the scan has it (the query names it by the join's alias).
        let table_key = projected
            .field_with_name(&table_key.name)
            .map(|field| field.name().clone())
            .map_err(|e| e.to_string())?;
        let mut taken = HashSet::new();
        let (mut stream, _) = self.join_side(&join.left, &[key], &mut taken)?;
        let table_columns = projected
            .fields()
            .iter()
            .map(|f| unique_name(f.name(), &mut taken))
            .collect();
        let operator = OperatorSpec::LookupJoin(LookupJoinSpec {
            name: Some(self.operator_name("LookupJoin")),
            table: file,
            key: JOIN_KEY.into(),
            table_key,
            table_columns,
            keep_unmatched,
        });
        self.push_operator(&mut stream, operator)?;
        stream.by_position = true;
        stream.window = None;
        if let Some(condition) = &join.filter {
            let predicate = expression_by_position(condition, &join.schema, &stream)?;
            let projections = identity_projections(&stream.schema);
            self.push_calc(&mut stream, Some(predicate), projections)?;
        }
        Ok(stream)
    }
}
