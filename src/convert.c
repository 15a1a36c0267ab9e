/*-------------------------------------------------------------------------
 *
 * convert.c
 *		  Stream records and DynamoDB AttributeValues into Datums and jsonb.
 *
 * jsonb is built directly with pushJsonbValue from the parsed response: no
 * text is printed and parsed again.  Numbers (N) become numeric from their
 * decimal string, so every digit of a 38-digit or tiny-exponent number is
 * kept.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <math.h>

#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "ddbstream_fdw.h"

typedef enum FieldKind
{
	KIND_TEXT,					/* text */
	KIND_SEQ,					/* numeric or text */
	KIND_TIME,					/* timestamptz */
	KIND_INT,					/* integer or bigint */
	KIND_JSON					/* jsonb, json or text */
} FieldKind;

/* Where a field's value is: a member of the record, or of its "dynamodb". */
typedef enum FieldPlace
{
	IN_RECORD,
	IN_DYNAMODB,
	WHOLE_RECORD,				/* the record itself */
	FROM_SCAN					/* not in the record: the shard being read */
} FieldPlace;

typedef struct FieldInfo
{
	const char *name;
	FieldKind	kind;
	FieldPlace	place;
	const char *member;			/* IN_RECORD, IN_DYNAMODB: its name there */
} FieldInfo;

static const FieldInfo fields[DDB_FIELD_COUNT] = {
	[DDB_FIELD_EVENT_ID] = {"event_id", KIND_TEXT, IN_RECORD, "eventID"},
	[DDB_FIELD_EVENT_NAME] = {"event_name", KIND_TEXT, IN_RECORD, "eventName"},
	[DDB_FIELD_SEQ] = {"seq", KIND_SEQ, IN_DYNAMODB, "SequenceNumber"},
	[DDB_FIELD_SHARD_ID] = {"shard_id", KIND_TEXT, FROM_SCAN},
	[DDB_FIELD_CREATED_AT] = {"created_at", KIND_TIME, IN_DYNAMODB, "ApproximateCreationDateTime"},
	[DDB_FIELD_KEYS] = {"keys", KIND_JSON, IN_DYNAMODB, "Keys"},
	[DDB_FIELD_NEW_IMAGE] = {"new_image", KIND_JSON, IN_DYNAMODB, "NewImage"},
	[DDB_FIELD_OLD_IMAGE] = {"old_image", KIND_JSON, IN_DYNAMODB, "OldImage"},
	[DDB_FIELD_SIZE_BYTES] = {"size_bytes", KIND_INT, IN_DYNAMODB, "SizeBytes"},
	[DDB_FIELD_STREAM_VIEW_TYPE] = {"stream_view_type", KIND_TEXT, IN_DYNAMODB, "StreamViewType"},
	[DDB_FIELD_USER_IDENTITY] = {"user_identity", KIND_JSON, IN_RECORD, "userIdentity"},
	[DDB_FIELD_RECORD] = {"record", KIND_JSON, WHOLE_RECORD},
	[DDB_FIELD_EVENT_SOURCE] = {"event_source", KIND_TEXT, IN_RECORD, "eventSource"},
	[DDB_FIELD_EVENT_VERSION] = {"event_version", KIND_TEXT, IN_RECORD, "eventVersion"},
	[DDB_FIELD_AWS_REGION] = {"aws_region", KIND_TEXT, IN_RECORD, "awsRegion"},
};

/*
 * A jsonb value being built.  Since PostgreSQL 19, pushJsonbValue keeps its
 * stack of open containers and the finished value in a JsonbInState; before,
 * it took the stack alone and returned the value.  Both have the stack as
 * parseState, empty at the root.
 */
#if PG_VERSION_NUM >= 190000
typedef JsonbInState JsonbBuild;
#else
typedef struct JsonbBuild
{
	JsonbParseState *parseState;
} JsonbBuild;
#endif

static JsonbValue *push(JsonbBuild *b, JsonbIteratorToken token,
						JsonbValue *v);
