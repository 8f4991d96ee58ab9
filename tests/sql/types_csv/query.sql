-- Every type the csv format writes, as Flink's csv format writes it:
-- doubles as Java prints them, DECIMAL with its scale, timestamps in SQL form
-- (a TIMESTAMP_LTZ with 'Z'), ROW fields and ARRAY elements joined by ';'.
CREATE TABLE src (
  s STRING, v VARCHAR(5), i INT, b BIGINT, d DOUBLE, dec DECIMAL(10, 2), flag BOOLEAN,
  ts TIMESTAMP(3), ltz TIMESTAMP_LTZ(3), day DATE, r ROW<x INT, y STRING>, a ARRAY<STRING>
) WITH ('connector' = 'filesystem', 'path' = '${input}', 'format' = 'json');
CREATE TABLE out (
  s STRING, v VARCHAR(5), i INT, b BIGINT, d DOUBLE, dec DECIMAL(10, 2), flag BOOLEAN,
  ts TIMESTAMP(3), ltz TIMESTAMP_LTZ(3), day DATE, r ROW<x INT, y STRING>, a ARRAY<STRING>
) WITH ('connector' = 'filesystem', 'path' = '${output}', 'format' = 'csv');
INSERT INTO out SELECT * FROM src;
