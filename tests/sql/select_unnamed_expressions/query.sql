/* Unnamed expressions of one SELECT may look alike (a CAST keeps the name of
   what it casts in DataFusion), as Flink allows: they are named EXPR$0, … */
CREATE TABLE src (price BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '2',
  'fields.price.kind' = 'sequence', 'fields.price.start' = '1', 'fields.price.end' = '2');
CREATE TABLE out (a INT, b STRING, c BIGINT, d BIGINT) WITH (
  'connector' = 'filesystem', 'path' = '${output}', 'format' = 'csv');
INSERT INTO out
SELECT price * 2, CAST(price * 2 AS STRING), price * 2, price FROM src
UNION ALL
SELECT price + 10, CAST(price + 10 AS STRING), price + 10, price FROM src;
