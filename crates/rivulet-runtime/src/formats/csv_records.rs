//! Splitting a csv file into records, in the dialect Flink's csv format
//! reads: `"` quoting with doubled quotes inside, `\n`, `\r\n` or `\r`
//! ending a record, blank lines skipped, and with comments on, lines
//! starting with `#` skipped.
//!
//! Most lines of most files hold no quote: such a line is split on the
//! delimiter with `memchr`, in place, with no copy. Every other record (a
//! quote, a lone `\r`, a comment) is read by `csv_core`, the state machine
//! of the `csv` crate, from the start of that record. Both end a record at
//! the same byte, so they can take turns record by record.

use std::fs::File;
use std::io::Read;
use std::ops::Range;
use std::path::Path;

use csv_core::ReadRecordResult;

use super::swar;

/// How much is read from the file at a time: small enough that a block is
/// still in the L2 cache when its records are parsed.
const READ_SIZE: usize = 1 << 18;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// A record that could not be read, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordError {
    pub line: u64,
    pub message: String,
    /// Whether reading can go on after it (a bad record, not a bad file).
    pub skippable: bool,
}

/// One record: its fields' texts and the line it starts on (from 1).
pub struct Record<'a> {
    text: &'a str,
    fields: &'a [Range<usize>],
    pub line: u64,
}

impl<'a> Record<'a> {
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The text of field `index`, if the record has it.
    pub fn get(&self, index: usize) -> Option<&'a str> {
        // Fields end at the delimiter, an ASCII byte: a char boundary.
        self.text.get(self.fields.get(index)?.clone())
    }
}

pub struct CsvRecords {
    file: File,
    /// Bytes read from the file; `buffer[next..]` is not yet read into records.
    buffer: Vec<u8>,
    next: usize,
    end_of_file: bool,
    delimiter: u8,
    comments: bool,
    core: csv_core::Reader,
    /// Newlines in the file before `buffer[next]`.
    newlines: u64,
    /// Fields of the last record, as ranges of its text.
    fields: Vec<Range<usize>>,
    /// `csv_core`'s output for the last record it read: the fields' texts
    /// one after the other, and where each ends.
    decoded: Vec<u8>,
    ends: Vec<usize>,
}

impl CsvRecords {
    pub fn open(path: &Path, delimiter: u8, comments: bool) -> Result<Self, String> {
        let file = File::open(path).map_err(|e| e.to_string())?;
        let core = csv_core::ReaderBuilder::new()
            .delimiter(delimiter)
            .comment(comments.then_some(b'#'))
            .build();
        let mut records = CsvRecords {
            file,
            buffer: Vec::new(),
            next: 0,
            end_of_file: false,
            delimiter,
            comments,
            core,
            newlines: 0,
            fields: Vec::new(),
            decoded: vec![0; 1024],
            ends: vec![0; 64],
        };
        records.fill().map_err(|e| e.message)?;
        if records.buffer.starts_with(UTF8_BOM) {
            records.next = UTF8_BOM.len();
        }
        Ok(records)
    }

    fn io_error(&self, error: std::io::Error) -> RecordError {
        RecordError {
            line: self.newlines + 1,
            message: error.to_string(),
            skippable: false,
        }
    }

    /// Reads another block after what the buffer holds, first dropping the
    /// bytes already read into records.
    fn fill(&mut self) -> Result<(), RecordError> {
        self.buffer.drain(..self.next);
        self.next = 0;
        // Straight into the spare capacity: no zeroing.
        self.buffer.reserve(READ_SIZE);
        let read = (&mut self.file)
            .take(READ_SIZE as u64)
            .read_to_end(&mut self.buffer);
        if read.map_err(|e| self.io_error(e))? == 0 {
            self.end_of_file = true;
        }
        Ok(())
    }

