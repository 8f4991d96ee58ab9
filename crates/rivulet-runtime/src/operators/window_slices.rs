//! HOP windows assembled from slices, as Flink's slicing window aggregate
//! assembles them.
//!
//! A row of a `HOP(slide, size)` window table function belongs to
//! `size / slide` windows. Copying it into each of them multiplies the rows
//! the aggregation reads, ships and folds (five times over for Nexmark q5).
//! Instead, each row goes into its one *slice* — the tumbling window of the
//! slide that holds its time — and the accumulators of a slice are kept per
//! key; a window is the merge of the `size / slide` slices it covers, made
//! when the watermark passes its end. A slice is dropped when its last
//! window has fired.
//!
//! The planner chooses it only for aggregate calls whose merge does not
//! depend on the order rows came in (COUNT, SUM, MIN, MAX, AVG), so the
//! windows' results are the ones copying rows gives.

use serde::{Deserialize, Serialize};

use super::aggregate_calls::BoundCalls;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HopSlices {
    pub slide_millis: i64,
    pub size_millis: i64,
}

impl HopSlices {
    /// Why these slices cannot assemble the windows, if they cannot.
    pub(super) fn check(self, calls: &BoundCalls) -> Result<(), String> {
        if self.slide_millis <= 0 || self.size_millis % self.slide_millis != 0 {
            return Err("HOP's size must be a positive whole multiple of its slide".into());
        }
        let ordered = calls
            .calls
            .iter()
            .find(|call| !call.function.merges_in_any_order());
        match ordered {
            Some(call) => Err(format!(
                "{:?} cannot be assembled from HOP slices",
                call.function
            )),
            None => Ok(()),
        }
    }

    /// The end of the last window that holds the slice starting at `start`:
    /// the slice is needed until the watermark passes it.
    pub(super) fn last_window_end(self, start: i64) -> i64 {
        start + self.size_millis
    }

    /// The `(start, end)` of every window that holds the slice starting at
    /// `slice_start`, earliest end first.
    pub(super) fn windows_of_slice(self, slice_start: i64) -> impl Iterator<Item = (i64, i64)> {
        let first_end = slice_start + self.slide_millis;
        (0..self.size_millis / self.slide_millis).map(move |i| {
            let end = first_end + i * self.slide_millis;
            (end - self.size_millis, end)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slice_is_in_the_windows_that_cover_it() {
        let hop = HopSlices {
            slide_millis: 2,
            size_millis: 6,
        };
        let windows: Vec<_> = hop.windows_of_slice(10).collect();
        assert_eq!(windows, [(6, 12), (8, 14), (10, 16)]);
        assert_eq!(hop.last_window_end(10), 16);
    }
}
