-- JSON lines with a nested ROW and an ARRAY; nested-field access.
CREATE TABLE events (
  person ROW<name STRING, age INT>,
  action STRING,
  tags ARRAY<STRING>
) WITH ('connector' = 'filesystem', 'path' = '${input}/events.json', 'format' = 'json');
CREATE TABLE out (name STRING, adult BOOLEAN, action STRING) WITH (
  'connector' = 'filesystem', 'path' = '${output}', 'format' = 'csv');
INSERT INTO out SELECT person.name, person.age >= 18, action FROM events;
