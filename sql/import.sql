--
-- import: IMPORT FOREIGN SCHEMA dynamodb creates one foreign table per
-- DynamoDB table with a stream, named exactly as the table.
--
\set server ddb
\i sql/include/setup.sql

\! test/create_table ImpPhones
\! test/create_table imp-orders.v2 --view KEYS_ONLY
\! test/create_table ImpNoStream --no-stream
\! test/ddb put-item --table-name ImpPhones --item '{"id":{"S":"p1"}}'
\! test/ddb put-item --table-name imp-orders.v2 --item '{"id":{"S":"o1"}}'

CREATE FUNCTION imported(schema text) RETURNS TABLE (name name, options text[])
LANGUAGE sql AS $$
  SELECT c.relname, ft.ftoptions
  FROM pg_foreign_table ft JOIN pg_class c ON c.oid = ft.ftrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = schema AND c.relname ILIKE 'imp%'
  ORDER BY 1
$$;

-- ===================================================================
-- LIMIT TO: tables without a stream are left out; names keep their case
-- and are quoted as needed
-- ===================================================================
CREATE SCHEMA streams;
IMPORT FOREIGN SCHEMA dynamodb LIMIT TO ("ImpPhones", "imp-orders.v2", "ImpNoStream")
  FROM SERVER ddb INTO streams;
SELECT * FROM imported('streams');
\d streams."ImpPhones"
SELECT event_name, keys, new_image FROM streams."ImpPhones";
SELECT event_name, keys, new_image, stream_view_type FROM streams."imp-orders.v2";

-- ===================================================================
-- EXCEPT, and image_format for every imported table
-- ===================================================================
CREATE SCHEMA typed_streams;
IMPORT FOREIGN SCHEMA dynamodb EXCEPT ("ImpPhones")
  FROM SERVER ddb INTO typed_streams OPTIONS (image_format 'typed');
SELECT * FROM imported('typed_streams');
SELECT keys FROM typed_streams."imp-orders.v2";

-- ===================================================================
-- consumer: every imported table reads as that consumer (see consumers)
-- ===================================================================
CREATE SCHEMA feeds;
IMPORT FOREIGN SCHEMA dynamodb LIMIT TO ("ImpPhones")
  FROM SERVER ddb INTO feeds OPTIONS (consumer 'imp-mirror');
SELECT * FROM imported('feeds');
SELECT event_name, keys FROM feeds."ImpPhones";
SELECT count(*) FROM feeds."ImpPhones";   -- consumed: nothing new
SELECT consumer, shard_finished FROM ddbstream_fdw.checkpoints
WHERE consumer = 'imp-mirror';
DELETE FROM ddbstream_fdw.checkpoints WHERE consumer = 'imp-mirror';
DELETE FROM ddbstream_fdw.consumers WHERE consumer = 'imp-mirror';

-- ===================================================================
-- errors
-- ===================================================================
IMPORT FOREIGN SCHEMA public FROM SERVER ddb INTO streams;                   -- ERROR
IMPORT FOREIGN SCHEMA dynamodb FROM SERVER ddb INTO streams
  OPTIONS (consumer '');                                                      -- ERROR
IMPORT FOREIGN SCHEMA dynamodb FROM SERVER ddb INTO streams
  OPTIONS (owner 'me');                                                       -- ERROR
IMPORT FOREIGN SCHEMA dynamodb FROM SERVER ddb INTO streams
  OPTIONS (image_format 'raw');                                               -- ERROR
-- Importing again into the same schema fails on the existing tables.
IMPORT FOREIGN SCHEMA dynamodb LIMIT TO ("ImpPhones") FROM SERVER ddb INTO streams; -- ERROR

DROP SCHEMA streams CASCADE;
DROP SCHEMA typed_streams CASCADE;
DROP SCHEMA feeds CASCADE;
DROP FUNCTION imported(text);
\! for t in ImpPhones imp-orders.v2 ImpNoStream; do test/ddb delete-table --table-name $t > /dev/null; done
DROP SERVER ddb CASCADE;
