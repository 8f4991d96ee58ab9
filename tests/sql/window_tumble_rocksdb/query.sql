-- The same window aggregation with its state on local disk (Flink's 'rocksdb').
SET 'state.backend.type' = 'rocksdb';
CREATE TABLE bid (
  auction BIGINT, price BIGINT, ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '1' SECOND
) WITH ('connector' = 'filesystem', 'path' = '${input}', 'format' = 'csv');
CREATE TABLE out (kind STRING, auction BIGINT, window_start TIMESTAMP(3), window_end TIMESTAMP(3),
  bids BIGINT, priced BIGINT, top BIGINT, low BIGINT, total BIGINT)
WITH ('connector' = 'filesystem', 'path' = '${output}', 'format' = 'csv');
EXECUTE STATEMENT SET BEGIN
INSERT INTO out
SELECT 'auction', auction, window_start, window_end, COUNT(*), COUNT(price), MAX(price), MIN(price), SUM(price)
FROM TABLE(TUMBLE(TABLE bid, DESCRIPTOR(ts), INTERVAL '10' SECOND))
GROUP BY auction, window_start, window_end;
INSERT INTO out
SELECT 'all', CAST(NULL AS BIGINT), window_start, window_end, COUNT(*), COUNT(price), MAX(price), MIN(price), SUM(price)
FROM TABLE(TUMBLE(DATA => TABLE bid, TIMECOL => DESCRIPTOR(ts), SIZE => INTERVAL '10' SECOND))
GROUP BY window_start, window_end;
END;
