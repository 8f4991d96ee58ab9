-- SESSION windows with a 3-second gap per bidder: sessions that overlap
-- merge (7 s bridges into the session 9 s opened), and each fires once
-- when the watermark passes its end (the end of input fires them all).
CREATE TABLE bid (
  bidder BIGINT, price BIGINT, ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '1' SECOND
) WITH ('connector' = 'filesystem', 'path' = '${input}', 'format' = 'csv');
CREATE TABLE out (bidder BIGINT, window_start TIMESTAMP(3), window_end TIMESTAMP(3),
  bids BIGINT, total BIGINT)
WITH ('connector' = 'filesystem', 'path' = '${output}', 'format' = 'csv');
INSERT INTO out
SELECT bidder, window_start, window_end, COUNT(*), SUM(price)
FROM TABLE(SESSION(TABLE bid PARTITION BY bidder, DESCRIPTOR(ts), INTERVAL '3' SECOND))
GROUP BY bidder, window_start, window_end;
