CREATE TABLE src (id INT, k STRING) WITH ('connector' = 'datagen', 'number-of-rows' = '3');
CREATE TABLE out (k STRING, c INT) WITH ('connector' = 'blackhole');
INSERT INTO out SELECT a.k, b.id FROM src a JOIN src b ON a.id = b.id;
