--
-- cookbook: the README's Cookbook runs as written, in order, in a new
-- database, against DynamoDB Local.  test/cookbook_blocks copies its SQL
-- blocks to results/cookbook/1.sql, 2.sql, ...; each is run here with \i, so
-- the output below shows the README's text as it stands, then what it did.
-- In between, what the README leaves to its reader (the emulator's endpoint,
-- pg_cron) and a look at the results.
--
\i sql/include/setup.sql
\! test/cookbook_blocks README.md results/cookbook

-- The README's table Phones, with a stream of new and old images: two
-- phones, a new price for one, the other deleted.  Audit is the table the
-- README leaves out of an import.
\! test/create_table Phones
\! test/create_table Audit
\! test/ddb put-item --table-name Phones --item '{"id":{"S":"fp5"},"brand":{"S":"Fairphone"},"price":{"N":"699"}}'
\! test/ddb put-item --table-name Phones --item '{"id":{"S":"px8"},"brand":{"S":"Google"},"price":{"N":"799"}}'
\! test/ddb put-item --table-name Phones --item '{"id":{"S":"fp5"},"brand":{"S":"Fairphone"},"price":{"N":"649"}}'
\! test/ddb delete-item --table-name Phones --key '{"id":{"S":"px8"}}'

SELECT current_database() AS regress_db \gset
CREATE DATABASE regression_cookbook;
\c regression_cookbook

-- ===================================================================
-- the foreign table
-- ===================================================================
\i results/cookbook/1.sql
-- Here the server is the emulator.
ALTER SERVER ddb OPTIONS (ADD endpoint :'ddb_endpoint');

-- What changed (created_at differs from run to run: shown without it).
\o /dev/null
\i results/cookbook/2.sql
\o
SELECT event_name, keys ->> 'id' AS id, new_image, old_image FROM phones_stream;

-- ===================================================================
-- a change log, and a mirror kept by MERGE
-- ===================================================================
\i results/cookbook/3.sql
SELECT event_name, keys ->> 'id' AS id FROM phone_changes ORDER BY seq;

\i results/cookbook/4.sql
SELECT * FROM phones ORDER BY key;

-- pg_cron is not installed here: a stand-in cron.schedule() runs the
-- command once.
CREATE SCHEMA cron;
CREATE FUNCTION cron.schedule(job_name text, schedule text, command text)
RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE command;
  RETURN 1;
END
$$;
\! test/ddb put-item --table-name Phones --item '{"id":{"S":"n3310"},"brand":{"S":"Nokia"},"price":{"N":"59"}}'
\i results/cookbook/5.sql
SELECT * FROM phones ORDER BY key;

-- ===================================================================
-- a mirror started from the table's items
-- ===================================================================
-- The mirror above, damaged on purpose: the start replaces its rows with
-- the table's items, and reads the stream from the end.
DELETE FROM phones WHERE key = '{"id": "n3310"}';
\i results/cookbook/6.sql
SELECT * FROM phones ORDER BY key;
SELECT count(*) > 0 AS positions_saved FROM ddbstream_fdw.checkpoints WHERE consumer = 'mirror';

-- ===================================================================
-- without a consumer; typed images
-- ===================================================================
\i results/cookbook/7.sql
SELECT event_name, keys ->> 'id' AS id FROM phone_history ORDER BY seq;

\i results/cookbook/8.sql
SELECT keys, new_image FROM phones_typed LIMIT 1;

-- ===================================================================
-- IMPORT FOREIGN SCHEMA (every row of streams."Phones": shown as a count)
-- ===================================================================
\o /dev/null
\i results/cookbook/9.sql
\o
SELECT count(*) FROM streams."Phones";
\i results/cookbook/10.sql
SELECT foreign_table_schema AS schema, foreign_table_name AS name
FROM information_schema.foreign_tables
WHERE foreign_table_name IN ('Phones', 'Audit') ORDER BY 1, 2;
SELECT ftoptions FROM pg_foreign_table WHERE ftrelid = 'typed_streams."Phones"'::regclass;

\c :regress_db
DROP DATABASE regression_cookbook;
\! for t in Phones Audit; do test/ddb delete-table --table-name $t > /dev/null; done
