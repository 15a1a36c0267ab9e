--
-- faults: throttling, server errors, broken connections, expired iterators,
-- trimmed data, timeouts, cancellation and malformed responses, injected by
-- test/fault_proxy.py between the scan and DynamoDB Local.
--
-- A scan either returns exactly the fault-free rows or fails with the
-- documented error; the session goes on normally afterwards.
--
\i sql/include/setup.sql
-- Fast retries for the tests: 3 retries, 1 ms to 10 ms apart.
CREATE SERVER faulty FOREIGN DATA WRAPPER ddbstream_fdw
  OPTIONS (region 'us-east-1', endpoint :'fault_endpoint',
           max_retries '3', retry_base_ms '1', retry_max_ms '10');
CREATE USER MAPPING FOR CURRENT_USER SERVER faulty
  OPTIONS (access_key_id 'faultkey', secret_access_key 'faultsecret');

\! test/load_items.py FaultItems 35
CREATE FOREIGN TABLE fault_stream (event_id text, seq numeric, new_image jsonb)
  SERVER faulty OPTIONS (table_name 'FaultItems', page_size '10');

-- The fault-free result, and a check that compares a scan with it.
CREATE TABLE baseline AS SELECT * FROM fault_stream;
SELECT count(*) FROM baseline;
CREATE FUNCTION same_rows() RETURNS text LANGUAGE sql AS $$
  SELECT CASE WHEN (SELECT array_agg(event_id || seq || new_image::text) FROM fault_stream)
                 = (SELECT array_agg(event_id || seq || new_image::text) FROM baseline)
              THEN 'same rows' ELSE 'DIFFERENT ROWS' END
$$;

-- ===================================================================
-- retried with backoff: the rows are the fault-free ones
-- ===================================================================
\! test/fault add GetRecords 2 status status=500 type=InternalServerError after=1
SELECT same_rows();
\! test/fault add GetRecords 2 status status=400 type=ThrottlingException
SELECT same_rows();
\! test/fault add GetRecords 1 status status=400 type=ProvisionedThroughputExceededException
\! test/fault add DescribeStream 1 status status=400 type=LimitExceededException
\! test/fault add DescribeTable 1 status status=503 type=ServiceUnavailable
SELECT same_rows();
\! test/fault add GetRecords 2 reset after=2
SELECT same_rows();
\! test/fault add GetShardIterator 1 reset
SELECT same_rows();
\! test/fault add GetRecords 1 truncate after=1
SELECT same_rows();
\! test/fault add GetRecords 2 delay ms=200
SELECT same_rows();
\! test/fault add GetRecords 1 body body='<html><body>502 Bad Gateway</body></html>'
SELECT same_rows();
\! test/fault add GetRecords 1 body status=502 body='<html><body>502 Bad Gateway</body></html>'
SELECT same_rows();
\! test/fault stats
\! test/fault reset
-- EXPLAIN ANALYZE counts the retries.
\! test/fault add GetRecords 2 status status=500 type=InternalServerError
SELECT explain_filter('SELECT * FROM fault_stream', 'Retries|GetRecords Requests', trimmed => true)
  AS retries;

-- ===================================================================
-- expired iterators: a new one after the last record received
-- ===================================================================
\! test/fault add GetRecords 1 status status=400 type=ExpiredIteratorException message='Iterator expired' after=2
SELECT same_rows();
-- ... or where the shard started, when none was received yet
\! test/fault add GetRecords 1 status status=400 type=ExpiredIteratorException
SELECT same_rows();
-- An iterator that keeps expiring fails the scan.
\! test/fault add GetRecords 10 status status=400 type=ExpiredIteratorException message='Iterator expired'
SELECT count(*) FROM fault_stream;                                            -- ERROR
\! test/fault reset

