-- A streaming message is rewritten on every chunk (content = content || chunk). Its generated search
-- vector was recomputed over the whole partial content on each chunk and re-inserted into the GIN
-- index, which made a chunk cost grow with the message (about 20x slower over a 44 KB answer). Now the
-- vector is NULL while a message streams and computed once when it completes or fails: chunk updates
-- skip to_tsvector and the GIN index, and can be HOT updates. Streaming messages are therefore not
-- found by full-text search until they end.
-- PostgreSQL 15 cannot change a generated column's expression in place, so the column (the table's
-- last) and its index are recreated; this rewrites the table.
ALTER TABLE {schema}.messages DROP COLUMN search_vector;
ALTER TABLE {schema}.messages ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
    CASE WHEN status = 'streaming' THEN NULL ELSE to_tsvector(language, left(content, 100000)) END) STORED;
CREATE INDEX messages_search_idx ON {schema}.messages USING gin (search_vector);
