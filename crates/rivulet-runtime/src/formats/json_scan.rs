//! A validating scanner over one JSON value (a line, already UTF-8), for
//! the fast JSON-lines decoder ([`super::json_columns`]).
//!
//! It accepts only what `serde_json` accepts, and answers [`Unsure`] for
//! everything else, including valid JSON it does not care to handle (a
//! surrogate `\u` escape, nesting deeper than [`MAX_DEPTH`]). `Unsure` is
//! not an error: it hands the line to the full decoder, which decides and
//! names the error. So the scanner only has to be right when it accepts.

/// The scanner met something it leaves to the full decoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unsure;

pub type Scan<T> = Result<T, Unsure>;

use super::{string_stops, swar};

/// Deeper nesting than this is left to the full decoder (`serde_json`
/// itself stops at 128).
const MAX_DEPTH: usize = 100;

/// A string's content between its quotes, as it is in the line.
#[derive(Debug, Clone, Copy)]
pub struct JsonStr<'a> {
    /// A slice of the (already UTF-8) line, so columns take it as text
    /// without checking it again.
    pub raw: &'a str,
    /// Whether `raw` holds `\` escapes (already checked to be valid).
    pub escaped: bool,
}

impl JsonStr<'_> {
    /// Appends the string's text, escapes decoded, to `out`.
    pub fn append_to(&self, out: &mut String) -> Scan<()> {
        if !self.escaped {
            out.push_str(self.raw);
            return Ok(());
        }
        let mut rest = self.raw;
        while let Some(at) = memchr::memchr(b'\\', rest.as_bytes()) {
            out.push_str(rest.get(..at).ok_or(Unsure)?);
            let escape = rest.as_bytes().get(at + 1).ok_or(Unsure)?;
            let mut consumed = 2;
            match escape {
                b'"' => out.push('"'),
                b'\\' => out.push('\\'),
                b'/' => out.push('/'),
                b'b' => out.push('\u{8}'),
                b'f' => out.push('\u{c}'),
                b'n' => out.push('\n'),
                b'r' => out.push('\r'),
                b't' => out.push('\t'),
                b'u' => {
                    let code = hex4(rest.as_bytes().get(at + 2..at + 6).ok_or(Unsure)?)?;
                    out.push(char::from_u32(code).ok_or(Unsure)?);
                    consumed = 6;
                }
                _ => return Err(Unsure),
            }
            rest = rest.get(at + consumed..).ok_or(Unsure)?;
        }
        out.push_str(rest);
        Ok(())
    }
}

/// The value of four hex digits; surrogates are [`Unsure`] (a pair needs
/// combining, and a lone one `serde_json` rejects).
fn hex4(digits: &[u8]) -> Scan<u32> {
    let mut code = 0;
    for &d in digits {
        let value = (d as char).to_digit(16).ok_or(Unsure)?;
        code = code * 16 + value;
    }
    if (0xD800..=0xDFFF).contains(&code) {
        return Err(Unsure);
    }
    Ok(code)
}

/// A number's text, checked against JSON's grammar.
#[derive(Debug, Clone, Copy)]
pub struct JsonNumber<'a> {
    pub text: &'a [u8],
    /// No fraction and no exponent.
    pub integer: bool,
}

impl JsonNumber<'_> {
    /// The integer it is, if it has no fraction or exponent and fits.
    pub fn to_i64(self) -> Option<i64> {
        if !self.integer {
            return None;
        }
        let (negative, digits) = match self.text.split_first() {
            Some((b'-', digits)) => (true, digits),
            _ => (false, self.text),
        };
        let mut value: i64 = 0;
        for &d in digits {
            let digit = i64::from(d - b'0');
            value = value.checked_mul(10)?;
            value = if negative {
                value.checked_sub(digit)?
            } else {
                value.checked_add(digit)?
            };
        }
        Some(value)
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII digits, signs, '.', 'e' and 'E' were accepted.
        std::str::from_utf8(self.text).unwrap_or_default()
    }
}

/// Whether `bytes` starts with `prefix`: compared a word at a time in
/// place, as the keys and literals compared are short and a call to
/// `memcmp` costs more than the comparison.
fn starts_with(bytes: &[u8], prefix: &[u8]) -> bool {
    let n = prefix.len();
    let Some(bytes) = bytes.get(..n) else {
        return false;
    };
    let word = |text: &[u8], at: usize| text.get(at..).and_then(swar::word_at);
    let half = |text: &[u8], at: usize| {
        text.get(at..at + 4)
            .and_then(|t| t.first_chunk::<4>().copied())
            .map(u32::from_le_bytes)
    };
    match n {
        0..4 => bytes == prefix,
        4..8 => half(bytes, 0) == half(prefix, 0) && half(bytes, n - 4) == half(prefix, n - 4),
        _ => {
            let mut at = 0;
            while at + 8 < n {
                if word(bytes, at) != word(prefix, at) {
                    return false;
                }
                at += 8;
            }
            // The last word overlaps the one before it.
            word(bytes, n - 8) == word(prefix, n - 8)
        }
    }
}