static Jsonb *image_to_jsonb(DdbConversion *cv, cJSON *image,
							 DdbImageFormat format);
static JsonbValue *push_attribute_value(DdbConversion *cv,
										JsonbBuild *state,
										JsonbIteratorToken token, cJSON *av);
static JsonbValue *push_map(DdbConversion *cv, JsonbBuild *state,
							cJSON *v);
static JsonbValue *push_list(DdbConversion *cv, JsonbBuild *state,
							 cJSON *v);
static JsonbValue *push_set(DdbConversion *cv, JsonbBuild *state,
							cJSON *v, bool numbers);
static JsonbValue *push_json(DdbConversion *cv, JsonbBuild *state,
							 JsonbIteratorToken token, cJSON *item);
static Jsonb *json_to_jsonb(DdbConversion *cv, cJSON *item);
pg_noreturn static void invalid_attribute_value(DdbConversion *cv, const char *why);
static void set_string(DdbConversion *cv, JsonbValue *v, const char *s);
static Datum size_bytes_datum(double value, Oid typid);
static cJSON *record_member(cJSON *obj, const char *name, int type);
static cJSON *field_member(const FieldInfo *f, cJSON *record, cJSON *ddb);
static Datum null_datum(bool *isnull);
static Datum text_datum(DdbConversion *cv, const char *s, bool *isnull);
static Datum seq_datum(DdbConversion *cv, const char *s, Oid typid,
					   bool *isnull);

/* The field of that name, or -1. */
int
ddb_field_by_name(const char *name)
{
	int			i;

	for (i = 0; i < DDB_FIELD_COUNT; i++)
		if (strcmp(fields[i].name, name) == 0)
			return i;
	return -1;
}

char *
ddb_field_name_list(void)
{
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	for (i = 0; i < DDB_FIELD_COUNT; i++)
		appendStringInfo(&buf, "%s%s", i ? ", " : "", fields[i].name);
	return buf.data;
}

/* The column types that can hold a field of each kind, and their names. */
static const struct
{
	Oid			types[3];		/* ended by InvalidOid where fewer */
	const char *names;
}			kind_types[] = {
	[KIND_TEXT] = {{TEXTOID}, "text"},
	[KIND_SEQ] = {{NUMERICOID, TEXTOID}, "numeric or text"},
	[KIND_TIME] = {{TIMESTAMPTZOID}, "timestamptz"},
	[KIND_INT] = {{INT4OID, INT8OID}, "integer or bigint"},
	[KIND_JSON] = {{JSONBOID, JSONOID, TEXTOID}, "jsonb, json or text"},
};

/*
 * Raise an error unless a column of type typid can hold the field.
 */
void
ddb_check_column_type(DdbField field, Oid typid, const char *colname)
{
	FieldKind	kind = fields[field].kind;
	int			i;

	for (i = 0; i < lengthof(kind_types[kind].types); i++)
		if (kind_types[kind].types[i] == typid && OidIsValid(typid))
			return;
	ereport(ERROR,
			(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
			 errmsg("column \"%s\" of type %s cannot hold stream field \"%s\"",
					colname, format_type_be(typid), fields[field].name),
			 errhint("Declare the column as %s.", kind_types[kind].names)));
}

/*
 * The value of one field of a stream record, as a Datum of type typid
 * (checked by ddb_check_column_type), allocated in CurrentMemoryContext.
 */
