-- Query 19: auction top-N. The ten highest bids of each auction, with their
-- rank: a Top-N (ROW_NUMBER() filtered to its first ten rows). Its result
-- updates, so the sink must take a changelog.
CREATE TABLE nexmark_q19 (
  auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR,
  dateTime TIMESTAMP(3), extra VARCHAR, rank_number BIGINT
) WITH (${sink});

INSERT INTO nexmark_q19
SELECT * FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY auction ORDER BY price DESC) AS rank_number
  FROM bid
)
WHERE rank_number <= 10;
