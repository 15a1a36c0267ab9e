--
-- lineage: streams with many shards, served by test/split_stream_server.py
-- (DynamoDB Local makes one shard per stream and never splits it).
--
-- Stream "Split" (DescribeStream lists children before parents, two shards
-- a page):
--
--   shardId-0000-trimmed          (no longer listed: trimmed, counts as read)
--   └─ shardId-0001-root          closed  ...001 ...003
--      ├─ shardId-0002-left       closed  ...011 ...013
--      │  └─ shardId-0004-leftchild  open ...031 ...032, after 2 empty pages
--      └─ shardId-0003-right      closed  ...021 ...022
--         └─ shardId-0005-rightchild open, no records
--
\set server split
\i sql/include/setup.sql

-- test/split_stats prints the requests the server received since the last
-- test/split_stats --reset, per operation and per shard.

CREATE FOREIGN TABLE split_stream (shard_id text, seq numeric, event_name text, keys jsonb)
  SERVER split OPTIONS (table_name 'Split');

-- The root's REMOVE was done by Time to Live: user_identity says so.
CREATE FOREIGN TABLE split_identity (event_name text, user_identity jsonb, new_image jsonb, old_image jsonb)
  SERVER split OPTIONS (table_name 'Split');
SELECT * FROM split_identity LIMIT 3;

-- ===================================================================
-- every shard, parents before children, each shard in sequence order
-- ===================================================================
SELECT shard_id, seq, event_name, keys FROM split_stream;

-- What it took: DescribeStream followed LastEvaluatedShardId over 3 pages;
-- closed shards ended at their EndingSequenceNumber (one GetRecords each);
-- the open leftchild was read through its 2 empty pages to its records and
-- ended at the empty page after them (4 requests); the open rightchild, with
-- no records, ended after empty_page_limit (3) empty pages.
SELECT explain_filter('SELECT * FROM split_stream') AS explain_analyze;

-- ===================================================================
-- empty_page_limit: how many empty pages in a row end an open shard
-- ===================================================================
ALTER FOREIGN TABLE split_stream OPTIONS (ADD empty_page_limit '2');
-- leftchild's 2 empty pages now end it before its records: the scan returns
-- what lies before the gap; a later scan (seq > max(seq)) gets the rest.
SELECT shard_id, count(*) FROM split_stream GROUP BY 1 ORDER BY 1;
ALTER FOREIGN TABLE split_stream OPTIONS (DROP empty_page_limit);

-- An open shard also ends after a page holding a record created after the
-- scan started: stream "Fresh" has 3 records stamped an hour ahead, read
-- one a page.
CREATE FOREIGN TABLE fresh_stream (seq numeric) SERVER split
  OPTIONS (table_name 'Fresh', page_size '1');
SELECT seq FROM fresh_stream;

-- ===================================================================
-- pages: page_size is GetRecords' Limit
-- ===================================================================
CREATE FOREIGN TABLE gappy_stream (seq numeric, keys jsonb)
  SERVER split OPTIONS (table_name 'Gappy', page_size '2');
-- A closed shard with empty pages in the middle is read to its end: only
-- the absence of NextShardIterator ends a closed shard.
SELECT seq, keys FROM gappy_stream;
SELECT explain_filter('SELECT * FROM gappy_stream') AS explain_analyze;

-- ===================================================================
-- at_sequence_number: shards that end before the number get no request
-- ===================================================================
ALTER FOREIGN TABLE split_stream
  OPTIONS (ADD iterator_type 'at_sequence_number', ADD sequence_number '100000000000000000012');
\! test/split_stats --reset
SELECT shard_id, seq FROM split_stream;
\! test/split_stats
ALTER FOREIGN TABLE split_stream
  OPTIONS (SET iterator_type 'after_sequence_number', SET sequence_number '100000000000000000013');
SELECT shard_id, seq FROM split_stream;

-- latest: only shards open when the scan starts are read (nothing new here)
ALTER FOREIGN TABLE split_stream OPTIONS (SET iterator_type 'latest', DROP sequence_number);
\! test/split_stats --reset
SELECT count(*) FROM split_stream;
\! test/split_stats

-- ===================================================================
-- many shards, an empty stream, a table without a stream
-- ===================================================================
CREATE FOREIGN TABLE wide_stream (shard_id text) SERVER split OPTIONS (table_name 'Wide');
SELECT count(*) AS records, count(DISTINCT shard_id) AS shards FROM wide_stream;
CREATE FOREIGN TABLE empty_stream (seq numeric) SERVER split OPTIONS (table_name 'Empty');
SELECT count(*) FROM empty_stream;
CREATE FOREIGN TABLE nostream (seq numeric) SERVER split OPTIONS (table_name 'NoStream');
SELECT count(*) FROM nostream;                                                -- ERROR

DROP SERVER split CASCADE;
