CREATE TABLE src (id INT) WITH ('connector' = 'filesystem', 'format' = 'csv');
CREATE TABLE out (id INT) WITH ('connector' = 'blackhole');
INSERT INTO out SELECT id FROM src;
