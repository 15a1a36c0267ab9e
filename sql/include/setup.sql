\set ECHO none
--
-- sql/include/setup.sql: what every regression file starts with, so that
-- each runs alone (test/harness run make installcheck REGRESS=scan) as well
-- as in the suite.  A file includes it first, after naming the server it
-- wants, if any:
--
--   \set server ddb
--   \i sql/include/setup.sql
--
-- It creates the extension if it is not there, reads the endpoints
-- test/harness exports into psql variables (:ddb_endpoint, :split_endpoint,
-- ...), defines explain_filter(), and creates :server, if set, with a user
-- mapping for the current user: ddb, DynamoDB Local, or split,
-- test/split_stream_server.py.  A file drops what it created at its end
-- (DROP SERVER ... CASCADE), so the next one starts from the same state.
--
-- pg_regress runs psql with -a (echo all): the expected output shows the
-- \i line and the "\set ECHO none" above, not this file's statements.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS ddbstream_fdw;
RESET client_min_messages;

\getenv ddb_endpoint DDB_ENDPOINT
\getenv split_endpoint SPLIT_ENDPOINT
\getenv fault_endpoint FAULT_ENDPOINT
\getenv hostile_endpoint HOSTILE_ENDPOINT
\getenv tls_endpoint TLS_ENDPOINT
\getenv tls_ip_endpoint TLS_IP_ENDPOINT
\getenv tls_ca_file TLS_CA_FILE
\getenv tls_unreadable_file TLS_UNREADABLE_FILE
\getenv proxy_url PROXY_URL

-- explain_filter(query): the lines of EXPLAIN (ANALYZE, COSTS OFF, TIMING
-- OFF, SUMMARY OFF, BUFFERS OFF) query, with the byte count as N (it depends
-- on the emulator's timestamps), and what PostgreSQL's versions print
-- differently printed one way: whole row counts without the ".00" of 18,
-- and an initplan's value as 17 names it, (InitPlan 1).col1, where 15 and 16
-- print $0 and "InitPlan 1 (returns $0)" (ddbstream_fdw's own Stream
-- Position and Shard Filter lines show $n on every version, and are left
-- alone).  keep: only the lines that match this regular expression; skip:
-- none that match this one; trimmed: without their indentation; plan_only:
-- plain EXPLAIN (COSTS OFF), the query not run.
CREATE OR REPLACE FUNCTION explain_filter(query text, keep text DEFAULT '',
                                          skip text DEFAULT NULL,
                                          trimmed boolean DEFAULT false,
                                          plan_only boolean DEFAULT false)
RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
  line text;
  initplan text[];
  param text;
  params text[] := '{}';
  names text[] := '{}';
  i int;
BEGIN
  FOR line IN EXECUTE CASE WHEN plan_only THEN 'EXPLAIN (COSTS OFF) '
                      ELSE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF, BUFFERS OFF) ' END || query LOOP
    line := regexp_replace(line, 'Bytes Received: \d+', 'Bytes Received: N');
    line := regexp_replace(line, '(rows=\d+)\.00\M', '\1', 'g');
    initplan := regexp_match(line, 'InitPlan (\d+) \(returns ([^)]*)\)');
    IF initplan IS NOT NULL THEN
      i := 0;
      FOREACH param IN ARRAY string_to_array(initplan[2], ',') LOOP
        i := i + 1;
        params := params || param;
        names := names || format('(InitPlan %s).col%s', initplan[1], i);
      END LOOP;
      line := regexp_replace(line, ' \(returns [^)]*\)', '');
    ELSIF line !~ '^\s*(Stream Position|Shard Filter):' THEN
      FOR i IN 1 .. cardinality(params) LOOP
        line := regexp_replace(line, '\' || params[i] || '(?!\d)', names[i], 'g');
      END LOOP;
    END IF;
    IF line ~ keep AND (skip IS NULL OR line !~ skip) THEN
      RETURN NEXT CASE WHEN trimmed THEN trim(line) ELSE line END;
    END IF;
  END LOOP;
END
$$;

\if :{?server}
SELECT CASE :'server' WHEN 'ddb' THEN :'ddb_endpoint'
                      WHEN 'split' THEN :'split_endpoint' END AS server_endpoint \gset
CREATE SERVER :"server" FOREIGN DATA WRAPPER ddbstream_fdw
  OPTIONS (region 'us-east-1', endpoint :'server_endpoint');
CREATE USER MAPPING FOR CURRENT_USER SERVER :"server"
  OPTIONS (access_key_id 'regresskey', secret_access_key 'regresssecret');
\unset server
\unset server_endpoint
\endif
\set ECHO all
