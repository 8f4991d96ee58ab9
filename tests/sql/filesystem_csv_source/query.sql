-- A directory of CSV files with a custom delimiter, split across subtasks.
CREATE TABLE fruits (id INT, name STRING, price DOUBLE) WITH (
  'connector' = 'filesystem',
  'path' = '${input}',
  'format' = 'csv',
  'csv.field-delimiter' = '|'
);
CREATE TABLE out (name STRING, doubled DOUBLE) WITH (
  'connector' = 'filesystem', 'path' = '${output}', 'format' = 'csv');
INSERT INTO out SELECT name, price * 2 FROM fruits WHERE price > 1;
