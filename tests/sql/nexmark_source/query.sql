-- The Nexmark source table as Flink's Nexmark benchmark declares it; 100
-- events hold 2 persons, 6 auctions and 92 bids, the same at any parallelism.
CREATE TABLE nexmark (
  event_type INT,
  person ROW<id BIGINT, name VARCHAR, emailAddress VARCHAR, creditCard VARCHAR,
             city VARCHAR, state VARCHAR, dateTime TIMESTAMP(3), extra VARCHAR>,
  auction ROW<id BIGINT, itemName VARCHAR, description VARCHAR, initialBid BIGINT,
              reserve BIGINT, dateTime TIMESTAMP(3), expires TIMESTAMP(3), seller BIGINT,
              category BIGINT, extra VARCHAR>,
  bid ROW<auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR,
          dateTime TIMESTAMP(3), extra VARCHAR>,
  dateTime AS CASE WHEN event_type = 0 THEN person.dateTime
                   WHEN event_type = 1 THEN auction.dateTime
                   ELSE bid.dateTime END,
  WATERMARK FOR dateTime AS dateTime - INTERVAL '4' SECOND
) WITH ('connector' = 'nexmark', 'events.num' = '100', 'first-event.rate' = '1000');
CREATE VIEW person AS SELECT person.id, person.name, person.state, dateTime FROM nexmark WHERE event_type = 0;
CREATE VIEW auction AS SELECT auction.id, auction.seller, auction.category, dateTime FROM nexmark WHERE event_type = 1;
CREATE TABLE out (kind STRING, id BIGINT, detail STRING, t TIMESTAMP(3)) WITH (
  'connector' = 'filesystem', 'path' = '${output}', 'format' = 'csv');
INSERT INTO out
SELECT 'person', id, CONCAT(name, '/', state), dateTime FROM person
UNION ALL
SELECT 'auction', id, CONCAT(CAST(seller AS STRING), '/', CAST(category AS STRING)), dateTime FROM auction;
