--
-- consumer_plans: a consumer returns each record exactly once whatever the
-- plan: under parallel query (parallel mode forced, a Gather join), when its
-- scan is run again within a statement, and across the statements of one
-- transaction.  Two scans of one consumer open at once would both return the
-- same records: the second fails instead.
--
\set server ddb
\i sql/include/setup.sql

-- The setting that forces parallel mode: force_parallel_mode until 15,
-- debug_parallel_query since 16.
SELECT CASE WHEN current_setting('server_version_num')::int >= 160000
            THEN 'debug_parallel_query' ELSE 'force_parallel_mode' END AS parallel_mode \gset

\! test/load_items.py Parcels 40 --view NEW_IMAGE

CREATE FOREIGN TABLE parcels_feed (event_id text, seq numeric, keys jsonb)
  SERVER ddb OPTIONS (table_name 'Parcels', consumer 'plans');
CREATE TABLE parcel_log (event_id text PRIMARY KEY, seq numeric, keys jsonb,
                         plan text);

-- A local table to join with, large enough for a parallel plan.
CREATE TABLE parcel_orders (id text, qty int);
INSERT INTO parcel_orders
  SELECT format('item-%s', lpad((g % 1000)::text, 8, '0')), g
  FROM generate_series(1, 100000) g;
ANALYZE parcel_orders;

-- ===================================================================
-- parallel mode forced: the whole plan runs in parallel mode (no Gather shows:
-- the foreign scan itself always runs in the leader), where nothing may be
-- written; the consumer is locked before and saved after it
-- ===================================================================
SET :parallel_mode = on;
SELECT count(*) FROM (SELECT * FROM parcels_feed LIMIT 10) f;
SELECT count(*) AS left_after_ten FROM parcels_feed;
SELECT count(*) AS nothing_left FROM parcels_feed;
RESET :parallel_mode;

-- ===================================================================
-- a real Gather: the feed joined with a parallel scan of a local table
-- ===================================================================
\! test/load_items.py Parcels 20 --start 1000 --view NEW_IMAGE
\! test/load_items.py Parcels 5 --start 100 --view NEW_IMAGE
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
-- (the plan has a Gather node)
SELECT EXISTS (SELECT FROM explain_filter($$SELECT count(*) FROM parcels_feed f
                                           JOIN parcel_orders o ON o.id = f.keys ->> 'id'$$,
                                          'Gather', plan_only => true)) AS gather;
-- 5 records of items that have 100 orders each, 20 of items with none
SELECT count(*) AS order_rows FROM parcels_feed f
  JOIN parcel_orders o ON o.id = f.keys ->> 'id';
SELECT count(*) AS nothing_left FROM parcels_feed;
-- The same, writing what it read into a table.
\! test/load_items.py Parcels 5 --start 105 --view NEW_IMAGE
INSERT INTO parcel_log
  SELECT f.event_id, f.seq, f.keys, 'join'
  FROM parcels_feed f WHERE EXISTS (SELECT FROM parcel_orders o WHERE o.id = f.keys ->> 'id');
SELECT count(*), count(DISTINCT event_id) FROM parcel_log;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;

-- ===================================================================
-- one reader per consumer at a time: two open scans fail
-- ===================================================================
\! test/load_items.py Parcels 3 --start 2000 --view NEW_IMAGE
\set VERBOSITY default
SELECT count(*) FROM (SELECT seq FROM parcels_feed
                      UNION ALL SELECT seq FROM parcels_feed) x;  -- ERROR
SELECT count(*) FROM parcels_feed a JOIN parcels_feed b USING (event_id);  -- ERROR
WITH f AS NOT MATERIALIZED (SELECT seq FROM parcels_feed)
SELECT (SELECT count(*) FROM f) + (SELECT count(*) FROM f);  -- ERROR
-- Twice in parallel mode too.
SET :parallel_mode = on;
SELECT count(*) FROM (SELECT seq FROM parcels_feed
                      UNION ALL SELECT seq FROM parcels_feed) x;  -- ERROR
RESET :parallel_mode;
-- Read once, used twice: materialise it.
WITH f AS MATERIALIZED (SELECT seq FROM parcels_feed)
SELECT (SELECT count(*) FROM f) + (SELECT count(*) FROM f) AS twice_three;
SELECT count(*) AS nothing_left FROM parcels_feed;

-- A cursor left open is a reader; once closed, the next scan goes on after it.
\! test/load_items.py Parcels 3 --start 3000 --view NEW_IMAGE
BEGIN;
DECLARE c CURSOR FOR SELECT keys ->> 'id' AS id FROM parcels_feed;
FETCH 1 FROM c;
SELECT count(*) FROM parcels_feed;  -- ERROR
ROLLBACK;
BEGIN;
DECLARE c CURSOR FOR SELECT keys ->> 'id' AS id FROM parcels_feed;
FETCH 1 FROM c;
CLOSE c;
SELECT keys ->> 'id' AS id FROM parcels_feed;
ROLLBACK;
-- A cursor closed by ROLLBACK consumed nothing.
SELECT keys ->> 'id' AS id FROM parcels_feed;

-- A WITH HOLD cursor is run to its end at COMMIT: it consumes every record,
-- fetched or not.
\! test/load_items.py Parcels 3 --start 3500 --view NEW_IMAGE
BEGIN;
DECLARE h CURSOR WITH HOLD FOR SELECT keys ->> 'id' AS id FROM parcels_feed;
FETCH 1 FROM h;
COMMIT;
SELECT count(*) AS nothing_left FROM parcels_feed;
FETCH ALL FROM h;
CLOSE h;

