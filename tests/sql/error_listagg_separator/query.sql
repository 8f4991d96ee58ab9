-- LISTAGG's separator is a literal, as in Flink: one separator per call.
CREATE TABLE src (k INT, word STRING) WITH ('connector' = 'datagen', 'number-of-rows' = '3');
CREATE TABLE out (k INT, words STRING) WITH ('connector' = 'blackhole');
INSERT INTO out SELECT k, LISTAGG(word, word) FROM src GROUP BY k;
