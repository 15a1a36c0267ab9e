--
-- transport: how requests travel is set by the server's options, never by
-- the environment of the database server.
--
-- The harness starts PostgreSQL with http_proxy, https_proxy and ALL_PROXY
-- naming test/logging_proxy.py, and with SSLKEYLOGFILE set: no request
-- (signed request, instance metadata) may go through that proxy, and no TLS
-- key may be written.  A superuser sends a server's requests through a
-- proxy with the server option proxy; the instance metadata service is
-- never reached through a proxy.  test/proxy_stats prints what the proxy
-- carried since it last printed.  Run last, this file also checks that no
-- earlier test's request went through the proxy.
--
-- What requests carry (signatures, tokens) is wiped from the buffers
-- ddbstream_fdw builds: test/memscan.py counts such lines left in the
-- memory of an idle backend.
--
\i sql/include/setup.sql

-- ===================================================================
-- the environment's proxy is ignored
-- ===================================================================
-- Whatever the tests before this one sent: nothing through the proxy.
\! test/proxy_stats
CREATE SERVER env_split FOREIGN DATA WRAPPER ddbstream_fdw
  OPTIONS (region 'us-east-1', endpoint :'split_endpoint');
CREATE USER MAPPING FOR CURRENT_USER SERVER env_split
  OPTIONS (access_key_id 'transportkey', secret_access_key 'transportsecret');
CREATE FOREIGN TABLE env_gappy (seq numeric) SERVER env_split OPTIONS (table_name 'Gappy');
SELECT count(*) FROM env_gappy;
CREATE SERVER env_tls FOREIGN DATA WRAPPER ddbstream_fdw
  OPTIONS (region 'us-east-1', endpoint :'tls_endpoint', ca_file :'tls_ca_file');
CREATE USER MAPPING FOR CURRENT_USER SERVER env_tls
  OPTIONS (access_key_id 'transportkey', secret_access_key 'transportsecret');
CREATE FOREIGN TABLE env_tls_gappy (seq numeric) SERVER env_tls OPTIONS (table_name 'Gappy');
SELECT count(*) FROM env_tls_gappy;
-- the instance metadata service, in a session without cached keys
\c
CREATE SERVER env_imds FOREIGN DATA WRAPPER ddbstream_fdw
  OPTIONS (region 'us-east-1', endpoint :'split_endpoint',
           use_ambient_credentials 'true', credential_source 'instance_metadata');
CREATE FOREIGN TABLE env_imds_gappy (seq numeric) SERVER env_imds OPTIONS (table_name 'Gappy');
SELECT count(*) FROM env_imds_gappy;
\! test/proxy_stats

-- No TLS session key was written to SSLKEYLOGFILE.
\! if [ -s "$SSLKEYLOG_CHECK" ]; then echo "TLS keys written to SSLKEYLOGFILE"; else echo "no TLS key written"; fi

-- ===================================================================
-- option proxy: every signed request through it, metadata never
-- ===================================================================
CREATE SERVER via_proxy FOREIGN DATA WRAPPER ddbstream_fdw
  OPTIONS (region 'us-east-1', endpoint :'split_endpoint', proxy :'proxy_url');
CREATE USER MAPPING FOR CURRENT_USER SERVER via_proxy
  OPTIONS (access_key_id 'transportkey', secret_access_key 'transportsecret');
CREATE FOREIGN TABLE via_proxy_gappy (seq numeric) SERVER via_proxy OPTIONS (table_name 'Gappy');
SELECT count(*) FROM via_proxy_gappy;
\! test/proxy_stats
-- https: a tunnel (CONNECT) to the endpoint, TLS verified end to end
ALTER SERVER env_tls OPTIONS (ADD proxy :'proxy_url');
SELECT count(*) FROM env_tls_gappy;
\! test/proxy_stats
-- with the instance role's keys: the signed requests through the proxy,
-- the metadata requests straight to the service
\c
ALTER SERVER env_imds OPTIONS (ADD proxy :'proxy_url');
SELECT count(*) FROM env_imds_gappy;
\! test/proxy_stats

-- ===================================================================
-- what requests carried is not left in ddbstream_fdw's buffers
-- ===================================================================
-- A session token, a signature and an instance-metadata token were used by
-- this backend: none of the lines that carried them is left as built.
ALTER USER MAPPING FOR CURRENT_USER SERVER via_proxy
  OPTIONS (ADD session_token 'memsessiontoken');
SELECT count(*) FROM via_proxy_gappy;
\! test/proxy_stats
SELECT pg_backend_pid() AS backend_pid \gset
\setenv BACKEND_PID :backend_pid
\! test/memscan.py "$BACKEND_PID"

DROP SERVER env_split CASCADE;
DROP SERVER env_tls CASCADE;
DROP SERVER env_imds CASCADE;
DROP SERVER via_proxy CASCADE;
