-- Flink's csv format has no MAP.
CREATE TABLE src (id INT, m MAP<STRING, INT>) WITH (
  'connector' = 'filesystem', 'path' = '${input}', 'format' = 'json');
CREATE TABLE out (id INT, m MAP<STRING, INT>) WITH (
  'connector' = 'filesystem', 'path' = '${output}', 'format' = 'csv');
INSERT INTO out SELECT id, m FROM src;
