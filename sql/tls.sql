--
-- tls: https endpoints are verified, certificate and host name, always;
-- only http and https URLs, and no redirects.
-- The harness serves the split-stream server over HTTPS with a
-- self-signed certificate for "localhost" ($TLS_CA_FILE).
--
\i sql/include/setup.sql
CREATE SERVER tls_srv FOREIGN DATA WRAPPER ddbstream_fdw
  OPTIONS (region 'us-east-1', endpoint :'tls_endpoint', max_retries '0');
CREATE USER MAPPING FOR CURRENT_USER SERVER tls_srv
  OPTIONS (access_key_id 'tlskey', secret_access_key 'tlssecret');
CREATE FOREIGN TABLE tls_stream (shard_id text, seq numeric)
  SERVER tls_srv OPTIONS (table_name 'Gappy');

-- A certificate the system's CAs did not sign: refused.
SELECT count(*) FROM tls_stream;                                          -- ERROR

-- With the CA that signed it (ca_file, superuser only), it works.
ALTER SERVER tls_srv OPTIONS (ADD ca_file :'tls_ca_file');
SELECT shard_id, seq FROM tls_stream;

-- The certificate names "localhost", not 127.0.0.1: refused, even with
-- the right CA.
ALTER SERVER tls_srv OPTIONS (SET endpoint :'tls_ip_endpoint');
SELECT count(*) FROM tls_stream;                                          -- ERROR

-- ca_file must be the absolute path of a regular file the database server
-- can read, checked when it is set (by a superuser: no one else can probe
-- the server's files with it).
CREATE FUNCTION option_error(command text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  msg text;
  state text;
BEGIN
  EXECUTE command;
  RETURN 'no error';
EXCEPTION WHEN others THEN
  GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, state = RETURNED_SQLSTATE;
  -- the harness's work folder differs per run
  RETURN state || ': ' || regexp_replace(msg, '/tmp/[^/]+/', '<work>/');
END
$$;
ALTER SERVER tls_srv OPTIONS (SET ca_file 'certs/ca.pem');                -- ERROR
ALTER SERVER tls_srv OPTIONS (SET ca_file '/nonexistent/ca.pem');         -- ERROR
ALTER SERVER tls_srv OPTIONS (SET ca_file '/tmp');                        -- ERROR
SELECT option_error(format('ALTER SERVER tls_srv OPTIONS (SET ca_file %L)', :'tls_unreadable_file'));
-- A file that disappears later fails the scan.
ALTER SERVER tls_srv OPTIONS (SET endpoint :'tls_endpoint');
\! cp "$TLS_CA_FILE" "$TLS_CA_FILE.copy" && chmod 644 "$TLS_CA_FILE.copy"
SELECT :'tls_ca_file' || '.copy' AS tls_ca_copy \gset
ALTER SERVER tls_srv OPTIONS (SET ca_file :'tls_ca_copy');
SELECT count(*) FROM tls_stream;
\! rm "$TLS_CA_FILE.copy"
\set VERBOSITY terse
SELECT count(*) FROM tls_stream;                                          -- ERROR
\set VERBOSITY default
ALTER SERVER tls_srv OPTIONS (SET ca_file :'tls_ca_file');
DROP FUNCTION option_error(text);

-- Only http and https URLs.
ALTER SERVER tls_srv OPTIONS (SET endpoint 'file:///etc/passwd');         -- ERROR
ALTER SERVER tls_srv OPTIONS (SET endpoint 'ftp://localhost/');           -- ERROR

-- Redirects are never followed (here to another port of this host).
CREATE SERVER redirect_srv FOREIGN DATA WRAPPER ddbstream_fdw
  OPTIONS (region 'us-east-1', endpoint :'fault_endpoint', max_retries '0');
CREATE USER MAPPING FOR CURRENT_USER SERVER redirect_srv
  OPTIONS (access_key_id 'redirkey', secret_access_key 'redirsecret');
CREATE FOREIGN TABLE redirect_stream (seq numeric) SERVER redirect_srv
  OPTIONS (table_name 'Anything');
\! test/fault add DescribeTable 1 redirect location=http://127.0.0.1:1/
SELECT count(*) FROM redirect_stream;                                     -- ERROR
\! test/fault stats
\! test/fault reset

DROP SERVER redirect_srv CASCADE;
DROP SERVER tls_srv CASCADE;
