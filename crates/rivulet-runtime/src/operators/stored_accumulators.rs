//! Accumulators as keyed state stores them.
//!
//! An aggregation reads and writes the accumulators of a key (and window)
//! for every batch that touches it, and a HOP window reads those of each
//! slice it covers when it fires. Counts, sums, averages, distinct counts
//! and the MIN and MAX of numbers are numbers of fixed width: they are
//! written bare, in the order and widths the operator's calls fix, so a read
//! decodes them without allocating and a write overwrites them where they
//! lie. Accumulators that hold text or sets (MIN and MAX of strings,
//! LISTAGG, FIRST_VALUE of a string) are encoded with postcard.

use super::accumulators::Accumulator;
use crate::error::{Result, RuntimeError};

/// How an operator's accumulators are written to state.
#[derive(Debug, Clone)]
pub(super) enum AccumulatorCodec {
    /// Every accumulator is of fixed width: its numbers, little-endian, in
    /// the order and of the kinds of `template`.
    Fixed {
        template: Vec<Accumulator>,
        width: usize,
    },
    /// Some accumulator holds text or a set: postcard, `calls` of them.
    Encoded { calls: usize },
}

/// The bytes an accumulator of fixed width takes; `None` for the others.
fn fixed_width(accumulator: &Accumulator) -> Option<usize> {
    match accumulator {
        Accumulator::Count(_) | Accumulator::DistinctCount(_) => Some(8),
        Accumulator::Integer(_) | Accumulator::Double(_) => Some(9),
        Accumulator::IntegerAverage { .. }
        | Accumulator::DoubleAverage { .. }
        | Accumulator::IntegerSum { .. }
        | Accumulator::DoubleSum { .. } => Some(16),
        Accumulator::Distinct(_) | Accumulator::Text(_) | Accumulator::Deltas(_) => None,
    }
}

fn codec_error(message: impl std::fmt::Display) -> RuntimeError {
    RuntimeError::State(format!("stored accumulators: {message}"))
}

impl AccumulatorCodec {
    /// The codec of accumulators shaped as `template` (the calls' empty
    /// stored accumulators).
    pub fn for_template(template: Vec<Accumulator>) -> AccumulatorCodec {
        match template.iter().map(fixed_width).sum::<Option<usize>>() {
            Some(width) => AccumulatorCodec::Fixed { template, width },
            None => AccumulatorCodec::Encoded {
                calls: template.len(),
            },
        }
    }

    /// Appends the bytes of `accumulators` to `out`.
    pub fn encode(&self, accumulators: &[Accumulator], out: &mut Vec<u8>) -> Result<()> {
        let AccumulatorCodec::Fixed { template, .. } = self else {
            let written = std::mem::take(out);
            *out = postcard::to_extend(accumulators, written).map_err(codec_error)?;
            return Ok(());
        };
        let same_kinds = accumulators.len() == template.len()
            && accumulators
                .iter()
                .zip(template)
                .all(|(a, t)| std::mem::discriminant(a) == std::mem::discriminant(t));
        if !same_kinds {
            return Err(codec_error("accumulators of other calls"));
        }
        for accumulator in accumulators {
            match *accumulator {
                Accumulator::Count(n) | Accumulator::DistinctCount(n) => {
                    out.extend_from_slice(&n.to_le_bytes())
                }
                Accumulator::Integer(value) => write_optional(out, value.map(i64::to_le_bytes)),
                Accumulator::Double(value) => write_optional(out, value.map(f64::to_le_bytes)),
                Accumulator::IntegerAverage { sum, count }
                | Accumulator::IntegerSum { sum, count } => {
                    out.extend_from_slice(&sum.to_le_bytes());
                    out.extend_from_slice(&count.to_le_bytes());
                }
                Accumulator::DoubleAverage { sum, count }
                | Accumulator::DoubleSum { sum, count } => {
                    out.extend_from_slice(&sum.to_le_bytes());
                    out.extend_from_slice(&count.to_le_bytes());
                }
                Accumulator::Distinct(_) | Accumulator::Text(_) | Accumulator::Deltas(_) => {
                    return Err(codec_error("an accumulator of variable width"));
                }
            }
        }
        Ok(())
    }

    /// The accumulators `bytes` hold, into `out` (cleared first).
    pub fn decode(&self, bytes: &[u8], out: &mut Vec<Accumulator>) -> Result<()> {
        out.clear();
        let (template, width) = match self {
            AccumulatorCodec::Fixed { template, width } => (template, *width),
            AccumulatorCodec::Encoded { calls } => {
                *out = postcard::from_bytes(bytes).map_err(codec_error)?;
                if out.len() != *calls {
                    return Err(codec_error("accumulators of other calls"));
                }
                return Ok(());
            }
        };
        if bytes.len() != width {
            return Err(codec_error(format!(
                "{} bytes where {width} were written",
                bytes.len()
            )));
        }
        let mut rest = bytes;
        for kind in template {
            out.push(match kind {
                Accumulator::Count(_) => Accumulator::Count(take_i64(&mut rest)),
                Accumulator::DistinctCount(_) => Accumulator::DistinctCount(take_i64(&mut rest)),
                Accumulator::Integer(_) => {
                    Accumulator::Integer(take_optional(&mut rest).map(i64::from_le_bytes))
                }
                Accumulator::Double(_) => {
                    Accumulator::Double(take_optional(&mut rest).map(f64::from_le_bytes))
                }
                Accumulator::IntegerAverage { .. } => Accumulator::IntegerAverage {
                    sum: take_i64(&mut rest),
                    count: take_i64(&mut rest),
                },
                Accumulator::IntegerSum { .. } => Accumulator::IntegerSum {
                    sum: take_i64(&mut rest),
                    count: take_i64(&mut rest),
                },
                Accumulator::DoubleAverage { .. } => Accumulator::DoubleAverage {
                    sum: f64::from_le_bytes(take_8(&mut rest)),
                    count: take_i64(&mut rest),
                },
                Accumulator::DoubleSum { .. } => Accumulator::DoubleSum {
                    sum: f64::from_le_bytes(take_8(&mut rest)),
                    count: take_i64(&mut rest),
                },
                Accumulator::Distinct(_) | Accumulator::Text(_) | Accumulator::Deltas(_) => {
                    return Err(codec_error("an accumulator of variable width"));
                }
            });
        }
        Ok(())
    }
}