Datum
ddb_field_datum(DdbField field, Oid typid, DdbConversion *cv,
				DdbImageFormat format, bool *isnull)
{
	/* a "dynamodb" of the wrong type is an error whatever the field */
	cJSON	   *ddb = record_member(cv->record, "dynamodb", cJSON_Object);
	const FieldInfo *f;
	cJSON	   *item;

	*isnull = false;
	if (field >= DDB_FIELD_COUNT)	/* DDB_FIELD_ATTRIBUTE: see
									 * ddb_attribute_datum */
		return null_datum(isnull);
	f = &fields[field];
	if (f->place == FROM_SCAN)
		return text_datum(cv, cv->shard_id, isnull);
	if (f->place == WHOLE_RECORD)
		return ddb_jsonb_to_column(json_to_jsonb(cv, cv->record), typid);
	item = field_member(f, cv->record, ddb);
	if (item == NULL)
		return null_datum(isnull);

	switch (f->kind)
	{
		case KIND_TEXT:
			return text_datum(cv, item->valuestring, isnull);
		case KIND_SEQ:
			return seq_datum(cv, item->valuestring, typid, isnull);
		case KIND_TIME:
			if (!isfinite(item->valuedouble))
				return null_datum(isnull);
			return DirectFunctionCall1(float8_timestamptz,
									   Float8GetDatum(item->valuedouble));
		case KIND_INT:
			return size_bytes_datum(item->valuedouble, typid);
		case KIND_JSON:
			if (f->place == IN_DYNAMODB)	/* Keys, NewImage, OldImage */
				return ddb_jsonb_to_column(image_to_jsonb(cv, item, format), typid);
			return ddb_jsonb_to_column(json_to_jsonb(cv, item), typid);
	}
	pg_unreachable();
}

/*
 * The field's member of the record or of its "dynamodb" (NULL: absent), of
 * the JSON type its kind wants.
 */
static cJSON *
field_member(const FieldInfo *f, cJSON *record, cJSON *ddb)
{
	static const int json_type[] = {
		[KIND_TEXT] = cJSON_String,
		[KIND_SEQ] = cJSON_String,
		[KIND_TIME] = cJSON_Number,
		[KIND_INT] = cJSON_Number,
		[KIND_JSON] = cJSON_Object,
	};
	cJSON	   *parent = f->place == IN_DYNAMODB ? ddb : record;

	return parent ? record_member(parent, f->member, json_type[f->kind]) : NULL;
}

static Datum
null_datum(bool *isnull)
{
	*isnull = true;
	return (Datum) 0;
}

/* A string of the record as text, or NULL. */
static Datum
text_datum(DdbConversion *cv, const char *s, bool *isnull)
{
	if (s == NULL)
		return null_datum(isnull);
	return CStringGetTextDatum(ddb_text_of(cv, s));
}

/* SequenceNumber as numeric (digits only) or text. */
static Datum
seq_datum(DdbConversion *cv, const char *s, Oid typid, bool *isnull)
{
	if (typid != NUMERICOID)
		return text_datum(cv, s, isnull);
	if (s[0] == '\0' || strspn(s, "0123456789") != strlen(s))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
				 errmsg("DynamoDB Streams GetRecords returned an invalid sequence number \"%s\"",
						ddb_printable(s, strlen(s), 200))));
	return NumericGetDatum(ddb_number_from_string(cv, s));
}

/* A member of obj of the given cJSON type, NULL when absent or null. */
static cJSON *
record_member(cJSON *obj, const char *name, int type)
{
	cJSON	   *item = cJSON_GetObjectItemCaseSensitive(obj, name);

	if (item == NULL || cJSON_IsNull(item))
		return NULL;
	if ((item->type & 0xFF) != type)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
				 errmsg("DynamoDB Streams GetRecords returned a record whose \"%s\" has the wrong type",
						name)));
	return item;
}

/*
 * SizeBytes as integer or bigint.  The number comes from the endpoint as a
 * double: anything but a whole number from 0 to the type's maximum (1e300,
 * -1e30, 1.5, infinity) is an error, checked before the cast, which would
 * be undefined behaviour out of range.
 */
static Datum
size_bytes_datum(double value, Oid typid)
{
	/* 2^31 and 2^63 are exact doubles: the first value too large */
	double		limit = (typid == INT4OID) ? 2147483648.0 : 9223372036854775808.0;

	if (!(value >= 0 && value < limit) || value != floor(value))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("DynamoDB Streams GetRecords returned SizeBytes %.15g, which is not a whole number in the range of type %s",
						value, format_type_be(typid))));
	if (typid == INT4OID)
		return Int32GetDatum((int32) value);
	return Int64GetDatum((int64) value);
}

