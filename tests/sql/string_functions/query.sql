-- String functions with Flink's NULL handling: CONCAT is NULL when an
-- argument is, CONCAT_WS skips NULL arguments.
CREATE TABLE people (id INT, first STRING, last STRING, nick STRING) WITH (
  'connector' = 'filesystem', 'path' = '${input}', 'format' = 'json');
CREATE TABLE out (
  id INT, upper_first STRING, lower_last STRING, len INT, full_name STRING,
  joined STRING, shown STRING, size STRING
) WITH ('connector' = 'filesystem', 'path' = '${output}', 'format' = 'csv');
INSERT INTO out
SELECT id, UPPER(first), LOWER(last), CHAR_LENGTH(first),
  CONCAT_WS(' ', first, nick, last),
  CONCAT(first, '-', last),
  COALESCE(nick, first, last, '?'),
  CASE WHEN CHAR_LENGTH(last) > 6 THEN 'long' WHEN last IS NULL THEN 'none' ELSE 'short' END
FROM people;
