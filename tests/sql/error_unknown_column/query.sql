CREATE TABLE src (id BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '1');
CREATE TABLE out (id BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO out
SELECT price FROM src;