-- ===================================================================
-- trimmed data: an error by default; on_trimmed 'skip' warns and goes on
-- from the oldest record left in the shard
-- (terse: the detail names the emulator's shard, which differs per run)
-- ===================================================================
\set VERBOSITY terse
\! test/fault add GetRecords 1 status status=400 type=TrimmedDataAccessException message='Trimmed'
SELECT count(*) FROM fault_stream;                                            -- ERROR
\! test/fault reset
ALTER FOREIGN TABLE fault_stream OPTIONS (ADD on_trimmed 'skip');
\! test/fault add GetRecords 1 status status=400 type=TrimmedDataAccessException message='Trimmed'
SELECT same_rows();
\! test/fault add GetShardIterator 1 status status=400 type=TrimmedDataAccessException message='Trimmed'
SELECT same_rows();
\set VERBOSITY default
ALTER FOREIGN TABLE fault_stream OPTIONS (DROP on_trimmed);

-- ===================================================================
-- errors that are not retried, and giving up
-- ===================================================================
\! test/fault add GetRecords 1 status status=400 type=ValidationException message='Invalid ShardIterator'
SELECT count(*) FROM fault_stream;                                            -- ERROR
\! test/fault add DescribeTable 1 status status=400 type=AccessDeniedException message='not authorized to perform: dynamodb:DescribeTable'
SELECT count(*) FROM fault_stream;                                            -- ERROR
\! test/fault add GetRecords 10 status status=500 type=InternalServerError
SELECT count(*) FROM fault_stream;                                            -- ERROR
\! test/fault reset
\! test/fault add GetRecords 10 reset
\set VERBOSITY terse
SELECT count(*) FROM fault_stream;                                            -- ERROR
\set VERBOSITY default
\! test/fault reset

-- ===================================================================
-- malformed responses: a clear error naming the operation, never a crash
-- or a wrong row
-- ===================================================================
\! test/fault add GetRecords 10 body body='{"Records": [{"eventID": '
SELECT count(*) FROM fault_stream;                                            -- ERROR
\! test/fault reset
\! test/fault add GetRecords 1 body body='{"NextShardIterator": "x"}'
SELECT count(*) FROM fault_stream;                                            -- ERROR
\! test/fault add GetRecords 1 body body='{"Records": "none"}'
SELECT count(*) FROM fault_stream;                                            -- ERROR
\! test/fault add GetRecords 1 body body='{"Records": [{"eventID": "a", "dynamodb": {"SequenceNumber": 42}}]}'
SELECT count(*) FROM fault_stream;                                            -- ERROR
\! test/fault add GetRecords 1 body body='{"Records": [{"eventID": "a", "dynamodb": {"SequenceNumber": "000000000000000000001", "NewImage": {"x": {"N": "12abc"}}}}]}'
SELECT new_image FROM fault_stream;                                           -- ERROR
\! test/fault add GetRecords 1 body body='{"Records": [{"eventID": "a", "dynamodb": {"SequenceNumber": "000000000000000000001", "NewImage": {"x": {"Q": "1"}}}}]}'
SELECT new_image FROM fault_stream;                                           -- ERROR
-- (U+0000 in a string: see nul_chars; terse, the detail names the shard)
\! test/fault add GetRecords 1 body body='{"Records": [{"eventID": "a\u0000b", "dynamodb": {"SequenceNumber": "000000000000000000001"}}]}'
\set VERBOSITY terse
SELECT event_id FROM fault_stream;                                            -- ERROR
\set VERBOSITY default
\! test/fault add GetRecords 1 body body="$(printf '{"Records": [{"eventID": "a\377b", "dynamodb": {"SequenceNumber": "000000000000000000001"}}]}')"
SELECT event_id FROM fault_stream;                                            -- ERROR
-- nesting deeper than cJSON parses: refused at once, not retried
\! test/fault add GetRecords 1 body body="$(/usr/bin/python3 -c 'print("[" * 5000 + "]" * 5000)')"
SELECT count(*) FROM fault_stream;                                            -- ERROR
\! test/fault reset
-- Well-formed extremes are fine: a 40-digit sequence number, a 400 KB item.
\! f=$(mktemp) && /usr/bin/python3 -c 'import json; print(json.dumps({"Records": [{"eventID": "big", "eventName": "INSERT", "dynamodb": {"SequenceNumber": "9" * 40, "NewImage": {"blob": {"S": "x" * 400000}}}}]}))' > $f && test/fault add GetRecords 1 body body_file=$f; rm -f $f
SELECT event_id, seq, length(new_image ->> 'blob') FROM fault_stream LIMIT 1;
\! test/fault reset

-- ===================================================================
-- timeouts and cancellation
-- ===================================================================
-- A request that hangs ends at request_timeout (and is retried).
CREATE SERVER slow FOREIGN DATA WRAPPER ddbstream_fdw
  OPTIONS (region 'us-east-1', endpoint :'fault_endpoint', request_timeout '300',
           max_retries '1', retry_base_ms '1');
CREATE USER MAPPING FOR CURRENT_USER SERVER slow
  OPTIONS (access_key_id 'faultkey', secret_access_key 'faultsecret');
CREATE FOREIGN TABLE slow_stream (seq numeric) SERVER slow OPTIONS (table_name 'FaultItems');
\! test/fault add GetRecords 1 hang seconds=3
SELECT count(*) FROM slow_stream;
\! test/fault add GetRecords 2 hang seconds=3
\set VERBOSITY terse
SELECT count(*) FROM slow_stream;                                             -- ERROR
\set VERBOSITY default
\! test/fault reset
-- statement_timeout interrupts a hanging request with the ordinary cancel,
-- and the next query in the session works.
\! test/fault add GetRecords 1 hang seconds=5
SET statement_timeout = '500ms';
SELECT count(*) FROM fault_stream;                                            -- ERROR
RESET statement_timeout;
\! test/fault reset
SELECT same_rows();
-- ... and a backoff sleep between retries too.
ALTER SERVER faulty OPTIONS (SET retry_base_ms '60000', SET retry_max_ms '60000');
\! test/fault add GetRecords 5 status status=500 type=InternalServerError
SET statement_timeout = '500ms';
SELECT count(*) FROM fault_stream;                                            -- ERROR
RESET statement_timeout;
\! test/fault reset
ALTER SERVER faulty OPTIONS (SET retry_base_ms '1', SET retry_max_ms '10');
SELECT same_rows();

-- ===================================================================
-- nothing leaks: after 30 failed scans (errors raised after a request and
-- while converting a page), the backend holds the same file descriptors (libcurl handles
-- and their sockets are freed with the scan's memory) and no more memory
-- ===================================================================
SELECT count(*) AS fds_before FROM pg_ls_dir('/proc/self/fd') \gset
SELECT (regexp_match(pg_read_file('/proc/self/status'), 'VmRSS:\s+(\d+)'))[1]::int AS rss_before \gset
\! test/fault add GetRecords 15 status status=400 type=ValidationException after=1
\! test/fault add GetRecords 15 body body='{"Records": [{"eventID": "a", "dynamodb": {"SequenceNumber": "000000000000000000001", "NewImage": {"x": {"Q": "1"}}}}]}'
DO $$
BEGIN
  FOR i IN 1..30 LOOP
    BEGIN
      PERFORM new_image FROM fault_stream;
    EXCEPTION WHEN others THEN
      NULL;
    END;
  END LOOP;
END
$$;
\! test/fault stats
\! test/fault reset
SELECT count(*) - :fds_before AS fds_leaked FROM pg_ls_dir('/proc/self/fd');
SELECT (regexp_match(pg_read_file('/proc/self/status'), 'VmRSS:\s+(\d+)'))[1]::int - :rss_before < 4096
  AS memory_grew_less_than_4mb;

-- A failed attempt leaves nothing behind in the scan's memory: the
-- GetShardIterator and DescribeStream answers are parsed there, and 90
-- failed attempts of each would otherwise pile up (about 700 bytes each).
CREATE SERVER patient FOREIGN DATA WRAPPER ddbstream_fdw
  OPTIONS (region 'us-east-1', endpoint :'fault_endpoint', max_retries '100',
           retry_base_ms '1', retry_max_ms '1');
CREATE USER MAPPING FOR CURRENT_USER SERVER patient
  OPTIONS (access_key_id 'faultkey', secret_access_key 'faultsecret');
CREATE FOREIGN TABLE patient_stream (seq numeric) SERVER patient
  OPTIONS (table_name 'FaultItems', page_size '10');
\! test/fault add DescribeStream 90 status status=400 type=ThrottlingException message='Rate exceeded'
\! test/fault add GetShardIterator 90 status status=503 type=ServiceUnavailable
BEGIN;
DECLARE patient_cursor CURSOR FOR SELECT seq FROM patient_stream;
FETCH 1 FROM patient_cursor \g /dev/null
SELECT total_bytes < 65536 AS scan_memory_bounded
FROM pg_backend_memory_contexts WHERE name = 'ddbstream_fdw scan data';
COMMIT;
\! test/fault stats
\! test/fault reset
DROP SERVER patient CASCADE;

DROP FUNCTION same_rows();
DROP TABLE baseline;
\! test/ddb delete-table --table-name FaultItems > /dev/null
DROP SERVER faulty CASCADE;
DROP SERVER slow CASCADE;
