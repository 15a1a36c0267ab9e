--
-- pushdown: conditions on seq and shard_id, and LIMIT, decide what is read.
--
-- PostgreSQL still checks every condition on every row, so results are the
-- same with and without pushdown; EXPLAIN ANALYZE shows the work saved.
--
\set server ddb
\i sql/include/setup.sql

-- 5,000 records, read 1,000 a page.
\! test/load_items.py PushItems 5000
CREATE FOREIGN TABLE push_stream (seq numeric, shard_id text, keys jsonb, new_image jsonb)
  SERVER ddb OPTIONS (table_name 'PushItems', page_size '1000');

-- A local copy to compare with: the same rows without any pushdown.
CREATE TABLE push_copy AS SELECT * FROM push_stream;
CREATE TABLE marks AS SELECT min(seq) AS lo, max(seq) AS hi FROM push_copy;
SELECT count(*) FROM push_copy;

-- EXPLAIN ANALYZE without the byte count (it depends on timestamps) and the
-- lines that are the same for every scan of push_stream.
\set same_lines 'Bytes Received|DynamoDB Table|Iterator Type|Shards Listed|DescribeTable|DescribeStream'

-- ===================================================================
-- seq > (subquery): read only what lies after it
-- ===================================================================
-- The bound is an initplan, evaluated when the scan starts; the shard is
-- read AFTER_SEQUENCE_NUMBER it: one page of 10 records, then one empty page
-- that shows the scan has caught up.
SELECT explain_filter('SELECT count(*) FROM push_stream WHERE seq > (SELECT hi - 10 FROM marks)',
                      skip => :'same_lines') AS explain_analyze;
SELECT count(*) FROM push_stream WHERE seq > (SELECT hi - 10 FROM marks);

-- ===================================================================
-- LIMIT: stop after n rows and ask GetRecords for no more
-- ===================================================================
SELECT explain_filter('SELECT keys FROM push_stream LIMIT 5', skip => :'same_lines') AS explain_analyze;
SELECT s.keys = c.keys AS same_rows
FROM (SELECT keys, row_number() OVER () AS n FROM (SELECT keys FROM push_stream LIMIT 5) x) s
JOIN (SELECT keys, row_number() OVER (ORDER BY seq) AS n FROM push_copy) c USING (n);
-- A local condition that is not pushed stands in the way: no record limit.
EXPLAIN (COSTS OFF) SELECT keys FROM push_stream WHERE new_image ->> 'brand' = 'Nokia' LIMIT 5;
-- So does ORDER BY.
EXPLAIN (COSTS OFF) SELECT keys FROM push_stream ORDER BY seq DESC LIMIT 5;
-- A pushed condition does not.
EXPLAIN (COSTS OFF) SELECT keys FROM push_stream WHERE seq > 5 LIMIT 5;
-- seq IN only positions the scan (records between the values are filtered
-- by PostgreSQL), so it is no exact condition: the LIMIT stays above.
SELECT (SELECT seq FROM push_copy ORDER BY seq LIMIT 1 OFFSET 2) AS third,
       (SELECT seq FROM push_copy ORDER BY seq LIMIT 1 OFFSET 6) AS seventh \gset
SELECT EXISTS (SELECT FROM explain_filter(
                 format('SELECT keys FROM push_stream WHERE seq IN (%s, %s) LIMIT 2', :'third', :'seventh'),
                 'Record Limit', plan_only => true)) AS in_list_limit_pushed,
       EXISTS (SELECT FROM explain_filter('SELECT keys FROM push_stream WHERE seq > 5 LIMIT 2',
                 'Record Limit', plan_only => true)) AS range_limit_pushed;
SELECT count(*) FROM (SELECT keys FROM push_stream WHERE seq IN (:third, :seventh) LIMIT 2) x;

-- ===================================================================
-- parameters: prepared statements (also as generic plans), PL/pgSQL
-- ===================================================================
PREPARE after_seq(numeric) AS SELECT count(*) FROM push_stream WHERE seq > $1;
SET plan_cache_mode = force_generic_plan;
EXPLAIN (COSTS OFF) EXECUTE after_seq(1);
SELECT hi - 3 AS bound FROM marks \gset
EXECUTE after_seq(:bound);
EXECUTE after_seq(NULL);
RESET plan_cache_mode;
-- the sixth and later executions of a custom plan as well
SELECT hi - 7 AS bound FROM marks \gset
EXECUTE after_seq(:bound);
EXECUTE after_seq(:bound);
EXECUTE after_seq(:bound);
EXECUTE after_seq(:bound);
EXECUTE after_seq(:bound);
EXECUTE after_seq(:bound);
EXECUTE after_seq(:bound);
DEALLOCATE after_seq;

CREATE FUNCTION changes_after(since numeric) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  n bigint;
BEGIN
  SELECT count(*) INTO n FROM push_stream WHERE seq > since;
  RETURN n;
END
$$;
SELECT changes_after(hi - 42) FROM marks;
SELECT changes_after(0);

-- ===================================================================
-- every pushed form gives the rows PostgreSQL alone gives
-- ===================================================================
CREATE FUNCTION same_as_copy(cond text, stream text DEFAULT 'push_stream',
                             copy text DEFAULT 'push_copy') RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  a bigint;
  b bigint;
  sa numeric;
  sb numeric;
