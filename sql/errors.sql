--
-- errors: what a scan reports when the table, the stream or the service is
-- not there.  AWS errors name the operation, the AWS error type and the
-- service's message.
--
\set server ddb
\i sql/include/setup.sql

-- A table that does not exist.
CREATE FOREIGN TABLE err_missing (seq numeric) SERVER ddb OPTIONS (table_name 'NoSuchTable');
SELECT * FROM err_missing;                                                    -- ERROR

-- A table without a stream.
\! test/create_table ErrNoStream --no-stream
CREATE FOREIGN TABLE err_nostream (seq numeric) SERVER ddb OPTIONS (table_name 'ErrNoStream');
SELECT * FROM err_nostream;                                                   -- ERROR
\! test/ddb delete-table --table-name ErrNoStream > /dev/null

-- A stream ARN that does not exist.
CREATE FOREIGN TABLE err_arn (seq numeric) SERVER ddb
  OPTIONS (stream_arn 'arn:aws:dynamodb:ddblocal:000000000000:table/Gone/stream/2020-01-01T00:00:00.000');
SELECT * FROM err_arn;                                                        -- ERROR

-- Nothing listens on the endpoint: retried, then given up.
CREATE SERVER ddb_down FOREIGN DATA WRAPPER ddbstream_fdw
  OPTIONS (region 'us-east-1', endpoint 'http://127.0.0.1:9', connect_timeout '2000',
           max_retries '2', retry_base_ms '1');
CREATE USER MAPPING FOR CURRENT_USER SERVER ddb_down
  OPTIONS (access_key_id 'errkey', secret_access_key 'errsecret');
CREATE FOREIGN TABLE err_down (seq numeric) SERVER ddb_down OPTIONS (table_name 'Phones');
-- (terse: the detail names the port and how long the attempt took)
\set VERBOSITY terse
SELECT * FROM err_down;                                                       -- ERROR
\set VERBOSITY default

-- EXPLAIN alone makes no request, so it works even then.
EXPLAIN (COSTS OFF) SELECT * FROM err_down;

-- An endpoint that is not the AWS API: its answer is quoted (the start of
-- it, made printable) with a hint to check the endpoint options.
CREATE SERVER ddb_web FOREIGN DATA WRAPPER ddbstream_fdw
  OPTIONS (region 'us-east-1', endpoint :'fault_endpoint', max_retries '0');
CREATE USER MAPPING FOR CURRENT_USER SERVER ddb_web
  OPTIONS (access_key_id 'errkey', secret_access_key 'errsecret');
CREATE FOREIGN TABLE err_web (seq numeric) SERVER ddb_web OPTIONS (table_name 'ErrWeb');
\! test/fault add DescribeTable 1 body status=404 body='<!DOCTYPE html>	<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1><p>The requested URL / was not found on this server.</p></body></html>'
SELECT * FROM err_web;                                                        -- ERROR
-- Long, multi-line or binary answers are cut and escaped.
\! test/fault add DescribeTable 1 body status=403 body="$(printf 'Forbidden\r\n\r\n\001\377 %.0s' $(seq 1 80))"
SELECT * FROM err_web;                                                        -- ERROR
\! test/fault add DescribeTable 1 body status=404 body=''
SELECT * FROM err_web;                                                        -- ERROR
-- The Streams API names streams_endpoint (here a 400 with a body that is
-- JSON but no AWS error).
\! test/create_table ErrWeb --view KEYS_ONLY
\! test/fault add DescribeStream 1 body status=400 body='{"error": "no such route"}'
SELECT * FROM err_web;                                                        -- ERROR
\! test/fault reset
\! test/ddb delete-table --table-name ErrWeb > /dev/null
DROP SERVER ddb_web CASCADE;

-- The session goes on normally after each error.
SELECT 1 AS still_working;

DROP SERVER ddb CASCADE;
DROP SERVER ddb_down CASCADE;