    /// Where the line at `next` ends: its `\n`, or the end of the file for a
    /// last line without one; `None` when nothing is left.
    fn line_end(&mut self) -> Result<Option<usize>, RecordError> {
        let mut searched = 0;
        loop {
            let unread = &self.buffer[self.next..];
            if let Some(at) = memchr::memchr(b'\n', &unread[searched..]) {
                return Ok(Some(self.next + searched + at));
            }
            if self.end_of_file {
                return Ok((!unread.is_empty()).then_some(self.buffer.len()));
            }
            searched = unread.len();
            self.fill()?;
        }
    }

    /// The next record; `None` at the end of the file.
    pub fn next_record(&mut self) -> Result<Option<Record<'_>>, RecordError> {
        loop {
            let Some(end) = self.line_end()? else {
                return Ok(None);
            };
            let line = &self.buffer[self.next..end];
            let content = line.strip_suffix(b"\r").unwrap_or(line);
            if content.is_empty() {
                // A blank line, skipped as `csv_core` skips it.
                self.consume_line(end);
                continue;
            }
            let needs_core = memchr::memchr2(b'"', b'\r', content).is_some()
                || (self.comments && content[0] == b'#');
            if needs_core {
                return self.read_with_core();
            }
            let text = self.next..self.next + content.len();
            split_fields(content, self.delimiter, &mut self.fields);
            let line_number = self.newlines + 1;
            self.consume_line(end);
            return self.checked(&self.buffer[text], line_number).map(Some);
        }
    }

    /// Moves past the line ending at `end` and its `\n`, if it has one.
    fn consume_line(&mut self, end: usize) {
        if end < self.buffer.len() {
            self.newlines += 1;
            self.next = end + 1;
        } else {
            self.next = end;
        }
    }

    /// Reads the record at `next` with `csv_core`, across blocks and lines.
    fn read_with_core(&mut self) -> Result<Option<Record<'_>>, RecordError> {
        let line_number = self.newlines + 1;
        let (mut written, mut ended) = (0, 0);
        loop {
            let input = &self.buffer[self.next..];
            let (result, read, out, ends) =
                self.core
                    .read_record(input, &mut self.decoded[written..], &mut self.ends[ended..]);
            let consumed = &input[..read];
            self.newlines += memchr::memchr_iter(b'\n', consumed).count() as u64;
            self.next += read;
            written += out;
            ended += ends;
            match result {
                ReadRecordResult::InputEmpty if !self.end_of_file => self.fill()?,
                // At the end of the file an empty input tells it so.
                ReadRecordResult::InputEmpty => {}
                ReadRecordResult::OutputFull => {
                    let longer = self.decoded.len() * 2;
                    self.decoded.resize(longer, 0);
                }
                ReadRecordResult::OutputEndsFull => {
                    let longer = self.ends.len() * 2;
                    self.ends.resize(longer, 0);
                }
                ReadRecordResult::Record => break,
                ReadRecordResult::End => return Ok(None),
            }
        }
        self.fields.clear();
        let mut start = 0;
        for &end in &self.ends[..ended] {
            self.fields.push(start..end);
            start = end;
        }
        self.checked(&self.decoded[..written], line_number)
            .map(Some)
    }

    /// The record of the fields just split from `bytes`, if it is UTF-8.
    fn checked<'s>(&'s self, bytes: &'s [u8], line: u64) -> Result<Record<'s>, RecordError> {
        let text = std::str::from_utf8(bytes).map_err(|_| RecordError {
            line,
            message: "stream did not contain valid UTF-8".into(),
            skippable: true,
        })?;
        Ok(Record {
            text,
            fields: &self.fields,
            line,
        })
    }
}

