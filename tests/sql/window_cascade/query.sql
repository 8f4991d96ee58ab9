-- A window aggregation over the rows of another: per 10-second TUMBLE
-- window, the bids of each auction, then (grouped by the window's bounds
-- under the names the inner query gave them) how many auctions had bids,
-- the most bids one had, and all bids. The window's bounds travel with the
-- inner rows as Flink's window properties, so the outer GROUP BY is a window
-- aggregation too, fired by the watermark: its result is final and
-- append-only.
CREATE TABLE bid (
  auction BIGINT, price BIGINT, ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '1' SECOND
) WITH ('connector' = 'filesystem', 'path' = '${input}', 'format' = 'csv');
CREATE TABLE out (starttime TIMESTAMP(3), endtime TIMESTAMP(3), auctions BIGINT, most BIGINT, bids BIGINT)
WITH ('connector' = 'filesystem', 'path' = '${output}', 'format' = 'csv');
INSERT INTO out
SELECT starttime, endtime, COUNT(*), MAX(num), SUM(num)
FROM (
  SELECT auction, COUNT(*) AS num, window_start AS starttime, window_end AS endtime
  FROM TABLE(TUMBLE(TABLE bid, DESCRIPTOR(ts), INTERVAL '10' SECOND))
  GROUP BY auction, window_start, window_end
) AS per_auction
GROUP BY starttime, endtime;
