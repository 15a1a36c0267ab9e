--
-- credentials: whose AWS keys sign a scan.
--
--   1. the user mapping's access_key_id / secret_access_key / session_token;
--   2. for a superuser only, the database server's AWS_ACCESS_KEY_ID,
--      AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN (the harness starts
--      PostgreSQL with AWS_ACCESS_KEY_ID=serverenvkey).
--
-- test/split_stats --credential shows the credential scope and the signed
-- headers of the last request the split-stream server received.
--
\getenv split_endpoint SPLIT_ENDPOINT
CREATE SERVER cred_srv FOREIGN DATA WRAPPER ddbstream_fdw
  OPTIONS (region 'us-east-1', endpoint :'split_endpoint');
CREATE FOREIGN TABLE cred_stream (seq numeric) SERVER cred_srv OPTIONS (table_name 'Empty');

-- A superuser without a user mapping signs with the server's environment.
SELECT count(*) FROM cred_stream;
\! test/split_stats --credential

-- A user mapping's keys come first; a session token is signed too.
CREATE USER MAPPING FOR CURRENT_USER SERVER cred_srv
  OPTIONS (access_key_id 'mappingkey', secret_access_key 'mappingsecret',
           session_token 'sessiontoken');
SELECT count(*) FROM cred_stream;
\! test/split_stats --credential

-- A non-superuser never borrows the server's identity.
CREATE ROLE regress_ddb_reader;
GRANT USAGE ON FOREIGN SERVER cred_srv TO regress_ddb_reader;
GRANT SELECT ON cred_stream TO regress_ddb_reader;
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

-- pg_user_mappings shows a user the options of its own mapping only.
SET ROLE regress_ddb_reader;
SELECT usename, srvname, umoptions FROM pg_user_mappings
WHERE srvname = 'cred_srv' ORDER BY usename;
RESET ROLE;

DROP VIEW cred_view;
DROP SERVER cred_srv CASCADE;
DROP ROLE regress_ddb_reader;
