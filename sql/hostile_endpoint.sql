--
-- hostile_endpoint: answers chosen to hurt, served by test/hostile_server.py.
--
-- Whoever owns a foreign server chooses its endpoint, so any answer may be
-- wrong on purpose.  Each one below ends in the right rows or a clean
-- ERROR: never a crash, a wrong row, or a backend that grows without bound.
-- The backend that ran them is still alive at the end.
--
-- Figures that differ from run to run (times, memory) are not printed here:
-- test/measure appends them to the harness's report.
--
\i sql/include/setup.sql
CREATE SERVER hostile FOREIGN DATA WRAPPER ddbstream_fdw
  OPTIONS (region 'us-east-1', endpoint :'hostile_endpoint');
CREATE USER MAPPING FOR CURRENT_USER SERVER hostile
  OPTIONS (access_key_id 'hostilekey', secret_access_key 'hostilesecret');

-- ===================================================================
-- lineage: 150,000 shards, each the parent of the next
-- ===================================================================
-- DescribeStream lists them deepest first, 100 a page (1,500 pages), and
-- their IDs sort tip first (shardId-000000 is the tip, shardId-149999 the
-- root), so the walk of the lineage starts 150,000 generations deep: it is
-- a loop, not recursion, and costs no stack.  Listing and ordering the
-- shards takes about half a second.
CREATE FOREIGN TABLE chain (shard_id text, seq numeric)
  SERVER hostile OPTIONS (table_name 'Chain');
SELECT pg_backend_pid() AS pid \gset
\set rss_before `test/measure mem :pid VmRSS`
SELECT clock_timestamp() AS t0 \gset
-- The root is read first (parents before children), and only it.
SELECT shard_id, seq FROM chain LIMIT 3;
-- The open tip: the 149,999 shards that end before the bound get no request.
SELECT shard_id, seq FROM chain WHERE seq >= 100000000000001500990;
SELECT round(extract(epoch FROM clock_timestamp() - :'t0') * 1000) AS chain_ms \gset
SELECT :chain_ms < 60000 AS two_scans_in_less_than_a_minute;
\set hwm_after `test/measure mem :pid VmHWM`
\set _ `test/measure note "150,000-shard chain: LIMIT 3 scan and tip scan took :chain_ms ms together; backend peak RSS :hwm_after kB (:rss_before kB before)"`
-- What the scan asked for.
SELECT * FROM explain_filter('SELECT * FROM chain WHERE seq >= 100000000000001500990',
                             'Shards|Requests|Records Received', trimmed => true) AS scan_work;

-- A consumer of the chain: its positions are matched against the 150,000
-- listed shards by sorted search, not one by one.
CREATE FOREIGN TABLE chain_feed (shard_id text, seq numeric)
  SERVER hostile OPTIONS (table_name 'Chain', consumer 'chain');
SELECT clock_timestamp() AS t0 \gset
SELECT shard_id, seq FROM chain_feed LIMIT 2;
SELECT shard_id, seq FROM chain_feed WHERE seq >= 100000000000001500990;
SELECT shard_id, sequence_number, shard_finished FROM ddbstream_fdw.checkpoints
  WHERE consumer = 'chain' ORDER BY shard_id;
SELECT round(extract(epoch FROM clock_timestamp() - :'t0') * 1000) AS feed_ms \gset
\set _ `test/measure note "150,000-shard chain through a consumer: two scans took :feed_ms ms together"`
-- A position at the end of every shard (not yet marked finished): nothing
-- is left to read.  Each position is looked up among the listed shards.
INSERT INTO ddbstream_fdw.checkpoints (consumer, stream_arn, shard_id, sequence_number)
  SELECT 'chain', 'arn:aws:dynamodb:us-east-1:000000000000:table/Chain/stream/2024-01-01T00:00:00.000',
         format('shardId-%s', lpad((149999 - i)::text, 6, '0')), 100000000000000001009 + 10 * i
  FROM generate_series(0, 149999) AS i
  ON CONFLICT (consumer, stream_arn, shard_id)
  DO UPDATE SET sequence_number = excluded.sequence_number;
SELECT clock_timestamp() AS t0 \gset
SELECT count(*) FROM chain_feed;
SELECT round(extract(epoch FROM clock_timestamp() - :'t0') * 1000) AS feed_ms \gset
SELECT :feed_ms < 30000 AS in_less_than_30_s;
\set _ `test/measure note "150,000-shard chain through a consumer with 150,000 positions: scan took :feed_ms ms"`
DELETE FROM ddbstream_fdw.checkpoints WHERE consumer = 'chain';
DELETE FROM ddbstream_fdw.consumers WHERE consumer = 'chain';

