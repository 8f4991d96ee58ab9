//! The fast path of the JSON-lines source: one pass over each line that
//! checks it and appends its values straight to Arrow columns of the
//! schema, fields not in the schema checked and passed over.
//!
//! It reads what arrow-json reads the same way, value for value, and steps
//! aside ([`Unsure`]) for everything else: a value of another JSON type than
//! its column (arrow-json coerces some, rejects others), a number with a
//! fraction for an integer column, a repeated key, a missing field under
//! `json.fail-on-missing-field`, a NULL for a NOT NULL column, invalid JSON.
//! The reader then decodes that chunk with arrow-json, which gives the
//! answer and the error message. Schemas with types it does not build
//! (DECIMAL, ARRAY, MAP, …) are not given to it at all.

use std::sync::Arc;

use arrow_array::builder::StringBuilder;
use arrow_array::types::{ArrowPrimitiveType, Date32Type};
use arrow_array::{ArrayRef, RecordBatch, StructArray};
use arrow_buffer::NullBufferBuilder;
use arrow_cast::parse::Parser;
use arrow_schema::{DataType, Fields, SchemaRef};

use super::json_scan::{JsonNumber, JsonStr, Scan, Scanner, ShortText, Unsure};
use super::scalar_column::{PrimitiveColumn, ScalarColumn};

/// Decodes JSON lines of one schema into record batches.
pub struct FastJsonDecoder {
    schema: SchemaRef,
    root: StructColumn,
    fail_on_missing_field: bool,
    /// Reused for strings with escapes.
    scratch: String,
}

impl FastJsonDecoder {
    /// A decoder for `schema`, if it builds every one of its types; its
    /// columns keep room for `batch_rows` rows.
    pub fn for_schema(
        schema: &SchemaRef,
        fail_on_missing_field: bool,
        batch_rows: usize,
    ) -> Option<Self> {
        Some(FastJsonDecoder {
            root: StructColumn::new(schema.fields(), batch_rows)?,
            schema: schema.clone(),
            fail_on_missing_field,
            scratch: String::new(),
        })
    }

    /// Appends the row of one line. After [`Unsure`] the columns hold part
    /// of a row: [`Self::clear`] them before going on.
    pub fn decode_line(&mut self, line: &str) -> Scan<()> {
        self.decode_scanned(Scanner::new(line))
    }

    fn decode_scanned(&mut self, mut scanner: Scanner) -> Scan<()> {
        self.decode_root(&mut scanner)?;
        if scanner.at_end() {
            Ok(())
        } else {
            Err(Unsure)
        }
    }

    /// Appends the row of the line `text` starts with, and says where that
    /// line ends: its length (without its `\n`, nor a `\r` just before
    /// it), and where the next line starts, `None` when the line ends the
    /// text without a `\n`. The end is found by decoding the line, rather
    /// than by searching for it before decoding from the start again.
    pub fn decode_first_line(&mut self, text: &str) -> Scan<(usize, Option<usize>)> {
        let mut scanner = Scanner::new(text);
        self.decode_root(&mut scanner)?;
        // Whitespace after the object, up to the line's end.
        scanner.skip_whitespace();
        let at = scanner.position();
        match text.as_bytes().get(at) {
            None => Ok((at, None)),
            Some(b'\n') => {
                let carriage_return = at > 0 && text.as_bytes()[at - 1] == b'\r';
                Ok((at - usize::from(carriage_return), Some(at + 1)))
            }
            Some(_) => Err(Unsure),
        }
    }

    fn decode_root(&mut self, scanner: &mut Scanner) -> Scan<()> {
        if scanner.peek() != Some(b'{') {
            return Err(Unsure);
        }
        let reading = Reading {
            fail_on_missing_field: self.fail_on_missing_field,
            scratch: &mut self.scratch,
        };
        self.root.decode_object(scanner, reading)
    }

    /// Drops every row appended since the last batch.
    pub fn clear(&mut self) {
        self.root.clear();
    }

    /// The rows appended since the last batch; `None` when there are none.
    pub fn flush(&mut self) -> Result<Option<RecordBatch>, String> {
        if self.root.rows == 0 {
            return Ok(None);
        }
        let rows = self.root.rows;
        // Finishing the children leaves them empty, sized for the next
        // batch; clearing them again would drop that room.
        let columns = self.root.finish_children()?;
        self.root.forget_rows();
        let options = arrow_array::RecordBatchOptions::new().with_row_count(Some(rows));
        RecordBatch::try_new_with_options(self.schema.clone(), columns, &options)
            .map(Some)
            .map_err(|e| e.to_string())
    }
}

