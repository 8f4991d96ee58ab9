-- Nexmark q5's shape: each window's auctions with the most bids. The
-- per-auction counts are computed once and read in both places (Flink's
-- sub-plan reuse; planner/subplan_reuse.rs tests that it happens, and that
-- 'table.optimizer.reuse-sub-plan-enabled' = 'false' turns it off).
CREATE TABLE bid (
  auction BIGINT, price BIGINT, ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '1' SECOND
) WITH ('connector' = 'filesystem', 'path' = '${input}', 'format' = 'csv');
CREATE TABLE out (auction BIGINT, window_start TIMESTAMP(3), num BIGINT)
WITH ('connector' = 'filesystem', 'path' = '${output}', 'format' = 'csv');
INSERT INTO out
SELECT a.auction, a.s, a.num
FROM (
  SELECT auction, COUNT(*) AS num, window_start AS s, window_end AS e
  FROM TABLE(HOP(TABLE bid, DESCRIPTOR(ts), INTERVAL '5' SECOND, INTERVAL '10' SECOND))
  GROUP BY auction, window_start, window_end
) a
JOIN (
  SELECT MAX(c.num) AS top, c.s, c.e
  FROM (
    SELECT COUNT(*) AS num, window_start AS s, window_end AS e
    FROM TABLE(HOP(TABLE bid, DESCRIPTOR(ts), INTERVAL '5' SECOND, INTERVAL '10' SECOND))
    GROUP BY auction, window_start, window_end
  ) c
  GROUP BY c.s, c.e
) m
ON a.s = m.s AND a.e = m.e AND a.num >= m.top;
