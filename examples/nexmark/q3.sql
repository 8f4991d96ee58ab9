-- Query 3: local item suggestion. Who is selling in category 10 in a few US
-- states: auctions joined with their sellers. A regular join (both sides kept
-- in state). The generator writes state codes in lower case ('or', 'id',
-- 'ca'), so the filter matches those.
CREATE TABLE nexmark_q3 (name VARCHAR, city VARCHAR, state VARCHAR, id BIGINT) WITH (${sink});

INSERT INTO nexmark_q3
SELECT P.name, P.city, P.state, A.id
FROM auction AS A INNER JOIN person AS P ON A.seller = P.id
WHERE A.category = 10 AND (P.state = 'or' OR P.state = 'id' OR P.state = 'ca');
