-- A temporal filter on the processing time: PROCTIME() is read as each row
-- passes, so a row is kept when its time is at most one day before the
-- wall clock. (The input's times lie far in the past or the future, so the
-- result does not depend on when the test runs.)
CREATE TABLE events (id BIGINT, ts TIMESTAMP(3))
WITH ('connector' = 'filesystem', 'path' = '${input}', 'format' = 'csv');
CREATE TABLE out (id BIGINT, recent BOOLEAN)
WITH ('connector' = 'filesystem', 'path' = '${output}', 'format' = 'csv');
INSERT INTO out
SELECT id, CAST(ts AS TIMESTAMP(3)) <= CAST(PROCTIME() AS TIMESTAMP(3))
FROM events
WHERE CAST(ts AS TIMESTAMP(3)) >= CAST(PROCTIME() AS TIMESTAMP(3)) - INTERVAL '1' DAY;
