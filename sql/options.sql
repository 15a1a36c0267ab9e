--
-- options: every option of ddbstream_fdw is checked when it is set, at
-- CREATE or ALTER time, not at the first scan.  Nothing here reaches AWS.
--
\i sql/include/setup.sql

-- ===================================================================
-- server options: region (required), endpoint, streams_endpoint,
-- connect_timeout, request_timeout
-- ===================================================================
CREATE SERVER opt_srv FOREIGN DATA WRAPPER ddbstream_fdw;                      -- ERROR
CREATE SERVER opt_srv FOREIGN DATA WRAPPER ddbstream_fdw OPTIONS (region 'US East'); -- ERROR
CREATE SERVER opt_srv FOREIGN DATA WRAPPER ddbstream_fdw
  OPTIONS (region 'us-east-1', endpoint 'ftp://example.com');                 -- ERROR
CREATE SERVER opt_srv FOREIGN DATA WRAPPER ddbstream_fdw
  OPTIONS (region 'us-east-1', endpoint 'https://user:pw@example.com');       -- ERROR
CREATE SERVER opt_srv FOREIGN DATA WRAPPER ddbstream_fdw
  OPTIONS (region 'us-east-1', streams_endpoint 'https://');                  -- ERROR
CREATE SERVER opt_srv FOREIGN DATA WRAPPER ddbstream_fdw
  OPTIONS (region 'us-east-1', connect_timeout '0');                          -- ERROR
CREATE SERVER opt_srv FOREIGN DATA WRAPPER ddbstream_fdw
  OPTIONS (region 'us-east-1', request_timeout 'soon');                       -- ERROR
CREATE SERVER opt_srv FOREIGN DATA WRAPPER ddbstream_fdw
  OPTIONS (region 'us-east-1', table_name 'Phones');                          -- ERROR
-- Ports are 1 to 65535, in digits.
CREATE SERVER opt_srv FOREIGN DATA WRAPPER ddbstream_fdw
  OPTIONS (region 'us-east-1', endpoint 'http://127.0.0.1:99999');            -- ERROR
CREATE SERVER opt_srv FOREIGN DATA WRAPPER ddbstream_fdw
  OPTIONS (region 'us-east-1', endpoint 'http://127.0.0.1:0');                -- ERROR
CREATE SERVER opt_srv FOREIGN DATA WRAPPER ddbstream_fdw
  OPTIONS (region 'us-east-1', streams_endpoint 'https://[::1]:8o00/');       -- ERROR
CREATE SERVER opt_srv FOREIGN DATA WRAPPER ddbstream_fdw
  OPTIONS (region 'us-east-1', endpoint 'http://localhost:/');                -- ERROR
CREATE SERVER opt_srv FOREIGN DATA WRAPPER ddbstream_fdw
  OPTIONS (region 'us-east-1', endpoint 'http://[::1:8000');                  -- ERROR
-- Integers are digits only: no fraction, blank, sign, hex or unit.
CREATE SERVER opt_srv FOREIGN DATA WRAPPER ddbstream_fdw
  OPTIONS (region 'us-east-1', max_retries '1.5');                            -- ERROR
CREATE SERVER opt_srv FOREIGN DATA WRAPPER ddbstream_fdw
  OPTIONS (region 'us-east-1', max_retries ' 5');                             -- ERROR
CREATE SERVER opt_srv FOREIGN DATA WRAPPER ddbstream_fdw
  OPTIONS (region 'us-east-1', max_retries '5 ');                             -- ERROR
CREATE SERVER opt_srv FOREIGN DATA WRAPPER ddbstream_fdw
  OPTIONS (region 'us-east-1', max_retries '+5');                             -- ERROR
CREATE SERVER opt_srv FOREIGN DATA WRAPPER ddbstream_fdw
  OPTIONS (region 'us-east-1', connect_timeout '0x10');                       -- ERROR
CREATE SERVER opt_srv FOREIGN DATA WRAPPER ddbstream_fdw
  OPTIONS (region 'us-east-1', request_timeout '5s');                         -- ERROR
