-- Query 5: hot items. Per sliding window (10 seconds, every 2 seconds), the
-- auctions with the most bids. The count per auction and window is a HOP
-- window aggregation; the highest count per window aggregates its rows again
-- by the window's bounds (carried on as window properties, so it is a window
-- aggregation too); the join keeps the auctions whose count is the highest.
CREATE TABLE nexmark_q5 (
  auction BIGINT,
  num BIGINT
) WITH (${sink});

INSERT INTO nexmark_q5
SELECT AuctionBids.auction, AuctionBids.num
FROM (
  SELECT
    auction,
    count(*) AS num,
    window_start AS starttime,
    window_end AS endtime
  FROM TABLE(
    HOP(TABLE bid, DESCRIPTOR(dateTime), INTERVAL '2' SECOND, INTERVAL '10' SECOND))
  GROUP BY auction, window_start, window_end
) AS AuctionBids
JOIN (
  SELECT
    max(CountBids.num) AS maxn,
    CountBids.starttime,
    CountBids.endtime
  FROM (
    SELECT
      count(*) AS num,
      window_start AS starttime,
      window_end AS endtime
    FROM TABLE(
      HOP(TABLE bid, DESCRIPTOR(dateTime), INTERVAL '2' SECOND, INTERVAL '10' SECOND))
    GROUP BY auction, window_start, window_end
  ) AS CountBids
  GROUP BY CountBids.starttime, CountBids.endtime
) AS MaxBids
ON AuctionBids.starttime = MaxBids.starttime AND
   AuctionBids.endtime = MaxBids.endtime AND
   AuctionBids.num >= MaxBids.maxn;
