--
-- images: every DynamoDB AttributeValue type, in the plain and the typed
-- image format.
--
-- plain: S -> string, N -> number (every digit kept), B -> base64 string,
-- BOOL -> boolean, NULL -> null, M -> object, L -> array, SS/NS/BS -> arrays.
-- typed: DynamoDB's own AttributeValue JSON, as received.
--
\set server ddb
\i sql/include/setup.sql

\! test/create_table Images pk:S sk:N
\! test/ddb put-item --table-name Images --item '{"pk":{"S":"all-types"},"sk":{"N":"1"},"s":{"S":"héllo \"quoted\" \\ tab\t"},"empty":{"S":""},"n_int":{"N":"-42"},"n_38":{"N":"12345678901234567890123456789012345678"},"n_frac":{"N":"0.000000000000000000000000000000000000012345"},"n_tiny":{"N":"1E-130"},"n_huge":{"N":"9.9999999999999999999999999999999999999E+125"},"b":{"B":"AAECAwQ="},"t":{"BOOL":true},"f":{"BOOL":false},"nul":{"NULL":true},"m":{"M":{"inner":{"M":{"deep":{"L":[{"N":"1"},{"S":"two"},{"BOOL":false}]}}},"empty_map":{"M":{}}}},"l":{"L":[{"S":"a"},{"N":"2.5"},{"NULL":true},{"L":[]},{"M":{"k":{"S":"v"}}}]},"ss":{"SS":["red","blue"]},"ns":{"NS":["1","0.5","-3"]},"bs":{"BS":["AQ==","Ag=="]}}'

CREATE FOREIGN TABLE images_plain (keys jsonb, new_image jsonb)
  SERVER ddb OPTIONS (table_name 'Images');
CREATE FOREIGN TABLE images_typed (keys jsonb, new_image jsonb)
  SERVER ddb OPTIONS (table_name 'Images', image_format 'typed');

-- The keys of a composite primary key.
SELECT keys FROM images_plain;
SELECT keys FROM images_typed;

-- Each attribute in the plain format, with its JSON type.
SELECT key, value, jsonb_typeof(value) AS type
FROM images_plain, jsonb_each(new_image)
ORDER BY key;

-- Numbers keep every digit: no floating-point round trip.
SELECT (new_image ->> 'n_38')::numeric = 12345678901234567890123456789012345678 AS n_38_exact,
       (new_image ->> 'n_tiny')::numeric = 1E-130 AS n_tiny_exact,
       (new_image ->> 'n_huge')::numeric = 9.9999999999999999999999999999999999999E+125 AS n_huge_exact,
       new_image -> 'ns' @> '[0.5]' AS ns_are_numbers
FROM images_plain;

-- The same attributes in the typed format.
SELECT key, value
FROM images_typed, jsonb_each(new_image)
ORDER BY key;

-- Set order is DynamoDB's; compare sets as sets.
SELECT (SELECT array_agg(x ORDER BY x) FROM jsonb_array_elements_text(new_image -> 'ss') x) AS ss,
       (SELECT array_agg(x::numeric ORDER BY x::numeric) FROM jsonb_array_elements_text(new_image -> 'ns') x) AS ns,
       (SELECT array_agg(x ORDER BY x) FROM jsonb_array_elements_text(new_image -> 'bs') x) AS bs
FROM images_plain;

-- A plain image converts back to the typed one attribute by attribute.
SELECT count(*) AS attributes
FROM images_plain p, images_typed t, jsonb_object_keys(p.new_image) k
WHERE t.new_image ? k;

\! test/ddb delete-table --table-name Images > /dev/null
DROP SERVER ddb CASCADE;
