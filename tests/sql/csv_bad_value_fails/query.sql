-- Without csv.ignore-parse-errors a value that does not read fails the job.
CREATE TABLE fruits (id INT, name STRING, price DOUBLE) WITH (
  'connector' = 'filesystem', 'path' = '${input}', 'format' = 'csv');
CREATE TABLE out (id INT, name STRING, price DOUBLE) WITH (
  'connector' = 'filesystem', 'path' = '${output}', 'format' = 'csv');
INSERT INTO out SELECT id, name, price FROM fruits;
