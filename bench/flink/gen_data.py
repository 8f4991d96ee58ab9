#!/usr/bin/env python3
"""Writes the inputs of Rivulet's sql_throughput bench for the Flink runs.

The same layout as crates/rivulet-bench/benches/sql_throughput/data.rs (same
columns, value ranges, text lengths and event mix), from Python's own seeded
RNG, so the values differ from the Rust generator's but not their shape:

  bids-N.csv      auction,bidder,price,channel,url,dateTime,extra (7 columns)
  nexmark-N.json  Flink Nexmark's JSON layout: event_type, then nested person,
                  auction and bid objects of which one is not null; of every
                  50 events 1 person, 3 auctions, 46 bids

usage: gen_data.py csv|json ROWS OUT
"""
import os
import random
import sys

SEED = 0x0052_4956_554C_4554  # "RIVULET"
CHANNELS = ("Google", "Facebook", "Baidu", "Apple")


def timestamp(millis):
    seconds, ms = divmod(millis, 1000)
    return "2024-06-01 %02d:%02d:%02d.%03d" % (seconds // 3600 % 24, seconds // 60 % 60, seconds % 60, ms)


def generate(kind, rows, out_path):
    rng = random.Random(SEED)
    rr = rng.randrange
    pool = "".join(chr(ord("a") + rr(26)) for _ in range(1 << 16))
    plen = len(pool)

    def take(n):
        s = rr(plen - n)
        return pool[s:s + n]

    def bid_fields(row):
        return (
            1000 + rr(row // 50 * 3 + 3),
            1000 + rr(row // 50 + 1),
            rr(1, 100_001),
            CHANNELS[rr(4)],
            "https://www.nexmark.com/%s/%s/item.htm?query=1&channel_id=%d" % (take(4), take(5), rr(1 << 20)),
            timestamp(row),
        )

    partial = out_path + ".partial"
    with open(partial, "w", buffering=1 << 20) as out:
        w = out.write
        if kind == "csv":
            for row in range(rows):
                a, b, p, c, u, t = bid_fields(row)
                w("%d,%d,%d,%s,%s,%s,%s\n" % (a, b, p, c, u, t, take(rr(10, 30))))
        else:
            for row in range(rows):
                m = row % 50
                if m == 0:
                    w('{"event_type":0,"person":{"id":%d,"name":"%s %s","emailAddress":"%s@%s.com",'
                      '"creditCard":"%04d %04d %04d %04d","city":"%s","state":"%s","dateTime":"%s",'
                      '"extra":"%s"},"auction":null,"bid":null}\n' % (
                          1000 + row // 50, take(6), take(8), take(7), take(6),
                          rr(10000), rr(10000), rr(10000), rr(10000),
                          take(9), take(2).upper(), timestamp(row), take(rr(100, 200))))
                elif m <= 3:
                    initial = rr(1, 10000)
                    w('{"event_type":1,"person":null,"auction":{"id":%d,"itemName":"%s","description":"%s",'
                      '"initialBid":%d,"reserve":%d,"dateTime":"%s","expires":"%s","seller":%d,'
                      '"category":%d,"extra":"%s"},"bid":null}\n' % (
                          1000 + row // 50 * 3 + m - 1, take(12), take(60), initial,
                          initial + rr(10000), timestamp(row), timestamp(row + rr(1000, 100_000)),
                          1000 + rr(row // 50 + 1), 10 + rr(5), take(rr(150, 250))))
                else:
                    a, b, p, c, u, t = bid_fields(row)
                    w('{"event_type":2,"person":null,"auction":null,"bid":{"auction":%d,"bidder":%d,'
                      '"price":%d,"channel":"%s","url":"%s","dateTime":"%s","extra":"%s"}}\n' % (
                          a, b, p, c, u, t, take(rr(60, 130))))
    os.rename(partial, out_path)


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in ("csv", "json"):
        sys.exit(__doc__)
    generate(sys.argv[1], int(sys.argv[2]), sys.argv[3])
