--
-- mirror: the README's cookbook.  A consumer keeps a PostgreSQL table equal
-- to a DynamoDB table with MERGE (INSERT and MODIFY upsert, REMOVE deletes);
-- another consumer of the same stream keeps an append-only change log.  Run
-- periodically (pg_cron, a scheduler, a loop), each run applies exactly the
-- changes since the last one, in one transaction.
--
\set server ddb
\i sql/include/setup.sql

\! test/create_table MirrorPhones brand:S model:S

-- ===================================================================
-- the recipe
-- ===================================================================
CREATE FOREIGN TABLE phones_feed (event_name text, keys jsonb, new_image jsonb)
  SERVER ddb OPTIONS (table_name 'MirrorPhones', consumer 'mirror');

CREATE TABLE phones (key jsonb PRIMARY KEY, item jsonb NOT NULL);

-- One run.  Several changes to one item in a run: the last one wins (the
-- scan returns each shard's records in order, parents before children, so
-- the row number is the order of the changes).  The advisory lock comes
-- first, in a statement of its own: a second run started meanwhile waits
-- there, and its MERGE then starts after the first run committed and sees
-- its rows.
CREATE PROCEDURE sync_phones() LANGUAGE sql AS $$
  SELECT pg_advisory_xact_lock(hashtext('sync_phones'));
  WITH changes AS MATERIALIZED (
    SELECT keys, event_name, new_image, row_number() OVER () AS n
    FROM phones_feed
  ), latest AS (
    SELECT DISTINCT ON (keys) * FROM changes ORDER BY keys, n DESC
  )
  MERGE INTO phones p
  USING latest c ON p.key = c.keys
  WHEN MATCHED AND c.event_name = 'REMOVE' THEN DELETE
  WHEN MATCHED THEN UPDATE SET item = c.new_image
  WHEN NOT MATCHED AND c.event_name <> 'REMOVE' THEN
    INSERT (key, item) VALUES (c.keys, c.new_image);
$$;

-- The change log, read by its own consumer.
CREATE FOREIGN TABLE phones_log_feed (
  event_id text, event_name text, seq numeric, shard_id text,
  created_at timestamptz, keys jsonb, new_image jsonb, old_image jsonb
) SERVER ddb OPTIONS (table_name 'MirrorPhones', consumer 'changelog');
CREATE TABLE phone_changes (LIKE phones_log_feed, PRIMARY KEY (event_id));

