//! The benchmark's input files, generated once per row count into a cache
//! directory and reused: a csv file of bids (a seeded RNG makes every
//! generation of the same row count byte-identical), and the JSON-lines
//! file of Nexmark events that the Nexmark benchmark also reads
//! ([`rivulet_bench::nexmark_events_file`]): the same events, in the same
//! layout, as the file Flink's figure for case (c) comes from.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

const SEED: u64 = 0x0052_4956_554c_4554; // "RIVULET"

/// Where generated inputs and job outputs live.
pub fn cache_dir() -> PathBuf {
    rivulet_bench::data_dir(env!("CARGO_TARGET_TMPDIR"))
}

/// Random text drawn from one pool, so generating gigabytes stays fast.
struct Text {
    pool: Vec<u8>,
}

impl Text {
    fn new(rng: &mut SmallRng) -> Self {
        let pool = (0..1 << 16)
            .map(|_| b'a' + rng.random_range(0..26u8))
            .collect();
        Text { pool }
    }

    fn take(&self, rng: &mut SmallRng, length: usize) -> &str {
        let start = rng.random_range(0..self.pool.len() - length);
        // The pool is ASCII letters only.
        std::str::from_utf8(&self.pool[start..start + length]).unwrap()
    }

    /// Text of a random length in `lengths`.
    fn take_some(&self, rng: &mut SmallRng, lengths: std::ops::Range<usize>) -> &str {
        let length = rng.random_range(lengths);
        self.take(rng, length)
    }
}

/// `2024-06-01 HH:mm:ss.SSS`, `millis` after midnight (under a day).
fn timestamp(millis: u64) -> String {
    let (seconds, millis) = (millis / 1000, millis % 1000);
    format!(
        "2024-06-01 {:02}:{:02}:{:02}.{millis:03}",
        seconds / 3600 % 24,
        seconds / 60 % 60,
        seconds % 60
    )
}

const CHANNELS: [&str; 4] = ["Google", "Facebook", "Baidu", "Apple"];

struct Bid {
    auction: u64,
    bidder: u64,
    price: u64,
    channel: &'static str,
    url: String,
    date_time: String,
}

fn bid(rng: &mut SmallRng, text: &Text, row: u64) -> Bid {
    Bid {
        auction: 1000 + rng.random_range(0..row / 50 * 3 + 3),
        bidder: 1000 + rng.random_range(0..row / 50 + 1),
        price: rng.random_range(1..=100_000),
        channel: CHANNELS[rng.random_range(0..CHANNELS.len())],
        url: format!(
            "https://www.nexmark.com/{}/{}/item.htm?query=1&channel_id={}",
            text.take(rng, 4),
            text.take(rng, 5),
            rng.random_range(0..1 << 20)
        ),
        date_time: timestamp(row),
    }
}

/// Writes `path` by `write` unless it already exists complete (written to a
/// temporary name, renamed at the end, so an interrupted run is redone).
fn generate(path: &Path, write: impl FnOnce(&mut BufWriter<File>)) -> PathBuf {
    if path.exists() {
        return path.to_path_buf();
    }
    let started = std::time::Instant::now();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let partial = path.with_extension("partial");
    let mut out = BufWriter::with_capacity(1 << 20, File::create(&partial).unwrap());
    write(&mut out);
    out.flush().unwrap();
    drop(out);
    std::fs::rename(&partial, path).unwrap();
    let size = std::fs::metadata(path).unwrap().len();
    eprintln!(
        "generated {} ({:.2} GB) in {:.1} s",
        path.display(),
        size as f64 / 1e9,
        started.elapsed().as_secs_f64()
    );
    path.to_path_buf()
}

/// `rows` bids as csv: auction, bidder, price, channel, url, dateTime, extra.
pub fn bids_csv(rows: u64) -> PathBuf {
    let path = cache_dir().join(format!("bids-{rows}.csv"));
    generate(&path, |out| {
        let mut rng = SmallRng::seed_from_u64(SEED);
        let text = Text::new(&mut rng);
        for row in 0..rows {
            let b = bid(&mut rng, &text, row);
            let extra = text.take_some(&mut rng, 10..30);
            writeln!(
                out,
                "{},{},{},{},{},{},{extra}",
                b.auction, b.bidder, b.price, b.channel, b.url, b.date_time
            )
            .unwrap();
        }
    })
}

/// `rows` Nexmark events as JSON lines.
pub fn nexmark_json(rows: u64) -> PathBuf {
    rivulet_bench::nexmark_events_file(&cache_dir(), rows)
}
