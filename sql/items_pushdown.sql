--
-- items_pushdown: conditions on key attributes choose the operation.  With
-- the partition key fixed (= or IN) a Query reads its items, with the sort
-- key's =, <, <=, >, >=, BETWEEN or LIKE 'prefix%' in the key condition;
-- with the whole primary key fixed, GetItem (one key) or BatchGetItem
-- (several, 100 a request).  $n parameters and initplans are computed when
-- the scan starts.  Every condition is still checked by PostgreSQL, so each
-- query returns what it returns unpushed: each is run both ways.
--
\set server ddb
\i sql/include/setup.sql

\! test/items_fixture catalog
\! test/items_fixture users

CREATE FOREIGN TABLE catalog (
  keys     jsonb,
  pk       text    OPTIONS (attribute 'pk'),
  sk       integer OPTIONS (attribute 'sk'),
  name     text    OPTIONS (attribute 'name'),
  price    numeric OPTIONS (attribute 'price'),
  category text    OPTIONS (attribute 'category')
) SERVER ddb OPTIONS (table_name 'Catalog', source 'items');
-- the same table, with the key columns hidden behind expressions: nothing
-- is pushed, every query reads the whole table
CREATE VIEW catalog_unpushed AS
  SELECT keys, pk || '' AS pk, sk + 0 AS sk, name, price, category FROM catalog;

