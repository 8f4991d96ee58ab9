-- Regular inner joins. Both sides have `id`, `name` and `city`; a condition
-- across the sides beyond the equality filters the joined rows; two
-- equalities join on a composite key; a NULL key never matches.
CREATE TABLE persons (id BIGINT, name STRING, city STRING) WITH (
  'connector' = 'filesystem', 'path' = '${input}/persons.csv', 'format' = 'csv');
CREATE TABLE auctions (id BIGINT, seller BIGINT, name STRING, city STRING, reserve INT) WITH (
  'connector' = 'filesystem', 'path' = '${input}/auctions.csv', 'format' = 'csv');
CREATE TABLE out (kind STRING, person STRING, item STRING, auction BIGINT, seller BIGINT)
WITH ('connector' = 'filesystem', 'path' = '${output}', 'format' = 'csv');
EXECUTE STATEMENT SET BEGIN
INSERT INTO out
SELECT 'cond', P.name, A.name, A.id, P.id
FROM auctions AS A JOIN persons AS P ON A.seller = P.id AND A.reserve > 60 + P.id;
INSERT INTO out
SELECT 'city', P.name, A.name, A.id, A.seller
FROM persons P INNER JOIN auctions A ON P.city = A.city AND A.seller = P.id;
END;
