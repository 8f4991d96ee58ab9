-- Query 18: find last bid. The last bid of each bidder on each auction:
-- deduplication keeping the last row by time (ROW_NUMBER() … DESC, first
-- row kept). Its result updates, so the sink must take a changelog.
CREATE TABLE nexmark_q18 (
  auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR,
  dateTime TIMESTAMP(3), extra VARCHAR
) WITH (${sink});

INSERT INTO nexmark_q18
SELECT auction, bidder, price, channel, url, dateTime, extra
FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY bidder, auction ORDER BY dateTime DESC) AS rank_number
  FROM bid
)
WHERE rank_number <= 1;
