--
-- errors: what a scan reports when the table, the stream or the service is
-- not there.  AWS errors name the operation, the AWS error type and the
-- service's message.
--
\getenv ddb_endpoint DDB_ENDPOINT
CREATE SERVER ddb FOREIGN DATA WRAPPER ddbstream_fdw
  OPTIONS (region 'us-east-1', endpoint :'ddb_endpoint');
CREATE USER MAPPING FOR CURRENT_USER SERVER ddb
  OPTIONS (access_key_id 'errkey', secret_access_key 'errsecret');

-- A table that does not exist.
CREATE FOREIGN TABLE err_missing (seq numeric) SERVER ddb OPTIONS (table_name 'NoSuchTable');
SELECT * FROM err_missing;                                                    -- ERROR

-- A table without a stream.
\! test/ddb create-table --table-name ErrNoStream --attribute-definitions AttributeName=id,AttributeType=S --key-schema AttributeName=id,KeyType=HASH --billing-mode PAY_PER_REQUEST > /dev/null
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

-- The session goes on normally after each error.
SELECT 1 AS still_working;

DROP SERVER ddb CASCADE;
DROP SERVER ddb_down CASCADE;