/* jsonb as a column of type jsonb, json or text. */
Datum
ddb_jsonb_to_column(Jsonb *jb, Oid typid)
{
	if (typid == JSONBOID)
		return JsonbPGetDatum(jb);
	/* json and text hold the same text */
	return CStringGetTextDatum(JsonbToCString(NULL, &jb->root, VARSIZE(jb)));
}

/*
 * A UTF-8 string of the record being converted (a value or a member name)
 * as a C string in the server encoding, with U+0000 dealt with.
 */
const char *
ddb_text_of(DdbConversion *cv, const char *s)
{
	s = ddb_nul_replace(cv, s);
	return pg_any_to_server(s, strlen(s), PG_UTF8);
}

/*
 * pushJsonbValue for either: returns the finished value after the root
 * container's last token (below the root, what nothing here uses: the
 * container just ended before 19, NULL since).
 */
static JsonbValue *
push(JsonbBuild *b, JsonbIteratorToken token, JsonbValue *v)
{
#if PG_VERSION_NUM >= 190000
	pushJsonbValue(b, token, v);
	return b->result;
#else
	return pushJsonbValue(&b->parseState, token, v);
#endif
}

/* One AttributeValue of the record being converted, as plain jsonb. */
Jsonb *
ddb_attribute_jsonb(DdbConversion *cv, cJSON *av)
{
	JsonbBuild state = {0};

	return JsonbValueToJsonb(push_attribute_value(cv, &state, WJB_ELEM, av));
}

/* An image (Keys, NewImage, OldImage): a map of attribute name to value. */
static Jsonb *
image_to_jsonb(DdbConversion *cv, cJSON *image, DdbImageFormat format)
{
	JsonbBuild state = {0};
	JsonbValue *result;
	cJSON	   *attr;

	if (format == DDB_IMAGE_TYPED)
		return json_to_jsonb(cv, image);

	push(&state, WJB_BEGIN_OBJECT, NULL);
	cJSON_ArrayForEach(attr, image)
	{
		JsonbValue	key;

		set_string(cv, &key, attr->string);
		push(&state, WJB_KEY, &key);
		push_attribute_value(cv, &state, WJB_VALUE, attr);
	}
	result = push(&state, WJB_END_OBJECT, NULL);
	return JsonbValueToJsonb(result);
}

static void
invalid_attribute_value(DdbConversion *cv, const char *why)
{
	ereport(ERROR,
			(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
			 errmsg("%s returned an invalid attribute value", ddb_answer_name(cv)),
			 errdetail_internal("%s", why)));
}

/*
 * Push one AttributeValue ({"S": "x"}, {"N": "1"}, {"M": {...}}, ...) in its
 * plain JSON form: S and B as strings, N as numbers, BOOL, NULL, M as an
 * object, L and the sets SS, NS and BS as arrays.
 */
