--
-- items: a foreign table with source 'items' has one row per item of the
-- DynamoDB table: keys (the key attributes), item (the whole item, plain or
-- typed JSON as for the stream's images) and attribute columns.  A query
-- with no condition on a key reads with Scan, in scan_segments segments at
-- once.  Items tables are read-only.
--
\set server ddb
\i sql/include/setup.sql

\! test/items_fixture catalog
\! test/items_fixture users

CREATE FOREIGN TABLE catalog (
  keys     jsonb,
  item     jsonb,
  pk       text    OPTIONS (attribute 'pk'),
  sk       integer OPTIONS (attribute 'sk'),
  name     text    OPTIONS (attribute 'name'),
  price    numeric OPTIONS (attribute 'price'),
  size     text    OPTIONS (attribute 'size')
) SERVER ddb OPTIONS (table_name 'Catalog', source 'items');

SELECT count(*), count(DISTINCT pk), min(sk), max(sk), sum(price) FROM catalog;
SELECT keys, item FROM catalog WHERE name = 'beta-07';
SELECT pk, sk, name, price, size FROM catalog WHERE name LIKE 'gamma-1%' ORDER BY sk;

-- typed: the AttributeValue JSON as DynamoDB sends it
CREATE FOREIGN TABLE catalog_typed (keys jsonb, item jsonb)
  SERVER ddb OPTIONS (table_name 'Catalog', source 'items', image_format 'typed');
SELECT keys, item -> 'tags' AS tags FROM catalog_typed WHERE keys = '{"pk": {"S": "alpha"}, "sk": {"N": "3"}}';

-- a full scan: Scan in segments; the plan needs no request
SELECT * FROM explain_filter('SELECT * FROM catalog', plan_only => true);
SELECT * FROM explain_filter('SELECT name FROM catalog', '^ *(Foreign|DynamoDB|Scan|Items|Pages|Retries|Attributes)', trimmed => true);
ALTER FOREIGN TABLE catalog OPTIONS (ADD scan_segments '3');
SELECT * FROM explain_filter('SELECT count(*) FROM catalog', '^ *(DynamoDB API|Scan Requests|Items Received|Pages)', trimmed => true);
-- the same rows whatever the segments and pages
ALTER FOREIGN TABLE catalog OPTIONS (SET scan_segments '1', ADD page_size '7');
SELECT * FROM explain_filter('SELECT count(*) FROM catalog', '^ *(DynamoDB API|Scan Requests|Items Received)', trimmed => true);
SELECT count(*), sum(price) FROM catalog;
ALTER FOREIGN TABLE catalog OPTIONS (DROP scan_segments, DROP page_size);

-- only the attributes used are fetched (ProjectionExpression, with names
-- that reserved words such as size cannot break)
EXPLAIN (VERBOSE, COSTS OFF) SELECT size, name FROM catalog;
EXPLAIN (VERBOSE, COSTS OFF) SELECT item FROM catalog;
EXPLAIN (VERBOSE, COSTS OFF) SELECT keys FROM catalog;
-- a query that uses no column fetches the partition key alone
EXPLAIN (VERBOSE, COSTS OFF) SELECT count(*) FROM catalog;
-- the keys column needs the key schema: one DescribeTable at scan start
SELECT * FROM explain_filter('SELECT keys FROM catalog', '^ *DescribeTable', trimmed => true);

-- a LIMIT with nothing to check locally caps the requests
SELECT * FROM explain_filter('SELECT name FROM catalog LIMIT 5', '^ *(Item Limit|Items Received)', trimmed => true);
ALTER FOREIGN TABLE catalog OPTIONS (ADD page_size '2', ADD scan_segments '1');
SELECT * FROM explain_filter('SELECT name FROM catalog LIMIT 5', '^ *(Item Limit|Scan Requests|Items Received)', trimmed => true);
ALTER FOREIGN TABLE catalog OPTIONS (DROP page_size, DROP scan_segments);

-- strongly consistent reads
ALTER FOREIGN TABLE catalog OPTIONS (ADD consistent_read 'true');
SELECT * FROM explain_filter('SELECT count(*) FROM catalog', '^ *(Consistent Read|Items Received)', trimmed => true);
SELECT count(*) FROM catalog;
ALTER FOREIGN TABLE catalog OPTIONS (DROP consistent_read);

-- a secondary index: its items
CREATE FOREIGN TABLE catalog_by_category (keys jsonb, category text OPTIONS (attribute 'category'),
                                          price numeric OPTIONS (attribute 'price'))
  SERVER ddb OPTIONS (table_name 'Catalog', source 'items', index_name 'by_category');
SELECT category, count(*), min(price), max(price) FROM catalog_by_category GROUP BY 1 ORDER BY 1;
SELECT * FROM explain_filter('SELECT count(*) FROM catalog_by_category', '^ *(Index|DynamoDB API)', trimmed => true);

-- U+0000 in an item's strings: an error that names the item, or with
-- nul_replacement the replacement; a page may end on such a key, and the
-- Scan goes on from it
\! test/create_table NulItems --no-stream
\! test/ddb put-item --table-name NulItems --item '{"id":{"S":"a\u0000b"},"note":{"S":"n\u0000"}}'
\! test/ddb put-item --table-name NulItems --item '{"id":{"S":"plain"},"note":{"S":"ok"}}'
CREATE FOREIGN TABLE nul_items (id text OPTIONS (attribute 'id'), item jsonb)
  SERVER ddb OPTIONS (table_name 'NulItems', source 'items', page_size '1', scan_segments '1');
SELECT count(*) FROM nul_items;
SELECT id FROM nul_items ORDER BY 1;
SELECT item FROM nul_items ORDER BY 1;
ALTER FOREIGN TABLE nul_items OPTIONS (ADD nul_replacement '?');
SELECT id, item FROM nul_items ORDER BY 1;
-- a string key is then not pushed: the replacement is not what DynamoDB holds
SELECT * FROM explain_filter('SELECT id FROM nul_items WHERE id = ''a?b''', '^ *(DynamoDB API|Key Condition)', trimmed => true);
SELECT id FROM nul_items WHERE id = 'a?b';
\! test/ddb delete-table --table-name NulItems > /dev/null

-- attribute names are UTF-8 to DynamoDB whatever the database's encoding:
-- in a LATIN1 database 'prøve' is still the attribute prøve (not the
-- attribute whose name holds the byte ø is in LATIN1)
\! test/create_table Latin --no-stream
\! test/ddb put-item --table-name Latin --item '{"id":{"S":"k"},"prøve":{"S":"right"},"pr\u0000ve":{"S":"wrong"}}'
CREATE DATABASE items_latin1 TEMPLATE template0 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C';
\c items_latin1
\encoding UTF8
SET client_min_messages = warning;
CREATE EXTENSION ddbstream_fdw;
CREATE SERVER ddb FOREIGN DATA WRAPPER ddbstream_fdw
  OPTIONS (region 'us-east-1', endpoint :'ddb_endpoint');
RESET client_min_messages;
CREATE USER MAPPING FOR CURRENT_USER SERVER ddb
  OPTIONS (access_key_id 'a', secret_access_key 'b');
CREATE FOREIGN TABLE latin (id text OPTIONS (attribute 'id'), p text OPTIONS (attribute 'prøve'))
  SERVER ddb OPTIONS (table_name 'Latin', source 'items');
SELECT id, p FROM latin;
SELECT id, p FROM latin WHERE id = 'k';
EXPLAIN (VERBOSE, COSTS OFF) SELECT p FROM latin;
\c contrib_regression
\encoding UTF8
DROP DATABASE items_latin1;
\! test/ddb delete-table --table-name Latin > /dev/null

-- read-only
INSERT INTO catalog (pk) VALUES ('x');
UPDATE catalog SET name = 'x';
DELETE FROM catalog;

-- options of one source only, checked at CREATE and ALTER
CREATE FOREIGN TABLE bad (item jsonb) SERVER ddb
  OPTIONS (table_name 'Catalog', source 'items', consumer 'c');
CREATE FOREIGN TABLE bad (item jsonb) SERVER ddb
  OPTIONS (table_name 'Catalog', source 'items', iterator_type 'latest');
CREATE FOREIGN TABLE bad (item jsonb) SERVER ddb
  OPTIONS (stream_arn 'arn:aws:dynamodb:us-east-1:000000000000:table/Catalog/stream/2024-01-01T00:00:00.000', source 'items');
CREATE FOREIGN TABLE bad (event_id text) SERVER ddb
  OPTIONS (table_name 'Catalog', scan_segments '4');
CREATE FOREIGN TABLE bad (item jsonb) SERVER ddb
  OPTIONS (table_name 'Catalog', source 'rows');
CREATE FOREIGN TABLE bad (item jsonb) SERVER ddb
  OPTIONS (table_name 'Catalog', source 'items', scan_segments '0');
CREATE FOREIGN TABLE bad (item jsonb) SERVER ddb
  OPTIONS (table_name 'Catalog', source 'items', index_name '');

-- columns: keys, item and attribute columns only
CREATE FOREIGN TABLE bad_cols (seq numeric) SERVER ddb OPTIONS (table_name 'Catalog', source 'items');
SELECT * FROM bad_cols;
CREATE FOREIGN TABLE bad_type (item integer) SERVER ddb OPTIONS (table_name 'Catalog', source 'items');
SELECT * FROM bad_type;

-- an index the table does not have, a table that does not exist
CREATE FOREIGN TABLE no_index (item jsonb, category text OPTIONS (attribute 'category'))
  SERVER ddb OPTIONS (table_name 'Catalog', source 'items', index_name 'by_nothing');
SELECT count(*) FROM no_index WHERE category = 'books';
CREATE FOREIGN TABLE no_table (keys jsonb) SERVER ddb OPTIONS (table_name 'NoSuchTable', source 'items');
SELECT count(*) FROM no_table;

-- a stream function on an items table
SELECT * FROM ddbstream_fdw.consumer_pending('catalog');

-- IMPORT FOREIGN SCHEMA with source 'items': every table, with or without a
-- stream, its key attributes as typed columns and the item
CREATE SCHEMA imported_items;
IMPORT FOREIGN SCHEMA dynamodb LIMIT TO ("Catalog", "Users") FROM SERVER ddb INTO imported_items
  OPTIONS (source 'items');
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attfdwoptions
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'imported_items' AND a.attnum > 0 ORDER BY 1, a.attnum;
SELECT c.relname, t.ftoptions FROM pg_foreign_table t JOIN pg_class c ON c.oid = t.ftrelid
 WHERE c.relnamespace = 'imported_items'::regnamespace ORDER BY 1;
SELECT count(*), min(id), max(id) FROM imported_items."Users";
IMPORT FOREIGN SCHEMA dynamodb FROM SERVER ddb INTO imported_items
  OPTIONS (source 'items', consumer 'c');

DROP SCHEMA imported_items CASCADE;
\! test/ddb delete-table --table-name Catalog > /dev/null
\! test/ddb delete-table --table-name Users > /dev/null
DROP SERVER ddb CASCADE;
