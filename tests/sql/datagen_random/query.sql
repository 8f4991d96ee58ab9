-- Random datagen fields honour min, max, length and null-rate; the rows are
-- random, so the query keeps only what the options promise.
CREATE TABLE r (
  n INT, small INT, big BIGINT, ratio DOUBLE, word STRING, flag BOOLEAN, gone STRING
) WITH (
  'connector' = 'datagen', 'rows-per-second' = '10000', 'number-of-rows' = '200',
  'fields.n.kind' = 'sequence', 'fields.n.start' = '1', 'fields.n.end' = '200',
  'fields.small.kind' = 'random', 'fields.small.min' = '-3', 'fields.small.max' = '3',
  'fields.big.min' = '1000000000000', 'fields.big.max' = '1000000000005',
  'fields.ratio.min' = '0.25', 'fields.ratio.max' = '0.5',
  'fields.word.length' = '7',
  'fields.gone.null-rate' = '1.0');
CREATE TABLE out (ok BOOLEAN) WITH (
  'connector' = 'filesystem', 'path' = '${output}', 'format' = 'csv');
INSERT INTO out
SELECT small BETWEEN -3 AND 3 AND big BETWEEN 1000000000000 AND 1000000000005
   AND ratio >= 0.25 AND ratio <= 0.5 AND CHAR_LENGTH(word) = 7
   AND flag IS NOT NULL AND gone IS NULL
FROM r WHERE n <= 3;
