--
-- attributes: the column option "attribute" makes a column hold one
-- attribute of the item (of the new image, or of the old image when there
-- is none), converted to the column's type.
--
\getenv ddb_endpoint DDB_ENDPOINT
CREATE SERVER ddb FOREIGN DATA WRAPPER ddbstream_fdw
  OPTIONS (region 'us-east-1', endpoint :'ddb_endpoint');
CREATE USER MAPPING FOR CURRENT_USER SERVER ddb
  OPTIONS (access_key_id 'attrkey', secret_access_key 'attrsecret');

\! test/ddb create-table --table-name AttrItems --attribute-definitions AttributeName=id,AttributeType=S --key-schema AttributeName=id,KeyType=HASH --billing-mode PAY_PER_REQUEST --stream-specification StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES > /dev/null
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
  ctx text;
BEGIN
  EXECUTE query;
  RETURN 'no error';
EXCEPTION WHEN others THEN
  GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, ctx = PG_EXCEPTION_CONTEXT;
  RETURN msg || E'\n' || regexp_replace(split_part(ctx, E'\nPL/pgSQL', 1),
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

-- option checks
CREATE FOREIGN TABLE attr_opts (x text OPTIONS (attribute ''))
  SERVER ddb OPTIONS (table_name 'AttrItems');                                -- ERROR
CREATE FOREIGN TABLE attr_opts (x text OPTIONS (attribute 'a', field 'seq'))
  SERVER ddb OPTIONS (table_name 'AttrItems');                                -- ERROR

DROP FUNCTION conversion_error(text);
\! test/ddb delete-table --table-name AttrItems > /dev/null
DROP SERVER ddb CASCADE;
