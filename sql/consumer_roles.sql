--
-- consumer_roles: a consumer belongs to the role that first read through
-- it.  Another role can neither read through it, nor advance, rewind or
-- reset its positions, unless it is a member of the owning role; row-level
-- security on ddbstream_fdw.consumers and ddbstream_fdw.checkpoints hides
-- other roles' consumers.  Positions are finite digit strings.
--
\i sql/include/setup.sql
CREATE SERVER ddb FOREIGN DATA WRAPPER ddbstream_fdw
  OPTIONS (region 'us-east-1', endpoint :'ddb_endpoint');
CREATE USER MAPPING FOR PUBLIC SERVER ddb
  OPTIONS (access_key_id 'roleskey', secret_access_key 'rolessecret');

\! test/create_table Ledger --view KEYS_ONLY
\! for i in 1 2 3; do test/ddb put-item --table-name Ledger --item "{\"id\":{\"S\":\"l$i\"}}"; done

-- alice, bob, and carol who is a member of alice; each with the README's
-- grants.
CREATE ROLE regress_alice;
CREATE ROLE regress_bob;
CREATE ROLE regress_carol IN ROLE regress_alice;
CREATE ROLE regress_staff;
GRANT regress_staff TO regress_alice, regress_bob;
GRANT USAGE ON SCHEMA ddbstream_fdw TO regress_alice, regress_bob, regress_carol;
GRANT SELECT, INSERT, UPDATE, DELETE ON ddbstream_fdw.consumers,
  ddbstream_fdw.checkpoints TO regress_alice, regress_bob, regress_carol;

-- Three foreign tables declaring the same consumer name.
CREATE FOREIGN TABLE alice_feed (keys jsonb)
  SERVER ddb OPTIONS (table_name 'Ledger', consumer 'mirror');
CREATE FOREIGN TABLE bob_feed (keys jsonb)
  SERVER ddb OPTIONS (table_name 'Ledger', consumer 'mirror');
CREATE FOREIGN TABLE carol_feed (keys jsonb)
  SERVER ddb OPTIONS (table_name 'Ledger', consumer 'mirror');
CREATE FOREIGN TABLE bob_own_feed (keys jsonb)
  SERVER ddb OPTIONS (table_name 'Ledger', consumer 'bob_mirror');
GRANT SELECT ON alice_feed TO regress_alice;
GRANT SELECT ON bob_feed, bob_own_feed TO regress_bob;
GRANT SELECT ON carol_feed TO regress_carol;

-- ===================================================================
-- the first reader owns the consumer
-- ===================================================================
SET ROLE regress_alice;
SELECT keys ->> 'id' AS id FROM alice_feed LIMIT 1;
SELECT consumer, owner FROM ddbstream_fdw.consumers;
RESET ROLE;

-- ===================================================================
-- another role can neither read through it nor touch its positions
-- ===================================================================
SET ROLE regress_bob;
SELECT keys ->> 'id' AS id FROM bob_feed;                     -- ERROR
SELECT * FROM ddbstream_fdw.consumer_lag('bob_feed');         -- ERROR
-- It does not see it ...
SELECT count(*) AS consumers_seen FROM ddbstream_fdw.consumers;
SELECT count(*) AS positions_seen FROM ddbstream_fdw.checkpoints;
-- ... and cannot rewind, reset or take it.
UPDATE ddbstream_fdw.checkpoints SET sequence_number = 0;
DELETE FROM ddbstream_fdw.checkpoints;
DELETE FROM ddbstream_fdw.consumers;
UPDATE ddbstream_fdw.consumers SET owner = 'regress_bob';
INSERT INTO ddbstream_fdw.consumers (consumer, stream_arn, owner)
  VALUES ('mirror', 'arn:any', 'regress_alice');               -- ERROR
INSERT INTO ddbstream_fdw.checkpoints (consumer, stream_arn, shard_id, sequence_number)
  VALUES ('mirror', 'arn:any', 'shardId-1', 1);                -- ERROR
-- Positions belong to a consumer row: none can be planted under a name that
-- has none, for the role that takes the name next to inherit.
INSERT INTO ddbstream_fdw.checkpoints (consumer, stream_arn, shard_id, sequence_number)
  VALUES ('unclaimed', 'arn:any', 'shardId-1', 1);             -- ERROR
-- Nor claim a name ahead of alice for a group both belong to.
INSERT INTO ddbstream_fdw.consumers (consumer, stream_arn, owner)
  VALUES ('early', 'arn:any', 'regress_staff');                -- ERROR
-- Its own consumer of the same stream is its own.
SELECT keys ->> 'id' AS id FROM bob_own_feed;
SELECT consumer, owner FROM ddbstream_fdw.consumers;
RESET ROLE;

