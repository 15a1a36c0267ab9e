/* ddbstream_fdw--0.1.0--0.2.0.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION ddbstream_fdw UPDATE TO '0.2.0'" to load this file. \quit

-- Consumers belong to roles.  A consumer is owned by the role that first
-- read through it; row-level security lets only members of that role see,
-- advance, rewind or reset it.  Positions are kept as they were.

ALTER TABLE consumers ADD COLUMN owner regrole
  DEFAULT pg_catalog.to_regrole(pg_catalog.quote_ident(current_user));
COMMENT ON COLUMN consumers.owner
  IS 'the role that first read through the consumer; only its members may use it';

-- A consumer from before 0.2.0 has no owner (NULL): like every consumer
-- then, any role with the grants may read it, and the first role that reads
-- it after the update becomes its owner.  A superuser can set it first:
--   UPDATE ddbstream_fdw.consumers SET owner = 'alice' WHERE consumer = 'mirror';
-- Positions without a consumer row (inserted by hand) get one, so that
-- every position belongs to a consumer and goes with it.
INSERT INTO consumers (consumer, stream_arn)
  SELECT DISTINCT consumer, stream_arn FROM checkpoints
  ON CONFLICT (consumer, stream_arn) DO NOTHING;
UPDATE consumers SET owner = NULL;

-- Deleting a consumer deletes its positions: none are left for the next
-- role that takes the name, nor can a role plant positions under a name
-- for another role to inherit.
ALTER TABLE checkpoints ADD CONSTRAINT checkpoints_consumer_fkey
  FOREIGN KEY (consumer, stream_arn) REFERENCES consumers (consumer, stream_arn)
  ON DELETE CASCADE;

-- Positions are sequence numbers: digit strings of at most 40 digits.
-- 'NaN', 'Infinity', fractions and a scale ('210.0', which compares as text
-- like a longer number) are refused; a whole number written with a scale is
-- kept without it.
UPDATE checkpoints SET sequence_number = pg_catalog.trunc(sequence_number)
 WHERE pg_catalog.scale(sequence_number) > 0
   AND sequence_number = pg_catalog.trunc(sequence_number);
ALTER TABLE checkpoints DROP CONSTRAINT checkpoints_sequence_number_check;
ALTER TABLE checkpoints ADD CONSTRAINT checkpoints_sequence_number_check
  CHECK (sequence_number >= 0 AND sequence_number < 1e40
         AND pg_catalog.scale(sequence_number) = 0);

-- Members of the owning role see and change a consumer; a role creates
-- consumers only for itself (so that it cannot claim a name for a group it
-- shares with the reader to come).
ALTER TABLE consumers ENABLE ROW LEVEL SECURITY;
CREATE POLICY consumers_of_member_roles ON consumers
  USING (owner IS NULL OR pg_catalog.pg_has_role(owner, 'MEMBER'))
  WITH CHECK (pg_catalog.pg_has_role(owner, 'MEMBER'));
CREATE POLICY consumers_created_for_oneself ON consumers AS RESTRICTIVE
  FOR INSERT
  WITH CHECK (owner OPERATOR(pg_catalog.=)
              pg_catalog.to_regrole(pg_catalog.quote_ident(current_user)));

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
