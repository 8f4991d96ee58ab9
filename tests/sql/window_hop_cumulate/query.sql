-- HOP (10-second windows every 5 seconds) per auction, and CUMULATE (windows
-- growing by 5 seconds up to 10) over all bids: a row counts in every window
-- that holds its time.
CREATE TABLE bid (
  auction BIGINT, price BIGINT, ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '1' SECOND
) WITH ('connector' = 'filesystem', 'path' = '${input}', 'format' = 'csv');
CREATE TABLE out (kind STRING, auction BIGINT, window_start TIMESTAMP(3), window_end TIMESTAMP(3),
  bids BIGINT, total BIGINT)
WITH ('connector' = 'filesystem', 'path' = '${output}', 'format' = 'csv');
EXECUTE STATEMENT SET BEGIN
INSERT INTO out
SELECT 'hop', auction, window_start, window_end, COUNT(*), SUM(price)
FROM TABLE(HOP(TABLE bid, DESCRIPTOR(ts), INTERVAL '5' SECOND, INTERVAL '10' SECOND))
GROUP BY auction, window_start, window_end;
INSERT INTO out
SELECT 'cumulate', CAST(NULL AS BIGINT), window_start, window_end, COUNT(*), SUM(price)
FROM TABLE(CUMULATE(DATA => TABLE bid, TIMECOL => DESCRIPTOR(ts),
                    STEP => INTERVAL '5' SECOND, SIZE => INTERVAL '10' SECOND))
GROUP BY window_start, window_end;
END;
