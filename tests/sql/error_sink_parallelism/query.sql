-- sink.parallelism must be a positive whole number.
CREATE TABLE src (id INT) WITH ('connector' = 'datagen', 'number-of-rows' = '5');
CREATE TABLE out (id INT) WITH ('connector' = 'print', 'sink.parallelism' = '0');
INSERT INTO out SELECT id FROM src;
