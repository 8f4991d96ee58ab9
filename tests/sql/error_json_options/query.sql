CREATE TABLE src (id INT) WITH ('connector' = 'filesystem', 'path' = '${input}', 'format' = 'json',
  'json.fail-on-missing-field' = 'true', 'json.ignore-parse-errors' = 'true');
CREATE TABLE out (id INT) WITH ('connector' = 'blackhole');
INSERT INTO out SELECT id FROM src;