-- The same 150,000 shards with the root's parent the tip: a cycle, listed
-- 10,000 a page (more than the 100 asked for, which is accepted).
CREATE FOREIGN TABLE cycle (shard_id text, seq numeric)
  SERVER hostile OPTIONS (table_name 'Cycle');
SELECT clock_timestamp() AS t0 \gset
SELECT * FROM cycle;                                                          -- ERROR
SELECT round(extract(epoch FROM clock_timestamp() - :'t0') * 1000) AS cycle_ms \gset
\set _ `test/measure note "150,000-shard cycle: failed after :cycle_ms ms"`
SELECT 1 AS backend_alive;

-- A shard listed twice would be read twice.
CREATE FOREIGN TABLE twice (seq numeric) SERVER hostile OPTIONS (table_name 'Twice');
SELECT * FROM twice;                                                          -- ERROR

-- A page of more shards than asked for, and a listing whose every page
-- brings a new token: stopped at 200,000 shards, before the backend grows
-- without bound.
CREATE FOREIGN TABLE wide (seq numeric) SERVER hostile OPTIONS (table_name 'Wide');
SELECT * FROM wide;                                                           -- ERROR
CREATE FOREIGN TABLE fresh_tokens (seq numeric)
  SERVER hostile OPTIONS (table_name 'FreshTokens');
SELECT * FROM fresh_tokens;                                                   -- ERROR

-- ===================================================================
-- pages that go backwards, out of range, or nowhere
-- ===================================================================
-- 5, 3, 3: a scan would return a record twice (a consumer too).
CREATE FOREIGN TABLE backwards (event_id text, seq numeric)
  SERVER hostile OPTIONS (table_name 'Backwards');
SELECT * FROM backwards;                                                      -- ERROR
CREATE FOREIGN TABLE backwards_feed (event_id text, seq numeric)
  SERVER hostile OPTIONS (table_name 'Backwards', consumer 'backwards');
SELECT * FROM backwards_feed;                                                 -- ERROR
SELECT count(*) AS positions FROM ddbstream_fdw.checkpoints WHERE consumer = 'backwards';
-- A record numbered past its closed shard's end.
CREATE FOREIGN TABLE out_of_range (seq numeric)
  SERVER hostile OPTIONS (table_name 'OutOfRange');
SELECT * FROM out_of_range;                                                   -- ERROR
-- A member named twice: cJSON would find the first, jsonb keep the last.
CREATE FOREIGN TABLE dup_names (event_id text, record jsonb)
  SERVER hostile OPTIONS (table_name 'DupNames');
SELECT event_id FROM dup_names;                                               -- ERROR
-- Half a UTF-16 surrogate pair is no character: refused at once (cJSON
-- would fail as on a body cut short, and it would be retried); a whole
-- pair is one character.
CREATE FOREIGN TABLE lone_surrogate (event_id text)
  SERVER hostile OPTIONS (table_name 'LoneSurrogate');
SELECT event_id FROM lone_surrogate;                                          -- ERROR
CREATE FOREIGN TABLE surrogates (event_id text)
  SERVER hostile OPTIONS (table_name 'Surrogates');
SELECT event_id FROM surrogates;
-- A closed shard that answers empty pages forever: 1,000 in a row end it.
CREATE FOREIGN TABLE closed_empty (seq numeric)
  SERVER hostile OPTIONS (table_name 'ClosedEmpty');
SELECT * FROM closed_empty;                                                   -- ERROR

-- ===================================================================
-- bounded memory: bodies of 200 MB, and one costly to parse
-- ===================================================================
-- A new session, so that its memory is this section's alone.
\c
SELECT pg_backend_pid() AS pid \gset
\set rss_before `test/measure mem :pid VmRSS`
SELECT clock_timestamp() AS t0 \gset
-- Content-Length 200 MB: refused before a byte of the body is read.
CREATE FOREIGN TABLE huge_declared (seq numeric)
  SERVER hostile OPTIONS (table_name 'HugeDeclared');
SELECT * FROM huge_declared;                                                  -- ERROR
-- 200 MB of spaces inside a JSON string, chunked, with no length: stopped
-- once 16 MB (max_response_bytes) have come in.
CREATE FOREIGN TABLE huge_streamed (seq numeric)
  SERVER hostile OPTIONS (table_name 'HugeStreamed');
