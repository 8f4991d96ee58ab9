//! Flink SQL data types and their Arrow counterparts.
//!
//! `STRING`/`VARCHAR(n)` → Utf8, `INT` → Int32, `BIGINT` → Int64,
//! `DECIMAL(p, s)` → Decimal128, `TIMESTAMP(3)` → Timestamp(ms),
//! `TIMESTAMP_LTZ(3)` → Timestamp(ms, UTC), `DATE` → Date32,
//! `ROW<…>` → Struct, `ARRAY<…>` → List, `MAP<…>` → Map; `NOT NULL` makes the
//! field non-nullable.

use std::sync::Arc;

use arrow_schema::{DataType, Field, Fields, TimeUnit};

/// A parsed type: the Arrow type and whether it may be NULL.
#[derive(Debug, Clone, PartialEq)]
pub struct SqlType {
    pub data_type: DataType,
    pub nullable: bool,
}

/// Parses a Flink type such as `DECIMAL(10, 2) NOT NULL` or `ROW<a INT, b STRING>`.
pub fn parse_type(text: &str) -> Result<SqlType, String> {
    let tokens = tokenize(text)?;
    let mut parser = TypeParser { tokens, at: 0 };
    let parsed = parser.parse_type()?;
    if let Some(extra) = parser.peek() {
        return Err(format!("unexpected '{extra}' after the type in '{text}'"));
    }
    Ok(parsed)
}

fn tokenize(text: &str) -> Result<Vec<String>, String> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c.is_ascii_alphanumeric() || c == '_' {
            let mut word = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_ascii_alphanumeric() || c == '_' {
                    word.push(c);
                    chars.next();
                } else {
                    break;
                }
            }
            tokens.push(word);
        } else if c == '`' {
            chars.next();
            let mut word = String::from("`");
            for c in chars.by_ref() {
                if c == '`' {
                    break;
                }
                word.push(c);
            }
            tokens.push(word);
        } else if "()<>,".contains(c) {
            tokens.push(c.to_string());
            chars.next();
        } else {
            return Err(format!("unexpected character '{c}' in type '{text}'"));
        }
    }
    Ok(tokens)
}

struct TypeParser {
    tokens: Vec<String>,
    at: usize,
}

impl TypeParser {
    fn peek(&self) -> Option<&str> {
        self.tokens.get(self.at).map(String::as_str)
    }

    fn next(&mut self) -> Option<String> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    fn accept(&mut self, word: &str) -> bool {
        if self.peek().is_some_and(|t| t.eq_ignore_ascii_case(word)) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, word: &str) -> Result<(), String> {
        if self.accept(word) {
            Ok(())
        } else {
            Err(format!(
                "expected '{word}' but found '{}'",
                self.peek().unwrap_or("the end")
            ))
        }
    }

    fn number(&mut self) -> Result<u32, String> {
        let token = self.next().ok_or("expected a number")?;
        token
            .parse()
            .map_err(|_| format!("expected a number, found '{token}'"))
    }

    /// `(n)` or `(n, m)` after a type name, if present.
    fn arguments(&mut self) -> Result<Vec<u32>, String> {
        let mut args = Vec::new();
        if self.accept("(") {
            args.push(self.number()?);
            while self.accept(",") {
                args.push(self.number()?);
            }
            self.expect(")")?;
        }
        Ok(args)
    }

    fn parse_type(&mut self) -> Result<SqlType, String> {
        let data_type = self.parse_base()?;
        let nullable = if self.accept("NOT") {
            self.expect("NULL")?;
            false
        } else {
            self.accept("NULL");
            true
        };
        Ok(SqlType {
            data_type,
            nullable,
        })
    }

    fn timestamp_unit(precision: Option<u32>) -> Result<TimeUnit, String> {
        match precision.unwrap_or(6) {
            0..=3 => Ok(TimeUnit::Millisecond),
            4..=6 => Ok(TimeUnit::Microsecond),
            7..=9 => Ok(TimeUnit::Nanosecond),
            p => Err(format!("timestamp precision {p} is out of range 0..9")),
        }
    }

