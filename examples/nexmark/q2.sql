-- Query 2: selection. The bids on a set of auctions (every 123rd).
CREATE TABLE nexmark_q2 (auction BIGINT, price BIGINT) WITH (${sink});

INSERT INTO nexmark_q2
SELECT auction, price FROM bid WHERE MOD(auction, 123) = 0;