-- Statements one after another in a transaction each go on after the last.
\! test/load_items.py Parcels 4 --start 4000 --view NEW_IMAGE
BEGIN;
SELECT keys ->> 'id' AS id FROM parcels_feed LIMIT 2;
SET LOCAL :parallel_mode = on;
SELECT keys ->> 'id' AS id FROM parcels_feed LIMIT 1;
SELECT keys ->> 'id' AS id FROM parcels_feed;
COMMIT;
SELECT count(*) AS nothing_left FROM parcels_feed;

-- An error inside a savepoint ends that scan; the transaction reads on.
\! test/load_items.py Parcels 2 --start 5000 --view NEW_IMAGE
BEGIN;
SAVEPOINT s;
SELECT count(*) FROM (SELECT seq FROM parcels_feed
                      UNION ALL SELECT seq FROM parcels_feed) x;  -- ERROR
ROLLBACK TO SAVEPOINT s;
SELECT keys ->> 'id' AS id FROM parcels_feed;
COMMIT;

-- ===================================================================
-- rescans return the same records: a correlated subquery sees each of
-- them, and they are consumed once
-- ===================================================================
\! test/load_items.py Parcels 4 --start 7000 --view NEW_IMAGE
SELECT o.id, (SELECT count(*) FROM parcels_feed f WHERE f.keys ->> 'id' = o.id) AS records
FROM (VALUES ('item-00007000'), ('item-00007001'), ('item-00007003')) o(id);
SELECT count(*) AS nothing_left FROM parcels_feed;
-- A nested loop with the feed inside returns every match.
\! test/load_items.py Parcels 3 --start 7100 --view NEW_IMAGE
SET enable_hashjoin = off;
SET enable_mergejoin = off;
SET enable_material = off;
SELECT o.id, f.keys ->> 'id' AS record
FROM (VALUES ('item-00007100'), ('item-00007102')) o(id)
JOIN parcels_feed f ON f.keys ->> 'id' = o.id ORDER BY 1;
RESET enable_hashjoin;
RESET enable_mergejoin;
RESET enable_material;
SELECT count(*) AS nothing_left FROM parcels_feed;

-- ===================================================================
-- loops
-- ===================================================================
-- COMMIT inside a procedure's loop over the consumer would run the loop's
-- query to its end and consume everything at once: refused.
CREATE TABLE parcel_sink (id text);
CREATE PROCEDURE drain() LANGUAGE plpgsql AS $$
DECLARE
  r record;
BEGIN
  FOR r IN SELECT keys ->> 'id' AS id FROM parcels_feed LOOP
    INSERT INTO parcel_sink VALUES (r.id);
    COMMIT;
  END LOOP;
END
$$;
\! test/load_items.py Parcels 3 --start 7200 --view NEW_IMAGE
CALL drain();  -- ERROR
SELECT count(*) AS sunk FROM parcel_sink;
-- Batches, committed one by one, are the way.
CREATE OR REPLACE PROCEDURE drain() LANGUAGE plpgsql AS $$
DECLARE
  n int;
BEGIN
  LOOP
    INSERT INTO parcel_sink SELECT keys ->> 'id' FROM parcels_feed LIMIT 2;
    GET DIAGNOSTICS n = ROW_COUNT;
    COMMIT;
    EXIT WHEN n = 0;
  END LOOP;
END
$$;
CALL drain();
SELECT id FROM parcel_sink ORDER BY id;
DROP PROCEDURE drain();
DROP TABLE parcel_sink;

-- Statements whose results PostgreSQL stores before returning them read
-- the consumer as any other.
\! test/load_items.py Parcels 6 --start 7300 --view NEW_IMAGE
CREATE TABLE parcel_sink (id text);
INSERT INTO parcel_sink SELECT keys ->> 'id' FROM parcels_feed LIMIT 2 RETURNING id;
SELECT explain_filter('SELECT * FROM parcels_feed LIMIT 1') AS explain_analyze;
WITH moved AS (INSERT INTO parcel_sink SELECT keys ->> 'id' FROM parcels_feed LIMIT 1 RETURNING id)
SELECT id FROM moved;
DO $$
DECLARE
  r record;
BEGIN
  FOR r IN INSERT INTO parcel_sink SELECT keys ->> 'id' FROM parcels_feed RETURNING id LOOP
    RAISE NOTICE 'copied %', r.id;
  END LOOP;
END
$$;
SELECT count(*) AS copied, count(DISTINCT id) AS distinct_copied FROM parcel_sink;
DROP TABLE parcel_sink;

-- A PL/pgSQL loop over the consumer cannot read it again inside the loop.
\! test/load_items.py Parcels 1 --start 6000 --view NEW_IMAGE
DO $$
DECLARE
  r record;
BEGIN
  FOR r IN SELECT seq FROM parcels_feed LOOP
    PERFORM count(*) FROM parcels_feed;
  END LOOP;
END
$$;  -- ERROR
SELECT keys ->> 'id' AS id FROM parcels_feed;

\! test/ddb delete-table --table-name Parcels > /dev/null
DELETE FROM ddbstream_fdw.checkpoints;
DELETE FROM ddbstream_fdw.consumers;
DROP TABLE parcel_orders, parcel_log;
DROP SERVER ddb CASCADE;
