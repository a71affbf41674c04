ALTER TABLE {schema}.messages DROP COLUMN search_vector;
ALTER TABLE {schema}.messages ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (to_tsvector(language, left(content, 100000))) STORED;
CREATE INDEX messages_search_idx ON {schema}.messages USING gin (search_vector);
