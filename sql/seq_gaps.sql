--
-- seq_gaps: a bound on seq between a shard's start and its first record.
--
-- DynamoDB Local numbers the records of all its tables from one counter, so
-- the numbers between one stream's records belong to other tables, and it
-- refuses a position before a shard's first record as trimmed
-- (TrimmedDataAccessException), though no record was ever there.  A bound
-- given as a number is read from the shard's oldest record with the records
-- up to the bound skipped: the right rows, no error, no warning.  A
-- consumer's position is a record's: trimmed there, records really were
-- trimmed, and on_trimmed applies.
--
\i sql/include/setup.sql
CREATE SERVER gaps FOREIGN DATA WRAPPER ddbstream_fdw
  OPTIONS (region 'us-east-1', endpoint :'ddb_endpoint');
CREATE USER MAPPING FOR CURRENT_USER SERVER gaps
  OPTIONS (access_key_id 'gapkey', secret_access_key 'gapsecret');

-- Three tables, then their items written in turn: GapA-1, GapB-1, GapC-1,
-- GapA-2, ...  GapC's shard starts before GapA-1's number.
\! for t in GapA GapB GapC; do test/create_table $t --view KEYS_ONLY; done
\! for i in 1 2 3; do for t in GapA GapB GapC; do test/ddb put-item --table-name $t --item "{\"id\":{\"S\":\"$t-$i\"}}"; done; done

CREATE FOREIGN TABLE gap_c (seq numeric, keys jsonb)
  SERVER gaps OPTIONS (table_name 'GapC');
CREATE FOREIGN TABLE gap_all (seq numeric, keys jsonb)
  SERVER gaps OPTIONS (table_name 'GapA');
SELECT keys ->> 'id' AS id FROM gap_c;
-- GapC-1's number, and the two before it: GapA-1's and GapB-1's
SELECT min(seq) AS c1, min(seq) - 1 AS b1, min(seq) - 2 AS a1 FROM gap_c \gset
SELECT count(*) AS gapa_1_holds_a1 FROM gap_all WHERE seq = :a1 AND keys ->> 'id' = 'GapA-1';

-- ===================================================================
-- bounds in the gap before GapC's first record
-- ===================================================================
SELECT keys ->> 'id' AS id FROM gap_c WHERE seq > :a1;
SELECT keys ->> 'id' AS id FROM gap_c WHERE seq >= :b1;
SELECT keys ->> 'id' AS id FROM gap_c WHERE seq > :b1;
SELECT keys ->> 'id' AS id FROM gap_c WHERE seq = :c1;
SELECT keys ->> 'id' AS id FROM gap_c WHERE seq IN (:a1, :c1 + 3);
-- seq > $1, the parameter in the gap
PREPARE gap_after(numeric) AS SELECT keys ->> 'id' AS id FROM gap_c WHERE seq > $1;
EXECUTE gap_after(:a1);
-- The refused position costs a second GetShardIterator, from the shard's
-- start; GetRecords is asked once more.
SELECT * FROM explain_filter(format('SELECT * FROM gap_c WHERE seq > %s', :a1),
                             'GetShardIterator|GetRecords', trimmed => true) AS gap_work;

-- ===================================================================
-- bounds between records, and past the last one
-- ===================================================================
SELECT keys ->> 'id' AS id FROM gap_c WHERE seq > :c1 + 1;
SELECT keys ->> 'id' AS id FROM gap_c WHERE seq >= :c1 + 2 AND seq < :c1 + 4;
SELECT keys ->> 'id' AS id FROM gap_c WHERE seq > :c1 + 7;

-- ===================================================================
-- iterator_type after_sequence_number and at_sequence_number in the gap:
-- no error, and no warning with on_trimmed 'skip' either
-- ===================================================================
ALTER FOREIGN TABLE gap_c
  OPTIONS (ADD iterator_type 'after_sequence_number', ADD sequence_number :'a1');
SELECT keys ->> 'id' AS id FROM gap_c;
ALTER FOREIGN TABLE gap_c OPTIONS (ADD on_trimmed 'skip');
SELECT keys ->> 'id' AS id FROM gap_c;
ALTER FOREIGN TABLE gap_c
  OPTIONS (SET iterator_type 'at_sequence_number', SET sequence_number :'b1');
SELECT keys ->> 'id' AS id FROM gap_c;
ALTER FOREIGN TABLE gap_c
  OPTIONS (DROP iterator_type, DROP sequence_number, DROP on_trimmed);

-- ===================================================================
-- consumers: a pushed bound in the gap, then a trimmed position
-- ===================================================================
-- Through test/fault_proxy.py, to make the trim real.
\! test/fault reset
CREATE SERVER gaps_faulty FOREIGN DATA WRAPPER ddbstream_fdw
  OPTIONS (region 'us-east-1', endpoint :'fault_endpoint', max_retries '0');
CREATE USER MAPPING FOR CURRENT_USER SERVER gaps_faulty
  OPTIONS (access_key_id 'gapkey', secret_access_key 'gapsecret');
CREATE FOREIGN TABLE gap_c_feed (seq numeric, keys jsonb)
  SERVER gaps_faulty OPTIONS (table_name 'GapC', consumer 'gaps');
-- The first read starts at the bound, in the gap: every record after it.
SELECT keys ->> 'id' AS id FROM gap_c_feed WHERE seq > :a1;
-- The consumer's position is now GapC-3, a record's number.  Should the
-- stream have trimmed it, records after it may be lost: an error.
\! test/ddb put-item --table-name GapC --item '{"id":{"S":"GapC-4"}}'
\! test/fault add GetRecords 1 status status=400 type=TrimmedDataAccessException message='Trimmed'
\set VERBOSITY terse
SELECT keys ->> 'id' AS id FROM gap_c_feed;                                   -- ERROR
\set VERBOSITY default
-- Nothing was consumed by the failed scan.
SELECT keys ->> 'id' AS id FROM gap_c_feed;
\! test/fault reset

\! for t in GapA GapB GapC; do test/ddb delete-table --table-name $t > /dev/null; done
DELETE FROM ddbstream_fdw.checkpoints WHERE consumer = 'gaps';
DELETE FROM ddbstream_fdw.consumers WHERE consumer = 'gaps';
SET client_min_messages = warning;
DROP SERVER gaps CASCADE;
DROP SERVER gaps_faulty CASCADE;
RESET client_min_messages;
