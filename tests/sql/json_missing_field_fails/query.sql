-- With json.fail-on-missing-field a missing field, nested ones too, fails the job.
CREATE TABLE people (id INT, person ROW<name STRING, age INT>) WITH (
  'connector' = 'filesystem', 'path' = '${input}', 'format' = 'json',
  'json.fail-on-missing-field' = 'true');
CREATE TABLE out (id INT, name STRING) WITH (
  'connector' = 'filesystem', 'path' = '${output}', 'format' = 'csv');
INSERT INTO out SELECT id, person.name FROM people;
