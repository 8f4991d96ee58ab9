//! The benchmark's input files, generated once per row count into a cache
//! directory and reused: a csv file of bids and a JSON-lines file of Nexmark
//! events in the layout Flink's Nexmark writes (`event_type`, then nested
//! `person`, `auction` and `bid` rows of which one is not null). A seeded
//! RNG makes every generation of the same row count byte-identical.

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

/// `rows` Nexmark events as JSON lines, 2% persons, 6% auctions and 92%
/// bids as Nexmark interleaves them (1, 3 and 46 of every 50).
pub fn nexmark_json(rows: u64) -> PathBuf {
    let path = cache_dir().join(format!("nexmark-{rows}.json"));
    generate(&path, |out| {
        let mut rng = SmallRng::seed_from_u64(SEED);
        let text = Text::new(&mut rng);
        for row in 0..rows {
            match row % 50 {
                0 => person(out, &mut rng, &text, row),
                1..=3 => auction(out, &mut rng, &text, row),
                _ => {
                    let b = bid(&mut rng, &text, row);
                    let extra = text.take_some(&mut rng, 60..130);
                    writeln!(
                        out,
                        r#"{{"event_type":2,"person":null,"auction":null,"bid":{{"auction":{},"bidder":{},"price":{},"channel":"{}","url":"{}","dateTime":"{}","extra":"{extra}"}}}}"#,
                        b.auction, b.bidder, b.price, b.channel, b.url, b.date_time
                    )
                    .unwrap();
                }
            }
        }
    })
}

fn person(out: &mut impl Write, rng: &mut SmallRng, text: &Text, row: u64) {
    let name = format!("{} {}", text.take(rng, 6), text.take(rng, 8));
    writeln!(
        out,
        r#"{{"event_type":0,"person":{{"id":{},"name":"{name}","emailAddress":"{}@{}.com","creditCard":"{:04} {:04} {:04} {:04}","city":"{}","state":"{}","dateTime":"{}","extra":"{}"}},"auction":null,"bid":null}}"#,
        1000 + row / 50,
        text.take(rng, 7),
        text.take(rng, 6),
        rng.random_range(0..10_000),
        rng.random_range(0..10_000),
        rng.random_range(0..10_000),
        rng.random_range(0..10_000),
        text.take(rng, 9),
        text.take(rng, 2).to_ascii_uppercase(),
        timestamp(row),
        text.take_some(rng, 100..200),
    )
    .unwrap();
}

fn auction(out: &mut impl Write, rng: &mut SmallRng, text: &Text, row: u64) {
    let initial = rng.random_range(1..10_000);
    writeln!(
        out,
        r#"{{"event_type":1,"person":null,"auction":{{"id":{},"itemName":"{}","description":"{}","initialBid":{initial},"reserve":{},"dateTime":"{}","expires":"{}","seller":{},"category":{},"extra":"{}"}},"bid":null}}"#,
        1000 + row / 50 * 3 + row % 50 - 1,
        text.take(rng, 12),
        text.take(rng, 60),
        initial + rng.random_range(0..10_000),
        timestamp(row),
        timestamp(row + rng.random_range(1000..100_000)),
        1000 + rng.random_range(0..row / 50 + 1),
        10 + rng.random_range(0..5),
        text.take_some(rng, 150..250),
    )
    .unwrap();
}
