-- Query 13: bounded side input join. Each bid with the value a side table
-- holds for its auction (modulo 10000): a lookup join, the side table read
-- whole from a file (`${side_input}`, csv lines `key,value`) and each bid
-- looking up its key as it passes, at its processing time.
CREATE TABLE side_input (
  key BIGINT,
  `value` VARCHAR
) WITH ('connector' = 'filesystem', 'path' = '${side_input}', 'format' = 'csv');

CREATE TABLE nexmark_q13 (
  auction BIGINT,
  bidder BIGINT,
  price BIGINT,
  dateTime TIMESTAMP(3),
  `value` VARCHAR
) WITH (${sink});

INSERT INTO nexmark_q13
SELECT B.auction, B.bidder, B.price, B.dateTime, S.`value`
FROM (SELECT *, PROCTIME() AS p_time FROM bid) B
JOIN side_input FOR SYSTEM_TIME AS OF B.p_time AS S
ON mod(B.auction, 10000) = S.key;