/// What every column's decoding shares.
struct Reading<'s> {
    fail_on_missing_field: bool,
    scratch: &'s mut String,
}

impl Reading<'_> {
    fn reborrow(&mut self) -> Reading<'_> {
        Reading {
            fail_on_missing_field: self.fail_on_missing_field,
            scratch: self.scratch,
        }
    }
}

struct StructColumn {
    fields: Fields,
    names: Vec<Box<[u8]>>,
    /// Whether each field takes NULL, looked up once.
    nullable: Vec<bool>,
    children: Vec<Column>,
    nulls: NullBufferBuilder,
    /// Which fields the current object has given a value; reused per row.
    seen: SeenFields,
    /// The keys of the objects read so far, place by place: lines usually
    /// list the same keys in the same order, so a key is first compared
    /// whole with the one met at its place before, without scanning it.
    keys: KeyOrder,
    rows: usize,
    /// Whether every field takes NULL, and every ROW field's fields, which
    /// a NULL row needs of them.
    children_nullable: bool,
    /// NULL rows whose children have not been given their NULLs yet: a
    /// run of them (Nexmark's `person` on the bids between two persons)
    /// goes to the children at once, when the next object or the batch's
    /// end comes.
    pending_nulls: usize,
}

/// The fields an object has given a value, a bit each: the first 64 in a
/// word of their own, as objects seldom have more, and clearing it per row
/// is then a store rather than a call to `memset`.
struct SeenFields {
    first: u64,
    rest: Vec<u64>,
}

impl SeenFields {
    fn new(fields: usize) -> SeenFields {
        SeenFields {
            first: 0,
            rest: vec![0; fields.saturating_sub(64).div_ceil(64)],
        }
    }

    fn clear(&mut self) {
        self.first = 0;
        if !self.rest.is_empty() {
            self.rest.fill(0);
        }
    }

    /// Marks field `i`; `false` if it was marked already.
    fn mark(&mut self, i: usize) -> bool {
        let (word, bit) = match i.checked_sub(64) {
            None => (&mut self.first, i),
            Some(past) => match self.rest.get_mut(past / 64) {
                Some(word) => (word, past % 64),
                None => return false,
            },
        };
        let unmarked = *word & (1 << bit) == 0;
        *word |= 1 << bit;
        unmarked
    }

    fn has(&self, i: usize) -> bool {
        let (word, bit) = match i.checked_sub(64) {
            None => (self.first, i),
            Some(past) => (self.rest.get(past / 64).copied().unwrap_or(0), past % 64),
        };
        word & (1 << bit) != 0
    }

    /// Whether all of the first `fields` fields are marked.
    fn all(&self, fields: usize) -> bool {
        match fields {
            0..64 => self.first == (1u64 << fields) - 1,
            _ => (0..fields).all(|i| self.has(i)),
        }
    }
}

/// A key met at some place of an object: `"name":` as it was written (no
/// escapes), with the comma before it after the first place, and the field
/// it names, if it is in the schema.
struct PlacedKey {
    quoted: ShortText,
    field: Option<usize>,
}

/// The key last met at each place of an object.
#[derive(Default)]
struct KeyOrder {
    places: Vec<PlacedKey>,
}

/// Objects with more keys than this have the rest scanned every time.
const MAX_PLACES: usize = 64;

impl KeyOrder {
    /// The field of the key at `place`, if the scanner is at that same key
    /// (which it then consumes, comma, colon and all).
    fn eat_known(&self, scanner: &mut Scanner, place: usize) -> Option<Option<usize>> {
        let key = self.places.get(place)?;
        scanner.eat_short(&key.quoted).then_some(key.field)
    }

    /// Remembers that `quoted`, an unescaped key as written (with the
    /// comma before it, after the first place), came at `place`.
    fn learn(&mut self, place: usize, quoted: &[u8], field: Option<usize>) {
        if place >= MAX_PLACES {
            return;
        }
        let key = PlacedKey {
            quoted: ShortText::new(quoted),
            field,
        };
        // Places are learned in order, so `place` is at most one past the end.
        if let Some(known) = self.places.get_mut(place) {
            *known = key;
        } else if self.places.len() == place {
            self.places.push(key);
        }
    }
}

