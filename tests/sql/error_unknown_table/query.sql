CREATE TABLE out (id INT) WITH ('connector' = 'blackhole');
INSERT INTO out SELECT id FROM missing_orders;