static JsonbValue *
push_attribute_value(DdbConversion *cv, JsonbBuild *state,
					 JsonbIteratorToken token, cJSON *av)
{
	cJSON	   *v;
	const char *type;
	JsonbValue	jv;
	JsonbValue *result;

	check_stack_depth();
	if (!cJSON_IsObject(av) || av->child == NULL || av->child->next != NULL)
		invalid_attribute_value(cv, "An attribute value must be an object with exactly one member.");
	v = av->child;
	type = v->string;

	if (strcmp(type, "S") == 0 || strcmp(type, "B") == 0)
	{
		if (!cJSON_IsString(v))
			invalid_attribute_value(cv, "An S or B value must be a string.");
		set_string(cv, &jv, v->valuestring);
	}
	else if (strcmp(type, "N") == 0)
	{
		if (!cJSON_IsString(v))
			invalid_attribute_value(cv, "An N value must be a string.");
		jv.type = jbvNumeric;
		jv.val.numeric = ddb_number_from_string(cv, v->valuestring);
	}
	else if (strcmp(type, "BOOL") == 0)
	{
		if (!cJSON_IsBool(v))
			invalid_attribute_value(cv, "A BOOL value must be true or false.");
		jv.type = jbvBool;
		jv.val.boolean = cJSON_IsTrue(v);
	}
	else if (strcmp(type, "NULL") == 0)
		jv.type = jbvNull;
	else if (strcmp(type, "M") == 0)
		return push_map(cv, state, v);
	else if (strcmp(type, "L") == 0)
		return push_list(cv, state, v);
	else if (strcmp(type, "SS") == 0 || strcmp(type, "BS") == 0 ||
			 strcmp(type, "NS") == 0)
		return push_set(cv, state, v, type[0] == 'N');
	else
		invalid_attribute_value(cv, psprintf("Unknown attribute type \"%s\".",
										 ddb_printable(type, strlen(type), 20)));

	if (state->parseState == NULL)
	{
		/* a scalar at the root: no container to push it into */
		result = palloc(sizeof(JsonbValue));
		*result = jv;
		return result;
	}
	return push(state, token, &jv);
}

/* An M value: a map of attribute name to AttributeValue, as an object. */
static JsonbValue *
push_map(DdbConversion *cv, JsonbBuild *state, cJSON *v)
{
	cJSON	   *member;
	JsonbValue	key;

	if (!cJSON_IsObject(v))
		invalid_attribute_value(cv, "An M value must be an object.");
	push(state, WJB_BEGIN_OBJECT, NULL);
	cJSON_ArrayForEach(member, v)
	{
		set_string(cv, &key, member->string);
		push(state, WJB_KEY, &key);
		push_attribute_value(cv, state, WJB_VALUE, member);
	}
	return push(state, WJB_END_OBJECT, NULL);
}

/* An L value: a list of AttributeValues, as an array. */
static JsonbValue *
push_list(DdbConversion *cv, JsonbBuild *state, cJSON *v)
{
	cJSON	   *elem;

	if (!cJSON_IsArray(v))
		invalid_attribute_value(cv, "An L value must be an array.");
	push(state, WJB_BEGIN_ARRAY, NULL);
	cJSON_ArrayForEach(elem, v)
		push_attribute_value(cv, state, WJB_ELEM, elem);
	return push(state, WJB_END_ARRAY, NULL);
}

/* The members of an SS, BS or NS value, as an array. */
static JsonbValue *
push_set(DdbConversion *cv, JsonbBuild *state, cJSON *v, bool numbers)
{
	cJSON	   *elem;
	JsonbValue	jv;

	if (!cJSON_IsArray(v))
		invalid_attribute_value(cv, "A set value must be an array.");
	push(state, WJB_BEGIN_ARRAY, NULL);
	cJSON_ArrayForEach(elem, v)
	{
		if (!cJSON_IsString(elem))
			invalid_attribute_value(cv, "A set must hold strings.");
		if (numbers)
		{
			jv.type = jbvNumeric;
			jv.val.numeric = ddb_number_from_string(cv, elem->valuestring);
		}
		else
			set_string(cv, &jv, elem->valuestring);
		push(state, WJB_ELEM, &jv);
	}
	return push(state, WJB_END_ARRAY, NULL);
}

/* Any JSON value into jsonb, as received (typed images, record, userIdentity). */
static Jsonb *
json_to_jsonb(DdbConversion *cv, cJSON *item)
{
	JsonbBuild state = {0};

	return JsonbValueToJsonb(push_json(cv, &state, WJB_ELEM, item));
}

/*
 * Push item; return what push() returned for its last token, which
 * for the root container is the finished value.  A root scalar is returned
 * as is, since pushJsonbValue needs a container around it.
 */