impl StructColumn {
    fn new(fields: &Fields, capacity: usize) -> Option<Self> {
        let children = fields
            .iter()
            .map(|f| Column::new(f.data_type(), capacity))
            .collect::<Option<Vec<_>>>()?;
        // A NULL row needs NULLs of its fields, and of theirs.
        let children_nullable = fields.iter().all(|f| f.is_nullable())
            && children.iter().all(|child| match child {
                Column::Struct(column) => column.children_nullable,
                _ => true,
            });
        Some(StructColumn {
            fields: fields.clone(),
            names: fields.iter().map(|f| f.name().as_bytes().into()).collect(),
            nullable: fields.iter().map(|f| f.is_nullable()).collect(),
            seen: SeenFields::new(children.len()),
            children,
            nulls: NullBufferBuilder::new(capacity),
            keys: KeyOrder::default(),
            rows: 0,
            children_nullable,
            pending_nulls: 0,
        })
    }

    /// The next key of the object, at `place` (after a comma, past the
    /// first place): the field it names (`None`: not in the schema), the
    /// scanner past its colon; `None` at the object's end, its `}` consumed.
    ///
    /// A key where the last object had it is compared with it whole, the
    /// comma before it included: one comparison a field.
    fn next_key(&mut self, scanner: &mut Scanner, place: usize) -> Scan<Option<Option<usize>>> {
        if let Some(field) = self.keys.eat_known(scanner, place) {
            return Ok(Some(field));
        }
        scanner.skip_whitespace();
        let start = scanner.position();
        if place > 0 && !scanner.eat(b',') {
            scanner.expect(b'}')?;
            return Ok(None);
        }
        if scanner.peek() != Some(b'"') {
            return Err(Unsure);
        }
        let key = scanner.string()?;
        if key.escaped {
            // arrow-json matches the decoded name; leave it to it.
            return Err(Unsure);
        }
        let field = self
            .names
            .iter()
            .position(|name| **name == *key.raw.as_bytes());
        scanner.expect(b':')?;
        self.keys.learn(place, scanner.bytes_since(start), field);
        Ok(Some(field))
    }

    /// Reads an object (the scanner at its `{`) into one row.
    fn decode_object(&mut self, scanner: &mut Scanner, mut reading: Reading) -> Scan<()> {
        scanner.expect(b'{')?;
        self.settle_nulls();
        self.seen.clear();
        if !scanner.eat(b'}') {
            let mut place = 0;
            while let Some(field) = self.next_key(scanner, place)? {
                match field {
                    None => scanner.skip_value()?,
                    Some(i) if !self.seen.mark(i) => return Err(Unsure),
                    Some(i) => {
                        let nullable = self.nullable[i];
                        self.children[i].decode(scanner, nullable, reading.reborrow())?;
                    }
                }
                place += 1;
            }
        }
        if !self.seen.all(self.children.len()) {
            for i in 0..self.children.len() {
                if !self.seen.has(i) {
                    if reading.fail_on_missing_field || !self.nullable[i] {
                        return Err(Unsure);
                    }
                    self.children[i].append_null()?;
                }
            }
        }
        self.nulls.append_non_null();
        self.rows += 1;
        Ok(())
    }

    fn append_nulls(&mut self, count: usize) -> Scan<()> {
        // A NULL row's NOT NULL children would need a value; arrow-json decides.
        if !self.children_nullable {
            return Err(Unsure);
        }
        self.pending_nulls += count;
        self.nulls.append_n_nulls(count);
        self.rows += count;
        Ok(())
    }

    /// Gives the children the NULLs of the NULL rows since their last value.
    fn settle_nulls(&mut self) {
        if self.pending_nulls > 0 {
            for child in &mut self.children {
                child.append_nulls(self.pending_nulls);
            }
            self.pending_nulls = 0;
        }
    }

    fn finish_children(&mut self) -> Result<Vec<ArrayRef>, String> {
        self.settle_nulls();
        self.children.iter_mut().map(Column::finish).collect()
    }

    fn finish(&mut self) -> Result<ArrayRef, String> {
        let children = self.finish_children()?;
        let nulls = self.nulls.finish();
        self.rows = 0;
        StructArray::try_new(self.fields.clone(), children, nulls)
            .map(|array| Arc::new(array) as ArrayRef)
            .map_err(|e| e.to_string())
    }

