--
-- scan: one row per stream record, against DynamoDB Local.
--
-- The harness exports DDB_ENDPOINT (the emulator's URL); test/ddb runs the
-- AWS CLI's dynamodb commands against it.
--
\set server ddb
\i sql/include/setup.sql

-- ===================================================================
-- a table with a NEW_AND_OLD_IMAGES stream: insert, modify, remove
-- ===================================================================
\! test/create_table ScanPhones
\! test/ddb put-item --table-name ScanPhones --item '{"id":{"S":"p1"},"brand":{"S":"Fairphone"},"price":{"N":"549"}}'
\! test/ddb put-item --table-name ScanPhones --item '{"id":{"S":"p2"},"brand":{"S":"Pixel"},"price":{"N":"899"}}'
\! test/ddb update-item --table-name ScanPhones --key '{"id":{"S":"p1"}}' --update-expression 'SET price = :p' --expression-attribute-values '{":p":{"N":"499"}}'
\! test/ddb delete-item --table-name ScanPhones --key '{"id":{"S":"p2"}}'

CREATE FOREIGN TABLE phones_stream (
  event_id text, event_name text, seq numeric, shard_id text,
  created_at timestamptz, keys jsonb, new_image jsonb, old_image jsonb,
  size_bytes integer, stream_view_type text, user_identity jsonb, record jsonb
) SERVER ddb OPTIONS (table_name 'ScanPhones');

-- Rows come out in sequence order within the shard.
SELECT event_name, keys, new_image, old_image FROM phones_stream;

-- Every column.
SELECT event_id ~ '^[0-9a-f-]{36}$' AS event_id_is_uuid,
       seq > 0 AS seq_positive,
       seq > lag(seq) OVER () AS seq_increases,
       shard_id LIKE 'shardId-%' AS shard_id_ok,
       created_at BETWEEN now() - interval '1 day' AND now() + interval '1 day' AS created_recently,
       size_bytes > 0 AS has_size,
       stream_view_type,
       user_identity,
       record -> 'dynamodb' -> 'Keys' = jsonb_build_object('id', jsonb_build_object('S', keys ->> 'id')) AS record_is_typed,
       record ->> 'eventName' = event_name AS record_matches
FROM phones_stream;

-- The same record: seq of the numeric column is the SequenceNumber string.
SELECT count(*) AS records,
       count(DISTINCT event_id) AS distinct_ids,
       bool_and(seq = (record -> 'dynamodb' ->> 'SequenceNumber')::numeric) AS seq_matches
FROM phones_stream;

-- Any subset of columns, in any order, and the extra text fields.
CREATE FOREIGN TABLE phones_narrow (
  new_image jsonb, event_name text, event_source text, event_version text,
  aws_region text
) SERVER ddb OPTIONS (table_name 'ScanPhones');
SELECT * FROM phones_narrow;

-- A query that uses no column still reads every record.
SELECT count(*) FROM phones_narrow;

-- ===================================================================
-- columns: seq as text, images as json or text, a column of another
-- name mapped with the column option "field"
-- ===================================================================
CREATE FOREIGN TABLE phones_text (
  sequence_number text OPTIONS (field 'seq'),
  change text OPTIONS (field 'event_name'),
  keys json,
  new_image text,
  size_bytes bigint
) SERVER ddb OPTIONS (table_name 'ScanPhones');
SELECT length(sequence_number) >= 21 AS seq_digits, change, keys, new_image
FROM phones_text;
SELECT pg_typeof(keys), pg_typeof(new_image), pg_typeof(size_bytes)
FROM phones_text LIMIT 1;

-- A column that names no stream field, or has a type that cannot hold its
-- field, is an error that lists what is valid.
CREATE FOREIGN TABLE phones_bad (seq numeric, price numeric)
  SERVER ddb OPTIONS (table_name 'ScanPhones');
SELECT * FROM phones_bad;                                                     -- ERROR
ALTER FOREIGN TABLE phones_bad DROP COLUMN price;
ALTER FOREIGN TABLE phones_bad ADD COLUMN seqno bigint OPTIONS (field 'seq');
SELECT * FROM phones_bad;                                                     -- ERROR
ALTER FOREIGN TABLE phones_bad DROP COLUMN seqno;
ALTER FOREIGN TABLE phones_bad ADD COLUMN created_at timestamp;
SELECT * FROM phones_bad;                                                     -- ERROR
ALTER FOREIGN TABLE phones_bad DROP COLUMN created_at;
-- Dropped columns are ignored.
SELECT count(*) FROM phones_bad;

-- ===================================================================
-- EXPLAIN makes no request; EXPLAIN ANALYZE shows the work done
-- ===================================================================
EXPLAIN (COSTS OFF) SELECT * FROM phones_stream;
-- (the byte count depends on the emulator's timestamps: explain_filter shows N)
SELECT explain_filter('SELECT event_name FROM phones_stream') AS explain_analyze;

-- ===================================================================
-- rescans: the foreign table on the inner side of a nested loop
-- ===================================================================
CREATE TABLE wanted (event_name text);
INSERT INTO wanted VALUES ('INSERT'), ('REMOVE');
SET enable_hashjoin = off;
SET enable_mergejoin = off;
SET enable_material = off;
SELECT w.event_name, s.keys
FROM wanted w JOIN phones_stream s ON s.event_name = w.event_name
ORDER BY 1, 2;
RESET enable_hashjoin;
RESET enable_mergejoin;
RESET enable_material;
DROP TABLE wanted;

\! test/ddb delete-table --table-name ScanPhones > /dev/null
DROP SERVER ddb CASCADE;
