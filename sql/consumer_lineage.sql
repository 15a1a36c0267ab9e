--
-- consumer_lineage: a consumer's positions follow shard lineage, on the
-- scripted stream "Split" of test/split_stream_server.py:
--
--   shardId-0001-root          closed  ...001 ...003
--   ├─ shardId-0002-left       closed  ...011 ...013
--   │  └─ shardId-0004-leftchild  open ...031 ...032, after 2 empty pages
--   └─ shardId-0003-right      closed  ...021 ...022
--      └─ shardId-0005-rightchild open, no records
--
-- A finished shard is never read again; a child starts at its beginning.
--
\set server split
\i sql/include/setup.sql

CREATE FOREIGN TABLE split_feed (shard_id text, seq numeric)
  SERVER split OPTIONS (table_name 'Split', consumer 'lineage');

CREATE VIEW lineage_positions AS
  SELECT shard_id, sequence_number, shard_finished
  FROM ddbstream_fdw.checkpoints WHERE consumer = 'lineage' ORDER BY shard_id;

-- ===================================================================
-- stopped inside "left": "root" is finished, "left" is part read
-- ===================================================================
SELECT shard_id, seq FROM split_feed LIMIT 4;
SELECT * FROM lineage_positions;

-- ===================================================================
-- the next scan: "root" is not asked for at all; "left" goes on after 011;
-- the children start at their beginning
-- ===================================================================
\! test/split_stats --reset
SELECT shard_id, seq FROM split_feed;
\! test/split_stats
SELECT * FROM lineage_positions;

-- Lag: nothing pending; the open shards are listed with the closed ones.
SELECT shard_id, parent_shard_id, shard_open, sequence_number, shard_finished,
       records_behind, seconds_behind
FROM ddbstream_fdw.consumer_lag('split_feed');

-- ===================================================================
-- once everything is read, only the open shards are asked for
-- ===================================================================
\! test/split_stats --reset
SELECT count(*) FROM split_feed;
\! test/split_stats

-- ===================================================================
-- a position in a shard that was trimmed away before the consumer
-- finished it: records were lost
-- ===================================================================
SELECT DISTINCT stream_arn AS split_arn FROM ddbstream_fdw.checkpoints
WHERE consumer = 'lineage' \gset
INSERT INTO ddbstream_fdw.checkpoints (consumer, stream_arn, shard_id, sequence_number)
VALUES ('lineage', :'split_arn', 'shardId-0000-trimmed', 100000000000000000000);
SELECT count(*) FROM split_feed;                                        -- ERROR
-- With on_trimmed 'skip' the scan warns and forgets the position.
ALTER FOREIGN TABLE split_feed OPTIONS (ADD on_trimmed 'skip');
SELECT count(*) FROM split_feed;
SELECT count(*) FROM ddbstream_fdw.checkpoints WHERE shard_id = 'shardId-0000-trimmed';

-- ===================================================================
-- EXPLAIN ANALYZE counts a shard the plan skips once, also for a
-- consumer: "root" ends before the seq bound (5 listed, 4 read, 1 skipped)
-- ===================================================================
CREATE FOREIGN TABLE skips_feed (shard_id text, seq numeric)
  SERVER split OPTIONS (table_name 'Split', consumer 'skips');
SELECT explain_filter('SELECT * FROM skips_feed WHERE seq > 100000000000000000012',
                      'Shards', trimmed => true) AS line;
DELETE FROM ddbstream_fdw.checkpoints WHERE consumer = 'skips';
DELETE FROM ddbstream_fdw.consumers WHERE consumer = 'skips';

DELETE FROM ddbstream_fdw.checkpoints WHERE consumer = 'lineage';
DELETE FROM ddbstream_fdw.consumers WHERE consumer = 'lineage';
DROP VIEW lineage_positions;
DROP SERVER split CASCADE;
