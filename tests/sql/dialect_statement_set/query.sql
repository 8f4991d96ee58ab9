/* Flink's DDL forms: a temporary table with a computed column, a watermark
   and a primary key, a view, and two INSERTs run as one job. */
SET 'pipeline.name' = 'statement-set-case';
CREATE TEMPORARY TABLE orders (
  id INT,
  amount INT,
  ts TIMESTAMP(3),
  doubled AS amount * 2,  -- computed column
  WATERMARK FOR ts AS ts - INTERVAL '5' SECOND,
  PRIMARY KEY (id) NOT ENFORCED
) WITH ('connector' = 'datagen', 'fields.id.kind' = 'sequence',
  'fields.id.start' = '1', 'fields.id.end' = '6',
  'fields.amount.kind' = 'sequence', 'fields.amount.start' = '10', 'fields.amount.end' = '15');
CREATE TEMPORARY VIEW small AS SELECT id, doubled FROM orders WHERE id <= 2;
CREATE TABLE out (kind STRING, id INT, value INT) WITH (
  'connector' = 'filesystem', 'path' = '${output}', 'format' = 'csv');
EXECUTE STATEMENT SET
BEGIN
  INSERT INTO out SELECT 'small', id, doubled FROM small;
  INSERT INTO out SELECT 'large', id, amount FROM orders WHERE id > 4;
END;
