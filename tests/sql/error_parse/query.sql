CREATE TABLE src (id BIGINT) WITH ('connector' = 'datagen');
CREATE TABLE out (id WIBBLE) WITH ('connector' = 'print');
INSERT INTO out SELECT id FROM src;