    fn clear(&mut self) {
        for child in &mut self.children {
            child.clear();
        }
        self.forget_rows();
    }

    /// Forgets the rows' own NULLs and count, its children already empty.
    fn forget_rows(&mut self) {
        // Finishing resets the builder and keeps its capacity.
        drop(self.nulls.finish());
        self.rows = 0;
        self.pending_nulls = 0;
    }
}

/// STRING: the strings are slices of lines the reader has checked to be
/// UTF-8, so they are appended as text and the batch is not checked again.
struct Utf8Column {
    builder: StringBuilder,
    /// Rows a batch holds, to size the next batch's buffers.
    capacity: usize,
}

impl Utf8Column {
    fn new(capacity: usize) -> Self {
        Utf8Column {
            builder: StringBuilder::with_capacity(capacity, 0),
            capacity,
        }
    }

    /// Appends `text`, unless the column's `i32` offsets would overflow
    /// (the builder would panic; arrow-json decides instead).
    fn append_str(&mut self, text: &str) -> Scan<()> {
        let end = self.builder.values_slice().len() + text.len();
        i32::try_from(end).map_err(|_| Unsure)?;
        self.builder.append_value(text);
        Ok(())
    }

    fn append(&mut self, string: JsonStr, scratch: &mut String) -> Scan<()> {
        let text = text_of(string, scratch)?;
        self.append_str(text)
    }

    fn append_null(&mut self) -> Scan<()> {
        self.builder.append_null();
        Ok(())
    }

    fn append_nulls(&mut self, count: usize) {
        self.builder.append_nulls(count);
    }

    fn finish(&mut self) -> Result<ArrayRef, String> {
        // The next batch likely holds about as many bytes as this one: with
        // an eighth more room it seldom has to grow (and copy) its buffer.
        let bytes = self.builder.values_slice().len();
        let fresh = StringBuilder::with_capacity(self.capacity, bytes + bytes / 8);
        let array = std::mem::replace(&mut self.builder, fresh).finish();
        Ok(Arc::new(array) as ArrayRef)
    }
}

enum Column {
    /// A scalar column and the rows a batch holds.
    Scalar(ScalarColumn, usize),
    Utf8(Utf8Column),
    Struct(StructColumn),
}

/// An integer column's value from a JSON integer that fits it.
fn append_integer<T: ArrowPrimitiveType>(builder: &mut PrimitiveColumn<T>, value: i64) -> Scan<()>
where
    T::Native: TryFrom<i64>,
{
    builder.append_value(T::Native::try_from(value).map_err(|_| Unsure)?);
    Ok(())
}

/// A float column's value from any JSON number, parsed as arrow-json does.
fn append_float<T: ArrowPrimitiveType>(
    builder: &mut PrimitiveColumn<T>,
    number: JsonNumber,
) -> Scan<()>
where
    T::Native: std::str::FromStr,
{
    builder.append_value(number.as_str().parse().map_err(|_| Unsure)?);
    Ok(())
}

impl Column {
    fn new(data_type: &DataType, capacity: usize) -> Option<Self> {
        Some(match data_type {
            DataType::Utf8 => Column::Utf8(Utf8Column::new(capacity)),
            DataType::Struct(fields) => Column::Struct(StructColumn::new(fields, capacity)?),
            other => Column::Scalar(ScalarColumn::new(other, capacity)?, capacity),
        })
    }

