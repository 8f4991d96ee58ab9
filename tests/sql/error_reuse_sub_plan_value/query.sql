CREATE TABLE src (id INT) WITH ('connector' = 'datagen', 'number-of-rows' = '3');
SET 'table.optimizer.reuse-sub-plan-enabled' = 'sometimes';
CREATE TABLE out (id INT) WITH ('connector' = 'blackhole');
INSERT INTO out SELECT id FROM src;
