/* ddbstream_fdw--0.1.0--0.2.0.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION ddbstream_fdw UPDATE TO '0.2.0'" to load this file. \quit

-- Consumers belong to roles.  A consumer is owned by the role that first
-- read through it; row-level security lets only members of that role see,
-- advance, rewind or reset it.  Positions are kept as they were.

ALTER TABLE consumers ADD COLUMN owner regrole;

-- A consumer created before 0.2.0 goes to the owner of a foreign table of
-- this wrapper that names it (the oldest such table), or else to the role
-- running the update.  A superuser can hand it to another role later:
--   UPDATE ddbstream_fdw.consumers SET owner = 'alice' WHERE consumer = 'mirror';
UPDATE consumers AS c
   SET owner = coalesce(
     (SELECT cl.relowner
        FROM pg_catalog.pg_foreign_table AS ft
        JOIN pg_catalog.pg_class AS cl ON cl.oid = ft.ftrelid
        JOIN pg_catalog.pg_foreign_server AS s ON s.oid = ft.ftserver
        JOIN pg_catalog.pg_foreign_data_wrapper AS w ON w.oid = s.srvfdw
       WHERE w.fdwname = 'ddbstream_fdw'
         AND ('consumer=' || c.consumer) = ANY (ft.ftoptions)
       ORDER BY ft.ftrelid
       LIMIT 1),
     (SELECT r.oid FROM pg_catalog.pg_roles AS r WHERE r.rolname = current_user))::regrole;

ALTER TABLE consumers
  ALTER COLUMN owner SET DEFAULT pg_catalog.to_regrole(pg_catalog.quote_ident(current_user)),
  ALTER COLUMN owner SET NOT NULL;
COMMENT ON COLUMN consumers.owner
  IS 'the role that first read through the consumer; only its members may use it';

-- Positions are sequence numbers: finite digit strings of at most 40
-- digits ('NaN' and 'Infinity' are numerics, not positions).
ALTER TABLE checkpoints DROP CONSTRAINT checkpoints_sequence_number_check;
ALTER TABLE checkpoints ADD CONSTRAINT checkpoints_sequence_number_check
  CHECK (sequence_number >= 0 AND sequence_number < 1e40
         AND sequence_number = trunc(sequence_number));

ALTER TABLE consumers ENABLE ROW LEVEL SECURITY;
CREATE POLICY consumers_of_member_roles ON consumers
  USING (pg_catalog.pg_has_role(owner, 'MEMBER'))
  WITH CHECK (pg_catalog.pg_has_role(owner, 'MEMBER'));

ALTER TABLE checkpoints ENABLE ROW LEVEL SECURITY;
CREATE POLICY checkpoints_of_member_roles ON checkpoints
  USING (EXISTS (SELECT FROM ddbstream_fdw.consumers AS c
                  WHERE c.consumer OPERATOR(pg_catalog.=) checkpoints.consumer
                    AND c.stream_arn OPERATOR(pg_catalog.=) checkpoints.stream_arn))
  WITH CHECK (EXISTS (SELECT FROM ddbstream_fdw.consumers AS c
                       WHERE c.consumer OPERATOR(pg_catalog.=) checkpoints.consumer
                         AND c.stream_arn OPERATOR(pg_catalog.=) checkpoints.stream_arn));

COMMENT ON TABLE consumers
  IS 'one row per consumer and stream, owned by a role; locked by the transaction reading it';