    /// Reads the next value into this column.
    fn decode(&mut self, scanner: &mut Scanner, nullable: bool, reading: Reading) -> Scan<()> {
        // The value's first byte says which kind it is, looked at once.
        let first = scanner.peek().ok_or(Unsure)?;
        if first == b'n' {
            scanner.expect_null()?;
            return if nullable {
                self.append_null()
            } else {
                Err(Unsure)
            };
        }
        let quoted = first == b'"';
        let column = match self {
            Column::Utf8(column) if quoted => {
                return column.append(scanner.string()?, reading.scratch);
            }
            Column::Struct(column) if first == b'{' => {
                return column.decode_object(scanner, reading);
            }
            Column::Utf8(_) | Column::Struct(_) => return Err(Unsure),
            Column::Scalar(column, _) => column,
        };
        match column {
            ScalarColumn::Int8(b) => append_integer(b, scanner.integer()?),
            ScalarColumn::Int16(b) => append_integer(b, scanner.integer()?),
            ScalarColumn::Int32(b) => append_integer(b, scanner.integer()?),
            ScalarColumn::Int64(b) => append_integer(b, scanner.integer()?),
            ScalarColumn::Float32(b) => append_float(b, scanner.number()?),
            ScalarColumn::Float64(b) => append_float(b, scanner.number()?),
            ScalarColumn::Boolean(b) => {
                b.append_value(scanner.boolean()?);
                Ok(())
            }
            ScalarColumn::Date32(b) if quoted => {
                let text = text_of(scanner.string()?, reading.scratch)?;
                b.append_value(Date32Type::parse(text).ok_or(Unsure)?);
                Ok(())
            }
            ScalarColumn::Date32(b) => append_integer(b, scanner.integer()?),
            ScalarColumn::Timestamp(c) if quoted => {
                let text = text_of(scanner.string()?, reading.scratch)?;
                c.append_text(text).map_err(|_| Unsure)
            }
            ScalarColumn::Timestamp(c) => {
                c.append_value(scanner.integer()?);
                Ok(())
            }
        }
    }

    fn append_null(&mut self) -> Scan<()> {
        match self {
            Column::Scalar(column, _) => column.append_null(),
            Column::Utf8(column) => return column.append_null(),
            Column::Struct(column) => return column.append_nulls(1),
        }
        Ok(())
    }

    /// Appends `count` NULLs to a column whose field takes NULL (its
    /// children were checked when the NULLs were deferred).
    fn append_nulls(&mut self, count: usize) {
        match self {
            Column::Scalar(column, _) => column.append_nulls(count),
            Column::Utf8(column) => column.append_nulls(count),
            // Cannot fail: the parent deferred NULLs only because its
            // `children_nullable` holds, this column's included.
            Column::Struct(column) => {
                let _ = column.append_nulls(count);
            }
        }
    }

    fn finish(&mut self) -> Result<ArrayRef, String> {
        match self {
            Column::Scalar(column, capacity) => Ok(column.finish_with_capacity(*capacity)),
            Column::Utf8(column) => column.finish(),
            Column::Struct(column) => column.finish(),
        }
    }

    fn clear(&mut self) {
        // Finishing empties a builder; what it built is dropped.
        match self {
            Column::Struct(column) => column.clear(),
            other => drop(other.finish()),
        }
    }
}

/// A string's text, escapes decoded into `scratch` when it has any.
fn text_of<'a>(string: JsonStr<'a>, scratch: &'a mut String) -> Scan<&'a str> {
    if !string.escaped {
        return Ok(string.raw);
    }
    scratch.clear();
    string.append_to(scratch)?;
    Ok(scratch)
}

#[cfg(test)]
mod tests {
    use arrow_schema::TimeUnit;
    use arrow_schema::{Field, Schema};

    use super::*;

    fn schema() -> SchemaRef {
        let bid = Fields::from(vec![
            Field::new("auction", DataType::Int64, true),
            Field::new("price", DataType::Int32, true),
            Field::new("ratio", DataType::Float64, true),
            Field::new("small", DataType::Float32, true),
            Field::new("channel", DataType::Utf8, true),
            Field::new(
                "dateTime",
                DataType::Timestamp(TimeUnit::Millisecond, None),
                true,
            ),
            Field::new(
                "ltz",
                DataType::Timestamp(TimeUnit::Microsecond, Some("+02:00".into())),
                true,
            ),
        ]);
        Arc::new(Schema::new(vec![
            Field::new("event_type", DataType::Int8, true),
            Field::new("flag", DataType::Boolean, true),
            Field::new("day", DataType::Date32, true),
            Field::new("bid", DataType::Struct(bid), true),
        ]))
    }

    /// What arrow-json makes of one line, or `None` when it fails.
    fn arrow_json(schema: &SchemaRef, line: &str) -> Option<RecordBatch> {
        let mut decoder = arrow_json::ReaderBuilder::new(schema.clone())
            .build_decoder()
            .ok()?;
        decoder.decode(line.as_bytes()).ok()?;
        if decoder.len() != 1 || decoder.has_partial_record() {
            return None;
        }
        decoder.flush().ok().flatten()
    }

    fn single_pass(schema: &SchemaRef, line: &str) -> Option<RecordBatch> {
        let mut decoder = FastJsonDecoder::for_schema(schema, false, 16)?;
        decoder.decode_line(line).ok()?;
        decoder.flush().ok().flatten()
    }

