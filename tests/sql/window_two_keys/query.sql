-- A window aggregation grouped by two keys besides the window (a NULL key
-- part groups as any value does), with MIN and MAX of strings.
CREATE TABLE bid (
  auction BIGINT, channel STRING, price BIGINT, ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '1' SECOND
) WITH ('connector' = 'filesystem', 'path' = '${input}', 'format' = 'csv');
CREATE TABLE out (auction BIGINT, channel STRING, window_start TIMESTAMP(3),
  window_end TIMESTAMP(3), bids BIGINT, total BIGINT, first_second STRING, top_channel STRING)
WITH ('connector' = 'filesystem', 'path' = '${output}', 'format' = 'csv');
INSERT INTO out
SELECT auction, channel, window_start, window_end, COUNT(*), SUM(price),
  MIN(DATE_FORMAT(ts, 'ss.SSS')), MAX(channel)
FROM TABLE(TUMBLE(TABLE bid, DESCRIPTOR(ts), INTERVAL '10' SECOND))
GROUP BY auction, window_start, channel, window_end;
