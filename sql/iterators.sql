--
-- iterators: where a scan starts reading, and how a table_name follows the
-- table's latest stream.
--
--   trim_horizon (default)  every record still in the stream
--   latest                  only records written after the scan starts
--   at_sequence_number      from the record with that number on
--   after_sequence_number   after the record with that number
--
\set server ddb
\i sql/include/setup.sql

\! test/create_table Iterators
\! for i in 1 2 3 4 5; do test/ddb put-item --table-name Iterators --item "{\"id\":{\"S\":\"r$i\"}}"; done

CREATE FOREIGN TABLE it_stream (seq numeric, keys jsonb)
  SERVER ddb OPTIONS (table_name 'Iterators');

-- ===================================================================
-- trim_horizon: everything
-- ===================================================================
SELECT keys FROM it_stream;

-- ===================================================================
-- at_sequence_number and after_sequence_number
-- ===================================================================
SELECT seq AS third_seq FROM it_stream OFFSET 2 LIMIT 1 \gset
ALTER FOREIGN TABLE it_stream
  OPTIONS (ADD iterator_type 'at_sequence_number', ADD sequence_number :'third_seq');
SELECT keys FROM it_stream;
ALTER FOREIGN TABLE it_stream OPTIONS (SET iterator_type 'after_sequence_number');
SELECT keys FROM it_stream;

-- A number below the shard's first record reads the shard from its start
-- (GetShardIterator would reject it), and short numbers need no padding.
-- (0: a fresh DynamoDB Local numbers its first record 1.)
ALTER FOREIGN TABLE it_stream OPTIONS (SET sequence_number '0');
SELECT keys FROM it_stream;

-- A number past the newest record returns nothing, without an error.
ALTER FOREIGN TABLE it_stream OPTIONS (SET sequence_number '99999999999999999999999999');
SELECT keys FROM it_stream;

-- ===================================================================
-- latest: only what is written after the scan starts, so nothing here
-- ===================================================================
ALTER FOREIGN TABLE it_stream OPTIONS (SET iterator_type 'latest', DROP sequence_number);
SELECT keys FROM it_stream;

-- ===================================================================
-- table_name follows the table's latest stream; stream_arn stays on one
-- ===================================================================
\set first_arn `test/ddb describe-table --table-name Iterators --query Table.LatestStreamArn --output text`
CREATE FOREIGN TABLE it_first (event_name text, keys jsonb, stream_view_type text)
  SERVER ddb OPTIONS (stream_arn :'first_arn');
CREATE FOREIGN TABLE it_latest (event_name text, keys jsonb, stream_view_type text)
  SERVER ddb OPTIONS (table_name 'Iterators');

-- Disabling the stream keeps its records readable (for 24 hours on AWS).
\! test/ddb update-table --table-name Iterators --stream-specification StreamEnabled=false > /dev/null
SELECT count(*) FROM it_latest;

-- Enabling it again creates a new stream, which table_name follows.
\! test/ddb update-table --table-name Iterators --stream-specification StreamEnabled=true,StreamViewType=KEYS_ONLY > /dev/null
\! test/ddb put-item --table-name Iterators --item '{"id":{"S":"r6"}}'
SELECT * FROM it_latest;
SELECT count(*) FROM it_first;

\! test/ddb delete-table --table-name Iterators > /dev/null
DROP SERVER ddb CASCADE;
