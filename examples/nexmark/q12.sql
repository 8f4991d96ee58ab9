-- Query 12: processing time windows. How many bids each bidder makes in 10
-- seconds of the wall clock: a TUMBLE window over PROCTIME(), fired by the
-- clock rather than the watermark (the windows still open when a bounded
-- input ends fire then). Its result depends on how fast the events come.
CREATE VIEW bid_proctime AS SELECT *, PROCTIME() AS p_time FROM bid;

CREATE TABLE nexmark_q12 (
  bidder BIGINT,
  bid_count BIGINT,
  starttime TIMESTAMP(3),
  endtime TIMESTAMP(3)
) WITH (${sink});

INSERT INTO nexmark_q12
SELECT bidder, count(*) AS bid_count, window_start AS starttime, window_end AS endtime
FROM TABLE(TUMBLE(TABLE bid_proctime, DESCRIPTOR(p_time), INTERVAL '10' SECOND))
GROUP BY bidder, window_start, window_end;
