-- By default (json.ignore-parse-errors = false) a bad line fails the job,
-- naming the file and the line.
CREATE TABLE people (id INT, name STRING) WITH (
  'connector' = 'filesystem', 'path' = '${input}', 'format' = 'json');
CREATE TABLE out (id INT, name STRING) WITH (
  'connector' = 'filesystem', 'path' = '${output}', 'format' = 'csv');
INSERT INTO out SELECT id, name FROM people;
