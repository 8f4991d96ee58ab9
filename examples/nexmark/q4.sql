-- Query 4: average price for a category. Each auction's winning price (the
-- highest bid made while it was open), then the average of those per
-- category. The inner GROUP BY's result updates as higher bids come, so the
-- outer GROUP BY reads a changelog: it takes back each old winning price
-- before it adds the new one. Its own result updates too, so the sink must
-- take a changelog.
CREATE TABLE nexmark_q4 (
  id BIGINT,
  final BIGINT
) WITH (${sink});

INSERT INTO nexmark_q4
SELECT
  Q.category,
  AVG(Q.final)
FROM (
  SELECT MAX(B.price) AS final, A.category
  FROM auction A, bid B
  WHERE A.id = B.auction AND B.dateTime BETWEEN A.dateTime AND A.expires
  GROUP BY A.id, A.category
) Q
GROUP BY Q.category;
