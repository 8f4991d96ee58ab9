-- Projection, filter, a computed column and scalar functions over datagen.
CREATE TABLE src (
  id BIGINT,
  name AS CONCAT('n', CAST(id AS STRING))
) WITH (
  'connector' = 'datagen',
  'fields.id.kind' = 'sequence',
  'fields.id.start' = '1',
  'fields.id.end' = '10'
);

CREATE TABLE out (id BIGINT, name STRING, big BOOLEAN) WITH (
  'connector' = 'filesystem', 'path' = '${output}', 'format' = 'csv'
);

INSERT INTO out SELECT id, UPPER(name), id > 5 FROM src WHERE id % 2 = 0;
