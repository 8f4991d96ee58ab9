-- LISTAGG in a window aggregation: each auction's channels per 10-second
-- window in the order the bids came, with the default separator (','), with
-- one of the query's own, and with FILTER. NULL channels are skipped; a
-- window with none listed is NULL. (The csv sink quotes values holding its
-- delimiter.)
CREATE TABLE bid (
  auction BIGINT, price BIGINT, channel STRING, ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '1' SECOND
) WITH ('connector' = 'filesystem', 'path' = '${input}', 'format' = 'csv',
  'csv.null-literal' = 'n/a');
CREATE TABLE out (auction BIGINT, window_start TIMESTAMP(3), channels STRING, piped STRING, dear STRING)
WITH ('connector' = 'filesystem', 'path' = '${output}', 'format' = 'csv');
INSERT INTO out
SELECT auction, window_start, LISTAGG(channel), LISTAGG(channel, ' | '),
  LISTAGG(channel) FILTER (WHERE price > 100)
FROM TABLE(TUMBLE(TABLE bid, DESCRIPTOR(ts), INTERVAL '10' SECOND))
GROUP BY auction, window_start, window_end;
