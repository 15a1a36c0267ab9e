--
-- nul_chars: U+0000 in items.  DynamoDB strings and attribute names may
-- hold U+0000 (JSON "\u0000"); PostgreSQL text and jsonb cannot.
--
-- Without the table option nul_replacement, a row that would hold one is an
-- error naming the record (eventID, sequence number, shard) and where the
-- character is (NewImage.address.street, Keys.id, NewImage.tags[3]); the
-- other rows are not affected, and columns that hold no string of the
-- record (seq, count(*)) never fail.  With nul_replacement, each U+0000 in
-- a string or a name is replaced by its value ('' removes it), and EXPLAIN
-- ANALYZE counts them.  A consumer stuck on such a record goes on once the
-- option is set, with no hand edit of its positions.
--
\i sql/include/setup.sql
CREATE SERVER nul_srv FOREIGN DATA WRAPPER ddbstream_fdw
  OPTIONS (region 'us-east-1', endpoint :'ddb_endpoint');
CREATE USER MAPPING FOR CURRENT_USER SERVER nul_srv
  OPTIONS (access_key_id 'nulkey', secret_access_key 'nulsecret');

-- Four items: a clean one, one with U+0000 in many places (the key, a map
-- member, a list element, a set member, attribute names), a clean one, and
-- one with a single U+0000 deep inside.
\! test/create_table NulItems
\! test/ddb put-item --table-name NulItems --item '{"id":{"S":"a1"},"note":{"S":"clean"}}'
\! test/ddb put-item --table-name NulItems --item '{"id":{"S":"b\u00002"},"address":{"M":{"street":{"S":"Main\u0000St"}}},"tags":{"L":[{"S":"x"},{"S":"y"},{"S":"z"},{"S":"w\u0000"}]},"colors":{"SS":["red\u0000"]},"meta":{"M":{"in\u0000ner":{"N":"1"}}},"k\u0000ey":{"S":"v"}}'
\! test/ddb put-item --table-name NulItems --item '{"id":{"S":"c3"},"note":{"S":"clean"}}'
\! test/ddb put-item --table-name NulItems --item '{"id":{"S":"d4"},"deep":{"M":{"list":{"L":[{"M":{"name":{"S":"x\u0000y"}}}]}}}}'

CREATE FOREIGN TABLE nul_stream (seq numeric, event_name text, keys jsonb, new_image jsonb)
  SERVER nul_srv OPTIONS (table_name 'NulItems');
CREATE FOREIGN TABLE nul_typed (seq numeric, new_image jsonb, record jsonb)
  SERVER nul_srv OPTIONS (table_name 'NulItems', image_format 'typed');
CREATE FOREIGN TABLE nul_attrs (
  seq     numeric,
  address jsonb OPTIONS (attribute 'address'),
  tags    jsonb OPTIONS (attribute 'tags'),
  colors  text  OPTIONS (attribute 'colors'),
  meta    jsonb OPTIONS (attribute 'meta'),
  id      text  OPTIONS (attribute 'id')
) SERVER nul_srv OPTIONS (table_name 'NulItems');

-- The error's message, detail and hint, with the random eventID, the
-- sequence number and the shard masked.
CREATE FUNCTION nul_error(query text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
  msg text;
  detail text;
  hint text;
  state text;
BEGIN
  EXECUTE query;
  RETURN NEXT 'no error';
EXCEPTION WHEN others THEN
  GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL,
                          hint = PG_EXCEPTION_HINT, state = RETURNED_SQLSTATE;
  detail := regexp_replace(detail, '"[0-9a-f-]{36}"', '"<event id>"');
  detail := regexp_replace(detail, 'sequence number [0-9]+', 'sequence number <seq>');
  detail := regexp_replace(detail, 'shard "[^"]*"', 'shard "<shard>"');
  RETURN NEXT 'ERROR ' || state || ': ' || msg;
  RETURN NEXT 'DETAIL: ' || detail;
  RETURN NEXT 'HINT: ' || hint;
END
$$;
-- The records' sequence numbers, to read one record alone (seq = is pushed
-- down: no other record is converted).
CREATE TEMP TABLE nul_seqs AS
  SELECT row_number() OVER () AS n, seq FROM nul_stream;

-- ===================================================================
-- without nul_replacement: what holds no string of the record works
-- ===================================================================
SELECT count(*) FROM nul_stream;
SELECT n, event_name FROM nul_stream JOIN nul_seqs USING (seq) ORDER BY n;
SELECT count(*) FROM nul_attrs WHERE seq > 0;

-- ===================================================================
-- ... and a row that would hold U+0000 is an error naming the record and
-- the path
-- ===================================================================
SELECT nul_error('SELECT keys FROM nul_stream');
SELECT nul_error('SELECT id FROM nul_attrs');
SELECT nul_error('SELECT address FROM nul_attrs');
SELECT nul_error('SELECT tags FROM nul_attrs');
SELECT nul_error('SELECT colors FROM nul_attrs');
SELECT nul_error('SELECT meta FROM nul_attrs');
-- One record alone: the clean ones convert, the last one fails at its
-- only U+0000, in either image format and in the whole record.
SELECT keys ->> 'id' AS id FROM nul_stream WHERE seq = (SELECT seq FROM nul_seqs WHERE n = 3);
SELECT nul_error('SELECT new_image FROM nul_stream WHERE seq = (SELECT seq FROM nul_seqs WHERE n = 4)');
SELECT nul_error('SELECT new_image FROM nul_typed WHERE seq = (SELECT seq FROM nul_seqs WHERE n = 4)');
SELECT nul_error('SELECT record FROM nul_typed WHERE seq = (SELECT seq FROM nul_seqs WHERE n = 4)');

