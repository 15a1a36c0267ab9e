--
-- consumer_upgrade: ALTER EXTENSION ddbstream_fdw UPDATE keeps every
-- consumer's positions; a consumer read before the update resumes exactly
-- where it was after it.  DROP EXTENSION ... CASCADE drops the positions.
-- (It drops the extension and creates it again, at 0.1.0.)
--
\i sql/include/setup.sql
\set VERBOSITY terse
DROP EXTENSION ddbstream_fdw CASCADE;
\set VERBOSITY default
CREATE EXTENSION ddbstream_fdw VERSION '0.1.0';
SELECT extversion FROM pg_extension WHERE extname = 'ddbstream_fdw';

\set server ddb
\i sql/include/setup.sql

\! test/create_table Upgrades --view KEYS_ONLY
\! for i in 1 2 3 4; do test/ddb put-item --table-name Upgrades --item "{\"id\":{\"S\":\"u$i\"}}"; done

CREATE FOREIGN TABLE upgrades_feed (event_id text, seq numeric, keys jsonb)
  SERVER ddb OPTIONS (table_name 'Upgrades', consumer 'upgrader');
CREATE TABLE upgrade_log (event_id text PRIMARY KEY, seq numeric, keys jsonb,
                          version text);

-- ===================================================================
-- 0.1.0: consume two of the four records
-- ===================================================================
INSERT INTO upgrade_log
  SELECT f.*, '0.1.0' FROM (SELECT * FROM upgrades_feed LIMIT 2) f;
SELECT keys ->> 'id' AS id, version FROM upgrade_log ORDER BY seq;
SELECT consumer, shard_finished FROM ddbstream_fdw.checkpoints;

-- ===================================================================
-- the update keeps positions; the consumer has no owner until its first
-- read, which makes the reading role its owner
-- ===================================================================
ALTER EXTENSION ddbstream_fdw UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'ddbstream_fdw';
SELECT consumer, owner FROM ddbstream_fdw.consumers;
SELECT consumer, shard_finished FROM ddbstream_fdw.checkpoints;

\! for i in 5 6; do test/ddb put-item --table-name Upgrades --item "{\"id\":{\"S\":\"u$i\"}}"; done
INSERT INTO upgrade_log SELECT *, '0.2.0' FROM upgrades_feed;
SELECT consumer, owner FROM ddbstream_fdw.consumers;
-- u3 .. u6 after the update: none twice, none lost.
SELECT keys ->> 'id' AS id, version FROM upgrade_log ORDER BY seq;
SELECT count(*) AS records, count(DISTINCT event_id) AS distinct_records FROM upgrade_log;

-- A new install is the same as an updated one (0.1.0, then the update).
SELECT tablename, policyname, permissive, cmd FROM pg_policies
WHERE schemaname = 'ddbstream_fdw' ORDER BY 1, 2;

-- ===================================================================
-- DROP EXTENSION ... CASCADE drops every consumer's positions
-- ===================================================================
\set VERBOSITY terse
DROP EXTENSION ddbstream_fdw CASCADE;
\set VERBOSITY default
SELECT to_regclass('ddbstream_fdw.checkpoints') AS checkpoints,
       to_regclass('ddbstream_fdw.consumers') AS consumers;
CREATE EXTENSION ddbstream_fdw;
SELECT extversion FROM pg_extension WHERE extname = 'ddbstream_fdw';
SELECT count(*) AS positions FROM ddbstream_fdw.checkpoints;

\! test/ddb delete-table --table-name Upgrades > /dev/null
DROP TABLE upgrade_log;
