--
-- credentials: whose AWS keys sign a scan.
--
--   1. the user mapping's access_key_id / secret_access_key / session_token
--      (the user's own mapping, else the one FOR PUBLIC);
--   2. only on a server where a superuser set use_ambient_credentials, the
--      database server's own: its environment (the harness starts
--      PostgreSQL with AWS_ACCESS_KEY_ID=serverenvkey), the shared
--      credentials file (AWS_SHARED_CREDENTIALS_FILE, profile "default" or
--      the server option profile), then the EC2 instance metadata service
--      (IMDSv2; the harness runs test/imds_server.py in its place).
--      credential_source pins one of them.
--
-- test/split_stats --credential shows the credential scope and the signed
-- headers of the last request the split-stream server received.
--
\i sql/include/setup.sql
CREATE SERVER cred_srv FOREIGN DATA WRAPPER ddbstream_fdw
  OPTIONS (region 'us-east-1', endpoint :'split_endpoint');
CREATE FOREIGN TABLE cred_stream (seq numeric) SERVER cred_srv OPTIONS (table_name 'Empty');

-- ===================================================================
-- without a user mapping, even a superuser needs use_ambient_credentials
-- ===================================================================
SELECT count(*) FROM cred_stream;                                             -- ERROR
ALTER SERVER cred_srv OPTIONS (ADD use_ambient_credentials 'true');
-- The chain starts with the database server's environment.
SELECT count(*) FROM cred_stream;
\! test/split_stats --credential

-- credential_source pins a source; the shared file's "default" profile:
ALTER SERVER cred_srv OPTIONS (ADD credential_source 'shared_file');
SELECT count(*) FROM cred_stream;
\! test/split_stats --credential
-- An explicit profile (with a session token), and one the file lacks.
ALTER SERVER cred_srv OPTIONS (SET credential_source 'chain', ADD profile 'fdwtest');
SELECT count(*) FROM cred_stream;
\! test/split_stats --credential
ALTER SERVER cred_srv OPTIONS (SET profile 'nosuchprofile');
\set VERBOSITY terse
SELECT count(*) FROM cred_stream;                                             -- ERROR
\set VERBOSITY default
ALTER SERVER cred_srv OPTIONS (DROP profile);

-- The instance metadata service: a session token first (IMDSv2), then the
-- role's name and its keys; the keys are kept until shortly before they
-- expire, so the second scan asks nothing.
\! curl -s "$IMDS_ENDPOINT/reset" > /dev/null
ALTER SERVER cred_srv OPTIONS (SET credential_source 'instance_metadata');
SELECT count(*) FROM cred_stream;
\! test/split_stats --credential
SELECT count(*) FROM cred_stream;
\! curl -s "$IMDS_ENDPOINT/stats"; echo
-- A metadata service that never answers: statement_timeout (or a cancel)
-- ends the wait at once, with the ordinary error.  (A new session: the
-- keys are kept per backend.)
\c
\! curl -s "$IMDS_ENDPOINT/hang" > /dev/null
SET statement_timeout = '300ms';
SELECT count(*) FROM cred_stream;                                             -- ERROR
RESET statement_timeout;
\! curl -s "$IMDS_ENDPOINT/reset" > /dev/null
SELECT count(*) FROM cred_stream;
ALTER SERVER cred_srv OPTIONS (SET credential_source 'environment');
SELECT count(*) FROM cred_stream;
\! test/split_stats --credential
ALTER SERVER cred_srv OPTIONS (SET credential_source 'keys');           -- ERROR
ALTER SERVER cred_srv OPTIONS (DROP credential_source);

-- ===================================================================
-- a user mapping's keys come first; a session token is signed too
-- ===================================================================
CREATE USER MAPPING FOR CURRENT_USER SERVER cred_srv
  OPTIONS (access_key_id 'mappingkey', secret_access_key 'mappingsecret',
           session_token 'sessiontoken');
SELECT count(*) FROM cred_stream;
\! test/split_stats --credential

-- ===================================================================
-- non-superusers
-- ===================================================================
CREATE ROLE regress_ddb_reader;
GRANT USAGE ON FOREIGN SERVER cred_srv TO regress_ddb_reader;
GRANT SELECT ON cred_stream TO regress_ddb_reader;
-- On a server a superuser opened to ambient credentials, a user without a
-- mapping signs with them.
SET ROLE regress_ddb_reader;
SELECT count(*) FROM cred_stream;
\! test/split_stats --credential
RESET ROLE;
-- Elsewhere, never.
ALTER SERVER cred_srv OPTIONS (DROP use_ambient_credentials);
SET ROLE regress_ddb_reader;
SELECT count(*) FROM cred_stream;                                             -- ERROR
RESET ROLE;

-- With a user mapping of its own (or one FOR PUBLIC), it works.
CREATE USER MAPPING FOR PUBLIC SERVER cred_srv
  OPTIONS (access_key_id 'publickey', secret_access_key 'publicsecret');