    const LINES: &[&str] = &[
        r#"{"event_type": 2, "flag": true, "day": "2024-02-29", "bid": {"auction": 1000, "price": -7, "ratio": 0.1, "small": 3.4028235e38, "channel": "Google", "dateTime": "2024-01-01 00:00:00.123", "ltz": "2024-01-01T10:00:00"}}"#,
        r#"{"bid": null, "event_type": null, "extra": {"deep": [1, {"x": "y"}]}}"#,
        r#"{"event_type":0,"bid":{"channel":"tab\t\u00e9\"q\"","dateTime":1704067200000,"ltz":null}}"#,
        r#"{"day": 19723, "bid": {"ratio": 5, "dateTime": "2024-01-01 00:00:00.123456789Z"}}"#,
        r#"{"bid": {"dateTime": "2024-01-01T00:00:00+05:00"}, "flag": false}"#,
        r#"{}"#,
        // Lines the single pass steps aside from; arrow-json decides.
        r#"{"event_type": 300}"#,
        r#"{"event_type": 1.5}"#,
        r#"{"event_type": "2"}"#,
        r#"{"bid": {"channel": 5}}"#,
        r#"{"bid": {"price": 1, "price": 2}}"#,
        r#"{"bid": []}"#,
        r#"{"bid": {"dateTime": "yesterday"}}"#,
        r#"{"flag": 1}"#,
        r#"{"event_type": 1,}"#,
        r#"{"event_type": 1} {"event_type": 2}"#,
        r#"[1]"#,
        r#"{"b\u0069d": {"price": 3}}"#,
        r#"{"bid": {"channel": "\ud83d\ude00"}}"#,
    ];

    #[test]
    fn every_row_it_builds_is_the_row_arrow_json_builds() {
        let schema = schema();
        let mut built = 0;
        for line in LINES {
            if let Some(batch) = single_pass(&schema, line) {
                built += 1;
                assert_eq!(Some(batch), arrow_json(&schema, line), "{line}");
            }
        }
        assert_eq!(built, 6, "the first six lines are read in a single pass");
    }

    #[test]
    fn lines_it_steps_aside_from_are_left_whole_to_arrow_json() {
        let schema = schema();
        let mut decoder = FastJsonDecoder::for_schema(&schema, false, 16).unwrap();
        for line in &LINES[6..] {
            assert_eq!(decoder.decode_line(line), Err(Unsure), "{line}");
            decoder.clear();
        }
        // After clearing, nothing of the lines it gave up on remains.
        decoder.decode_line(LINES[0]).unwrap();
        let batch = decoder.flush().unwrap().unwrap();
        assert_eq!(Some(batch), arrow_json(&schema, LINES[0]));
    }

    #[test]
    fn keys_known_with_their_commas_still_have_their_commas_checked() {
        let schema = schema();
        let good = [
            r#"{"event_type":2,"flag":true}"#,
            r#"{"event_type" : 2 , "flag" :true}"#,
            r#"{"flag":false,"event_type":1}"#,
            r#"{"event_type":2}"#,
        ];
        // Each line twice: read with the keys as it has them the second time.
        for line in good.iter().flat_map(|line| [line, line]) {
            assert_eq!(
                single_pass(&schema, line),
                arrow_json(&schema, line),
                "{line}"
            );
            assert!(single_pass(&schema, line).is_some(), "{line}");
        }
        let bad = [
            r#"{"event_type":2"flag":true}"#,
            r#"{"event_type":2,,"flag":true}"#,
            r#"{"event_type":2,"flag":true,}"#,
            r#"{,"event_type":2}"#,
            r#"{"event_type":2,"flag":true"#,
            r#"{"event_type":2 "flag":true}"#,
        ];
        let mut decoder = FastJsonDecoder::for_schema(&schema, false, 16).unwrap();
        for line in bad {
            decoder.decode_line(good[0]).unwrap();
            assert_eq!(decoder.decode_line(line), Err(Unsure), "{line}");
            decoder.clear();
        }
    }

