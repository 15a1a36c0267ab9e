--
-- consumer_sessions: two sessions reading one consumer at once never get the
-- same records.  A transaction that reads a consumer locks its row of
-- ddbstream_fdw.consumers until it ends; a second reader waits, then goes on
-- after the first one's checkpoint.  The second session here is a dblink
-- connection to this same database.
--
\set server ddb
\i sql/include/setup.sql
CREATE EXTENSION dblink;

\! test/create_table Tickets --view NEW_IMAGE
\! for i in 1 2 3; do test/ddb put-item --table-name Tickets --item "{\"id\":{\"S\":\"t$i\"}}"; done

CREATE FOREIGN TABLE tickets_feed (event_id text, seq numeric, keys jsonb)
  SERVER ddb OPTIONS (table_name 'Tickets', consumer 'desk');
CREATE TABLE ticket_log (event_id text PRIMARY KEY, seq numeric, keys jsonb,
                         session text);

-- The other session.
SELECT format('dbname=%s port=%s host=%s', current_database(),
              current_setting('port'),
              split_part(current_setting('unix_socket_directories'), ',', 1)) AS here
\gset
SELECT dblink_connect('other', :'here');
SELECT pid AS other_pid FROM dblink('other', 'SELECT pg_backend_pid()') AS t(pid int)
\gset

-- The status of the other session's query sent with dblink_send_query.
CREATE FUNCTION other_result() RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  s text;
BEGIN
  SELECT status INTO s FROM dblink_get_result('other') AS t(status text);
  PERFORM * FROM dblink_get_result('other') AS t(status text); -- end of results
  RETURN s;
END
$$;

-- Wait (up to 30 s) until a session is blocked by another.
CREATE FUNCTION wait_until_blocked(p int) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  FOR i IN 1..600 LOOP
    IF cardinality(pg_blocking_pids(p)) > 0 THEN
      RETURN 'waiting for a lock';
    END IF;
    PERFORM pg_sleep(0.05);
  END LOOP;
  RETURN 'not blocked';
END
$$;

-- ===================================================================
-- the second reader waits for the first to COMMIT, then reads after it
-- ===================================================================
BEGIN;
INSERT INTO ticket_log SELECT *, 'this' FROM tickets_feed;
\! for i in 4 5; do test/ddb put-item --table-name Tickets --item "{\"id\":{\"S\":\"t$i\"}}"; done
SELECT dblink_send_query('other', $$INSERT INTO ticket_log SELECT *, 'other' FROM tickets_feed$$);
SELECT wait_until_blocked(:other_pid);
COMMIT;
SELECT other_result();
SELECT keys ->> 'id' AS id, session FROM ticket_log ORDER BY seq;

-- ===================================================================
-- ... or to ROLLBACK, then reads what the first one had read
-- ===================================================================
\! for i in 6 7; do test/ddb put-item --table-name Tickets --item "{\"id\":{\"S\":\"t$i\"}}"; done
BEGIN;
INSERT INTO ticket_log SELECT *, 'this' FROM tickets_feed;
SELECT dblink_send_query('other', $$INSERT INTO ticket_log SELECT *, 'other' FROM tickets_feed$$);
SELECT wait_until_blocked(:other_pid);
ROLLBACK;
SELECT other_result();
SELECT keys ->> 'id' AS id, session FROM ticket_log WHERE seq > (
  SELECT seq FROM ticket_log WHERE keys ->> 'id' = 't5') ORDER BY seq;

-- ===================================================================
-- a backend terminated in the middle of its transaction consumed nothing
-- ===================================================================
\! for i in 8 9; do test/ddb put-item --table-name Tickets --item "{\"id\":{\"S\":\"t$i\"}}"; done
SELECT dblink_exec('other', 'BEGIN');
SELECT dblink_exec('other', $$INSERT INTO ticket_log SELECT *, 'other' FROM tickets_feed$$);
SELECT pg_terminate_backend(:other_pid, 30000);
-- Its lock went with it: this session reads t8 and t9 at once.
INSERT INTO ticket_log SELECT *, 'this' FROM tickets_feed;
SELECT keys ->> 'id' AS id, session FROM ticket_log ORDER BY seq DESC LIMIT 2;
SELECT dblink_disconnect('other');

-- ===================================================================
-- REPEATABLE READ: a reader whose snapshot predates another reader's
-- commit fails instead of reading from stale positions
-- ===================================================================
SELECT dblink_connect('other', :'here');
SELECT dblink_exec('other', 'BEGIN ISOLATION LEVEL REPEATABLE READ');
SELECT * FROM dblink('other', 'SELECT count(*) FROM ticket_log') AS t(n bigint);
\! test/ddb put-item --table-name Tickets --item '{"id":{"S":"t10"}}'
INSERT INTO ticket_log SELECT *, 'this' FROM tickets_feed;
SELECT dblink_exec('other', $$INSERT INTO ticket_log SELECT *, 'other' FROM tickets_feed$$); -- ERROR
SELECT dblink_exec('other', 'ROLLBACK');

-- ===================================================================
-- EvalPlanQual: a MERGE from the consumer whose target row another session
-- updated meanwhile rechecks the row with the record it already read; the
-- recheck does not read the consumer again
-- ===================================================================
SELECT pid AS other_pid FROM dblink('other', 'SELECT pg_backend_pid()') AS t(pid int)
\gset
CREATE TABLE ticket_tally (id text PRIMARY KEY, n int);
INSERT INTO ticket_tally VALUES ('t11', 0);
\! test/ddb put-item --table-name Tickets --item '{"id":{"S":"t11"}}'
BEGIN;
UPDATE ticket_tally SET n = n + 1 WHERE id = 't11';
SELECT dblink_send_query('other', $$
  MERGE INTO ticket_tally t
  USING (SELECT keys ->> 'id' AS id FROM tickets_feed) f ON t.id = f.id
  WHEN MATCHED THEN UPDATE SET n = t.n + 10
  WHEN NOT MATCHED THEN INSERT VALUES (f.id, 10)$$);
SELECT wait_until_blocked(:other_pid);
COMMIT;
SELECT other_result();
SELECT * FROM ticket_tally;
SELECT count(*) AS nothing_left FROM tickets_feed;
DROP TABLE ticket_tally;

-- Every record once, in order.
SELECT count(*), count(DISTINCT seq), string_agg(keys ->> 'id', ' ' ORDER BY seq)
FROM ticket_log;

SELECT dblink_disconnect('other');
\! test/ddb delete-table --table-name Tickets > /dev/null
DELETE FROM ddbstream_fdw.checkpoints WHERE consumer = 'desk';
DELETE FROM ddbstream_fdw.consumers WHERE consumer = 'desk';
DROP FUNCTION wait_until_blocked(int);
DROP FUNCTION other_result();
DROP TABLE ticket_log;
DROP SERVER ddb CASCADE;
DROP EXTENSION dblink;