SELECT * FROM huge_streamed;                                                  -- ERROR
-- 15 MB of "0,0,0,...": under the limit, but cJSON would spend 650 MB on
-- it.  A body of more than 2,000,000 values is refused before parsing.
CREATE FOREIGN TABLE dense (seq numeric)
  SERVER hostile OPTIONS (table_name 'Dense');
SELECT * FROM dense;                                                          -- ERROR
SELECT round(extract(epoch FROM clock_timestamp() - :'t0') * 1000) AS huge_ms \gset
\set hwm_after `test/measure mem :pid VmHWM`
-- (about 24 MB here, 16 of them the limit; about 48 MB under Valgrind)
SELECT :hwm_after - :rss_before < 100 * 1024 AS peak_grew_less_than_100_mb;
\set _ `test/measure note "200 MB bodies (declared, then streamed) and 15 MB of 7.8 million values: all three failed in :huge_ms ms together; backend peak RSS :hwm_after kB (:rss_before kB before)"`
SELECT 1 AS backend_alive;

-- 16 shards read at once, each answering a valid 12 MB page (under
-- max_response_bytes): the bodies of the requests in flight together are
-- held to 128 MB, so the scan either gets its pages in turn or fails, and
-- the backend stays small either way.
\c
SELECT pg_backend_pid() AS pid \gset
\set rss_before `test/measure mem :pid VmRSS`
CREATE SERVER hostile16 FOREIGN DATA WRAPPER ddbstream_fdw
  OPTIONS (region 'us-east-1', endpoint :'hostile_endpoint', max_concurrency '16');
CREATE USER MAPPING FOR CURRENT_USER SERVER hostile16
  OPTIONS (access_key_id 'hostilekey', secret_access_key 'hostilesecret');
CREATE FOREIGN TABLE budget (seq numeric) SERVER hostile16 OPTIONS (table_name 'Budget');
CREATE FUNCTION try_scan(query text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  n bigint;
BEGIN
  EXECUTE query INTO n;
  RETURN format('returned %s rows', n);
EXCEPTION WHEN OTHERS THEN
  RETURN format('failed: %s', replace(SQLERRM, '"', ''));
END
$$;
SELECT try_scan('SELECT count(*) FROM budget') AS outcome \gset
\set hwm_after `test/measure mem :pid VmHWM`
SELECT :hwm_after - :rss_before < 400 * 1024 AS peak_grew_less_than_400_mb;
\set _ `test/measure note "16 shards of 12 MB pages at once: :outcome; backend peak RSS :hwm_after kB (:rss_before kB before)"`
DROP FUNCTION try_scan(text);
SET client_min_messages = warning;
DROP SERVER hostile16 CASCADE;
RESET client_min_messages;

-- max_response_bytes: an integer from 1024 to 1073741824 (1 GB).
ALTER SERVER hostile OPTIONS (ADD max_response_bytes '1023');                 -- ERROR
ALTER SERVER hostile OPTIONS (ADD max_response_bytes '1073741825');           -- ERROR
ALTER SERVER hostile OPTIONS (ADD max_response_bytes '16MB');                 -- ERROR
-- A valid page of about 100 kB: read under the default limit, refused
-- under 64 kB.
CREATE FOREIGN TABLE big (seq numeric, size_bytes integer)
  SERVER hostile OPTIONS (table_name 'Big');
SELECT * FROM big;
ALTER SERVER hostile OPTIONS (ADD max_response_bytes '65536');
SELECT * FROM big;                                                            -- ERROR
ALTER SERVER hostile OPTIONS (DROP max_response_bytes);

-- A GetRecords page with more records than its Limit asked for.
CREATE FOREIGN TABLE too_many (seq numeric)
  SERVER hostile OPTIONS (table_name 'TooMany', page_size '2');
SELECT * FROM too_many;                                                       -- ERROR

-- Pagination that never ends: DescribeStream's LastEvaluatedShardId, and
-- ListTables' LastEvaluatedTableName (IMPORT FOREIGN SCHEMA), alternate
-- a, b, a, b, ...
CREATE FOREIGN TABLE shard_loop (seq numeric)
  SERVER hostile OPTIONS (table_name 'ShardLoop');
SELECT * FROM shard_loop;                                                     -- ERROR
CREATE SCHEMA hostile_import;
IMPORT FOREIGN SCHEMA dynamodb FROM SERVER hostile INTO hostile_import;       -- ERROR

-- ===================================================================
-- strict JSON: raw NUL bytes and control characters
-- ===================================================================
-- cJSON would end a string at a raw NUL ("abc<NUL>def" read as "abc"):
-- such a body is an invalid response, and no row of its page is returned.
CREATE FOREIGN TABLE raw_nul (event_id text, seq numeric, new_image jsonb)
  SERVER hostile OPTIONS (table_name 'RawNul');
SELECT * FROM raw_nul;                                                        -- ERROR
-- an N value "12<NUL>3", which would have read as 12
CREATE FOREIGN TABLE raw_nul_number (event_id text, seq numeric, new_image jsonb)
  SERVER hostile OPTIONS (table_name 'RawNulNumber');
SELECT * FROM raw_nul_number;                                                 -- ERROR
-- a SequenceNumber cut short by a raw NUL
CREATE FOREIGN TABLE raw_nul_seq (event_id text, seq numeric)
  SERVER hostile OPTIONS (table_name 'RawNulSeq');
SELECT * FROM raw_nul_seq;                                                    -- ERROR
-- a raw control character inside a string, and one between tokens
CREATE FOREIGN TABLE raw_control (event_id text, new_image jsonb)
  SERVER hostile OPTIONS (table_name 'RawControl');
SELECT * FROM raw_control;                                                    -- ERROR
CREATE FOREIGN TABLE raw_between (event_id text)
  SERVER hostile OPTIONS (table_name 'RawBetween');
SELECT * FROM raw_between;                                                    -- ERROR
-- Escapes are stepped over, not mistaken for the end of a string: an
-- eventID q"uote\ (its JSON ends in \\") and a value with \n, \" and \u00e9.
CREATE FOREIGN TABLE escaped (event_id text, seq numeric, new_image jsonb)
  SERVER hostile OPTIONS (table_name 'Escaped');