CREATE SERVER opt_srv FOREIGN DATA WRAPPER ddbstream_fdw
  OPTIONS (region 'us-east-1', retry_max_ms '99999999999');                   -- ERROR
-- proxy (superuser only, see credentials): a URL with a host and a port,
-- nothing else
CREATE SERVER opt_srv FOREIGN DATA WRAPPER ddbstream_fdw
  OPTIONS (region 'us-east-1', proxy 'http://user:secret@127.0.0.1:3128');    -- ERROR
CREATE SERVER opt_srv FOREIGN DATA WRAPPER ddbstream_fdw
  OPTIONS (region 'us-east-1', proxy 'ftp://127.0.0.1:3128');                 -- ERROR
CREATE SERVER opt_srv FOREIGN DATA WRAPPER ddbstream_fdw
  OPTIONS (region 'us-east-1', proxy 'http://127.0.0.1:65536');               -- ERROR
CREATE SERVER opt_srv FOREIGN DATA WRAPPER ddbstream_fdw
  OPTIONS (region 'us-east-1', proxy 'http://127.0.0.1:3128/path');           -- ERROR
CREATE SERVER opt_proxy FOREIGN DATA WRAPPER ddbstream_fdw
  OPTIONS (region 'us-east-1', endpoint 'http://[::1]:65535', max_retries '007',
           proxy 'socks5h://127.0.0.1:1080');
DROP SERVER opt_proxy;
CREATE SERVER opt_srv FOREIGN DATA WRAPPER ddbstream_fdw
  OPTIONS (region 'us-east-1', endpoint 'http://127.0.0.1:8000',
           streams_endpoint 'http://127.0.0.1:8000/', connect_timeout '2000',
           request_timeout '10000');
ALTER SERVER opt_srv OPTIONS (DROP region);                                  -- ERROR
ALTER SERVER opt_srv OPTIONS (SET region 'eu-west-1');

-- ===================================================================
-- user mapping options: access_key_id and secret_access_key together,
-- session_token optional
-- ===================================================================
CREATE USER MAPPING FOR CURRENT_USER SERVER opt_srv
  OPTIONS (access_key_id 'AKIDEXAMPLE');                                      -- ERROR
CREATE USER MAPPING FOR CURRENT_USER SERVER opt_srv
  OPTIONS (access_key_id 'AKID-EXAMPLE', secret_access_key 's');              -- ERROR
CREATE USER MAPPING FOR CURRENT_USER SERVER opt_srv
  OPTIONS (access_key_id 'AKIDEXAMPLE', secret_access_key '');                -- ERROR
CREATE USER MAPPING FOR CURRENT_USER SERVER opt_srv
  OPTIONS (session_token 'token');                                            -- ERROR
CREATE USER MAPPING FOR CURRENT_USER SERVER opt_srv
  OPTIONS (access_key_id 'AKIDEXAMPLE', secret_access_key 's', region 'x');   -- ERROR
CREATE USER MAPPING FOR CURRENT_USER SERVER opt_srv
  OPTIONS (access_key_id 'AKIDEXAMPLE', secret_access_key 'secret', session_token 'token');
ALTER USER MAPPING FOR CURRENT_USER SERVER opt_srv OPTIONS (DROP secret_access_key); -- ERROR

-- ===================================================================
-- foreign table options: table_name or stream_arn (exactly one),
-- iterator_type, sequence_number, page_size, image_format, empty_page_limit
-- ===================================================================
CREATE FOREIGN TABLE opt_ft (seq numeric) SERVER opt_srv;                     -- ERROR
CREATE FOREIGN TABLE opt_ft (seq numeric) SERVER opt_srv
  OPTIONS (table_name 'Phones',
           stream_arn 'arn:aws:dynamodb:us-east-1:123456789012:table/Phones/stream/2024-01-01T00:00:00.000'); -- ERROR