SET ROLE regress_ddb_reader;
SELECT count(*) FROM cred_stream;
\! test/split_stats --credential
RESET ROLE;
CREATE USER MAPPING FOR regress_ddb_reader SERVER cred_srv
  OPTIONS (access_key_id 'readerkey', secret_access_key 'readersecret');
SET ROLE regress_ddb_reader;
SELECT count(*) FROM cred_stream;
\! test/split_stats --credential
RESET ROLE;

-- A view runs with its owner's credentials, as any view does.
CREATE VIEW cred_view AS SELECT count(*) FROM cred_stream;
GRANT SELECT ON cred_view TO regress_ddb_reader;
SET ROLE regress_ddb_reader;
SELECT * FROM cred_view;
\! test/split_stats --credential
RESET ROLE;

-- pg_user_mappings shows a user the options of its own mapping only: no
-- other user's keys.
SET ROLE regress_ddb_reader;
SELECT usename, srvname, umoptions FROM pg_user_mappings
WHERE srvname = 'cred_srv' ORDER BY usename;
RESET ROLE;

-- A server's owner who is not a superuser can neither open it to ambient
-- credentials, nor change a server a superuser opened, nor point it at
-- CA certificates on the database server's disk.
GRANT USAGE ON FOREIGN DATA WRAPPER ddbstream_fdw TO regress_ddb_reader;
ALTER SERVER cred_srv OWNER TO regress_ddb_reader;
SET ROLE regress_ddb_reader;
ALTER SERVER cred_srv OPTIONS (ADD use_ambient_credentials 'true');           -- ERROR
CREATE SERVER reader_srv FOREIGN DATA WRAPPER ddbstream_fdw
  OPTIONS (region 'us-east-1', use_ambient_credentials 'true');               -- ERROR
ALTER SERVER cred_srv OPTIONS (ADD ca_file '/etc/ssl/certs/ca-certificates.crt'); -- ERROR
ALTER SERVER cred_srv OPTIONS (ADD proxy 'http://127.0.0.1:3128');            -- ERROR
ALTER SERVER cred_srv OPTIONS (SET endpoint 'http://127.0.0.1:1');           -- its own server: allowed
RESET ROLE;
ALTER SERVER cred_srv OPTIONS (ADD use_ambient_credentials 'true');
SET ROLE regress_ddb_reader;
ALTER SERVER cred_srv OPTIONS (SET endpoint 'http://127.0.0.1:2');           -- ERROR
-- Dropping the option is always allowed.
ALTER SERVER cred_srv OPTIONS (DROP use_ambient_credentials);
RESET ROLE;

-- ===================================================================
-- secrets never appear in messages or plans
-- ===================================================================
-- A failing request names the operation and the error, not the keys.
ALTER SERVER cred_srv OPTIONS (ADD max_retries '0');
\set VERBOSITY terse
SELECT count(*) FROM cred_stream;                                             -- ERROR
\set VERBOSITY default
ALTER SERVER cred_srv OPTIONS (SET endpoint :'split_endpoint');
EXPLAIN (VERBOSE, COSTS OFF) SELECT * FROM cred_stream;
-- Some services explain a signature mismatch by quoting the signed request,
-- session token included: that part of AWS's message is left out.
CREATE SERVER sig_srv FOREIGN DATA WRAPPER ddbstream_fdw
  OPTIONS (region 'us-east-1', endpoint :'fault_endpoint', max_retries '0');
CREATE USER MAPPING FOR CURRENT_USER SERVER sig_srv
  OPTIONS (access_key_id 'sigkey', secret_access_key 'sigsecret',
           session_token 'sigsessiontoken');
CREATE FOREIGN TABLE sig_stream (seq numeric) SERVER sig_srv OPTIONS (table_name 'Anything');
\! test/fault add DescribeTable 1 status status=400 type=InvalidSignatureException 'message=The request signature we calculated does not match the signature you provided. The Canonical String for this request should have been POST / host:localhost x-amz-security-token:sigsessiontoken'
SELECT count(*) FROM sig_stream;                                              -- ERROR
\! test/fault reset
DROP SERVER sig_srv CASCADE;
-- Plain http to a host other than this machine warns.
CREATE SERVER remote_http FOREIGN DATA WRAPPER ddbstream_fdw
  OPTIONS (region 'us-east-1', endpoint 'http://dynamodb.example.com');
DROP SERVER remote_http;
CREATE SERVER loopback_http FOREIGN DATA WRAPPER ddbstream_fdw
  OPTIONS (region 'us-east-1', endpoint 'http://localhost:8000');
DROP SERVER loopback_http;

DROP VIEW cred_view;
DROP SERVER cred_srv CASCADE;
REVOKE USAGE ON FOREIGN DATA WRAPPER ddbstream_fdw FROM regress_ddb_reader;
DROP ROLE regress_ddb_reader;
