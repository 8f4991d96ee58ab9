CREATE TABLE src (id INT) WITH ('connector' = 'datagen', 'number-of-rows' = '3');
CREATE TABLE gen (id INT) WITH ('connector' = 'datagen');
INSERT INTO gen SELECT id FROM src;
