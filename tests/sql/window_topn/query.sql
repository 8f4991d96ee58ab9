-- Window Top-N and window deduplication, as Flink writes them: ROW_NUMBER()
-- partitioned by a window's bounds (a window table function's, or those a
-- window aggregation carried on). Each window's rows are final when the
-- watermark passes its end, so the result is insert-only and goes into an
-- append-only sink: the two highest bids per window, each auction's first bid
-- per window, the auction with the most bids per window, and the highest bid
-- per window.
CREATE TABLE bid (
  auction BIGINT, price BIGINT, ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '1' SECOND
) WITH ('connector' = 'filesystem', 'path' = '${input}', 'format' = 'csv');
CREATE TABLE out (kind STRING, window_start TIMESTAMP(3), auction BIGINT, v BIGINT, rn BIGINT)
WITH ('connector' = 'filesystem', 'path' = '${output}', 'format' = 'csv');
EXECUTE STATEMENT SET BEGIN
INSERT INTO out
SELECT 'top', window_start, auction, price, rn FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY price DESC) AS rn
  FROM TABLE(TUMBLE(TABLE bid, DESCRIPTOR(ts), INTERVAL '10' SECOND))
) WHERE rn <= 2;
INSERT INTO out
SELECT 'first', window_start, auction, price, rn FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end, auction ORDER BY ts ASC) AS rn
  FROM TABLE(TUMBLE(TABLE bid, DESCRIPTOR(ts), INTERVAL '10' SECOND))
) WHERE rn = 1;
INSERT INTO out
SELECT 'busiest', window_start, auction, bids, rn FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY bids DESC) AS rn
  FROM (
    SELECT window_start, window_end, auction, COUNT(*) AS bids
    FROM TABLE(TUMBLE(TABLE bid, DESCRIPTOR(ts), INTERVAL '10' SECOND))
    GROUP BY window_start, window_end, auction)
) WHERE rn <= 1;
-- A bound written as `<`: the Top-N keeps one row less than it says.
INSERT INTO out
SELECT 'below2', window_start, auction, price, rn FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY price DESC) AS rn
  FROM TABLE(TUMBLE(TABLE bid, DESCRIPTOR(ts), INTERVAL '10' SECOND))
) WHERE rn < 2;
END;
