-- A codec Rivulet does not write is refused at planning, naming the option.
CREATE TABLE src (id BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '3');
CREATE TABLE out (id BIGINT) WITH ('connector' = 'filesystem', 'path' = '${output}',
  'format' = 'parquet', 'parquet.compression' = 'LZO');
INSERT INTO out SELECT id FROM src;
