CREATE TABLE src (id BIGINT) WITH ('connector' = 'kafkaesque');
CREATE TABLE out (id BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO out SELECT id FROM src;
