-- A bounded datagen source, a filter and a projection, printed to stdout.
SET 'pipeline.name' = 'datagen-to-print';

CREATE TABLE orders (
  order_id BIGINT,
  price    DECIMAL(10, 2),
  customer STRING,
  doubled  AS price * 2
) WITH (
  'connector' = 'datagen',
  'rows-per-second' = '10',
  'fields.order_id.kind' = 'sequence',
  'fields.order_id.start' = '1',
  'fields.order_id.end' = '50',
  'fields.price.min' = '1',
  'fields.price.max' = '100',
  'fields.customer.length' = '6'
);

CREATE TABLE shown (order_id BIGINT, doubled DECIMAL(11, 2), customer STRING) WITH (
  'connector' = 'print',
  'print-identifier' = 'orders'
);

INSERT INTO shown
SELECT order_id, doubled, UPPER(customer)
FROM orders
WHERE order_id % 5 = 0;