-- ===================================================================
-- a member of the owning role may use it, and goes on where alice stopped
-- ===================================================================
SET ROLE regress_carol;
SELECT keys ->> 'id' AS id FROM carol_feed;
SELECT consumer, owner FROM ddbstream_fdw.consumers ORDER BY consumer;
RESET ROLE;
SET ROLE regress_alice;
SELECT count(*) AS nothing_left FROM alice_feed;
SELECT shard_open, records_behind FROM ddbstream_fdw.consumer_lag('alice_feed');
RESET ROLE;

-- A superuser sees everything, and can hand a consumer to another role.
SELECT consumer, owner FROM ddbstream_fdw.consumers ORDER BY consumer;
UPDATE ddbstream_fdw.consumers SET owner = 'regress_bob' WHERE consumer = 'mirror';
SET ROLE regress_bob;
\! test/ddb put-item --table-name Ledger --item '{"id":{"S":"l4"}}'
SELECT keys ->> 'id' AS id FROM bob_feed;
RESET ROLE;

-- ===================================================================
-- positions are finite digit strings
-- ===================================================================
\set VERBOSITY terse
INSERT INTO ddbstream_fdw.checkpoints (consumer, stream_arn, shard_id, sequence_number)
  SELECT consumer, stream_arn, 'shardId-x', 'NaN' FROM ddbstream_fdw.consumers
  WHERE consumer = 'mirror';                                   -- ERROR
INSERT INTO ddbstream_fdw.checkpoints (consumer, stream_arn, shard_id, sequence_number)
  SELECT consumer, stream_arn, 'shardId-x', 'Infinity' FROM ddbstream_fdw.consumers
  WHERE consumer = 'mirror';                                   -- ERROR
INSERT INTO ddbstream_fdw.checkpoints (consumer, stream_arn, shard_id, sequence_number)
  SELECT consumer, stream_arn, 'shardId-x', 1.5 FROM ddbstream_fdw.consumers
  WHERE consumer = 'mirror';                                   -- ERROR
INSERT INTO ddbstream_fdw.checkpoints (consumer, stream_arn, shard_id, sequence_number)
  SELECT consumer, stream_arn, 'shardId-x', -1 FROM ddbstream_fdw.consumers
  WHERE consumer = 'mirror';                                   -- ERROR
INSERT INTO ddbstream_fdw.checkpoints (consumer, stream_arn, shard_id, sequence_number)
  SELECT consumer, stream_arn, 'shardId-x', 1e40 FROM ddbstream_fdw.consumers
  WHERE consumer = 'mirror';                                   -- ERROR
-- A scale would compare like a longer number.
UPDATE ddbstream_fdw.checkpoints SET sequence_number = sequence_number * 1.0
  WHERE consumer = 'mirror';                                   -- ERROR
\set VERBOSITY default

-- ===================================================================
-- a consumer whose owner was dropped waits for a superuser
-- ===================================================================
CREATE ROLE regress_dave;
GRANT USAGE ON SCHEMA ddbstream_fdw TO regress_dave;
GRANT SELECT, INSERT, UPDATE, DELETE ON ddbstream_fdw.consumers,
  ddbstream_fdw.checkpoints TO regress_dave;
CREATE FOREIGN TABLE dave_feed (keys jsonb)
  SERVER ddb OPTIONS (table_name 'Ledger', consumer 'dave_mirror');
GRANT SELECT ON dave_feed TO regress_dave, regress_bob;
SET ROLE regress_dave;
SELECT count(*) FROM dave_feed;
RESET ROLE;
REVOKE ALL ON dave_feed FROM regress_dave;
REVOKE ALL ON ddbstream_fdw.consumers, ddbstream_fdw.checkpoints FROM regress_dave;
REVOKE ALL ON SCHEMA ddbstream_fdw FROM regress_dave;
DROP ROLE regress_dave;
SET ROLE regress_bob;
\set VERBOSITY terse
SELECT count(*) FROM dave_feed;                                -- ERROR
\set VERBOSITY default
RESET ROLE;
UPDATE ddbstream_fdw.consumers SET owner = 'regress_bob' WHERE consumer = 'dave_mirror';
SET ROLE regress_bob;
\! test/ddb put-item --table-name Ledger --item '{"id":{"S":"l5"}}'
SELECT keys ->> 'id' AS id FROM dave_feed;
RESET ROLE;

\! test/ddb delete-table --table-name Ledger > /dev/null
DELETE FROM ddbstream_fdw.checkpoints;
DELETE FROM ddbstream_fdw.consumers;
DROP SERVER ddb CASCADE;
REVOKE ALL ON ddbstream_fdw.consumers, ddbstream_fdw.checkpoints
  FROM regress_alice, regress_bob, regress_carol;
REVOKE ALL ON SCHEMA ddbstream_fdw FROM regress_alice, regress_bob, regress_carol;
DROP ROLE regress_carol, regress_alice, regress_bob, regress_staff;
