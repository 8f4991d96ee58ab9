CREATE TABLE src (id BIGINT) WITH ('connector' = 'datagen', 'rows-per-sec' = '5');
CREATE TABLE out (id BIGINT) WITH ('connector' = 'print');
INSERT INTO out SELECT id FROM src;