BEGIN
  EXECUTE format('SELECT count(*), sum(seq) FROM %I, marks WHERE %s', stream, cond) INTO a, sa;
  EXECUTE format('SELECT count(*), sum(seq) FROM %I, marks WHERE %s', copy, cond) INTO b, sb;
  RETURN format('%s: %s rows, %s', cond, a, CASE WHEN a = b AND sa IS NOT DISTINCT FROM sb THEN 'same' ELSE 'DIFFERENT' END);
END
$$;
SELECT same_as_copy(c) FROM (VALUES
  ('seq > hi - 100'), ('seq >= hi - 100'), ('seq = hi - 100'), ('seq < lo + 100'),
  ('seq <= lo + 100'), ('seq BETWEEN lo + 10 AND lo + 20'), ('seq > lo + 10.5'),
  ('seq >= lo + 10.5'), ('seq = lo + 10.5'), ('seq < lo + 10.5'), ('seq <= lo + 10.5'),
  ('seq IN (lo + 1, lo + 3, hi)'), ('seq = ANY (ARRAY[lo, hi, NULL])'),
  ('seq > hi'), ('seq > hi + 1000'), ('seq < lo'), ('seq > -1'), ('seq < 0'),
  ('seq > 1e50'), ('seq < 1e50'), ('lo + 5 < seq AND seq < lo + 8'),
  ('seq > lo + 100 AND seq < lo + 50'), ('seq > lo AND seq > lo + 2500'),
  ('seq > NULL')
) v(c);

-- ===================================================================
-- projection: only the columns used are built
-- ===================================================================
EXPLAIN (VERBOSE, COSTS OFF) SELECT count(*) FROM push_stream;
EXPLAIN (VERBOSE, COSTS OFF) SELECT seq FROM push_stream WHERE keys ? 'id';

-- ===================================================================
-- rescans with a changing parameter (nested loop, LATERAL)
-- ===================================================================
CREATE TABLE offsets (back int);
INSERT INTO offsets VALUES (1), (5), (25);
SELECT o.back, x.n
FROM offsets o, marks m,
     LATERAL (SELECT count(*) AS n FROM push_stream s WHERE s.seq > m.hi - o.back) x
ORDER BY 1;

-- ===================================================================
-- shard_id and seq on a stream of many shards (the split-stream server)
-- ===================================================================
CREATE SERVER split FOREIGN DATA WRAPPER ddbstream_fdw
  OPTIONS (region 'us-east-1', endpoint :'split_endpoint');
CREATE USER MAPPING FOR CURRENT_USER SERVER split
  OPTIONS (access_key_id 'splitkey', secret_access_key 'splitsecret');
CREATE FOREIGN TABLE split_stream (shard_id text, seq numeric)
  SERVER split OPTIONS (table_name 'Split');

-- Only the shards named are read; the others get no request.
\! test/split_stats --reset
SELECT shard_id, seq FROM split_stream WHERE shard_id = 'shardId-0003-right';
SELECT shard_id, seq FROM split_stream
WHERE shard_id IN ('shardId-0002-left', 'shardId-0004-leftchild') AND seq >= 100000000000000000013;
\! test/split_stats

-- Sequence numbers are ordered within a shard, not across shards: seq > x
-- returns every record above x in every shard, but a record of one shard can
-- have a lower number than one already seen in another.  Closed shards that
-- end at or below the bound get no request.
\! test/split_stats --reset
SELECT shard_id, seq FROM split_stream WHERE seq > 100000000000000000012;
\! test/split_stats
-- An upper bound skips shards that start above it and stops reading a
-- shard at the first record above it.
\! test/split_stats --reset
SELECT shard_id, seq FROM split_stream WHERE seq <= 100000000000000000012;
\! test/split_stats
EXPLAIN (COSTS OFF) SELECT * FROM split_stream
WHERE seq BETWEEN 100000000000000000002 AND 100000000000000000012 AND shard_id <> 'x';

-- The same rows with and without pushdown on the split stream too.
CREATE TABLE split_copy AS SELECT * FROM split_stream;
SELECT same_as_copy(c, 'split_stream', 'split_copy') FROM (VALUES
  ('seq > 100000000000000000002'), ('seq >= 100000000000000000013'),
  ('seq < 100000000000000000022'), ('seq = 100000000000000000031'),
  ('seq BETWEEN 100000000000000000003 AND 100000000000000000021'),
  ('seq IN (100000000000000000001, 100000000000000000032)'),
  ('shard_id = ''shardId-0002-left'''), ('shard_id IN (''shardId-0001-root'', ''nope'')'),
  ('shard_id = ''shardId-0003-right'' AND seq > 100000000000000000021')
) v(c);
DROP TABLE split_copy;

DROP FUNCTION same_as_copy(text, text, text);
DROP FUNCTION changes_after(numeric);
DROP TABLE push_copy, marks, offsets;
\! test/ddb delete-table --table-name PushItems > /dev/null
DROP SERVER ddb CASCADE;
DROP SERVER split CASCADE;