/// The fields of an unquoted line, split on `delimiter` a word at a time
/// (fields are short: a vector search per field would cost more).
fn split_fields(line: &[u8], delimiter: u8, fields: &mut Vec<Range<usize>>) {
    fields.clear();
    let pattern = swar::broadcast(delimiter);
    let mut start = 0;
    let mut word_start = 0;
    while let Some(word) = swar::word_at(&line[word_start..]) {
        let mut hits = swar::equal_bytes(word, pattern);
        while let Some(offset) = swar::first_flagged(hits) {
            let at = word_start + offset;
            fields.push(start..at);
            start = at + 1;
            hits &= hits - 1;
        }
        word_start += 8;
    }
    for (offset, &byte) in line[word_start..].iter().enumerate() {
        if byte == delimiter {
            let at = word_start + offset;
            fields.push(start..at);
            start = at + 1;
        }
    }
    fields.push(start..line.len());
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every record of `text` as the fast path and `csv_core` split it,
    /// with its line.
    fn records(text: &[u8], comments: bool) -> Vec<(u64, Vec<String>)> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rows.csv");
        std::fs::write(&path, text).unwrap();
        let mut records = CsvRecords::open(&path, b',', comments).unwrap();
        let mut all = Vec::new();
        while let Some(record) = records.next_record().unwrap() {
            let fields = (0..record.len())
                .map(|i| record.get(i).unwrap().to_string())
                .collect();
            all.push((record.line, fields));
        }
        all
    }

    /// What the `csv` crate reads from `text`, as Rivulet read csv before.
    fn csv_crate(text: &[u8], comments: bool) -> Vec<(u64, Vec<String>)> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .comment(comments.then_some(b'#'))
            .from_reader(text);
        reader
            .records()
            .map(|record| {
                let record = record.unwrap();
                let line = record.position().unwrap().line();
                (line, record.iter().map(str::to_string).collect())
            })
            .collect()
    }

    #[test]
    fn records_split_as_the_csv_crate_splits_them() {
        let texts: [&[u8]; 10] = [
            b"12345,abcdefgh,,x,a longer field than a word,9\n",
            b",,,,,,,,,,,,,,,,,\nlast,one",
            b"1,a,x\n2,b,y\n",
            b"1,a\r\n\r\n2,\"b,\"\"c\"\"\"\n3,last",
            b"\xEF\xBB\xBF1,bom\n",
            b"1,\"two\nlines\",x\n2,y\n",
            b"a\rb\nc\n",
            b"\n\n ,\n,,\n",
            b"#comment,with,commas\n1,a\n",
            b"x,\"quoted\" after\n",
        ];
        for text in texts {
            for comments in [false, true] {
                let ours: Vec<Vec<String>> = records(text, comments)
                    .into_iter()
                    .map(|(_, f)| f)
                    .collect();
                let theirs: Vec<Vec<String>> = csv_crate(text, comments)
                    .into_iter()
                    .map(|(_, f)| f)
                    .collect();
                assert_eq!(ours, theirs, "{:?}", String::from_utf8_lossy(text));
            }
        }
    }

    #[test]
    fn records_carry_the_line_they_start_on() {
        let text = b"1,a\n\n2,\"b\nc\"\n3,d\n";
        let lines: Vec<u64> = records(text, false).iter().map(|r| r.0).collect();
        assert_eq!(lines, [1, 3, 5]);
    }

    #[test]
    fn records_across_read_blocks_all_arrive_in_order() {
        let text: String = (0..40_000).map(|i| format!("{i},\"q{i}\",{i}\n")).collect();
        assert!(text.len() > 2 * READ_SIZE);
        let ids: Vec<usize> = records(text.as_bytes(), false)
            .iter()
            .map(|(_, fields)| fields[0].parse().unwrap())
            .collect();
        assert_eq!(ids, (0..40_000).collect::<Vec<_>>());
    }

    #[test]
    fn a_record_that_is_not_utf8_is_an_error_reading_can_go_past() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rows.csv");
        std::fs::write(&path, b"1,a\n2,\xff\n3,c\n").unwrap();
        let mut records = CsvRecords::open(&path, b',', false).unwrap();
        assert_eq!(records.next_record().unwrap().unwrap().line, 1);
        let error = records.next_record().err().unwrap();
        assert_eq!((error.line, error.skippable), (2, true));
        assert_eq!(records.next_record().unwrap().unwrap().get(1), Some("c"));
    }
}
