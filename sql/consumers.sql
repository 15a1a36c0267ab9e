--
-- consumers: a foreign table with option "consumer" returns each stream
-- record once.  Its positions are rows of ddbstream_fdw.checkpoints, written
-- in the transaction that read the records.
--
\set server ddb
\i sql/include/setup.sql

\! test/create_table Accounts
\! for i in 1 2 3; do test/ddb put-item --table-name Accounts --item "{\"id\":{\"S\":\"a$i\"},\"balance\":{\"N\":\"$i\"}}"; done

CREATE FOREIGN TABLE accounts_feed (
  event_id text, event_name text, seq numeric, shard_id text,
  created_at timestamptz, keys jsonb, new_image jsonb, old_image jsonb
) SERVER ddb OPTIONS (table_name 'Accounts', consumer 'ledger');

-- A change log: event_id is unique, so a record copied twice would fail.
CREATE TABLE account_changes (LIKE accounts_feed, PRIMARY KEY (event_id));

-- Positions, per consumer and shard, without the shard's changing name.
CREATE VIEW positions AS
  SELECT consumer, sequence_number IS NOT NULL AS has_position, shard_finished
  FROM ddbstream_fdw.checkpoints ORDER BY consumer;

-- ===================================================================
-- the first scan starts at iterator_type (trim_horizon); each record once
-- ===================================================================
INSERT INTO account_changes SELECT * FROM accounts_feed;
SELECT event_name, keys FROM account_changes ORDER BY seq;
SELECT * FROM positions;
-- The checkpoint is the last record copied.
SELECT c.sequence_number = (SELECT max(seq) FROM account_changes) AS at_last_copied
FROM ddbstream_fdw.checkpoints c WHERE c.consumer = 'ledger';
-- Nothing new: nothing returned.
INSERT INTO account_changes SELECT * FROM accounts_feed;
SELECT count(*) FROM account_changes;

-- New changes: only those.
\! test/ddb update-item --table-name Accounts --key '{"id":{"S":"a1"}}' --update-expression 'SET balance = :b' --expression-attribute-values '{":b":{"N":"10"}}'
\! test/ddb delete-item --table-name Accounts --key '{"id":{"S":"a2"}}'
INSERT INTO account_changes SELECT * FROM accounts_feed;
SELECT event_name, keys, new_image ->> 'balance' AS balance FROM account_changes ORDER BY seq;

-- ===================================================================
-- ROLLBACK keeps neither the rows nor the positions
-- ===================================================================
\! test/ddb put-item --table-name Accounts --item '{"id":{"S":"a4"},"balance":{"N":"4"}}'
BEGIN;
INSERT INTO account_changes SELECT * FROM accounts_feed;
SELECT count(*) AS read_in_transaction FROM account_changes;
ROLLBACK;
INSERT INTO account_changes SELECT * FROM accounts_feed;
SELECT event_name, keys FROM account_changes ORDER BY seq DESC LIMIT 1;

-- A savepoint rolled back undoes its scan's positions too.
\! test/ddb put-item --table-name Accounts --item '{"id":{"S":"a5"},"balance":{"N":"5"}}'
BEGIN;
SAVEPOINT copy;
INSERT INTO account_changes SELECT * FROM accounts_feed;
ROLLBACK TO SAVEPOINT copy;
INSERT INTO account_changes SELECT * FROM accounts_feed;
COMMIT;
SELECT count(*), count(DISTINCT event_id) FROM account_changes;

-- An error after the scan rolls its positions back with everything else.
\! test/ddb put-item --table-name Accounts --item '{"id":{"S":"a6"},"balance":{"N":"6"}}'
-- (the feed returns a6, then a row already copied fails the primary key)
\set VERBOSITY terse
INSERT INTO account_changes
  SELECT * FROM accounts_feed
  UNION ALL SELECT * FROM account_changes WHERE keys ->> 'id' = 'a1';  -- ERROR
\set VERBOSITY default
INSERT INTO account_changes SELECT * FROM accounts_feed;
SELECT event_name, keys FROM account_changes ORDER BY seq DESC LIMIT 1;

-- ===================================================================
-- a plain SELECT consumes what it returns: a LIMIT or a cursor leaves the
-- rest for the next scan
-- ===================================================================
\! for i in 7 8 9; do test/ddb put-item --table-name Accounts --item "{\"id\":{\"S\":\"a$i\"}}"; done
SELECT keys FROM accounts_feed LIMIT 1;
BEGIN;
DECLARE c CURSOR FOR SELECT keys FROM accounts_feed;
FETCH 1 FROM c;
COMMIT;
SELECT keys FROM accounts_feed;
SELECT keys FROM accounts_feed;

-- ===================================================================
-- two consumers of one stream keep separate positions
-- ===================================================================
CREATE FOREIGN TABLE audit_feed (event_name text, keys jsonb)
  SERVER ddb OPTIONS (table_name 'Accounts', consumer 'audit');
SELECT count(*) FROM audit_feed;         -- all 9 creations and the 2 changes
\! test/ddb put-item --table-name Accounts --item '{"id":{"S":"a10"}}'
SELECT keys FROM audit_feed;
SELECT keys FROM accounts_feed;
SELECT * FROM positions;

-- A scan run again in one statement (here a subquery run per outer row)
-- returns the same records on every pass, as any rescan does; they are
-- consumed once.
\! for i in 14 15; do test/ddb put-item --table-name Accounts --item "{\"id\":{\"S\":\"a$i\"}}"; done
SELECT g, (SELECT string_agg(keys ->> 'id', ' ') FROM audit_feed WHERE g > 0) AS ids
FROM generate_series(1, 3) g;
SELECT count(*) AS nothing_left FROM audit_feed;

