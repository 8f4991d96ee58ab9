-- FIRST_VALUE and LAST_VALUE per auction and 10-second window: the first
-- and last non-NULL price to arrive.
CREATE TABLE bid (
  auction BIGINT, price BIGINT, ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '1' SECOND
) WITH ('connector' = 'filesystem', 'path' = '${input}', 'format' = 'csv');
CREATE TABLE out (auction BIGINT, window_start TIMESTAMP(3), first_price BIGINT, last_price BIGINT)
WITH ('connector' = 'filesystem', 'path' = '${output}', 'format' = 'csv');
INSERT INTO out
SELECT auction, window_start, FIRST_VALUE(price), LAST_VALUE(price)
FROM TABLE(TUMBLE(TABLE bid, DESCRIPTOR(ts), INTERVAL '10' SECOND))
GROUP BY auction, window_start, window_end;
