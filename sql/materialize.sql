--
-- materialize: copy a stream's records into a table with INSERT ... SELECT,
-- and later copy only what is new.
--
\set server ddb
\i sql/include/setup.sql

\! test/create_table Orders
\! for i in 1 2 3; do test/ddb put-item --table-name Orders --item "{\"id\":{\"S\":\"o$i\"},\"qty\":{\"N\":\"$i\"}}"; done

CREATE FOREIGN TABLE orders_stream (
  event_id text, event_name text, seq numeric, shard_id text,
  created_at timestamptz, keys jsonb, new_image jsonb, old_image jsonb,
  size_bytes integer, stream_view_type text, user_identity jsonb, record jsonb
) SERVER ddb OPTIONS (table_name 'Orders');

-- A change log with the same columns, and a unique record id.
CREATE TABLE order_changes (LIKE orders_stream);
ALTER TABLE order_changes ADD PRIMARY KEY (event_id);

INSERT INTO order_changes SELECT * FROM orders_stream
  WHERE seq > (SELECT coalesce(max(seq), 0) FROM order_changes);
SELECT event_name, keys, new_image ->> 'qty' AS qty FROM order_changes ORDER BY seq;

-- New changes in DynamoDB; the same statement copies only those.
\! test/ddb update-item --table-name Orders --key '{"id":{"S":"o1"}}' --update-expression 'SET qty = :q' --expression-attribute-values '{":q":{"N":"10"}}'
\! test/ddb delete-item --table-name Orders --key '{"id":{"S":"o2"}}'
INSERT INTO order_changes SELECT * FROM orders_stream
  WHERE seq > (SELECT coalesce(max(seq), 0) FROM order_changes);
SELECT event_name, keys, new_image ->> 'qty' AS qty, old_image ->> 'qty' AS old_qty
FROM order_changes ORDER BY seq;

-- Running it again with nothing new copies nothing.
INSERT INTO order_changes SELECT * FROM orders_stream
  WHERE seq > (SELECT coalesce(max(seq), 0) FROM order_changes);
SELECT count(*) FROM order_changes;

-- A rolled-back copy leaves nothing behind; the next one copies it all.
\! test/ddb put-item --table-name Orders --item '{"id":{"S":"o4"},"qty":{"N":"4"}}'
BEGIN;
INSERT INTO order_changes SELECT * FROM orders_stream
  WHERE seq > (SELECT coalesce(max(seq), 0) FROM order_changes);
ROLLBACK;
INSERT INTO order_changes SELECT * FROM orders_stream
  WHERE seq > (SELECT coalesce(max(seq), 0) FROM order_changes);
SELECT event_name, keys FROM order_changes ORDER BY seq;

-- The copy equals the stream.
SELECT count(*) AS missing FROM orders_stream s
WHERE NOT EXISTS (SELECT 1 FROM order_changes c WHERE c.event_id = s.event_id
                  AND c.seq = s.seq AND c.record = s.record);

\! test/ddb delete-table --table-name Orders > /dev/null
DROP TABLE order_changes;
DROP SERVER ddb CASCADE;
