--
-- attributes: the column option "attribute" makes a column hold one
-- attribute of the item (of the new image, or of the old image when there
-- is none), converted to the column's type.  Each column type takes the
-- AttributeValue types the README lists for it, and no other: numbers from
-- N or from an S that is a number, boolean from BOOL only, timestamptz
-- from an ISO 8601 S or from N, text and jsonb from any type.
--
\set server ddb
\i sql/include/setup.sql

\! test/create_table AttrItems
\! test/ddb put-item --table-name AttrItems --item '{"id":{"S":"a1"},"Size":{"N":"42"},"price":{"N":"19.99"},"active":{"BOOL":true},"released":{"S":"2024-05-01T10:00:00Z"},"epoch":{"N":"1700000000"},"tags":{"SS":["new","sale"]},"specs":{"M":{"ram":{"N":"8"},"5g":{"BOOL":true}}},"big":{"N":"12345678901234567890123456789012345678"},"nothing":{"NULL":true},"label":{"S":"abc"}}'
\! test/ddb update-item --table-name AttrItems --key '{"id":{"S":"a1"}}' --update-expression 'SET #s = :s, active = :f' --expression-attribute-names '{"#s":"Size"}' --expression-attribute-values '{":s":{"N":"43"},":f":{"BOOL":false}}'
\! test/ddb delete-item --table-name AttrItems --key '{"id":{"S":"a1"}}'

CREATE FOREIGN TABLE attr_stream (
  event_name text,
  id         text             OPTIONS (attribute 'id'),
  size       integer          OPTIONS (attribute 'Size'),
  price      numeric          OPTIONS (attribute 'price'),
  ratio      double precision OPTIONS (attribute 'price'),
  big        numeric          OPTIONS (attribute 'big'),
  active     boolean          OPTIONS (attribute 'active'),
  released   timestamptz      OPTIONS (attribute 'released'),
  epoch      timestamptz      OPTIONS (attribute 'epoch'),
  tags       jsonb            OPTIONS (attribute 'tags'),
  specs      jsonb            OPTIONS (attribute 'specs'),
  specs_text text             OPTIONS (attribute 'specs'),
  price_text varchar(10)      OPTIONS (attribute 'price'),
  absent     text             OPTIONS (attribute 'no_such_attribute'),
  nothing    text             OPTIONS (attribute 'nothing')
) SERVER ddb OPTIONS (table_name 'AttrItems');

-- INSERT and MODIFY read the new image; REMOVE, which has none, the old one.
SELECT event_name, id, size, price, ratio, big, active FROM attr_stream;
SELECT event_name, released, epoch FROM attr_stream;
SELECT event_name, tags, specs, specs_text, price_text, absent, nothing FROM attr_stream;

-- Attribute columns work with every other feature: filters, aggregates.
SELECT max(size), bool_or(active) FROM attr_stream WHERE event_name <> 'REMOVE';