-- ===================================================================
-- the check: the mirror equals a DynamoDB Scan of the table, with its
-- AttributeValues converted the way image_format 'plain' converts them
-- ===================================================================
CREATE FUNCTION plain(v jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN v ? 'S' THEN v -> 'S'
    WHEN v ? 'N' THEN to_jsonb((v ->> 'N')::numeric)
    WHEN v ? 'B' THEN v -> 'B'
    WHEN v ? 'BOOL' THEN v -> 'BOOL'
    WHEN v ? 'NULL' THEN 'null'::jsonb
    WHEN v ? 'M' THEN (SELECT coalesce(jsonb_object_agg(key, plain(value)), '{}')
                       FROM jsonb_each(v -> 'M'))
    WHEN v ? 'L' THEN (SELECT coalesce(jsonb_agg(plain(value) ORDER BY i), '[]')
                       FROM jsonb_array_elements(v -> 'L') WITH ORDINALITY AS e(value, i))
    WHEN v ? 'SS' THEN v -> 'SS'
    WHEN v ? 'BS' THEN v -> 'BS'
    WHEN v ? 'NS' THEN (SELECT jsonb_agg(to_jsonb(x::numeric) ORDER BY i)
                        FROM jsonb_array_elements_text(v -> 'NS') WITH ORDINALITY AS e(x, i))
  END
$$;
CREATE FUNCTION mirror_differences(scan text) RETURNS TABLE (in_scan jsonb, in_mirror jsonb)
LANGUAGE sql AS $$
  WITH scanned AS (
    SELECT (SELECT jsonb_object_agg(key, plain(value)) FROM jsonb_each(i)) AS item
    FROM jsonb_array_elements(scan::jsonb -> 'Items') AS i
  )
  SELECT s.item, p.item FROM scanned s FULL JOIN phones p ON p.item = s.item
  WHERE s.item IS NULL OR p.item IS NULL
$$;

-- ===================================================================
-- run 1: new items of every attribute type
-- ===================================================================
\! test/ddb put-item --table-name MirrorPhones --item '{"brand":{"S":"Acme"},"model":{"S":"A1"},"price":{"N":"199.99"},"stock":{"N":"12"},"colors":{"SS":["black","white"]},"sizes":{"NS":["5.8","6.1"]},"specs":{"M":{"ram":{"N":"8"},"cams":{"L":[{"S":"wide"},{"S":"tele"}]},"nfc":{"BOOL":true}}},"photo":{"B":"AAEC"},"discontinued":{"NULL":true}}'
\! test/ddb put-item --table-name MirrorPhones --item '{"brand":{"S":"Acme"},"model":{"S":"A2"},"price":{"N":"299"},"stock":{"N":"0"}}'
\! test/ddb put-item --table-name MirrorPhones --item '{"brand":{"S":"Bolt"},"model":{"S":"B1"},"price":{"N":"99.5"},"tags":{"L":[]},"notes":{"S":""}}'
CALL sync_phones();
INSERT INTO phone_changes SELECT * FROM phones_log_feed;
SELECT key, item ->> 'price' AS price FROM phones ORDER BY key;
\set scan `test/ddb scan --table-name MirrorPhones`
SELECT jsonb_array_length((:'scan')::jsonb -> 'Items') AS items_scanned,
       (SELECT count(*) FROM mirror_differences(:'scan')) AS differences;

-- ===================================================================
-- run 2: updates, a delete, an item changed twice, one deleted and put
-- back, one put and deleted: all within one run
-- ===================================================================
\! test/ddb update-item --table-name MirrorPhones --key '{"brand":{"S":"Acme"},"model":{"S":"A1"}}' --update-expression 'SET price = :p, specs.ram = :r ADD colors :c' --expression-attribute-values '{":p":{"N":"179.99"},":r":{"N":"12"},":c":{"SS":["blue"]}}'
\! test/ddb update-item --table-name MirrorPhones --key '{"brand":{"S":"Acme"},"model":{"S":"A2"}}' --update-expression 'SET stock = :s' --expression-attribute-values '{":s":{"N":"5"}}'
\! test/ddb update-item --table-name MirrorPhones --key '{"brand":{"S":"Acme"},"model":{"S":"A2"}}' --update-expression 'SET stock = :s' --expression-attribute-values '{":s":{"N":"4"}}'
\! test/ddb delete-item --table-name MirrorPhones --key '{"brand":{"S":"Bolt"},"model":{"S":"B1"}}'
\! test/ddb put-item --table-name MirrorPhones --item '{"brand":{"S":"Bolt"},"model":{"S":"B1"},"price":{"N":"89"}}'
\! test/ddb put-item --table-name MirrorPhones --item '{"brand":{"S":"Cask"},"model":{"S":"C1"}}'
\! test/ddb delete-item --table-name MirrorPhones --key '{"brand":{"S":"Cask"},"model":{"S":"C1"}}'
CALL sync_phones();
INSERT INTO phone_changes SELECT * FROM phones_log_feed;
SELECT key, item ->> 'price' AS price, item ->> 'stock' AS stock FROM phones ORDER BY key;
\set scan `test/ddb scan --table-name MirrorPhones`
SELECT jsonb_array_length((:'scan')::jsonb -> 'Items') AS items_scanned,
       (SELECT count(*) FROM mirror_differences(:'scan')) AS differences;

-- ===================================================================
-- run 3: nothing new changes nothing; a rolled-back run is run again
-- ===================================================================
CALL sync_phones();
\! test/ddb delete-item --table-name MirrorPhones --key '{"brand":{"S":"Acme"},"model":{"S":"A2"}}'
BEGIN;
CALL sync_phones();
SELECT count(*) AS in_transaction FROM phones;
ROLLBACK;
SELECT count(*) AS after_rollback FROM phones;
CALL sync_phones();
INSERT INTO phone_changes SELECT * FROM phones_log_feed;
\set scan `test/ddb scan --table-name MirrorPhones`
SELECT jsonb_array_length((:'scan')::jsonb -> 'Items') AS items_scanned,
       (SELECT count(*) FROM mirror_differences(:'scan')) AS differences;
SELECT key FROM phones ORDER BY key;

-- The change log holds every change once, in order.
SELECT event_name, keys ->> 'model' AS model FROM phone_changes ORDER BY seq;

\! test/ddb delete-table --table-name MirrorPhones > /dev/null
DELETE FROM ddbstream_fdw.checkpoints WHERE consumer IN ('mirror', 'changelog');
DELETE FROM ddbstream_fdw.consumers WHERE consumer IN ('mirror', 'changelog');
DROP PROCEDURE sync_phones();
DROP FUNCTION mirror_differences(text);
DROP FUNCTION plain(jsonb);
DROP TABLE phones, phone_changes;
DROP SERVER ddb CASCADE;
