-- Query 0: pass-through. Every bid, as it is; measures the cost of reading
-- and writing events.
CREATE TABLE nexmark_q0 (
  auction BIGINT, bidder BIGINT, price BIGINT, dateTime TIMESTAMP(3), extra VARCHAR
) WITH (${sink});

INSERT INTO nexmark_q0
SELECT auction, bidder, price, dateTime, extra FROM bid;