    fn parse_base(&mut self) -> Result<DataType, String> {
        let name = self.next().ok_or("expected a type")?.to_ascii_uppercase();
        Ok(match name.as_str() {
            "STRING" => DataType::Utf8,
            "VARCHAR" | "CHAR" => {
                self.arguments()?;
                DataType::Utf8
            }
            "BOOLEAN" => DataType::Boolean,
            "TINYINT" => DataType::Int8,
            "SMALLINT" => DataType::Int16,
            "INT" | "INTEGER" => DataType::Int32,
            "BIGINT" => DataType::Int64,
            "FLOAT" => DataType::Float32,
            "DOUBLE" => {
                self.accept("PRECISION");
                DataType::Float64
            }
            "DECIMAL" | "DEC" | "NUMERIC" => {
                let args = self.arguments()?;
                let precision = args.first().copied().unwrap_or(10);
                let scale = args.get(1).copied().unwrap_or(0);
                if !(1..=38).contains(&precision) || scale > precision {
                    return Err(format!("DECIMAL({precision}, {scale}) is out of range"));
                }
                DataType::Decimal128(precision as u8, scale as i8)
            }
            "DATE" => DataType::Date32,
            "TIME" => {
                self.arguments()?;
                DataType::Time32(TimeUnit::Millisecond)
            }
            "TIMESTAMP" => {
                let precision = self.arguments()?.first().copied();
                let unit = Self::timestamp_unit(precision)?;
                if self.accept("WITH") {
                    self.expect("LOCAL")?;
                    self.expect("TIME")?;
                    self.expect("ZONE")?;
                    DataType::Timestamp(unit, Some("UTC".into()))
                } else {
                    if self.accept("WITHOUT") {
                        self.expect("TIME")?;
                        self.expect("ZONE")?;
                    }
                    DataType::Timestamp(unit, None)
                }
            }
            "TIMESTAMP_LTZ" => {
                let precision = self.arguments()?.first().copied();
                DataType::Timestamp(Self::timestamp_unit(precision)?, Some("UTC".into()))
            }
            "BYTES" | "VARBINARY" | "BINARY" => {
                self.arguments()?;
                DataType::Binary
            }
            "ARRAY" => {
                self.expect("<")?;
                let element = self.parse_type()?;
                self.expect(">")?;
                DataType::List(Arc::new(Field::new(
                    "element",
                    element.data_type,
                    element.nullable,
                )))
            }
            "MAP" => {
                self.expect("<")?;
                let key = self.parse_type()?;
                self.expect(",")?;
                let value = self.parse_type()?;
                self.expect(">")?;
                let entries = Field::new(
                    "entries",
                    DataType::Struct(Fields::from(vec![
                        Field::new("key", key.data_type, false),
                        Field::new("value", value.data_type, value.nullable),
                    ])),
                    false,
                );
                DataType::Map(Arc::new(entries), false)
            }
            "ROW" => {
                let close = if self.accept("<") {
                    ">"
                } else {
                    self.expect("(")?;
                    ")"
                };
                let mut fields = Vec::new();
                loop {
                    let field_name = self.next().ok_or("expected a ROW field name")?;
                    let field_name = field_name.trim_start_matches('`').to_string();
                    let field_type = self.parse_type()?;
                    fields.push(Field::new(
                        field_name,
                        field_type.data_type,
                        field_type.nullable,
                    ));
                    if !self.accept(",") {
                        break;
                    }
                }
                self.expect(close)?;
                DataType::Struct(Fields::from(fields))
            }
            other => return Err(format!("unknown type '{other}'")),
        })
    }
}

