CREATE TABLE src (id INT) WITH ('connector' = 'filesystem', 'path' = '${input}', 'format' = 'xml');
CREATE TABLE out (id INT) WITH ('connector' = 'blackhole');
INSERT INTO out SELECT id FROM src;
