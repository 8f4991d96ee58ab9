-- DATE_FORMAT and TO_TIMESTAMP with Java patterns; TIMESTAMP(3) in csv. Rows
-- in one day or minute, and across them (before 1970 too), format alike.
CREATE TABLE events (id INT, at TIMESTAMP(3), text STRING) WITH (
  'connector' = 'filesystem', 'path' = '${input}', 'format' = 'json');
CREATE TABLE out (
  id INT, at TIMESTAMP(3), day STRING, clock STRING, compact STRING, millis STRING,
  reformatted STRING, parsed TIMESTAMP(3), with_pattern TIMESTAMP(3), round_trip TIMESTAMP(3)
) WITH ('connector' = 'filesystem', 'path' = '${output}', 'format' = 'csv');
INSERT INTO out
SELECT id, at,
  DATE_FORMAT(at, 'yyyy-MM-dd'),
  DATE_FORMAT(at, 'HH:mm'),
  DATE_FORMAT(at, 'yyyyMMdd'),
  DATE_FORMAT(at, 'SSS'),
  DATE_FORMAT(text, 'dd.MM.yyyy ''at'' h a'),
  TO_TIMESTAMP(text),
  TO_TIMESTAMP(text, 'yyyy-MM-dd HH:mm:ss'),
  TO_TIMESTAMP(DATE_FORMAT(at, 'yyyyMMdd HH'), 'yyyyMMdd HH')
FROM events;
