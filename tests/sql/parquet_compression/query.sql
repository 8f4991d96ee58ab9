-- Flink's `parquet.compression` picks the codec of the part files (any
-- case); the rows read back are the same as with the default, SNAPPY.
CREATE TABLE orders (
  id BIGINT, customer ROW<name STRING, tier INT>, amount DECIMAL(8, 2),
  items ARRAY<STRING>, placed TIMESTAMP(3), tags MAP<STRING, STRING>
) WITH ('connector' = 'filesystem', 'path' = '${input}', 'format' = 'json');
CREATE TABLE out (id BIGINT, name STRING, tier INT, amount DECIMAL(8, 2), items ARRAY<STRING>, placed TIMESTAMP(3))
WITH ('connector' = 'filesystem', 'path' = '${output}', 'format' = 'parquet',
      'parquet.compression' = 'zstd');
INSERT INTO out SELECT id, customer.name, customer.tier, amount, items, placed FROM orders;
