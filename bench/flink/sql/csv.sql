-- sql_throughput (b): csv file of bids -> filter (about 10% pass) -> csv files.
CREATE TABLE bids (auction BIGINT, bidder BIGINT, price BIGINT, channel STRING,
    url STRING, `dateTime` TIMESTAMP(3), extra STRING) WITH (
  'connector' = 'filesystem', 'path' = '${input}', 'format' = 'csv');
CREATE TABLE `out` (auction BIGINT, bidder BIGINT, price BIGINT, channel STRING,
    url STRING, `dateTime` TIMESTAMP(3), extra STRING) WITH (
  'connector' = 'filesystem', 'path' = '${output}', 'format' = 'csv');
INSERT INTO `out` SELECT * FROM bids WHERE price > 90000;
