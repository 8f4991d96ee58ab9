-- Query 10: log to file system. Every bid with its day and minute, as Flink's
-- q10 writes them (there into a csv sink partitioned by dt and hm; Rivulet's
-- filesystem sink has no partitions yet, so the sink table has none).
CREATE TABLE nexmark_q10 (
  auction BIGINT, bidder BIGINT, price BIGINT, dateTime TIMESTAMP(3), extra VARCHAR,
  dt STRING, hm STRING
) WITH (${sink});

INSERT INTO nexmark_q10
SELECT auction, bidder, price, dateTime, extra,
  DATE_FORMAT(dateTime, 'yyyy-MM-dd'), DATE_FORMAT(dateTime, 'HH:mm')
FROM bid;
