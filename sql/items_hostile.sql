--
-- items_hostile: an items table read from an endpoint that answers to hurt
-- (test/hostile_server.py).  Each answer ends in the right rows or a clean
-- ERROR that names the operation: never a crash, an endless loop, a row
-- twice or a row that was not asked for.
--
\i sql/include/setup.sql
CREATE SERVER hostile FOREIGN DATA WRAPPER ddbstream_fdw
  OPTIONS (region 'us-east-1', endpoint :'hostile_endpoint', max_retries '2', retry_base_ms '1');
CREATE USER MAPPING FOR CURRENT_USER SERVER hostile
  OPTIONS (access_key_id 'hostilekey', secret_access_key 'hostilesecret');

-- items_of(table, query, options): the rows of query on a foreign table of
-- that DynamoDB table (made for the query: an error takes it away again)
CREATE FUNCTION items_of(tab text, query text DEFAULT 'SELECT count(*) FROM %I',
                         options text DEFAULT '') RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
  EXECUTE format('CREATE FOREIGN TABLE %I (keys jsonb, item jsonb, id text OPTIONS (attribute ''id''))
                  SERVER hostile OPTIONS (table_name %L, source ''items'', scan_segments ''1''%s)',
                 tab, tab, options);
  FOR r IN EXECUTE format(query, tab) LOOP
    RETURN NEXT r;
  END LOOP;
END $$;

-- honest answers first: three pages of two items, or of one (page_size)
SELECT * FROM items_of('ItemsTwice');
SELECT * FROM items_of('ItemsOddUnprocessed', 'SELECT count(*) FROM %I', ', page_size ''1''');
-- a LastEvaluatedKey that repeats the key the request continued from
SELECT * FROM items_of('ItemsLoop');
-- or one it gave before: a, b, a, b, ...
SELECT * FROM items_of('ItemsCycle');
-- pages of the wrong shape
SELECT * FROM items_of('ItemsNotArray');
SELECT * FROM items_of('ItemsNotObject');
SELECT * FROM items_of('ItemsMember', 'SELECT item FROM %I');
SELECT * FROM items_of('ItemsCapacity');
-- more items than the request's Limit
SELECT * FROM items_of('ItemsTooMany', 'SELECT count(*) FROM %I', ', page_size ''1''');
-- GetItem and BatchGetItem returning keys that were not asked for
SELECT * FROM items_of('ItemsOtherKey', 'SELECT id FROM %I WHERE id = ''a''');
SELECT * FROM items_of('ItemsOtherKey', 'SELECT id FROM %I WHERE id IN (''a'', ''b'')');
-- BatchGetItem returning a key twice, or naming an unprocessed key not asked for
SELECT id FROM "ItemsTwice" WHERE id IN ('a', 'b') ORDER BY 1;
SELECT id FROM "ItemsOddUnprocessed" WHERE id IN ('a', 'b');
-- every key unprocessed, forever: max_retries answers without an item, then an error
SELECT * FROM items_of('ItemsUnprocessed', 'SELECT id FROM %I WHERE id IN (''a'', ''b'')');
-- DescribeTable with key schemas DynamoDB never sends
SELECT * FROM items_of('ItemsNoHash', 'SELECT id FROM %I WHERE id = ''a''');
SELECT * FROM items_of('ItemsNoDefinition', 'SELECT id FROM %I WHERE id = ''a''');
SELECT * FROM items_of('ItemsBadType', 'SELECT id FROM %I WHERE id = ''a''');
SELECT * FROM items_of('ItemsThreeKeys', 'SELECT id FROM %I WHERE id = ''a''');

DROP SERVER hostile CASCADE;