/// A NULL flag, then the value (zeros for NULL), so the width is fixed.
fn write_optional(out: &mut Vec<u8>, value: Option<[u8; 8]>) {
    out.push(u8::from(value.is_some()));
    out.extend_from_slice(&value.unwrap_or_default());
}

// The width was checked against the template before any of these, so
// each finds its bytes.
fn take_8(rest: &mut &[u8]) -> [u8; 8] {
    let (value, after) = rest.split_first_chunk::<8>().unwrap_or((&[0; 8], &[]));
    *rest = after;
    *value
}

fn take_i64(rest: &mut &[u8]) -> i64 {
    i64::from_le_bytes(take_8(rest))
}

fn take_optional(rest: &mut &[u8]) -> Option<[u8; 8]> {
    let (&flag, after) = rest.split_first().unwrap_or((&0, &[]));
    *rest = after;
    let value = take_8(rest);
    (flag != 0).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(codec: &AccumulatorCodec, accumulators: &[Accumulator]) -> Vec<Accumulator> {
        let mut bytes = Vec::new();
        codec.encode(accumulators, &mut bytes).unwrap();
        let mut decoded = vec![Accumulator::Count(99)];
        codec.decode(&bytes, &mut decoded).unwrap();
        decoded
    }

    #[test]
    fn numbers_are_written_bare_and_read_back() {
        let template = vec![
            Accumulator::Count(0),
            Accumulator::Integer(None),
            Accumulator::Double(None),
            Accumulator::IntegerAverage { sum: 0, count: 0 },
            Accumulator::DoubleAverage { sum: 0.0, count: 0 },
            Accumulator::DistinctCount(0),
            Accumulator::IntegerSum { sum: 0, count: 0 },
            Accumulator::DoubleSum { sum: 0.0, count: 0 },
        ];
        let codec = AccumulatorCodec::for_template(template.clone());
        assert!(matches!(codec, AccumulatorCodec::Fixed { width: 98, .. }));
        assert_eq!(round_trip(&codec, &template), template);
        let held = vec![
            Accumulator::Count(i64::MAX),
            Accumulator::Integer(Some(-7)),
            Accumulator::Double(Some(-0.0)),
            Accumulator::IntegerAverage { sum: -9, count: 2 },
            Accumulator::DoubleAverage {
                sum: f64::NAN,
                count: 1,
            },
            Accumulator::DistinctCount(3),
            Accumulator::IntegerSum {
                sum: i64::MIN,
                count: 4,
            },
            Accumulator::DoubleSum { sum: 2.5, count: 5 },
        ];
        let decoded = round_trip(&codec, &held);
        // NaN is not equal to itself: compare the bytes written again.
        let (mut again, mut first) = (Vec::new(), Vec::new());
        codec.encode(&decoded, &mut again).unwrap();
        codec.encode(&held, &mut first).unwrap();
        assert_eq!(again, first);
        assert_eq!(decoded[1], Accumulator::Integer(Some(-7)));
        assert!(
            matches!(decoded[2], Accumulator::Double(Some(z)) if z == 0.0 && z.is_sign_negative())
        );
    }

    #[test]
    fn text_goes_through_postcard_and_bad_bytes_are_errors() {
        let template = vec![Accumulator::Count(0), Accumulator::Text(None)];
        let codec = AccumulatorCodec::for_template(template);
        assert!(matches!(codec, AccumulatorCodec::Encoded { calls: 2 }));
        let one = postcard::to_stdvec(&vec![Accumulator::Count(1)]).unwrap();
        assert!(
            codec.decode(&one, &mut Vec::new()).is_err(),
            "one of two calls"
        );
        let held = vec![Accumulator::Count(2), Accumulator::Text(Some("zz".into()))];
        assert_eq!(round_trip(&codec, &held), held);

        let fixed = AccumulatorCodec::for_template(vec![Accumulator::Count(0)]);
        let mut out = Vec::new();
        assert!(fixed.decode(&[1, 2, 3], &mut out).is_err());
        assert!(
            fixed
                .encode(&[Accumulator::Text(None)], &mut Vec::new())
                .is_err()
        );
        assert!(
            fixed
                .encode(
                    &[Accumulator::Count(1), Accumulator::Count(2)],
                    &mut Vec::new()
                )
                .is_err()
        );
        // Of the same width, but another kind.
        assert!(
            fixed
                .encode(&[Accumulator::DistinctCount(1)], &mut Vec::new())
                .is_err()
        );
    }
}
