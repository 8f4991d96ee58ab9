//! Reading Flink's `json` format: one JSON object per line, fields matched
//! by name, a missing field NULL (or, with `json.fail-on-missing-field`, an
//! error). A line that does not read fails the job naming the file and line,
//! or with `json.ignore-parse-errors` is skipped, as Flink skips it.
//!
//! The file is read in blocks that fit the L2 cache and split into lines in
//! place. The whole lines of a block are checked as UTF-8 in one pass,
//! rather than line by line; then each line is decoded by the single-pass
//! decoder of [`super::json_columns`] straight from the block, which finds
//! where the line ends (a line that does not start with its object is
//! first split at its line feed). When that decoder steps aside (a line it
//! is not sure of, or a schema it does not build), the whole chunk of
//! lines, kept in the buffer,
//! goes the careful way: each line is checked with `serde_json` and the chunk
//! is fed to one reused arrow-json decoder; only when that does not give
//! exactly one row per line is the chunk decoded line by line, to find and
//! name (or skip) the bad lines.

use std::fs::File;
use std::io::Read;
use std::ops::Range;
use std::path::Path;

use arrow_array::RecordBatch;
use arrow_json::reader::Decoder;
use arrow_schema::{DataType, Fields, SchemaRef};

use super::json_columns::FastJsonDecoder;

/// What a json source reads besides its schema.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonDecoding {
    pub ignore_parse_errors: bool,
    pub fail_on_missing_field: bool,
}

/// How much is read from the file at a time: small enough that a block is
/// still in the L2 cache when its lines are decoded.
const READ_SIZE: usize = 1 << 18;

/// Bytes checked at a time for each line a chunk still wants (a guess on
/// the long side: too many only means checking some bytes twice), and at
/// least.
const LIKELY_LINE_BYTES: usize = 512;
const MIN_CHECKED: usize = 4096;

/// One line of a chunk: its number in the file and where it is in the buffer.
struct Line {
    number: u64,
    bytes: Range<usize>,
}

/// The lines of one batch, and whether the single pass decoded them all.
struct Chunk {
    lines: Vec<Line>,
    single_pass: bool,
}

pub struct JsonLinesReader {
    file: File,
    /// `buffer[..filled]` holds the bytes read from the file, of which
    /// `buffer[next..filled]` are not yet split into lines; the rest is
    /// room for the next read, zeroed once and reused.
    buffer: Vec<u8>,
    filled: usize,
    next: usize,
    end_of_file: bool,
    line_number: u64,
    path: String,
    schema: SchemaRef,
    decoding: JsonDecoding,
    batch_size: usize,
    /// Reused from chunk to chunk; replaced when a chunk fails to decode.
    decoder: Decoder,
    /// The single-pass decoder, when it builds every type of the schema.
    fast: Option<FastJsonDecoder>,
    /// An error met while reading a chunk, given after the chunk's lines.
    pending_error: Option<String>,
}

impl JsonLinesReader {
    pub fn open(
        path: &Path,
        schema: SchemaRef,
        decoding: JsonDecoding,
        batch_size: usize,
    ) -> Result<Self, String> {
        let file = File::open(path).map_err(|e| e.to_string())?;
        let batch_size = batch_size.max(1);
        Ok(JsonLinesReader {
            file,
            buffer: Vec::new(),
            filled: 0,
            next: 0,
            end_of_file: false,
            line_number: 0,
            path: path.display().to_string(),
            decoder: new_decoder(&schema, batch_size)?,
            fast: FastJsonDecoder::for_schema(&schema, decoding.fail_on_missing_field, batch_size),
            pending_error: None,
            schema,
            decoding,
            batch_size,
        })
    }

    fn fail(&self, line: &str, number: u64, cause: impl std::fmt::Display) -> String {
        format!(
            "Failed to deserialize JSON '{line}' in {} at line {number}: {cause}",
            self.path
        )
    }

    /// A line that is not JSON, or lacks a field when fields are required.
    fn check(&self, line: &str) -> Result<(), String> {
        if self.decoding.fail_on_missing_field {
            let value: serde_json::Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
            missing_field(self.schema.fields(), &value)
        } else {
            serde_json::from_str::<serde::de::IgnoredAny>(line)
                .map(drop)
                .map_err(|e| e.to_string())
        }
    }

