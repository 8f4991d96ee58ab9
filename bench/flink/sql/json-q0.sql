-- sql_throughput (c) and json-blackhole: Nexmark JSON lines -> q0's projection
-- -> ${sink}. run.sh gives the sink: blackhole (Flink Nexmark's q0 setup,
-- without the computed dateTime and watermark), or a csv or json file in
-- place of (c)'s parquet (no parquet format jar in apache-flink-libraries).
CREATE TABLE nexmark (
  event_type INT,
  person ROW<id BIGINT, name STRING, emailAddress STRING, creditCard STRING, city STRING,
    state STRING, `dateTime` TIMESTAMP(3), extra STRING>,
  auction ROW<id BIGINT, itemName STRING, description STRING, initialBid BIGINT,
    reserve BIGINT, `dateTime` TIMESTAMP(3), expires TIMESTAMP(3), seller BIGINT,
    category BIGINT, extra STRING>,
  bid ROW<auction BIGINT, bidder BIGINT, price BIGINT, channel STRING, url STRING,
    `dateTime` TIMESTAMP(3), extra STRING>
) WITH ('connector' = 'filesystem', 'path' = '${input}', 'format' = 'json');
CREATE TABLE q0 (auction BIGINT, bidder BIGINT, price BIGINT, `dateTime` TIMESTAMP(3), extra STRING)
  WITH (${sink});
INSERT INTO q0 SELECT bid.auction, bid.bidder, bid.price, bid.`dateTime`, bid.extra
  FROM nexmark WHERE event_type = 2;
