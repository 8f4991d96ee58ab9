CREATE TABLE src (id INT, k STRING) WITH ('connector' = 'datagen', 'number-of-rows' = '3');
CREATE TABLE out (id INT) WITH ('connector' = 'blackhole');
INSERT INTO out SELECT id, k FROM src;
