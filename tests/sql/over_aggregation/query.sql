-- OVER aggregation in event time: every bid with aggregates over its frame,
-- computed when the watermark passes its time. ROWS counts rows (the bid and
-- the one before it of the same auction; two bids of one time in the order
-- they came); RANGE counts time (bids of the last 2 seconds, bids of the same
-- time sharing their result); without PARTITION BY or a frame, a running
-- total over all bids, as SQL's default frame (RANGE UNBOUNDED PRECEDING).
CREATE TABLE bid (
  auction BIGINT, price BIGINT, ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '1' SECOND
) WITH ('connector' = 'filesystem', 'path' = '${input}', 'format' = 'csv');
CREATE TABLE out (kind STRING, auction BIGINT, price BIGINT, ts TIMESTAMP(3), a BIGINT, b BIGINT)
WITH ('connector' = 'filesystem', 'path' = '${output}', 'format' = 'csv');
EXECUTE STATEMENT SET BEGIN
INSERT INTO out
SELECT 'rows', auction, price, ts,
  SUM(price) OVER (PARTITION BY auction ORDER BY ts ROWS BETWEEN 1 PRECEDING AND CURRENT ROW),
  MAX(price) OVER (PARTITION BY auction ORDER BY ts ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)
FROM bid;
INSERT INTO out
SELECT 'range', auction, price, ts,
  COUNT(*) OVER (PARTITION BY auction ORDER BY ts RANGE BETWEEN INTERVAL '2' SECOND PRECEDING AND CURRENT ROW),
  SUM(price) OVER (PARTITION BY auction ORDER BY ts RANGE BETWEEN INTERVAL '2' SECOND PRECEDING AND CURRENT ROW)
FROM bid;
INSERT INTO out
SELECT 'all', auction, price, ts, COUNT(*) OVER (ORDER BY ts), SUM(price) OVER (ORDER BY ts)
FROM bid;
END;
