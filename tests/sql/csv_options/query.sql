-- csv options: comments skipped, a null literal read and written, and with
-- csv.ignore-parse-errors a value that does not read or a missing field is NULL.
CREATE TABLE fruits (id INT, name STRING, price DOUBLE) WITH (
  'connector' = 'filesystem', 'path' = '${input}', 'format' = 'csv',
  'csv.field-delimiter' = ';', 'csv.allow-comments' = 'true',
  'csv.null-literal' = 'N/A', 'csv.ignore-parse-errors' = 'true');
CREATE TABLE out (id INT, name STRING, price DOUBLE) WITH (
  'connector' = 'filesystem', 'path' = '${output}', 'format' = 'csv',
  'csv.null-literal' = 'NULL');
INSERT INTO out SELECT id, name, price FROM fruits;