SELECT * FROM escaped;
-- Nesting deeper than cJSON parses (1,000 levels): an attribute of lists
-- nested 100,000 deep.  Refused at once: a retry would get the same.
CREATE FOREIGN TABLE deep (new_image jsonb)
  SERVER hostile OPTIONS (table_name 'Deep');
SELECT * FROM deep;                                                           -- ERROR
-- 400 maps in maps (about 800 JSON levels) convert, every level kept, as
-- plain and as typed JSON.
CREATE FOREIGN TABLE nested (new_image jsonb, record jsonb)
  SERVER hostile OPTIONS (table_name 'Nested');
SELECT length(new_image::text) AS plain_length, length(record::text) AS record_length,
       new_image #>> string_to_array('deep' || repeat(',a', 400), ',') AS bottom
  FROM nested;
-- An AWS error whose __type holds a raw NUL is named by its HTTP status.
CREATE FOREIGN TABLE error_nul (event_id text)
  SERVER hostile OPTIONS (table_name 'ErrorNul');
SELECT * FROM error_nul;                                                      -- ERROR

-- ===================================================================
-- numbers outside the column type's range
-- ===================================================================
CREATE FOREIGN TABLE size_huge (size_bytes bigint)
  SERVER hostile OPTIONS (table_name 'SizeHuge');
SELECT * FROM size_huge;                                                      -- ERROR
CREATE FOREIGN TABLE size_negative (size_bytes bigint)
  SERVER hostile OPTIONS (table_name 'SizeNegative');
SELECT * FROM size_negative;                                                  -- ERROR
-- 1e999: cJSON reads it as infinity
CREATE FOREIGN TABLE size_infinite (size_bytes integer)
  SERVER hostile OPTIONS (table_name 'SizeInfinite');
SELECT * FROM size_infinite;                                                  -- ERROR
CREATE FOREIGN TABLE size_fraction (size_bytes integer)
  SERVER hostile OPTIONS (table_name 'SizeFraction');
SELECT * FROM size_fraction;                                                  -- ERROR
-- 3000000000 fits bigint, not integer
CREATE FOREIGN TABLE size_big (size_bytes bigint)
  SERVER hostile OPTIONS (table_name 'SizeBig');
SELECT * FROM size_big;
ALTER FOREIGN TABLE size_big ALTER COLUMN size_bytes TYPE integer;
SELECT * FROM size_big;                                                       -- ERROR

SELECT 1 AS backend_alive;

DROP SCHEMA hostile_import;
SET client_min_messages = warning;
DROP SERVER hostile CASCADE;
RESET client_min_messages;
