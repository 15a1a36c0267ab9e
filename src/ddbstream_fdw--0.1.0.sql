/* ddbstream_fdw--0.1.0.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION ddbstream_fdw" to load this file. \quit

CREATE FUNCTION ddbstream_fdw_handler()
RETURNS fdw_handler
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT;

CREATE FUNCTION ddbstream_fdw_validator(text[], oid)
RETURNS void
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT;

CREATE FOREIGN DATA WRAPPER ddbstream_fdw
  HANDLER ddbstream_fdw_handler
  VALIDATOR ddbstream_fdw_validator;

COMMENT ON FOREIGN DATA WRAPPER ddbstream_fdw
  IS 'reads an Amazon DynamoDB Stream as a table, one row per stream record';

-- Consumers: foreign tables with option "consumer" return each record once.
-- A consumer's row is locked while a transaction reads through it, so two
-- sessions never receive the same records; its positions are the rows of
-- checkpoints, written in the same transaction as what the records became.
CREATE TABLE consumers (
  consumer     text NOT NULL,
  stream_arn   text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_read_at timestamptz,
  PRIMARY KEY (consumer, stream_arn)
);
COMMENT ON TABLE consumers
  IS 'one row per consumer and stream; locked by the transaction reading it';

CREATE TABLE checkpoints (
  consumer        text NOT NULL,
  stream_arn      text NOT NULL,
  shard_id        text NOT NULL,
  sequence_number numeric NOT NULL
    CHECK (sequence_number >= 0 AND sequence_number = trunc(sequence_number)),
  shard_finished  boolean NOT NULL DEFAULT false,
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, stream_arn, shard_id)
);
COMMENT ON TABLE checkpoints
  IS 'per consumer and shard: the last record returned, and whether the shard is finished';

-- pg_dump keeps the positions with the data they describe.
SELECT pg_catalog.pg_extension_config_dump('consumers', '');
SELECT pg_catalog.pg_extension_config_dump('checkpoints', '');

-- What a consumer has not read yet, per shard listed by DescribeStream; it
-- reads the stream like the consumer's next scan, without consuming.
CREATE FUNCTION consumer_pending(feed regclass,
  OUT consumer text,
  OUT stream_arn text,
  OUT shard_id text,
  OUT parent_shard_id text,
  OUT shard_open boolean,
  OUT records_behind bigint,
  OUT oldest_pending timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'ddbstream_fdw_consumer_pending'
LANGUAGE C STRICT VOLATILE;

CREATE FUNCTION consumer_lag(feed regclass,
  OUT shard_id text,
  OUT parent_shard_id text,
  OUT shard_open boolean,
  OUT sequence_number numeric,
  OUT shard_finished boolean,
  OUT records_behind bigint,
  OUT oldest_pending timestamptz,
  OUT seconds_behind double precision)
RETURNS SETOF record
LANGUAGE sql VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT p.shard_id, p.parent_shard_id, p.shard_open,
         c.sequence_number, coalesce(c.shard_finished, false),
         p.records_behind, p.oldest_pending,
         coalesce(greatest(extract(epoch FROM clock_timestamp() - p.oldest_pending), 0), 0)::double precision
  FROM ddbstream_fdw.consumer_pending(feed) AS p
  LEFT JOIN ddbstream_fdw.checkpoints AS c
    ON c.consumer = p.consumer AND c.stream_arn = p.stream_arn
   AND c.shard_id = p.shard_id
  ORDER BY p.shard_id
$$;

COMMENT ON FUNCTION consumer_lag(regclass)
  IS 'per shard: how far a consumer foreign table is behind its stream (reads, does not consume)';