-- ===================================================================
-- with nul_replacement: replaced in values and names, counted
-- ===================================================================
ALTER FOREIGN TABLE nul_stream OPTIONS (ADD nul_replacement '');
SELECT keys, new_image FROM nul_stream;
ALTER FOREIGN TABLE nul_stream OPTIONS (SET nul_replacement '<NUL>');
SELECT keys, new_image FROM nul_stream;
ALTER FOREIGN TABLE nul_typed OPTIONS (ADD nul_replacement '�');
SELECT new_image, record -> 'dynamodb' -> 'Keys' AS record_keys
FROM nul_typed WHERE seq = (SELECT seq FROM nul_seqs WHERE n = 2);
ALTER FOREIGN TABLE nul_attrs OPTIONS (ADD nul_replacement '?');
SELECT id, address, tags, colors, meta FROM nul_attrs;

-- EXPLAIN ANALYZE says how many were replaced: keys 1 (b2), new_image 7
-- (id, street, w, red, inner, key of b2; x y of d4).
\set counts 'NUL Characters|Records Received'
SELECT explain_filter('SELECT keys FROM nul_stream', :'counts', trimmed => true) AS replaced;
SELECT explain_filter('SELECT keys, new_image FROM nul_stream', :'counts', trimmed => true) AS replaced;
SELECT explain_filter('SELECT count(*) FROM nul_stream', :'counts', trimmed => true) AS replaced;

-- ===================================================================
-- a consumer stuck on the record moves on once the option is set
-- ===================================================================
CREATE FOREIGN TABLE nul_feed (event_name text, keys jsonb)
  SERVER nul_srv OPTIONS (table_name 'NulItems', consumer 'nul_mirror');
CREATE TABLE nul_copy (id text);
SELECT nul_error('INSERT INTO nul_copy SELECT keys ->> ''id'' FROM nul_feed');
SELECT nul_error('INSERT INTO nul_copy SELECT keys ->> ''id'' FROM nul_feed');
-- nothing was consumed, nothing copied
SELECT count(*) AS positions FROM ddbstream_fdw.checkpoints WHERE consumer = 'nul_mirror';
SELECT count(*) AS copied FROM nul_copy;
ALTER FOREIGN TABLE nul_feed OPTIONS (ADD nul_replacement '');
INSERT INTO nul_copy SELECT keys ->> 'id' FROM nul_feed;
SELECT id FROM nul_copy ORDER BY id;
-- every record consumed once
INSERT INTO nul_copy SELECT keys ->> 'id' FROM nul_feed;
SELECT count(*) AS copied FROM nul_copy;

-- ===================================================================
-- hostile answers (through test/fault_proxy.py): U+0000 is taken from the
-- records of GetRecords only, the byte that stands for it inside the scan
-- cannot be sent, and an escaped backslash is not U+0000
-- ===================================================================
CREATE SERVER nul_fault FOREIGN DATA WRAPPER ddbstream_fdw
  OPTIONS (region 'us-east-1', endpoint :'fault_endpoint', max_retries '0');
CREATE USER MAPPING FOR CURRENT_USER SERVER nul_fault
  OPTIONS (access_key_id 'nulkey', secret_access_key 'nulsecret');
CREATE FOREIGN TABLE nul_hostile (event_id text, seq numeric)
  SERVER nul_fault OPTIONS (table_name 'NulItems', nul_replacement '');
\! test/fault add DescribeTable 1 upstream find='"TableName"' replace='"Table\u0000Name"'
SELECT event_id FROM nul_hostile;                                             -- ERROR
\! test/fault add GetRecords 1 body body="$(printf '{"Records": [{"eventID": "a\370b", "dynamodb": {"SequenceNumber": "000000000000000000001"}}]}')"
SELECT event_id FROM nul_hostile;                                             -- ERROR
\! test/fault add GetRecords 1 body body='{"Records": [{"eventID": "a\\u0000b", "dynamodb": {"SequenceNumber": "000000000000000000001"}}]}'
SELECT event_id, seq FROM nul_hostile LIMIT 1;
\! test/fault add GetRecords 1 body body='{"Records": [{"eventID": "a", "dynamodb": {"SequenceNumber": "00000000000000000000\u00001"}}]}'
SELECT seq FROM nul_hostile;                                                  -- ERROR
\! test/fault reset
DROP SERVER nul_fault CASCADE;

-- ===================================================================
-- the option belongs to foreign tables
-- ===================================================================
ALTER SERVER nul_srv OPTIONS (ADD nul_replacement '');                       -- ERROR
ALTER FOREIGN TABLE nul_feed OPTIONS (SET nul_replacement ' ');
SELECT ftoptions FROM pg_foreign_table WHERE ftrelid = 'nul_feed'::regclass;

DROP FUNCTION nul_error(text);
DROP TABLE nul_copy;
DELETE FROM ddbstream_fdw.checkpoints WHERE consumer = 'nul_mirror';
DELETE FROM ddbstream_fdw.consumers WHERE consumer = 'nul_mirror';
\! test/ddb delete-table --table-name NulItems > /dev/null
DROP SERVER nul_srv CASCADE;
