-- sql_throughput (a), as crates/rivulet-bench/benches/sql_throughput/jobs.rs
-- writes it: datagen -> projection and filter (about 50% pass) -> blackhole.
CREATE TABLE src (id BIGINT, price BIGINT, bidder BIGINT) WITH (
  'connector' = 'datagen', 'number-of-rows' = '${rows}', 'rows-per-second' = '1000000000000',
  'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '${rows}',
  'fields.price.min' = '1', 'fields.price.max' = '1000',
  'fields.bidder.min' = '1', 'fields.bidder.max' = '100000');
CREATE TABLE `out` (id BIGINT, bidder BIGINT, cents BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO `out` SELECT id, bidder, price * 100 FROM src WHERE price > 500;