CREATE FOREIGN TABLE opt_ft (seq numeric) SERVER opt_srv OPTIONS (table_name 'P'); -- ERROR
CREATE FOREIGN TABLE opt_ft (seq numeric) SERVER opt_srv OPTIONS (table_name 'Phones!'); -- ERROR
CREATE FOREIGN TABLE opt_ft (seq numeric) SERVER opt_srv OPTIONS (stream_arn 'Phones'); -- ERROR
CREATE FOREIGN TABLE opt_ft (seq numeric) SERVER opt_srv
  OPTIONS (table_name 'Phones', iterator_type 'oldest');                      -- ERROR
CREATE FOREIGN TABLE opt_ft (seq numeric) SERVER opt_srv
  OPTIONS (table_name 'Phones', iterator_type 'after_sequence_number');       -- ERROR
CREATE FOREIGN TABLE opt_ft (seq numeric) SERVER opt_srv
  OPTIONS (table_name 'Phones', sequence_number '100');                       -- ERROR
CREATE FOREIGN TABLE opt_ft (seq numeric) SERVER opt_srv
  OPTIONS (table_name 'Phones', iterator_type 'at_sequence_number', sequence_number '12a'); -- ERROR
CREATE FOREIGN TABLE opt_ft (seq numeric) SERVER opt_srv
  OPTIONS (table_name 'Phones', iterator_type 'at_sequence_number',
           sequence_number '12345678901234567890123456789012345678901');     -- ERROR
CREATE FOREIGN TABLE opt_ft (seq numeric) SERVER opt_srv
  OPTIONS (table_name 'Phones', page_size '0');                               -- ERROR
CREATE FOREIGN TABLE opt_ft (seq numeric) SERVER opt_srv
  OPTIONS (table_name 'Phones', page_size '1001');                            -- ERROR
CREATE FOREIGN TABLE opt_ft (seq numeric) SERVER opt_srv
  OPTIONS (table_name 'Phones', image_format 'raw');                          -- ERROR
CREATE FOREIGN TABLE opt_ft (seq numeric) SERVER opt_srv
  OPTIONS (table_name 'Phones', empty_page_limit '-1');                       -- ERROR
CREATE FOREIGN TABLE opt_ft (seq numeric) SERVER opt_srv
  OPTIONS (table_name 'Phones', page_size '1e3');                             -- ERROR
CREATE FOREIGN TABLE opt_ft (seq numeric) SERVER opt_srv
  OPTIONS (table_name 'Phones', region 'us-east-1');                          -- ERROR
CREATE FOREIGN TABLE opt_ft (seq numeric OPTIONS (field 'sequence')) SERVER opt_srv
  OPTIONS (table_name 'Phones');                                              -- ERROR
CREATE FOREIGN TABLE opt_ft (seq numeric OPTIONS (column_name 'seq')) SERVER opt_srv
  OPTIONS (table_name 'Phones');                                              -- ERROR

CREATE FOREIGN TABLE opt_ft (sequence_number numeric OPTIONS (field 'seq')) SERVER opt_srv
  OPTIONS (table_name 'Phones', iterator_type 'AFTER_SEQUENCE_NUMBER',
           sequence_number '100', page_size '500', image_format 'typed',
           empty_page_limit '5');
-- EXPLAIN shows the stream and where reading starts, without a request.
EXPLAIN (COSTS OFF) SELECT * FROM opt_ft;

-- Rules between options hold for ALTER too.
ALTER FOREIGN TABLE opt_ft OPTIONS (DROP sequence_number);                    -- ERROR
ALTER FOREIGN TABLE opt_ft OPTIONS (ADD stream_arn
  'arn:aws:dynamodb:us-east-1:123456789012:table/Phones/stream/2024-01-01T00:00:00.000'); -- ERROR
ALTER FOREIGN TABLE opt_ft OPTIONS (SET iterator_type 'latest');              -- ERROR
ALTER FOREIGN TABLE opt_ft OPTIONS (SET iterator_type 'latest', DROP sequence_number);
ALTER FOREIGN TABLE opt_ft ALTER COLUMN sequence_number OPTIONS (SET field 'nope'); -- ERROR
SELECT ftoptions FROM pg_foreign_table WHERE ftrelid = 'opt_ft'::regclass;
EXPLAIN (COSTS OFF) SELECT * FROM opt_ft;

DROP SERVER opt_srv CASCADE;