/// A type as Flink's `asSummaryString` names it, e.g. `MAP<STRING, INT>`.
/// (STRING stands for every character string: Arrow keeps no length.)
pub fn type_name(data_type: &DataType, nullable: bool) -> String {
    let precision = |unit: &TimeUnit| match unit {
        TimeUnit::Second => 0,
        TimeUnit::Millisecond => 3,
        TimeUnit::Microsecond => 6,
        TimeUnit::Nanosecond => 9,
    };
    let name = match data_type {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "STRING".to_string(),
        DataType::Boolean => "BOOLEAN".to_string(),
        DataType::Int8 => "TINYINT".to_string(),
        DataType::Int16 => "SMALLINT".to_string(),
        DataType::Int32 => "INT".to_string(),
        DataType::Int64 => "BIGINT".to_string(),
        DataType::Float32 => "FLOAT".to_string(),
        DataType::Float64 => "DOUBLE".to_string(),
        DataType::Decimal128(p, s) => format!("DECIMAL({p}, {s})"),
        DataType::Date32 => "DATE".to_string(),
        DataType::Time32(unit) | DataType::Time64(unit) => format!("TIME({})", precision(unit)),
        DataType::Timestamp(unit, None) => format!("TIMESTAMP({})", precision(unit)),
        DataType::Timestamp(unit, Some(_)) => format!("TIMESTAMP_LTZ({})", precision(unit)),
        DataType::Binary | DataType::LargeBinary => "BYTES".to_string(),
        DataType::List(element) | DataType::LargeList(element) => format!(
            "ARRAY<{}>",
            type_name(element.data_type(), element.is_nullable())
        ),
        DataType::Map(entries, _) => match entries.data_type() {
            // Arrow requires map keys to be non-null; Flink's type says nothing.
            DataType::Struct(kv) if kv.len() == 2 => format!(
                "MAP<{}, {}>",
                type_name(kv[0].data_type(), true),
                type_name(kv[1].data_type(), kv[1].is_nullable())
            ),
            other => other.to_string(),
        },
        DataType::Struct(fields) => format!(
            "ROW<{}>",
            fields
                .iter()
                .map(|f| format!(
                    "`{}` {}",
                    f.name(),
                    type_name(f.data_type(), f.is_nullable())
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    };
    if nullable {
        name
    } else {
        format!("{name} NOT NULL")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arrow(text: &str) -> DataType {
        parse_type(text).unwrap().data_type
    }

    #[test]
    fn flink_types_map_to_arrow() {
        assert_eq!(arrow("STRING"), DataType::Utf8);
        assert_eq!(arrow("varchar(20)"), DataType::Utf8);
        assert_eq!(arrow("INT"), DataType::Int32);
        assert_eq!(arrow("BIGINT"), DataType::Int64);
        assert_eq!(arrow("DOUBLE"), DataType::Float64);
        assert_eq!(arrow("DECIMAL(10, 2)"), DataType::Decimal128(10, 2));
        assert_eq!(arrow("BOOLEAN"), DataType::Boolean);
        assert_eq!(
            arrow("TIMESTAMP(3)"),
            DataType::Timestamp(TimeUnit::Millisecond, None)
        );
        assert_eq!(
            arrow("TIMESTAMP_LTZ(3)"),
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()))
        );
        assert_eq!(arrow("DATE"), DataType::Date32);
        assert!(matches!(arrow("ARRAY<INT>"), DataType::List(_)));
        assert!(matches!(arrow("MAP<STRING, BIGINT>"), DataType::Map(_, _)));
        let DataType::Struct(fields) = arrow("ROW<a INT, b ROW<c STRING>>") else {
            panic!("not a struct");
        };
        assert_eq!(fields.len(), 2);
        assert!(!parse_type("BIGINT NOT NULL").unwrap().nullable);
    }

    #[test]
    fn types_are_named_as_flink_names_them() {
        let name = |text: &str| {
            let parsed = parse_type(text).unwrap();
            type_name(&parsed.data_type, parsed.nullable)
        };
        assert_eq!(name("MAP<STRING, INT>"), "MAP<STRING, INT>");
        assert_eq!(name("DECIMAL(10, 2) NOT NULL"), "DECIMAL(10, 2) NOT NULL");
        assert_eq!(name("TIMESTAMP_LTZ(3)"), "TIMESTAMP_LTZ(3)");
        assert_eq!(
            name("ROW<a INT, b ARRAY<STRING>>"),
            "ROW<`a` INT, `b` ARRAY<STRING>>"
        );
    }

    #[test]
    fn unknown_or_malformed_types_are_errors() {
        assert!(parse_type("WIBBLE").unwrap_err().contains("WIBBLE"));
        assert!(parse_type("DECIMAL(50, 2)").is_err());
        assert!(parse_type("ARRAY<INT").is_err());
        assert!(parse_type("INT INT").is_err());
    }
}
