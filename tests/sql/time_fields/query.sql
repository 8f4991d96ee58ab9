-- One field of a date-time: YEAR … SECOND (DAYOFWEEK counts from Sunday = 1).
CREATE TABLE events (id INT, at TIMESTAMP(3), `day` DATE) WITH (
  'connector' = 'filesystem', 'path' = '${input}', 'format' = 'json');
CREATE TABLE out (
  id INT, y BIGINT, q BIGINT, m BIGINT, doy BIGINT, dom BIGINT, dow BIGINT,
  h BIGINT, mi BIGINT, s BIGINT, day_year BIGINT, day_dow BIGINT
) WITH ('connector' = 'filesystem', 'path' = '${output}', 'format' = 'csv');
INSERT INTO out
SELECT id, YEAR(at), QUARTER(at), MONTH(at), DAYOFYEAR(at), DAYOFMONTH(at), DAYOFWEEK(at),
  HOUR(at), MINUTE(at), SECOND(at), YEAR(`day`), DAYOFWEEK(`day`)
FROM events;
