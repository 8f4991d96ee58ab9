-- COUNT(DISTINCT …), with and without FILTER, per 20-second window.
CREATE TABLE bid (
  auction BIGINT, price BIGINT, ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '1' SECOND
) WITH ('connector' = 'filesystem', 'path' = '${input}', 'format' = 'csv');
CREATE TABLE out (window_end TIMESTAMP(3), bids BIGINT, auctions BIGINT, priced_auctions BIGINT)
WITH ('connector' = 'filesystem', 'path' = '${output}', 'format' = 'csv');
INSERT INTO out
SELECT window_end, COUNT(*), COUNT(DISTINCT auction),
  COUNT(DISTINCT auction) FILTER (WHERE price IS NOT NULL)
FROM TABLE(TUMBLE(TABLE bid, DESCRIPTOR(ts), INTERVAL '20' SECOND))
GROUP BY window_start, window_end;