    #[test]
    fn a_batch_of_many_lines_matches_arrow_json() {
        let schema = schema();
        let lines: Vec<&str> = LINES[..6].iter().cycle().take(100).copied().collect();
        let mut decoder = FastJsonDecoder::for_schema(&schema, false, 16).unwrap();
        for line in &lines {
            decoder.decode_line(line).unwrap();
        }
        let batch = decoder.flush().unwrap().unwrap();
        let text = lines.join("\n");
        assert_eq!(
            Some(batch),
            arrow_json(&schema, &text).or_else(|| {
                let mut reader = arrow_json::ReaderBuilder::new(schema.clone())
                    .with_batch_size(1000)
                    .build(text.as_bytes())
                    .ok()?;
                reader.next()?.ok()
            })
        );
        assert_eq!(decoder.flush().unwrap(), None);
    }

    #[test]
    fn runs_of_null_rows_in_nested_rows_match_arrow_json_across_batches() {
        let inner = Fields::from(vec![Field::new("d", DataType::Utf8, true)]);
        let outer = Fields::from(vec![
            Field::new("b", DataType::Int64, true),
            Field::new("c", DataType::Struct(inner), true),
        ]);
        let schema = Arc::new(Schema::new(vec![
            Field::new("k", DataType::Int32, true),
            Field::new("a", DataType::Struct(outer), true),
        ]));
        let lines = [
            r#"{"k":1,"a":null}"#,
            r#"{"k":2,"a":null}"#,
            r#"{"k":3,"a":{"b":7,"c":null}}"#,
            r#"{"k":4,"a":{"b":8,"c":{"d":"x"}}}"#,
            r#"{"k":5,"a":null}"#,
            r#"{"k":6,"a":{"c":{"d":"y"}}}"#,
            r#"{"k":7}"#,
            r#"{"k":8,"a":null}"#,
        ];
        let mut decoder = FastJsonDecoder::for_schema(&schema, false, 16).unwrap();
        // Batches end inside a run of NULL rows and after one.
        for cut in [&lines[..2], &lines[2..5], &lines[5..]] {
            for line in cut {
                decoder.decode_line(line).unwrap();
            }
            let batch = decoder.flush().unwrap().unwrap();
            let text = cut.join("\n");
            let mut reader = arrow_json::ReaderBuilder::new(schema.clone())
                .build(text.as_bytes())
                .unwrap();
            assert_eq!(batch, reader.next().unwrap().unwrap());
        }
    }

