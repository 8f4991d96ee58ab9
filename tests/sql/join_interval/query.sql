-- An interval join: each order with the clicks of its user in the 10
-- seconds up to it. The condition bounds one side's time by the other's, so
-- rows leave the join's state once the watermark shows that no row still to
-- come can match them; the result is the one of the same regular join.
CREATE TABLE orders (
  `user` BIGINT, amount BIGINT, ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '1' SECOND
) WITH ('connector' = 'filesystem', 'path' = '${input}/orders.csv', 'format' = 'csv');
CREATE TABLE clicks (
  `user` BIGINT, ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '1' SECOND
) WITH ('connector' = 'filesystem', 'path' = '${input}/clicks.csv', 'format' = 'csv');
CREATE TABLE out (`user` BIGINT, amount BIGINT, clicked TIMESTAMP(3), ordered TIMESTAMP(3))
WITH ('connector' = 'filesystem', 'path' = '${output}', 'format' = 'csv');
INSERT INTO out
SELECT o.`user`, o.amount, c.ts, o.ts
FROM orders o JOIN clicks c
  ON o.`user` = c.`user` AND c.ts BETWEEN o.ts - INTERVAL '10' SECOND AND o.ts;
