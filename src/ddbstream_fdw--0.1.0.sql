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
