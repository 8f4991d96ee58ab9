CREATE TABLE a (x INT) WITH ('connector' = 'datagen', 'fields.x.kind' = 'sequence', 'fields.x.start' = '1', 'fields.x.end' = '3');
CREATE TABLE b (y INT) WITH ('connector' = 'datagen', 'fields.y.kind' = 'sequence', 'fields.y.start' = '10', 'fields.y.end' = '12');
CREATE TABLE out (v INT, origin STRING) WITH ('connector' = 'filesystem', 'path' = '${output}', 'format' = 'csv');
CREATE VIEW both_sides AS
  SELECT x AS v, 'a' AS origin FROM a
  UNION ALL
  SELECT y * 2 AS v, 'b' AS origin FROM b;
INSERT INTO out SELECT v, origin FROM both_sides;
