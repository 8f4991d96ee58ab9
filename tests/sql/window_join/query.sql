-- A window join, as in Flink's documentation: two tables' TUMBLE windows
-- joined on the key and on equal window bounds, FULL OUTER. Rows of a window
-- are final when the watermark passes its end: rows without a partner come
-- out padded with NULLs then, once, so the result is insert-only and goes
-- into an append-only sink, and the join forgets the window's rows.
CREATE TABLE lt (num INT, id STRING, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
WITH ('connector' = 'filesystem', 'path' = '${input}/left.csv', 'format' = 'csv');
CREATE TABLE rt (num INT, id STRING, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
WITH ('connector' = 'filesystem', 'path' = '${input}/right.csv', 'format' = 'csv');
CREATE TABLE out (l_num INT, l_id STRING, r_num INT, r_id STRING,
  window_start TIMESTAMP(3), window_end TIMESTAMP(3))
WITH ('connector' = 'filesystem', 'path' = '${output}', 'format' = 'csv');
INSERT INTO out
SELECT L.num, L.id, R.num, R.id,
  COALESCE(L.window_start, R.window_start), COALESCE(L.window_end, R.window_end)
FROM (SELECT * FROM TABLE(TUMBLE(TABLE lt, DESCRIPTOR(ts), INTERVAL '5' SECOND))) L
FULL JOIN (SELECT * FROM TABLE(TUMBLE(TABLE rt, DESCRIPTOR(ts), INTERVAL '5' SECOND))) R
ON L.num = R.num AND L.window_start = R.window_start AND L.window_end = R.window_end;