    #[test]
    fn a_null_row_whose_rows_have_a_not_null_field_is_left_to_arrow_json() {
        let inner = Fields::from(vec![Field::new("d", DataType::Utf8, false)]);
        let outer = Fields::from(vec![Field::new("c", DataType::Struct(inner), true)]);
        let schema = Arc::new(Schema::new(vec![Field::new(
            "a",
            DataType::Struct(outer),
            true,
        )]));
        let mut decoder = FastJsonDecoder::for_schema(&schema, false, 16).unwrap();
        assert_eq!(decoder.decode_line(r#"{"a":null}"#), Err(Unsure));
    }

    #[test]
    fn objects_of_more_than_64_fields_find_the_missing_and_the_repeated() {
        let fields: Vec<Field> = (0..70)
            .map(|i| Field::new(format!("f{i}"), DataType::Int64, true))
            .collect();
        let schema = Arc::new(Schema::new(fields));
        let line = r#"{"f0": 1, "f65": 2, "f69": 3, "f63": 4, "f64": 5}"#;
        assert_eq!(single_pass(&schema, line), arrow_json(&schema, line));
        let batch = single_pass(&schema, line).unwrap();
        assert_eq!(batch.column(69).null_count(), 0);
        assert_eq!(batch.column(68).null_count(), 1);
        let mut decoder = FastJsonDecoder::for_schema(&schema, false, 4).unwrap();
        assert_eq!(decoder.decode_line(r#"{"f66": 1, "f66": 2}"#), Err(Unsure));
    }

    /// A small xorshift generator, so that random tests repeat.
    fn random(seed: &mut u64, below: usize) -> usize {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        (*seed % below as u64) as usize
    }

    /// Lines of the Nexmark layout with random values: keys in changing
    /// order, some repeated, missing or unknown, and numbers, strings and
    /// timestamps of many shapes, valid or not.
    fn random_lines(count: usize) -> Vec<String> {
        let pieces: &[&[&str]] = &[
            &[r#"{"event_type":"#, r#"{ "event_type" : "#],
            &[
                "0",
                "-0",
                "127",
                "-128",
                "128",
                "00",
                "1.0",
                "1e2",
                "null",
                r#""2""#,
                "9223372036854775808",
                "-",
            ],
            &[r#","bid":{"auction":"#, r#","bid":{"price":1,"auction":"#],
            &[
                "1000",
                "-9223372036854775808",
                "9223372036854775807",
                "12345678901234567890",
                "0",
                "1.",
                "true",
                "nul",
            ],
            &[r#","price":"#, r#","ratio":1.5,"price":"#],
            &["2147483647", "-2147483649", "7", "null", " 8 ", "-12"],
            &[r#","channel":"#],
            &[
                r#""Google""#,
                r#""a\u00e9\n""#,
                r#""\ud83d\ude00""#,
                "null",
                "3",
                "\"tab\tx\"",
                r#""é ü 中""#,
                r#""\x""#,
                r#""unterminated"#,
            ],
            &[r#","dateTime":"#],
            &[
                r#""2024-01-01 00:00:00.000""#,
                r#""2024-02-30 00:00:00""#,
                r#""2024-02-29T23:59:59.999999999""#,
                r#""1969-12-31 23:59:59.5""#,
                r#""2024-01-01 00:00:00Z""#,
                "1704067200000",
                "null",
            ],
            &[
                "",
                r#","extra":"x""#,
                r#","price":3"#,
                r#","unknown":{"a":[1,"b",null,{}]}"#,
                r#","small":-1e-3"#,
            ],
            &["}", "} ", ",}", "]"],
            &[
                "",
                r#","person":null"#,
                r#","auction":{"id":1,"x":"y"}"#,
                r#","flag":true"#,
                r#","day":"2024-02-29""#,
            ],
            &["}", "} ", "}x", "}}"],
        ];
        let mut seed = 0x1234_5678_9abc_def1;
        (0..count)
            .map(|_| {
                pieces
                    .iter()
                    // The first choice (valid) half of the time, so that
                    // many lines are valid throughout.
                    .map(|choices| match random(&mut seed, 2) {
                        0 => choices[0],
                        _ => choices[random(&mut seed, choices.len())],
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn random_lines_build_the_rows_arrow_json_builds() {
        let schema = schema();
        let mut decoder = FastJsonDecoder::for_schema(&schema, false, 16).unwrap();
        let mut accepted = 0;
        for line in random_lines(20_000) {
            if decoder.decode_line(&line).is_ok() {
                accepted += 1;
                let batch = decoder.flush().unwrap().unwrap();
                assert_eq!(Some(batch), arrow_json(&schema, &line), "{line}");
            } else {
                decoder.clear();
            }
        }
        assert!(accepted > 1000, "{accepted} lines read in a single pass");
    }

    #[test]
    fn keys_in_changing_orders_find_their_fields() {
        // The key order remembered from one line must not mislead the next.
        let schema = schema();
        let lines = [
            r#"{"event_type":1,"flag":true,"bid":{"auction":1,"price":2}}"#,
            r#"{"flag":false,"event_type":2,"bid":{"price":3,"auction":4}}"#,
            r#"{"x":1,"event_type":3,"flagx":true,"bid":{"auction":5}}"#,
            r#"{"event_type":4,"flag":true,"bid":{"auction":6,"price":7}}"#,
            r#"{"event_type" :5,"flag" : true,"bid":{"auction" :8}}"#,
            r#"{"event_type":6}"#,
            r#"{"bid":{"channel":"c","auction":9},"event_type":7,"flag":null}"#,
        ];
        let mut decoder = FastJsonDecoder::for_schema(&schema, false, 16).unwrap();
        for line in lines.iter().cycle().take(lines.len() * 3) {
            decoder.decode_line(line).unwrap();
            let batch = decoder.flush().unwrap().unwrap();
            assert_eq!(Some(batch), arrow_json(&schema, line), "{line}");
        }
    }

    #[test]
    fn missing_fields_step_aside_when_they_must_fail() {
        let schema = schema();
        let mut decoder = FastJsonDecoder::for_schema(&schema, true, 16).unwrap();
        assert_eq!(decoder.decode_line(r#"{"event_type": 1}"#), Err(Unsure));
        let decimal = Arc::new(Schema::new(vec![Field::new(
            "d",
            DataType::Decimal128(10, 2),
            true,
        )]));
        assert!(FastJsonDecoder::for_schema(&decimal, false, 16).is_none());
    }
}