-- A table without the option reads everything, and consumes nothing.
CREATE FOREIGN TABLE accounts_stream (event_name text, keys jsonb)
  SERVER ddb OPTIONS (table_name 'Accounts');
SELECT count(*) FROM accounts_stream;

-- ===================================================================
-- inspecting and resetting positions is ordinary SQL
-- ===================================================================
-- Lag: records not read yet, per shard, and the age of the oldest.
\! test/ddb put-item --table-name Accounts --item '{"id":{"S":"a11"}}'
\! test/ddb put-item --table-name Accounts --item '{"id":{"S":"a12"}}'
SELECT shard_open, sequence_number IS NOT NULL AS has_position, shard_finished,
       records_behind, oldest_pending IS NOT NULL AS has_oldest,
       seconds_behind BETWEEN 0 AND 600 AS seconds_behind_ok
FROM ddbstream_fdw.consumer_lag('accounts_feed');
-- Measuring lag consumed nothing.
SELECT keys FROM accounts_feed;
SELECT records_behind, oldest_pending, seconds_behind
FROM ddbstream_fdw.consumer_lag('accounts_feed');

-- Rewind: set the position back, and the records after it come again.
UPDATE ddbstream_fdw.checkpoints SET sequence_number =
  (SELECT seq FROM account_changes WHERE keys ->> 'id' = 'a5')
WHERE consumer = 'ledger';
SELECT event_name, keys FROM accounts_feed LIMIT 2;
-- Reset: without positions, the consumer starts over at iterator_type.
DELETE FROM ddbstream_fdw.checkpoints WHERE consumer = 'audit';
SELECT count(*) FROM audit_feed;

-- A consumer can start at a sequence number instead of trim_horizon.
SELECT seq AS a6_seq FROM account_changes WHERE keys ->> 'id' = 'a6' \gset
CREATE FOREIGN TABLE late_feed (keys jsonb) SERVER ddb
  OPTIONS (table_name 'Accounts', consumer 'late',
           iterator_type 'after_sequence_number', sequence_number :'a6_seq');
SELECT keys FROM late_feed;
SELECT count(*) FROM late_feed;

-- ===================================================================
-- what EXPLAIN shows; EXPLAIN without ANALYZE reads and consumes nothing
-- ===================================================================
EXPLAIN (COSTS OFF) SELECT * FROM accounts_feed;
\! test/ddb put-item --table-name Accounts --item '{"id":{"S":"a13"}}'
SELECT * FROM explain_filter('SELECT * FROM accounts_feed WHERE keys ->> ''id'' = ''none''')
  AS line;
-- EXPLAIN ANALYZE ran the scan, and consumed what it read.
SELECT count(*) FROM accounts_feed;

-- ===================================================================
-- errors
-- ===================================================================
-- A read-only transaction cannot save positions: the scan refuses to start.
BEGIN READ ONLY;
SELECT count(*) FROM accounts_feed;                                     -- ERROR
ROLLBACK;
SET default_transaction_read_only = on;
SELECT count(*) FROM accounts_feed;                                     -- ERROR
RESET default_transaction_read_only;
-- Lag needs a consumer, of this wrapper.
SELECT * FROM ddbstream_fdw.consumer_lag('accounts_stream');            -- ERROR
SELECT * FROM ddbstream_fdw.consumer_lag('account_changes');            -- ERROR
-- Options.
CREATE FOREIGN TABLE bad_feed (keys jsonb) SERVER ddb
  OPTIONS (table_name 'Accounts', consumer '');                         -- ERROR
CREATE FOREIGN TABLE bad_feed (keys jsonb) SERVER ddb
  OPTIONS (table_name 'Accounts', consumer 'x', iterator_type 'latest'); -- ERROR
ALTER FOREIGN TABLE accounts_stream OPTIONS (ADD iterator_type 'latest', ADD consumer 'x'); -- ERROR
-- A user who may not write the checkpoints cannot consume: the hint names
-- the grants.
CREATE ROLE consumers_reader;
CREATE FOREIGN TABLE reader_feed (keys jsonb)
  SERVER ddb OPTIONS (table_name 'Accounts', consumer 'reader');
GRANT SELECT ON reader_feed TO consumers_reader;
CREATE USER MAPPING FOR consumers_reader SERVER ddb
  OPTIONS (access_key_id 'readerkey', secret_access_key 'readersecret');
SET ROLE consumers_reader;
SELECT count(*) FROM reader_feed;                                       -- ERROR
RESET ROLE;
-- Granted, it can (consumers of other roles stay out of its reach: see
-- consumer_roles).
GRANT USAGE ON SCHEMA ddbstream_fdw TO consumers_reader;
GRANT SELECT, INSERT, UPDATE, DELETE
  ON ddbstream_fdw.consumers, ddbstream_fdw.checkpoints TO consumers_reader;
SET ROLE consumers_reader;
SELECT count(*) > 0 AS read_all FROM reader_feed;
SELECT count(*) FROM reader_feed;
RESET ROLE;

DROP OWNED BY consumers_reader;
DROP ROLE consumers_reader;
\! test/ddb delete-table --table-name Accounts > /dev/null
DELETE FROM ddbstream_fdw.checkpoints;
DELETE FROM ddbstream_fdw.consumers;
DROP VIEW positions;
DROP TABLE account_changes;
DROP SERVER ddb CASCADE;
