-- Messages' and memories' full-text indexes keep a short pending list (gin_pending_list_limit = 256 kB).
-- A GIN index queues new entries in an unsorted pending list and merges them into the index in batches,
-- when the list passes gin_pending_list_limit (4 MB by default) or at vacuum. Messages and memories
-- arrive one at a time, all day, so the list is never empty, and every search reads all of it. On 1M
-- messages, after a run of appends and a 100,000-message import, a rare word's search took 3.4 ms with
-- the 4 MB list, 1.5 ms with 256 kB (at most 32 pages to read) and 1.0 ms with no list at all. Without
-- the list (fastupdate = off) every row is indexed on its own, and a 100,000-message import ran at about
-- half its speed. With 256 kB, imports and appends still merge in batches (the import at 60-80% of its
-- speed with the 4 MB list), and the append that fills the list merges about 600 messages' words, not 10,000.
-- Documents and analyses keep the default: they are written rarely and in large pieces.
ALTER INDEX {schema}.messages_tenant_search_idx SET (gin_pending_list_limit = 256);
ALTER INDEX {schema}.memories_tenant_search_idx SET (gin_pending_list_limit = 256);
