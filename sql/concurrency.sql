--
-- concurrency: a scan reads up to max_concurrency shards at once (default
-- 4), each with one request in flight, and asks for a shard's next page
-- while it returns the rows of the current one.  Rows keep their order:
-- parents before children, each shard in sequence order.
--
-- Stream "Wide" of test/split_stream_server.py: 64 closed shards of 50
-- records; stream "Split": a root, two children, two grandchildren.
--
\set server split
\i sql/include/setup.sql

CREATE FOREIGN TABLE wide (shard_id text, seq numeric)
  SERVER split OPTIONS (table_name 'Wide', max_concurrency '1');

-- ===================================================================
-- the same rows in the same order, one shard at a time or 64 at once
-- ===================================================================
CREATE TABLE wide_serial AS SELECT row_number() OVER () AS n, * FROM wide;
SELECT count(*), count(DISTINCT shard_id) FROM wide_serial;

ALTER FOREIGN TABLE wide OPTIONS (SET max_concurrency '64');
SELECT count(*) AS differences
FROM (SELECT row_number() OVER () AS n, * FROM wide) w
FULL JOIN wide_serial s USING (n, shard_id, seq)
WHERE w.seq IS NULL OR s.seq IS NULL;

-- Each shard: one GetShardIterator and one GetRecords, as when serial.
SELECT * FROM explain_filter('SELECT * FROM wide', 'Requests|Shards|Records Received')
  AS explain_requests;

-- The server's default applies when the table sets none.
ALTER FOREIGN TABLE wide OPTIONS (DROP max_concurrency);
ALTER SERVER split OPTIONS (ADD max_concurrency '8');
SELECT count(*) AS differences
FROM (SELECT row_number() OVER () AS n, * FROM wide) w
FULL JOIN wide_serial s USING (n, shard_id, seq)
WHERE w.seq IS NULL OR s.seq IS NULL;
ALTER SERVER split OPTIONS (DROP max_concurrency);

-- ===================================================================
-- a child is read only after its parent, whatever the concurrency
-- ===================================================================
CREATE FOREIGN TABLE split_stream (shard_id text, seq numeric)
  SERVER split OPTIONS (table_name 'Split', max_concurrency '64');
SELECT shard_id, seq FROM split_stream;

-- ===================================================================
-- under a pushed LIMIT, one shard at a time and no page beyond the need
-- ===================================================================
SELECT * FROM explain_filter('SELECT * FROM wide LIMIT 60', 'Requests|Shards|Records Received')
  AS explain_requests;
SELECT count(*) FROM (SELECT * FROM wide LIMIT 60) l;

-- ===================================================================
-- errors
-- ===================================================================
ALTER FOREIGN TABLE wide OPTIONS (ADD max_concurrency '0');             -- ERROR
ALTER FOREIGN TABLE wide OPTIONS (ADD max_concurrency '65');            -- ERROR
ALTER SERVER split OPTIONS (ADD max_concurrency 'many');                -- ERROR

DROP TABLE wide_serial;
DROP SERVER split CASCADE;
