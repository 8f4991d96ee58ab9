-- A directory of parquet files split across subtasks. Columns are matched
-- by name: 'warehouse' is not read, 'note' is not in the files and reads as
-- NULL, and the files' INT 'id' is read as BIGINT. (input/*.parquet hold
-- id INT, name STRING, price DOUBLE, warehouse STRING; written by Rivulet's
-- parquet writer.)
CREATE TABLE products (id BIGINT, name STRING, price DOUBLE, note STRING) WITH (
  'connector' = 'filesystem', 'path' = '${input}', 'format' = 'parquet');
CREATE TABLE out (id BIGINT, name STRING, price DOUBLE, note STRING) WITH (
  'connector' = 'filesystem', 'path' = '${output}', 'format' = 'json');
INSERT INTO out SELECT id, name, price * 2, note FROM products WHERE id > 1;