-- ===================================================================
-- values that do not convert: an error naming column, attribute, record
-- (shown through a function that masks the record's random eventID)
-- ===================================================================
CREATE FUNCTION conversion_error(query text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  msg text;
  detail text;
  hint text;
  ctx text;
BEGIN
  EXECUTE query;
  RETURN 'no error';
EXCEPTION WHEN others THEN
  GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL,
                          hint = PG_EXCEPTION_HINT, ctx = PG_EXCEPTION_CONTEXT;
  RETURN msg || coalesce(E'\nDETAIL: ' || nullif(detail, ''), '')
             || coalesce(E'\nHINT: ' || nullif(hint, ''), '') || E'\n'
             || regexp_replace(split_part(ctx, E'\nPL/pgSQL', 1),
                               '"[0-9a-f-]{36}"', '"<event id>"');
END
$$;
CREATE FOREIGN TABLE attr_bad (n integer OPTIONS (attribute 'label'))
  SERVER ddb OPTIONS (table_name 'AttrItems');
SELECT conversion_error('SELECT * FROM attr_bad');
ALTER FOREIGN TABLE attr_bad ALTER COLUMN n OPTIONS (SET attribute 'active');
SELECT conversion_error('SELECT * FROM attr_bad');
ALTER FOREIGN TABLE attr_bad ALTER COLUMN n OPTIONS (SET attribute 'price');
SELECT conversion_error('SELECT * FROM attr_bad');
CREATE FOREIGN TABLE attr_short (t varchar(2) OPTIONS (attribute 'label'))
  SERVER ddb OPTIONS (table_name 'AttrItems');
SELECT conversion_error('SELECT * FROM attr_short');
CREATE FOREIGN TABLE attr_type (b bytea OPTIONS (attribute 'label'))
  SERVER ddb OPTIONS (table_name 'AttrItems');
SELECT * FROM attr_type;                                                      -- ERROR

-- ===================================================================
-- the rule of each column type, both ways (one item in its own table)
-- ===================================================================
\! test/create_table AttrRules --view NEW_IMAGE
\! test/ddb put-item --table-name AttrRules --item '{"id":{"S":"r1"},"yes":{"S":"yes"},"spaced":{"S":" 42.5 "},"snum":{"S":"42.5"},"sexp":{"S":"-1.5E3"},"whole":{"N":"42"},"frac":{"N":"42.5"},"iso":{"S":"2024-05-01T10:00:00Z"},"iso_date":{"S":"2024-05-01"},"iso_offset":{"S":"2024-05-01T12:00:00.250+02:00"},"iso_local":{"S":"2024-05-01 10:00"},"now":{"S":"now"},"loose_date":{"S":"May 1 2024"},"epoch":{"N":"1700000000.5"},"flag":{"BOOL":true},"one":{"N":"1"},"bin":{"B":"AAEC"},"nums":{"NS":["2","1"]},"map":{"M":{"a":{"N":"1"}}}}'
SET TimeZone = 'UTC';

-- Accepted: each as the README says.
CREATE FOREIGN TABLE attr_rules (
  snum       numeric          OPTIONS (attribute 'snum'),
  sexp       numeric          OPTIONS (attribute 'sexp'),
  whole      integer          OPTIONS (attribute 'whole'),
  whole_big  bigint           OPTIONS (attribute 'whole'),
  swhole     smallint         OPTIONS (attribute 'whole'),
  sreal      real             OPTIONS (attribute 'snum'),
  frac       double precision OPTIONS (attribute 'frac'),
  flag       boolean          OPTIONS (attribute 'flag'),
  iso        timestamptz      OPTIONS (attribute 'iso'),
  iso_date   timestamptz      OPTIONS (attribute 'iso_date'),
  iso_offset timestamptz      OPTIONS (attribute 'iso_offset'),
  iso_local  timestamptz      OPTIONS (attribute 'iso_local'),
  epoch      timestamptz      OPTIONS (attribute 'epoch'),
  yes_text   text             OPTIONS (attribute 'yes'),
  flag_text  text             OPTIONS (attribute 'flag'),
  frac_text  text             OPTIONS (attribute 'frac'),
  bin_text   text             OPTIONS (attribute 'bin'),
  map_text   text             OPTIONS (attribute 'map'),
  yes_json   jsonb            OPTIONS (attribute 'yes'),
  flag_json  json             OPTIONS (attribute 'flag')
) SERVER ddb OPTIONS (table_name 'AttrRules');
SELECT snum, sexp, whole, whole_big, swhole, sreal, frac, flag FROM attr_rules;
SELECT iso, iso_date, iso_offset, iso_local, epoch FROM attr_rules;
SELECT yes_text, flag_text, frac_text, bin_text, map_text, yes_json, flag_json FROM attr_rules;

-- Refused: a string is never guessed at.
CREATE FOREIGN TABLE attr_refused (x boolean OPTIONS (attribute 'yes'))
  SERVER ddb OPTIONS (table_name 'AttrRules');
SELECT conversion_error('SELECT * FROM attr_refused');
ALTER FOREIGN TABLE attr_refused ALTER COLUMN x OPTIONS (SET attribute 'one');
SELECT conversion_error('SELECT * FROM attr_refused');
ALTER FOREIGN TABLE attr_refused ALTER COLUMN x TYPE numeric;
ALTER FOREIGN TABLE attr_refused ALTER COLUMN x OPTIONS (SET attribute 'spaced');
SELECT conversion_error('SELECT * FROM attr_refused');
ALTER FOREIGN TABLE attr_refused ALTER COLUMN x OPTIONS (SET attribute 'flag');
SELECT conversion_error('SELECT * FROM attr_refused');
ALTER FOREIGN TABLE attr_refused ALTER COLUMN x OPTIONS (SET attribute 'nums');
SELECT conversion_error('SELECT * FROM attr_refused');
ALTER FOREIGN TABLE attr_refused ALTER COLUMN x TYPE integer;
ALTER FOREIGN TABLE attr_refused ALTER COLUMN x OPTIONS (SET attribute 'frac');
SELECT conversion_error('SELECT * FROM attr_refused');
ALTER FOREIGN TABLE attr_refused ALTER COLUMN x TYPE timestamptz;
ALTER FOREIGN TABLE attr_refused ALTER COLUMN x OPTIONS (SET attribute 'now');
SELECT conversion_error('SELECT * FROM attr_refused');
ALTER FOREIGN TABLE attr_refused ALTER COLUMN x OPTIONS (SET attribute 'loose_date');
SELECT conversion_error('SELECT * FROM attr_refused');
ALTER FOREIGN TABLE attr_refused ALTER COLUMN x OPTIONS (SET attribute 'flag');
SELECT conversion_error('SELECT * FROM attr_refused');
RESET TimeZone;
\! test/ddb delete-table --table-name AttrRules > /dev/null

-- option checks
CREATE FOREIGN TABLE attr_opts (x text OPTIONS (attribute ''))
  SERVER ddb OPTIONS (table_name 'AttrItems');                                -- ERROR
CREATE FOREIGN TABLE attr_opts (x text OPTIONS (attribute 'a', field 'seq'))
  SERVER ddb OPTIONS (table_name 'AttrItems');                                -- ERROR

DROP FUNCTION conversion_error(text);
\! test/ddb delete-table --table-name AttrItems > /dev/null
DROP SERVER ddb CASCADE;
