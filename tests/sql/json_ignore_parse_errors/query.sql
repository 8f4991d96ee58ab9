-- Lines that are not JSON, or hold a value of the wrong type, are skipped;
-- a missing field is NULL. Written back as JSON lines.
CREATE TABLE people (id INT, name STRING) WITH (
  'connector' = 'filesystem', 'path' = '${input}', 'format' = 'json',
  'json.ignore-parse-errors' = 'true');
CREATE TABLE out (id INT, name STRING) WITH (
  'connector' = 'filesystem', 'path' = '${output}', 'format' = 'json');
INSERT INTO out SELECT id, name FROM people;
