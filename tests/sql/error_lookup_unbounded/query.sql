-- A lookup join reads its table whole, so the table must be bounded: a file.
CREATE TABLE orders (id BIGINT, rate_id BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '3');
CREATE TABLE rates (id BIGINT, rate DOUBLE) WITH ('connector' = 'datagen');
CREATE TABLE out (id BIGINT, rate DOUBLE) WITH ('connector' = 'blackhole');
INSERT INTO out
SELECT o.id, r.rate
FROM (SELECT *, PROCTIME() AS p FROM orders) o
JOIN rates FOR SYSTEM_TIME AS OF o.p AS r ON o.rate_id = r.id;
