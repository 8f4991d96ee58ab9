-- AVG and aggregates with FILTER in a 10-second TUMBLE window per auction.
CREATE TABLE bid (
  auction BIGINT, price BIGINT, ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '1' SECOND
) WITH ('connector' = 'filesystem', 'path' = '${input}', 'format' = 'csv');
CREATE TABLE out (auction BIGINT, window_end TIMESTAMP(3), average DOUBLE,
  expensive BIGINT, cheap_total BIGINT)
WITH ('connector' = 'filesystem', 'path' = '${output}', 'format' = 'csv');
INSERT INTO out
SELECT auction, window_end, AVG(price),
  COUNT(*) FILTER (WHERE price > 60), SUM(price) FILTER (WHERE price <= 100)
FROM TABLE(TUMBLE(TABLE bid, DESCRIPTOR(ts), INTERVAL '10' SECOND))
GROUP BY auction, window_start, window_end;