    /// Reads more of the file until `buffer[next..]` holds a whole line
    /// (or the file has ended); the end of the whole lines it holds then
    /// (just past their last `\n`, or the end of the bytes read at the end
    /// of the file). `None` when no line is left.
    fn fill(&mut self) -> Result<Option<usize>, String> {
        let mut searched = self.next;
        loop {
            if let Some(at) = memchr::memrchr(b'\n', &self.buffer[searched..self.filled]) {
                return Ok(Some(searched + at + 1));
            }
            searched = self.filled;
            if self.end_of_file {
                return Ok((self.next < self.filled).then_some(self.filled));
            }
            if self.read_block()? == 0 {
                self.end_of_file = true;
            }
        }
    }

    /// Reads up to [`READ_SIZE`] more bytes of the file in one call (where
    /// `read_to_end` starts small and takes six); how many it read.
    fn read_block(&mut self) -> Result<usize, String> {
        let end = self.filled + READ_SIZE;
        if self.buffer.len() < end {
            self.buffer.resize(end, 0);
        }
        loop {
            match self.file.read(&mut self.buffer[self.filled..end]) {
                Ok(read) => {
                    self.filled += read;
                    return Ok(read);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(format!("{}: {e}", self.path)),
            }
        }
    }

    /// The text of a line of the current chunk.
    fn text(&self, line: &Line) -> &str {
        // Chunk lines were checked to be UTF-8 when they were read.
        std::str::from_utf8(&self.buffer[line.bytes.clone()]).unwrap_or_default()
    }

    /// The next chunk of non-blank lines, with their line numbers, each
    /// given to the single pass as it is split. A line that is not UTF-8
    /// ends the chunk; its error comes after the chunk.
    fn next_chunk(&mut self) -> Result<Chunk, String> {
        if let Some(error) = self.pending_error.take() {
            return Err(error);
        }
        // Lines of the last chunk are done with; keep only what follows them.
        self.buffer.copy_within(self.next..self.filled, 0);
        self.filled -= self.next;
        self.next = 0;
        let mut chunk = Chunk {
            lines: Vec::with_capacity(self.batch_size),
            single_pass: self.fast.is_some(),
        };
        while chunk.lines.len() < self.batch_size {
            let end = match self.fill() {
                Ok(Some(end)) => end,
                Ok(None) => break,
                Err(error) if chunk.lines.is_empty() => return Err(error),
                Err(error) => {
                    self.pending_error = Some(error);
                    break;
                }
            };
            if let Err(error) = self.split_lines(end, &mut chunk) {
                if chunk.lines.is_empty() {
                    return Err(error);
                }
                self.pending_error = Some(error);
                break;
            }
        }
        Ok(chunk)
    }

    /// Where to stop checking the whole lines of `buffer[next..end]` when
    /// `lines` more are wanted: past about as many bytes as they likely take
    /// (at the end of a line), so that small batches do not check the rest
    /// of a block again for every batch.
    fn enough_lines(&self, end: usize, lines: usize) -> usize {
        let likely = lines.saturating_mul(LIKELY_LINE_BYTES).max(MIN_CHECKED);
        let from = self.next.saturating_add(likely);
        if from >= end {
            return end;
        }
        memchr::memchr(b'\n', &self.buffer[from..end]).map_or(end, |at| from + at + 1)
    }

    /// Splits the whole lines of `buffer[next..end]` into `chunk` until it
    /// is full, each decoded by the single pass as it is split. The bytes are
    /// checked as UTF-8 once for all of them rather than line by line: a
    /// line is UTF-8 exactly when it lies before the first bad byte. The
    /// error of a line that is not UTF-8.
    fn split_lines(&mut self, end: usize, chunk: &mut Chunk) -> Result<(), String> {
        let end = self.enough_lines(end, self.batch_size - chunk.lines.len());
        let block = &self.buffer[self.next..end];
        let (text, bad) = match simdutf8::basic::from_utf8(block) {
            Ok(text) => (text, false),
            // The prefix before the first bad byte is UTF-8 (where it ends,
            // std's check says; the SIMD one only says that there is one).
            Err(_) => {
                let valid = std::str::from_utf8(block).map_or_else(|e| e.valid_up_to(), str::len);
                (
                    std::str::from_utf8(&block[..valid]).unwrap_or_default(),
                    true,
                )
            }
        };
        let mut rest = text;
        while chunk.lines.len() < self.batch_size {
            let start = self.next;
            // The usual line, an object from its first byte, is decoded
            // straight from the block, the decoder finding its end.
            if let (true, Some(fast), true) =
                (chunk.single_pass, self.fast.as_mut(), rest.starts_with('{'))
            {
                match fast.decode_first_line(rest) {
                    Ok((length, next)) if next.is_some() || !bad => {
                        let next = next.unwrap_or(rest.len());
                        rest = &rest[next..];
                        self.next += next;
                        self.line_number += 1;
                        chunk.lines.push(Line {
                            number: self.line_number,
                            bytes: start..start + length,
                        });
                        continue;
                    }
                    // Read the careful way, from the line found below.
                    _ => {
                        fast.clear();
                        chunk.single_pass = false;
                    }
                }
            }
            let line = match memchr::memchr(b'\n', rest.as_bytes()) {
                Some(at) => {
                    let line = &rest[..at];
                    rest = &rest[at + 1..];
                    self.next += at + 1;
                    // As `BufRead::lines` has it, without `\r\n`.
                    line.strip_suffix('\r').unwrap_or(line)
                }
                None if bad => {
                    // The line is passed over, as reading lines does.
                    let bad_at = start + rest.len();
                    self.next = memchr::memchr(b'\n', &self.buffer[bad_at..end])
                        .map_or(end, |at| bad_at + at + 1);
                    self.line_number += 1;
                    return Err(format!("{}: stream did not contain valid UTF-8", self.path));
                }
                // The last line of the file, without a newline, kept whole.
                None if !rest.is_empty() => {
                    let line = rest;
                    rest = "";
                    self.next = end;
                    line
                }
                None => break,
            };
            self.line_number += 1;
            if is_blank(line) {
                continue;
            }
            if let (true, Some(fast)) = (chunk.single_pass, self.fast.as_mut())
                && fast.decode_line(line).is_err()
            {
                fast.clear();
                chunk.single_pass = false;
            }
            chunk.lines.push(Line {
                number: self.line_number,
                bytes: start..start + line.len(),
            });
        }
        Ok(())
    }

    /// The chunk's rows from the single-pass decoder, or `None` when it
    /// stepped aside for some line (or cannot build the schema).
    fn decode_single_pass(&mut self, chunk: &Chunk) -> Option<RecordBatch> {
        let fast = self.fast.as_mut()?;
        if !chunk.single_pass {
            return None;
        }
        match fast.flush() {
            Ok(batch) => batch,
            Err(_) => {
                fast.clear();
                None
            }
        }
    }

    /// The chunk's lines that are JSON: a line that is not fails the chunk,
    /// or with `json.ignore-parse-errors` is left out.
    fn checked(&self, lines: Vec<Line>) -> Result<Vec<Line>, String> {
        let mut json = Vec::with_capacity(lines.len());
        for line in lines {
            match self.check(self.text(&line)) {
                Ok(()) => json.push(line),
                Err(_) if self.decoding.ignore_parse_errors => {}
                Err(cause) => return Err(self.fail(self.text(&line), line.number, cause)),
            }
        }
        Ok(json)
    }

    /// Decodes the chunk with the reused arrow-json decoder, if every line is exactly
    /// one row; `None` when the chunk needs decoding line by line.
    fn decode_reused(&mut self, lines: &[Line]) -> Option<RecordBatch> {
        for line in lines {
            let before = self.decoder.len();
            let decoded = self.decoder.decode(&self.buffer[line.bytes.clone()]);
            let one_row = self.decoder.len() == before + 1 && !self.decoder.has_partial_record();
            if decoded.is_err() || !one_row {
                return None;
            }
        }
        self.decoder.flush().ok().flatten()
    }

    fn decode(&self, lines: &[Line]) -> Result<Option<RecordBatch>, String> {
        let mut decoder = new_decoder(&self.schema, self.batch_size)?;
        for line in lines {
            decoder
                .decode(&self.buffer[line.bytes.clone()])
                .map_err(|e| e.to_string())?;
            decoder.decode(b"\n").map_err(|e| e.to_string())?;
        }
        decoder.flush().map_err(|e| e.to_string())
    }

    /// Decodes `lines` one at a time, skipping or naming the ones that fail.
    fn decode_each(&self, lines: &[Line]) -> Result<Option<RecordBatch>, String> {
        let mut batches = Vec::new();
        for line in lines {
            match self.decode(std::slice::from_ref(line)) {
                Ok(batch) => batches.extend(batch),
                Err(_) if self.decoding.ignore_parse_errors => {}
                Err(cause) => return Err(self.fail(self.text(line), line.number, cause)),
            }
        }
        if batches.is_empty() {
            return Ok(None);
        }
        arrow_select::concat::concat_batches(&self.schema, &batches)
            .map(Some)
            .map_err(|e| e.to_string())
    }

    fn decode_chunk(&mut self, chunk: Chunk) -> Result<Option<RecordBatch>, String> {
        if let Some(batch) = self.decode_single_pass(&chunk) {
            return Ok(Some(batch));
        }
        let lines = self.checked(chunk.lines)?;
        if lines.is_empty() {
            return Ok(None);
        }
        if let Some(batch) = self.decode_reused(&lines) {
            return Ok(Some(batch));
        }
        // The decoder may hold part of the chunk; start the next one afresh.
        self.decoder = new_decoder(&self.schema, self.batch_size)?;
        self.decode(&lines).or_else(|_| self.decode_each(&lines))
    }
}

/// Whether `line` holds only whitespace (as `str::trim` has it), told at
/// once for the usual line, which starts with `{`.
fn is_blank(line: &str) -> bool {
    match line.as_bytes().first() {
        Some(byte) if byte.is_ascii_graphic() => false,
        _ => line.trim().is_empty(),
    }
}

fn new_decoder(schema: &SchemaRef, batch_size: usize) -> Result<Decoder, String> {
    // One more row than a chunk holds, so a chunk is never cut short.
    arrow_json::ReaderBuilder::new(schema.clone())
        .with_batch_size(batch_size + 1)
        .build_decoder()
        .map_err(|e| e.to_string())
}

/// Flink's missing-field error for the first field `value` lacks, nested
/// rows included.
fn missing_field(fields: &Fields, value: &serde_json::Value) -> Result<(), String> {
    let Some(object) = value.as_object() else {
        return Ok(());
    };
    for field in fields {
        match object.get(field.name()) {
            None => {
                return Err(format!(
                    "Could not find field with name '{}'.",
                    field.name()
                ));
            }
            Some(nested) => {
                if let DataType::Struct(children) = field.data_type() {
                    missing_field(children, nested)?;
                }
            }
        }
    }
    Ok(())
}

impl Iterator for JsonLinesReader {
    type Item = Result<RecordBatch, String>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let chunk = match self.next_chunk() {
                Ok(chunk) => chunk,
                Err(e) => return Some(Err(e)),
            };
            if chunk.lines.is_empty() {
                return None;
            }
            match self.decode_chunk(chunk) {
                Ok(Some(batch)) => return Some(Ok(batch)),
                // Every line of the chunk was skipped; read on.
                Ok(None) => continue,
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::cast::AsArray;
    use arrow_array::types::Int64Type;
    use arrow_schema::{Field, Schema};

    use super::*;

    fn read(text: &str, decoding: JsonDecoding, batch_size: usize) -> Result<Vec<i64>, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lines.json");
        std::fs::write(&path, text).unwrap();
        let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, true)]));
        let reader = JsonLinesReader::open(&path, schema, decoding, batch_size)?;
        let mut ids = Vec::new();
        for batch in reader {
            let batch = batch?;
            ids.extend(batch.column(0).as_primitive::<Int64Type>().iter().flatten());
        }
        Ok(ids)
    }

    #[test]
    fn lines_across_read_blocks_all_arrive_in_order() {
        let padding = "x".repeat(100);
        let text: String = (0..30_000)
            .map(|i| format!("{{\"id\": {i}, \"pad\": \"{padding}\"}}\n"))
            .collect();
        assert!(text.len() > 2 * READ_SIZE);
        let ids = read(&text, JsonDecoding::default(), 1000).unwrap();
        assert_eq!(ids, (0..30_000).collect::<Vec<_>>());
    }

    #[test]
    fn a_line_the_single_pass_steps_aside_from_sends_its_whole_chunk_the_careful_way() {
        // `"2"` for a BIGINT is arrow-json's to read; the lines around it
        // must come once each, in order, from whichever decoder.
        let text = "{\"id\": 1}\n{\"id\": \"2\"}\n{\"id\": 3}\n{\"id\": 4}\n{\"id\": 5}\n";
        assert_eq!(
            read(text, JsonDecoding::default(), 3).unwrap(),
            [1, 2, 3, 4, 5]
        );
    }

    #[test]
    fn crlf_blank_lines_and_a_last_line_without_newline_read() {
        let text = "{\"id\": 1}\r\n\r\n  \n{\"id\": 2}\n{\"id\": 3}";
        assert_eq!(read(text, JsonDecoding::default(), 2).unwrap(), [1, 2, 3]);
    }

    #[test]
    fn a_line_that_is_not_one_object_is_named_or_skipped() {
        let text = "{\"id\": 1}\n{\"id\": 2} {\"id\": 3}\n{\"id\": 4}\n";
        let error = read(text, JsonDecoding::default(), 8).unwrap_err();
        assert!(error.contains("at line 2"), "{error}");
        let skipping = JsonDecoding {
            ignore_parse_errors: true,
            ..Default::default()
        };
        assert_eq!(read(text, skipping, 8).unwrap(), [1, 4]);
    }

    #[test]
    fn an_object_decoded_from_the_block_still_ends_on_its_own_line() {
        // Decoded straight from the block, an object may not run on into
        // the next line, however the whitespace around the line feed lies.
        for split in ["{\"id\":\n 2}", "{\"id\": 2\n}", "{\"id\": 2,\n\"x\": 1}"] {
            let text = format!("{{\"id\": 1}}\n{split}\n{{\"id\": 3}}\n");
            let error = read(&text, JsonDecoding::default(), 8).unwrap_err();
            assert!(error.contains("at line 2"), "{split:?}: {error}");
        }
        // Spaces, tabs and carriage returns after an object end its line.
        let text = "{\"id\": 1} \t\r\n{\"id\": 2}\r\r\n{\"id\": 3}  ";
        assert_eq!(read(text, JsonDecoding::default(), 8).unwrap(), [1, 2, 3]);
    }

    #[test]
    fn invalid_utf8_fails_as_reading_lines_does_after_the_lines_before_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.json");
        std::fs::write(&path, b"{\"id\": 1}\n{\"id\": \xff}\n").unwrap();
        let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, true)]));
        let mut reader = JsonLinesReader::open(&path, schema, JsonDecoding::default(), 8).unwrap();
        let first = reader.next().unwrap().unwrap();
        assert_eq!(first.num_rows(), 1);
        let error = reader.next().unwrap().unwrap_err();
        assert!(
            error.ends_with("stream did not contain valid UTF-8"),
            "{error}"
        );
    }

    /// The ids of `bytes`' lines as reading them line by line has them: each
    /// line that is JSON (the others skipped), up to the first line that is
    /// not UTF-8, and whether there is one.
    fn ids_line_by_line(bytes: &[u8]) -> (Vec<i64>, bool) {
        let mut ids = Vec::new();
        for line in std::io::BufRead::lines(bytes) {
            let Ok(line) = line else {
                return (ids, true);
            };
            if let Ok(value) = serde_json::from_str::<serde_json::Value>(&line) {
                ids.extend(value.get("id").and_then(serde_json::Value::as_i64));
            }
        }
        (ids, false)
    }

    #[test]
    fn random_files_read_as_reading_them_line_by_line_does() {
        // Lines of random lengths across read blocks, CRLF endings, blank
        // lines, lines that are not JSON, control characters, a last line
        // without a newline, and a line that is not UTF-8.
        let mut seed = 0x0bad_cafe_u64;
        let mut random = |below: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % below
        };
        for round in 0..6 {
            let mut bytes = Vec::new();
            for id in 0..4000 {
                let pad = "p".repeat(random(300) as usize);
                let line = match random(12) {
                    0 => String::new(),
                    1 => "  \t".to_string(),
                    2 => format!("{{\"id\": {id}, \"pad\": \"tab\t{pad}\"}}"),
                    3 => format!("{{\"id\": {id}, \"pad\": \"cr\r{pad}\"}}"),
                    4 => format!("{{\"id\": {id}, \"pad\": \"{pad}\"}} x"),
                    5 => format!("{{\"id\": {id}, \"pad\": \"é{pad}\"}}"),
                    _ => format!("{{\"id\": {id}, \"pad\": \"{pad}\"}}"),
                };
                bytes.extend_from_slice(line.as_bytes());
                bytes.extend_from_slice(if random(5) == 0 { b"\r\n" } else { b"\n" });
            }
            match round {
                // A last line without a newline, ending in `\r`.
                0 => bytes.extend_from_slice(b"{\"id\": -1}\r"),
                1 => bytes.extend_from_slice(b"{\"id\": -1}"),
                // A line that is not UTF-8 somewhere.
                _ => {
                    let at = random(bytes.len() as u64) as usize;
                    bytes.insert(at, 0xff);
                }
            }
            let (expected, bad) = ids_line_by_line(&bytes);
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("random.json");
            std::fs::write(&path, &bytes).unwrap();
            let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, true)]));
            let decoding = JsonDecoding {
                ignore_parse_errors: true,
                ..Default::default()
            };
            for batch_size in [1, 7, 1000] {
                let reader =
                    JsonLinesReader::open(&path, schema.clone(), decoding, batch_size).unwrap();
                let mut ids = Vec::new();
                let mut error = None;
                for batch in reader {
                    match batch {
                        Ok(batch) => {
                            ids.extend(batch.column(0).as_primitive::<Int64Type>().iter().flatten())
                        }
                        Err(e) => {
                            error = Some(e);
                            break;
                        }
                    }
                }
                assert_eq!(ids, expected, "round {round}, batches of {batch_size}");
                assert_eq!(error.is_some(), bad, "round {round}: {error:?}");
            }
        }
    }
}
