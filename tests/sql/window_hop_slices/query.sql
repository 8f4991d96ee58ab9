-- HOP windows (6 seconds, every 2) whose aggregation reads each row once,
-- in its 2-second slice, and assembles the windows from the slices
-- (planner/hop_slicing.rs): COUNT, MIN, MAX, SUM, AVG and FILTER, with NULL
-- prices. FIRST_VALUE depends on the order rows came in, and a filter on
-- window_start reads the windows as values: both keep copying each row into
-- its three windows. The results must not tell the plans apart.
CREATE TABLE bid (
  auction BIGINT, price BIGINT, ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '1' SECOND
) WITH ('connector' = 'filesystem', 'path' = '${input}', 'format' = 'csv');
CREATE TABLE out (kind STRING, auction BIGINT, window_start TIMESTAMP(3), window_end TIMESTAMP(3),
  bids BIGINT, priced BIGINT, low BIGINT, high BIGINT, total BIGINT, average DOUBLE,
  cheap BIGINT)
WITH ('connector' = 'filesystem', 'path' = '${output}', 'format' = 'csv');
EXECUTE STATEMENT SET BEGIN
INSERT INTO out
SELECT 'sliced', auction, window_start, window_end, COUNT(*), COUNT(price), MIN(price),
  MAX(price), SUM(price), AVG(price), COUNT(*) FILTER (WHERE price < 10)
FROM TABLE(HOP(TABLE bid, DESCRIPTOR(ts), INTERVAL '2' SECOND, INTERVAL '6' SECOND))
GROUP BY auction, window_start, window_end;
INSERT INTO out
SELECT 'first', auction, window_start, window_end, COUNT(*), FIRST_VALUE(price),
  CAST(NULL AS BIGINT) AS low, CAST(NULL AS BIGINT) AS high, CAST(NULL AS BIGINT) AS total,
  CAST(NULL AS DOUBLE) AS average, CAST(NULL AS BIGINT) AS cheap
FROM TABLE(HOP(TABLE bid, DESCRIPTOR(ts), INTERVAL '2' SECOND, INTERVAL '6' SECOND))
GROUP BY auction, window_start, window_end;
INSERT INTO out
SELECT 'late-starts', auction, window_start, window_end, COUNT(*), COUNT(price), MIN(price),
  MAX(price), SUM(price), AVG(price), COUNT(*) FILTER (WHERE price < 10)
FROM TABLE(HOP(TABLE bid, DESCRIPTOR(ts), INTERVAL '2' SECOND, INTERVAL '6' SECOND))
WHERE window_start >= TIMESTAMP '2024-01-01 00:00:02'
GROUP BY auction, window_start, window_end;
END;
