--
-- view_types: what each StreamViewType puts in keys, new_image and
-- old_image.  A record without an image gives SQL NULL, never '{}'.
--
\set server ddb
\i sql/include/setup.sql

-- One table per view type, View_<type>; in each an item put, put again
-- with another value, and deleted.
\setenv VIEWS 'KEYS_ONLY NEW_IMAGE OLD_IMAGE NEW_AND_OLD_IMAGES'
\! for v in $VIEWS; do test/create_table View_$v --view $v; done
\! for v in $VIEWS; do test/ddb put-item --table-name View_$v --item '{"id":{"S":"k"},"v":{"N":"1"}}'; done
\! for v in $VIEWS; do test/ddb put-item --table-name View_$v --item '{"id":{"S":"k"},"v":{"N":"2"}}'; done
\! for v in $VIEWS; do test/ddb delete-item --table-name View_$v --key '{"id":{"S":"k"}}'; done

CREATE FOREIGN TABLE view_keys_only (event_name text, stream_view_type text, keys jsonb, new_image jsonb, old_image jsonb)
  SERVER ddb OPTIONS (table_name 'View_KEYS_ONLY');
CREATE FOREIGN TABLE view_new_image (event_name text, stream_view_type text, keys jsonb, new_image jsonb, old_image jsonb)
  SERVER ddb OPTIONS (table_name 'View_NEW_IMAGE');
CREATE FOREIGN TABLE view_old_image (event_name text, stream_view_type text, keys jsonb, new_image jsonb, old_image jsonb)
  SERVER ddb OPTIONS (table_name 'View_OLD_IMAGE');
CREATE FOREIGN TABLE view_both (event_name text, stream_view_type text, keys jsonb, new_image jsonb, old_image jsonb)
  SERVER ddb OPTIONS (table_name 'View_NEW_AND_OLD_IMAGES');

SELECT * FROM view_keys_only;
SELECT * FROM view_new_image;
SELECT * FROM view_old_image;
SELECT * FROM view_both;

\! for v in $VIEWS; do test/ddb delete-table --table-name View_$v > /dev/null; done
DROP SERVER ddb CASCADE;