-- same(query): whether the query returns the same rows pushed and unpushed
CREATE FUNCTION same(query text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE a text; b text;
BEGIN
  EXECUTE format('SELECT string_agg(r::text, '','' ORDER BY r::text) FROM (%s) r', query) INTO a;
  EXECUTE format('SELECT string_agg(r::text, '','' ORDER BY r::text) FROM (%s) r',
                 replace(query, 'FROM catalog', 'FROM catalog_unpushed')) INTO b;
  RETURN a IS NOT DISTINCT FROM b AND a IS NOT NULL;
END $$;
\set lines '^ *(DynamoDB API|Key Condition|Query Requests|GetItem Requests|BatchGetItem Requests|Scan Requests|Items Received|Item Limit)'

-- pk = $1: one Query (a generic plan shows the parameter)
PREPARE by_pk(text) AS SELECT name FROM catalog WHERE pk = $1;
SET plan_cache_mode = force_generic_plan;
SELECT * FROM explain_filter('EXECUTE by_pk(''beta'')', :'lines', trimmed => true);
RESET plan_cache_mode;
SELECT same('SELECT name FROM catalog WHERE pk = ''beta''');
-- pk IN (3 values): three Queries (the table has a sort key)
SELECT * FROM explain_filter('SELECT name FROM catalog WHERE pk IN (''alpha'', ''gamma'', ''delta'')', :'lines', trimmed => true);
SELECT same('SELECT name FROM catalog WHERE pk IN (''alpha'', ''gamma'', ''delta'')');
-- pk = x AND sk BETWEEN a AND b: one Query
SELECT * FROM explain_filter('SELECT sk FROM catalog WHERE pk = ''alpha'' AND sk BETWEEN 4 AND 9', :'lines', trimmed => true);
SELECT same('SELECT sk FROM catalog WHERE pk = ''alpha'' AND sk BETWEEN 4 AND 9');
-- one bound, strict bounds, a bound as a parameter
SELECT * FROM explain_filter('SELECT sk FROM catalog WHERE pk = ''alpha'' AND sk > 17', :'lines', trimmed => true);
SELECT same('SELECT sk FROM catalog WHERE pk = ''alpha'' AND sk > 17');
SELECT same('SELECT sk FROM catalog WHERE pk = ''alpha'' AND sk > 3 AND sk < 6');
SELECT same('SELECT sk FROM catalog WHERE pk = ''alpha'' AND 6 >= sk');
PREPARE upto(text, int) AS SELECT sk FROM catalog WHERE pk = $1 AND sk <= $2;
SELECT * FROM explain_filter('EXECUTE upto(''gamma'', 2)', :'lines', trimmed => true);
EXECUTE upto('gamma', 2);
-- full key =: one GetItem; full key with IN: one BatchGetItem
SELECT * FROM explain_filter('SELECT name FROM catalog WHERE pk = ''beta'' AND sk = 5', :'lines', trimmed => true);
SELECT same('SELECT name FROM catalog WHERE pk = ''beta'' AND sk = 5');
SELECT * FROM explain_filter('SELECT name FROM catalog WHERE pk IN (''beta'', ''gamma'') AND sk IN (1, 2, 99)', :'lines', trimmed => true);
SELECT same('SELECT name FROM catalog WHERE pk IN (''beta'', ''gamma'') AND sk IN (1, 2, 99)');
-- a key that is not there: nothing, one request
SELECT * FROM explain_filter('SELECT name FROM catalog WHERE pk = ''nobody'' AND sk = 1', :'lines', trimmed => true);

-- the value of an initplan
SELECT * FROM explain_filter('SELECT name FROM catalog WHERE pk = (SELECT ''gam'' || ''ma'') AND sk = 20', '^ *(DynamoDB API|Key Condition|GetItem Requests)', trimmed => true);
-- conditions on other attributes stay local; a LIMIT with a pushed =
SELECT * FROM explain_filter('SELECT name FROM catalog WHERE pk = ''alpha'' AND price > 30', :'lines', trimmed => true);
SELECT same('SELECT name FROM catalog WHERE pk = ''alpha'' AND price > 30');
SELECT * FROM explain_filter('SELECT name FROM catalog WHERE pk = ''alpha'' LIMIT 3', :'lines', trimmed => true);

-- LIKE 'prefix%' on a string sort key: begins_with (a local index)
CREATE FOREIGN TABLE catalog_by_name (pk text OPTIONS (attribute 'pk'), name text OPTIONS (attribute 'name'))
  SERVER ddb OPTIONS (table_name 'Catalog', source 'items', index_name 'by_name');
SELECT * FROM explain_filter('SELECT name FROM catalog_by_name WHERE pk = ''beta'' AND name LIKE ''beta-1%''', :'lines', trimmed => true);
SELECT name FROM catalog_by_name WHERE pk = 'beta' AND name LIKE 'beta-1%' ORDER BY name;
-- a string range only under the C collation, where PostgreSQL orders as DynamoDB does
SELECT * FROM explain_filter('SELECT name FROM catalog_by_name WHERE pk = ''beta'' AND name > ''beta-18''', '^ *(DynamoDB API|Key Condition)', trimmed => true);
SELECT * FROM explain_filter('SELECT name FROM catalog_by_name WHERE pk = ''beta'' AND name > ''beta-18'' COLLATE "C"', '^ *(DynamoDB API|Key Condition)', trimmed => true);
SELECT name FROM catalog_by_name WHERE pk = 'beta' AND name > 'beta-18' COLLATE "C" ORDER BY 1;

-- a global index: Query on its keys, never GetItem
CREATE FOREIGN TABLE catalog_by_category (category text OPTIONS (attribute 'category'),
                                          price numeric OPTIONS (attribute 'price'),
                                          name text OPTIONS (attribute 'name'))
  SERVER ddb OPTIONS (table_name 'Catalog', source 'items', index_name 'by_category');
SELECT * FROM explain_filter('SELECT name FROM catalog_by_category WHERE category = ''tools'' AND price = 9.03', :'lines', trimmed => true);
SELECT name, price FROM catalog_by_category WHERE category = 'tools' AND price >= 50 ORDER BY price;

-- a column with a type modifier is not pushed: numeric(5,1) shows 1.25 as
-- 1.3, and an = on 1.3 must find it (here 9.03 as 9.0)
CREATE FOREIGN TABLE catalog_rounded (price numeric(5,1) OPTIONS (attribute 'price'),
                                      category text OPTIONS (attribute 'category'))
  SERVER ddb OPTIONS (table_name 'Catalog', source 'items', index_name 'by_category');
SELECT * FROM explain_filter('SELECT price FROM catalog_rounded WHERE category = ''books'' AND price = 9.0', '^ *(DynamoDB API|Key Condition)', trimmed => true);
SELECT count(*) FROM catalog_rounded WHERE category = 'books' AND price = 9.0;

-- values no key can hold match nothing, and are not sent
SELECT count(*) FROM catalog WHERE pk = '';
SELECT count(*) FROM catalog WHERE pk IN (NULL, 'alpha') AND sk = 1;
SELECT count(*) FROM catalog WHERE pk = 'alpha' AND sk = 3000000000000000000::bigint;
SELECT count(*) FROM catalog_by_category WHERE category = 'tools' AND price = 'NaN';
SELECT count(*) FROM catalog_by_category WHERE category = 'tools' AND price = 1.000000000000000000000000000000000000001;
SELECT count(*) FROM catalog_by_category WHERE category = 'tools' AND price > 1e200;
SELECT count(*) FROM catalog_by_category WHERE category = 'tools' AND price < 1e200;
SELECT count(*) FROM catalog_by_category WHERE category = 'tools' AND price BETWEEN 50 AND 10;
SELECT count(*) FROM catalog WHERE pk = repeat('x', 3000);

-- a hash-only table: GetItem, and BatchGetItem beyond 100 keys
\set ids 'SELECT array_agg(format(''u%s'', CASE WHEN i < 10 THEN ''0'' || i ELSE i::text END)) FROM generate_series(0, 149) i'
CREATE FOREIGN TABLE users (id text OPTIONS (attribute 'id'), age int OPTIONS (attribute 'age'))
  SERVER ddb OPTIONS (table_name 'Users', source 'items');
SELECT * FROM explain_filter('SELECT age FROM users WHERE id = ''u07''', :'lines', trimmed => true);
SELECT * FROM explain_filter(format('SELECT age FROM users WHERE id = ANY (%L::text[])', (:ids)), :'lines', trimmed => true);
SELECT count(*), sum(age) FROM users WHERE id = ANY ((:ids)::text[]);

\! test/ddb delete-table --table-name Catalog > /dev/null
\! test/ddb delete-table --table-name Users > /dev/null
DROP SERVER ddb CASCADE;
