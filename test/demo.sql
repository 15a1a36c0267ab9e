-- The ddbstream_fdw demo: a Phones table in DynamoDB Local, written,
-- updated and deleted, then its stream read with SQL.  Run it with
-- test/harness demo, which starts the emulator and a scratch PostgreSQL.
\set ECHO queries
\pset footer off
\getenv ddb_endpoint DDB_ENDPOINT

\echo '-- 1. A DynamoDB table with a stream, and some changes to it (AWS CLI)'
\! test/create_table Phones && echo 'created table Phones'
\! test/ddb put-item --table-name Phones --item '{"id":{"S":"fp5"},"brand":{"S":"Fairphone"},"model":{"S":"5"},"price":{"N":"699.00"},"colors":{"SS":["sky blue","matte black"]},"specs":{"M":{"ram_gb":{"N":"8"},"storage_gb":{"N":"256"},"5g":{"BOOL":true}}}}' && echo 'put fp5'
\! test/ddb put-item --table-name Phones --item '{"id":{"S":"px8"},"brand":{"S":"Google"},"model":{"S":"Pixel 8"},"price":{"N":"799.00"},"colors":{"SS":["obsidian","hazel"]},"specs":{"M":{"ram_gb":{"N":"8"},"storage_gb":{"N":"128"},"5g":{"BOOL":true}}}}' && echo 'put px8'
\! test/ddb put-item --table-name Phones --item '{"id":{"S":"n3310"},"brand":{"S":"Nokia"},"model":{"S":"3310"},"price":{"N":"59.99"},"colors":{"SS":["red"]},"specs":{"M":{"ram_gb":{"N":"0.016"},"5g":{"BOOL":false}}}}' && echo 'put n3310'
\! test/ddb update-item --table-name Phones --key '{"id":{"S":"fp5"}}' --update-expression 'SET price = :p' --expression-attribute-values '{":p":{"N":"649.00"}}' && echo 'updated fp5 price'
\! test/ddb delete-item --table-name Phones --key '{"id":{"S":"n3310"}}' && echo 'deleted n3310'

\echo '-- 2. The stream as a foreign table'
CREATE EXTENSION IF NOT EXISTS ddbstream_fdw;
CREATE SERVER ddb FOREIGN DATA WRAPPER ddbstream_fdw
  OPTIONS (region 'us-east-1', endpoint :'ddb_endpoint');
CREATE USER MAPPING FOR CURRENT_USER SERVER ddb
  OPTIONS (access_key_id 'demo', secret_access_key 'demo');
CREATE FOREIGN TABLE phones_stream (
  event_id text, event_name text, seq numeric, shard_id text, created_at timestamptz,
  keys jsonb, new_image jsonb, old_image jsonb, size_bytes integer, stream_view_type text,
  user_identity jsonb, record jsonb
) SERVER ddb OPTIONS (table_name 'Phones');

SELECT event_name, seq, keys ->> 'id' AS id, new_image ->> 'price' AS new_price,
       old_image ->> 'price' AS old_price
FROM phones_stream;

SELECT new_image FROM phones_stream WHERE event_name = 'INSERT' LIMIT 1;

\echo '-- 3. Copy the changes into a table, then only the new ones'
CREATE TABLE phone_changes (LIKE phones_stream);
INSERT INTO phone_changes SELECT * FROM phones_stream
  WHERE seq > (SELECT coalesce(max(seq), 0) FROM phone_changes);
\! test/ddb update-item --table-name Phones --key '{"id":{"S":"px8"}}' --update-expression 'SET price = :p' --expression-attribute-values '{":p":{"N":"699.00"}}' && echo 'updated px8 price'
INSERT INTO phone_changes SELECT * FROM phones_stream
  WHERE seq > (SELECT coalesce(max(seq), 0) FROM phone_changes);
SELECT event_name, keys ->> 'id' AS id, new_image ->> 'price' AS price
FROM phone_changes ORDER BY seq;

\echo '-- 4. What the scan did'
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT count(*) FROM phones_stream;

\echo '-- 5. A mirror of the table, kept in sync by a consumer (each change once)'
CREATE FOREIGN TABLE phones_feed (event_name text, keys jsonb, new_image jsonb)
  SERVER ddb OPTIONS (table_name 'Phones', consumer 'mirror');
CREATE TABLE phones (key jsonb PRIMARY KEY, item jsonb NOT NULL);
CREATE PROCEDURE sync_phones() LANGUAGE sql AS $$
  SELECT pg_advisory_xact_lock(hashtext('sync_phones'));   -- one run at a time
  WITH changes AS MATERIALIZED (
    SELECT keys, event_name, new_image, row_number() OVER () AS n FROM phones_feed
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
CALL sync_phones();
SELECT key ->> 'id' AS id, item ->> 'price' AS price FROM phones ORDER BY 1;
\! test/ddb update-item --table-name Phones --key '{"id":{"S":"px8"}}' --update-expression 'SET price = :p' --expression-attribute-values '{":p":{"N":"649.00"}}' && echo 'updated px8 price'
CALL sync_phones();
SELECT key ->> 'id' AS id, item ->> 'price' AS price FROM phones ORDER BY 1;
SELECT shard_id, sequence_number, records_behind FROM ddbstream_fdw.consumer_lag('phones_feed');

\echo '-- 6. The table itself: its items, read by key or in parallel segments'
CREATE FOREIGN TABLE phone_items (keys jsonb, item jsonb,
  id text OPTIONS (attribute 'id'), price numeric OPTIONS (attribute 'price'))
  SERVER ddb OPTIONS (table_name 'Phones', source 'items');
SELECT id, price FROM phone_items ORDER BY id;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT item FROM phone_items WHERE id = 'px8';
-- the mirror equals the items (the difference is empty)
SELECT key, item FROM phones EXCEPT SELECT keys, item FROM phone_items;