static JsonbValue *
push_json(DdbConversion *cv, JsonbBuild *state, JsonbIteratorToken token,
		  cJSON *item)
{
	JsonbValue *jv = palloc(sizeof(JsonbValue));
	JsonbValue *result;
	cJSON	   *child;

	check_stack_depth();
	switch (item->type & 0xFF)
	{
		case cJSON_Object:
			push(state, WJB_BEGIN_OBJECT, NULL);
			cJSON_ArrayForEach(child, item)
			{
				set_string(cv, jv, child->string);
				push(state, WJB_KEY, jv);
				(void) push_json(cv, state, WJB_VALUE, child);
			}
			result = push(state, WJB_END_OBJECT, NULL);
			pfree(jv);
			return result;
		case cJSON_Array:
			push(state, WJB_BEGIN_ARRAY, NULL);
			cJSON_ArrayForEach(child, item)
				(void) push_json(cv, state, WJB_ELEM, child);
			result = push(state, WJB_END_ARRAY, NULL);
			pfree(jv);
			return result;
		case cJSON_String:
			set_string(cv, jv, item->valuestring);
			break;
		case cJSON_Number:
			jv->type = jbvNumeric;
			if (!isfinite(item->valuedouble))
				invalid_attribute_value(cv, "A number is out of range.");
			if (item->valuedouble == floor(item->valuedouble) &&
				fabs(item->valuedouble) < 9007199254740992.0)
				jv->val.numeric = int64_to_numeric((int64) item->valuedouble);
			else
				jv->val.numeric = DatumGetNumeric(DirectFunctionCall1(float8_numeric,
																	  Float8GetDatum(item->valuedouble)));
			break;
		case cJSON_True:
		case cJSON_False:
			jv->type = jbvBool;
			jv->val.boolean = cJSON_IsTrue(item);
			break;
		case cJSON_NULL:
			jv->type = jbvNull;
			break;
		default:
			invalid_attribute_value(cv, "Unexpected JSON value.");
	}
	if (state->parseState == NULL)
		return jv;
	return push(state, token, jv);
}

/*
 * A jsonb string of a string of the record being converted (UTF-8), in the
 * server encoding.
 */
static void
set_string(DdbConversion *cv, JsonbValue *v, const char *s)
{
	const char *text = ddb_text_of(cv, s);

	v->type = jbvString;
	v->val.string.val = (char *) text;
	v->val.string.len = strlen(text);
}

/*
 * Is s a DynamoDB number: a decimal string, optionally signed, with
 * optional fraction and exponent, and nothing else (no blanks, NaN or
 * Infinity, which numeric would accept)?
 */
bool
ddb_is_number(const char *s)
{
	const char *p = s;
	bool		digits = false;

	if (*p == '-' || *p == '+')
		p++;
	while (isdigit((unsigned char) *p))
		p++, digits = true;
	if (*p == '.')
	{
		p++;
		while (isdigit((unsigned char) *p))
			p++, digits = true;
	}
	if (digits && (*p == 'e' || *p == 'E'))
	{
		p++;
		if (*p == '-' || *p == '+')
			p++;
		if (!isdigit((unsigned char) *p))
			digits = false;
		while (isdigit((unsigned char) *p))
			p++;
	}
	return digits && *p == '\0';
}

/* What the values being converted came from, for an error. */
const char *
ddb_answer_name(const DdbConversion *cv)
{
	return cv->answer ? cv->answer : "DynamoDB Streams GetRecords";
}

/* A DynamoDB number as numeric, exactly; anything else is an error. */
Numeric
ddb_number_from_string(DdbConversion *cv, const char *s)
{
	if (!ddb_is_number(s))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
				 errmsg("%s returned an invalid number \"%s\"", ddb_answer_name(cv),
						ddb_printable(s, strlen(s), 200))));
	return DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum(s),
											   ObjectIdGetDatum(InvalidOid),
											   Int32GetDatum(-1)));
}