/// A text the scanner looks for often (a key where the last line had it),
/// also kept as two little-endian words and their masks when it is at most
/// sixteen bytes long.
#[derive(Debug, Clone)]
pub struct ShortText {
    text: Box<[u8]>,
    words: Option<([u64; 2], [u64; 2])>,
}

impl ShortText {
    pub fn new(text: &[u8]) -> ShortText {
        let words = (text.len() <= 16).then(|| {
            let mut padded = [0u8; 16];
            let mut masks = [0u8; 16];
            padded[..text.len()].copy_from_slice(text);
            masks[..text.len()].fill(0xff);
            let word = |bytes: &[u8; 16], at: usize| swar::word_at(&bytes[at..]).unwrap_or(0);
            (
                [word(&padded, 0), word(&padded, 8)],
                [word(&masks, 0), word(&masks, 8)],
            )
        });
        ShortText {
            text: text.into(),
            words,
        }
    }
}

pub struct Scanner<'a> {
    /// The line, whose slices strings are.
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Scanner<'a> {
    pub fn new(text: &'a str) -> Self {
        Scanner {
            text,
            bytes: text.as_bytes(),
            at: 0,
        }
    }

    /// Where the plain run of a string starting at `self.at` ends: the
    /// offset of the next quote, escape or control character.
    fn plain_run(&self) -> Scan<usize> {
        string_stops::first_stop(&self.bytes[self.at..]).ok_or(Unsure)
    }

    /// Consumes `text` if it comes next (after whitespace), byte for byte:
    /// compared as two masked words where sixteen bytes are left.
    #[inline]
    pub fn eat_short(&mut self, text: &ShortText) -> bool {
        self.skip_whitespace();
        let rest = &self.bytes[self.at..];
        let next = match (rest.first_chunk::<16>(), text.words) {
            (Some(chunk), Some((words, masks))) => {
                let word = |at: usize| swar::word_at(&chunk[at..]).unwrap_or(0);
                ((word(0) ^ words[0]) & masks[0]) | ((word(8) ^ words[1]) & masks[1]) == 0
            }
            _ => starts_with(rest, &text.text),
        };
        if next {
            self.at += text.text.len();
        }
        next
    }

    /// Where the scanner is in the line.
    pub fn position(&self) -> usize {
        self.at
    }

    /// The bytes from `start` (an earlier [`Self::position`]) to here.
    pub fn bytes_since(&self, start: usize) -> &'a [u8] {
        self.bytes.get(start..self.at).unwrap_or_default()
    }

    /// Skips spaces, tabs and carriage returns, not line feeds: a line's
    /// object ends within its line, so a scanner over many lines stops at
    /// the end of the first (see `FastJsonDecoder::decode_first_line`).
    #[inline]
    pub fn skip_whitespace(&mut self) {
        // Between tokens there is usually none: one comparison says so.
        while let Some(&byte) = self.bytes.get(self.at) {
            if byte > b' ' || !matches!(byte, b' ' | b'\t' | b'\r') {
                return;
            }
            self.at += 1;
        }
    }

    /// The next byte that is not whitespace, not consumed.
    pub fn peek(&mut self) -> Option<u8> {
        self.skip_whitespace();
        self.bytes.get(self.at).copied()
    }

    /// Consumes `byte` if it comes next.
    pub fn eat(&mut self, byte: u8) -> bool {
        let next = self.peek() == Some(byte);
        if next {
            self.at += 1;
        }
        next
    }

    pub fn expect(&mut self, byte: u8) -> Scan<()> {
        if self.eat(byte) { Ok(()) } else { Err(Unsure) }
    }

    /// Whether nothing but whitespace is left.
    pub fn at_end(&mut self) -> bool {
        self.peek().is_none()
    }

    /// `null`, which must come next.
    pub fn expect_null(&mut self) -> Scan<()> {
        self.skip_whitespace();
        self.literal(b"null")
    }

    fn literal(&mut self, word: &[u8]) -> Scan<()> {
        if !starts_with(&self.bytes[self.at..], word) {
            return Err(Unsure);
        }
        self.at += word.len();
        Ok(())
    }

    /// `true` or `false`.
    pub fn boolean(&mut self) -> Scan<bool> {
        match self.peek() {
            Some(b't') => self.literal(b"true").map(|()| true),
            Some(b'f') => self.literal(b"false").map(|()| false),
            _ => Err(Unsure),
        }
    }

    /// A string; the scanner must be at its opening quote.
    pub fn string(&mut self) -> Scan<JsonStr<'a>> {
        self.expect(b'"')?;
        let start = self.at;
        let mut escaped = false;
        loop {
            self.at += self.plain_run()?;
            match self.bytes[self.at] {
                b'"' | b'\\' => {}
                // Raw control characters are not allowed inside strings.
                _ => return Err(Unsure),
            }
            if self.bytes[self.at] == b'"' {
                // Both ends are next to ASCII quotes, so on char boundaries.
                let raw = self.text.get(start..self.at).ok_or(Unsure)?;
                self.at += 1;
                return Ok(JsonStr { raw, escaped });
            }
            escaped = true;
            self.at += match self.bytes.get(self.at + 1) {
                Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => 2,
                Some(b'u') => {
                    hex4(self.bytes.get(self.at + 2..self.at + 6).ok_or(Unsure)?)?;
                    6
                }
                _ => return Err(Unsure),
            };
        }
    }

    /// An integer with no fraction or exponent that fits `i64`, read as it
    /// is scanned: what an integer column reads. Anything else is read as
    /// [`Self::number`] reads it, and is [`Unsure`] unless it is such an
    /// integer after all.
    pub fn integer(&mut self) -> Scan<i64> {
        match self.short_integer() {
            Some(value) => Ok(value),
            None => self.number()?.to_i64().ok_or(Unsure),
        }
    }

    /// An integer of at most 18 digits (so it cannot overflow), followed by
    /// neither a fraction nor an exponent; `None`, with nothing consumed,
    /// for anything else.
    fn short_integer(&mut self) -> Option<i64> {
        self.skip_whitespace();
        let bytes = self.bytes.get(self.at..)?;
        let negative = bytes.first() == Some(&b'-');
        let first = usize::from(negative);
        let (mut value, mut at) = match bytes.get(first..).and_then(swar::word_at) {
            // Up to eight digits read at once; more go on byte by byte.
            Some(word) => {
                let (digits, value) = swar::leading_digits(word);
                (value as i64, first + digits)
            }
            None => (0, first),
        };
        // Longer numbers, and those at the very end of the text, byte by byte.
        while let Some(&byte) = bytes.get(at) {
            let digit = byte.wrapping_sub(b'0');
            if digit > 9 {
                break;
            }
            if at - first == 18 {
                // A 19th digit might not fit.
                return None;
            }
            value = value * 10 + i64::from(digit);
            at += 1;
        }
        let digits = at - first;
        // No digits, a leading zero, a fraction or an exponent: the long way.
        if digits == 0 || (digits > 1 && bytes[first] == b'0') {
            return None;
        }
        if let Some(b'.' | b'e' | b'E') = bytes.get(at) {
            return None;
        }
        self.at += at;
        Some(if negative { -value } else { value })
    }

    fn digits(&mut self) -> usize {
        let start = self.at;
        while self.bytes.get(self.at).is_some_and(u8::is_ascii_digit) {
            self.at += 1;
        }
        self.at - start
    }

    /// A number: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
    pub fn number(&mut self) -> Scan<JsonNumber<'a>> {
        self.skip_whitespace();
        let start = self.at;
        if self.bytes.get(self.at) == Some(&b'-') {
            self.at += 1;
        }
        let first = self.at;
        match self.digits() {
            0 => return Err(Unsure),
            1 => {}
            _ if self.bytes[first] == b'0' => return Err(Unsure),
            _ => {}
        }
        let mut integer = true;
        if self.bytes.get(self.at) == Some(&b'.') {
            self.at += 1;
            integer = false;
            if self.digits() == 0 {
                return Err(Unsure);
            }
        }
        if let Some(b'e' | b'E') = self.bytes.get(self.at) {
            self.at += 1;
            integer = false;
            if let Some(b'+' | b'-') = self.bytes.get(self.at) {
                self.at += 1;
            }
            if self.digits() == 0 {
                return Err(Unsure);
            }
        }
        Ok(JsonNumber {
            text: &self.bytes[start..self.at],
            integer,
        })
    }

    /// Checks and passes over one value of any kind.
    pub fn skip_value(&mut self) -> Scan<()> {
        self.skip_nested(0)
    }

    fn skip_nested(&mut self, depth: usize) -> Scan<()> {
        if depth > MAX_DEPTH {
            return Err(Unsure);
        }
        match self.peek().ok_or(Unsure)? {
            b'"' => self.string().map(drop),
            b'{' => {
                self.at += 1;
                if self.eat(b'}') {
                    return Ok(());
                }
                loop {
                    if self.peek() != Some(b'"') {
                        return Err(Unsure);
                    }
                    self.string()?;
                    self.expect(b':')?;
                    self.skip_nested(depth + 1)?;
                    if !self.eat(b',') {
                        return self.expect(b'}');
                    }
                }
            }
            b'[' => {
                self.at += 1;
                if self.eat(b']') {
                    return Ok(());
                }
                loop {
                    self.skip_nested(depth + 1)?;
                    if !self.eat(b',') {
                        return self.expect(b']');
                    }
                }
            }
            b't' | b'f' => self.boolean().map(drop),
            b'n' => self.literal(b"null"),
            // Most numbers are integers, read by words; the rest the long way.
            _ => match self.short_integer() {
                Some(_) => Ok(()),
                None => self.number().map(drop),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether the scanner accepts `text` as one whole value.
    fn accepts(text: &str) -> bool {
        let mut scanner = Scanner::new(text);
        scanner.skip_value().is_ok() && scanner.at_end()
    }

    #[test]
    fn what_the_scanner_accepts_serde_json_accepts() {
        let cases = [
            r#"{"a": 1, "b": [true, false, null, -0, 0.5, 1e3, -2.5E-3], "c": {"d": "x\"\\\/\b\f\n\r\t\u00e9"}}"#,
            "  [ ] ",
            "{}",
            r#""tab	inside""#,
            r#""a long string, longer than the short scan, with a tab	inside""#,
            "\"a long string, longer than the short scan, with a newline\ninside\"",
            r#""\ud83d\ude00""#,
            "01",
            "1.",
            ".5",
            "+1",
            "-",
            "1e",
            "tru",
            "nul",
            r#"{"a" 1}"#,
            r#"{"a": 1,}"#,
            "[1,]",
            "[1 2]",
            r#"{"a": 1} x"#,
            r#""unterminated"#,
            r#""bad \x escape""#,
            r#""\u12g4""#,
            "{1: 2}",
            "NaN",
            "ü",
        ];
        for case in cases {
            if accepts(case) {
                assert!(
                    serde_json::from_str::<serde::de::IgnoredAny>(case).is_ok(),
                    "accepted what serde_json rejects: {case}"
                );
            }
        }
        // And it is not so careful as to be useless.
        assert!(accepts(cases[0]));
        assert!(accepts("-12.5e+7"));
    }

    #[test]
    fn strings_decode_their_escapes() {
        let mut scanner = Scanner::new(r#""a\"b\\c\/d\n\u00e9\u20ac""#);
        let string = scanner.string().unwrap();
        assert!(string.escaped);
        let mut out = String::new();
        string.append_to(&mut out).unwrap();
        assert_eq!(out, "a\"b\\c/d\né€");
    }

    #[test]
    fn integers_read_as_scanned_are_the_numbers_the_number_scanner_reads() {
        // Every length up to past 18 digits, signs, leading zeros, the
        // number at the end of the text or not, and what may follow it.
        // (json_columns' tests compare the columns with arrow-json's.)
        let mut texts = Vec::new();
        for digits in 0..=21 {
            let number: String = "9876543210123456789012".chars().take(digits).collect();
            for prefix in ["", "-", "0", "-0"] {
                for suffix in ["", ",", "}", ".5", "e3", "E-2", " ", "x", "]"] {
                    texts.push(format!("{prefix}{number}{suffix}"));
                    texts.push(format!("{prefix}{number}{suffix}        ,"));
                }
            }
        }
        texts.extend(
            [
                "9223372036854775807",
                "-9223372036854775808",
                "100000000",
                "99999999",
            ]
            .map(String::from),
        );
        for text in texts {
            let mut scanner = Scanner::new(&text);
            let ours = scanner.integer().ok();
            // What the general number scanner makes of it.
            let general = Scanner::new(&text)
                .number()
                .ok()
                .and_then(JsonNumber::to_i64);
            assert_eq!(ours, general, "{text}");
            if ours.is_some() {
                // It consumed the whole number and nothing after it.
                let mut general = Scanner::new(&text);
                general.number().unwrap();
                assert_eq!(scanner.at, general.at, "{text}");
            }
        }
    }

    #[test]
    fn integers_parse_to_the_edges_of_i64() {
        let parse = |text: &str| Scanner::new(text).number().unwrap().to_i64();
        assert_eq!(parse("9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse("-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse("9223372036854775808"), None);
        assert_eq!(parse("-0"), Some(0));
        assert_eq!(parse("1.0"), None);
        assert_eq!(parse("1e2"), None);
    }
}
