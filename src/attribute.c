/*-------------------------------------------------------------------------
 *
 * attribute.c
 *		  Attribute columns (column option "attribute"): one attribute of the
 *		  item, of the new image or, when the record has none, of the old
 *		  one, converted to the column's type.
 *
 * Each column type takes exactly the AttributeValue types rules[] lists
 * (and the README repeats); any other type is an error that names the
 * column, the attribute and its type, and (through the scan's error
 * context) the record's eventID.  Strings are not guessed at: a boolean
 * column does not take S "yes", a numeric one takes an S only when it is a
 * number written as DynamoDB writes numbers (no blanks), a timestamptz one
 * an S only in ISO 8601 form.  A missing attribute and NULL give SQL NULL.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"

#include "ddbstream_fdw.h"

/* How a column type takes an attribute. */
typedef enum AttributeRule
{
	RULE_NUMBER,				/* N, or an S holding a number */
	RULE_TEXT,					/* any type, as text */
	RULE_BOOL,					/* BOOL */
	RULE_TIME,					/* an ISO 8601 S, or N epoch seconds */
	RULE_JSON					/* any type, as plain JSON */
} AttributeRule;

static const struct
{
	Oid			typid;
	AttributeRule rule;
}			rules[] = {
	{NUMERICOID, RULE_NUMBER},
	{INT2OID, RULE_NUMBER},
	{INT4OID, RULE_NUMBER},
	{INT8OID, RULE_NUMBER},
	{FLOAT4OID, RULE_NUMBER},
	{FLOAT8OID, RULE_NUMBER},
	{TEXTOID, RULE_TEXT},
	{VARCHAROID, RULE_TEXT},
	{BOOLOID, RULE_BOOL},
	{TIMESTAMPTZOID, RULE_TIME},
	{JSONBOID, RULE_JSON},
	{JSONOID, RULE_JSON},
};

/* What each rule takes, for the hint of an error. */
static const char *const rule_takes[] = {
	[RULE_NUMBER] = "N, or S holding a number (no blanks)",
	[RULE_TEXT] = "S, N, B, BOOL, M, L, SS, NS and BS",
	[RULE_BOOL] = "BOOL only",
	[RULE_TIME] = "S in ISO 8601 form (such as 2024-05-01T10:00:00Z) or N (seconds since 1970-01-01)",
	[RULE_JSON] = "every type",
};

typedef struct AttributeContext
{
	const DdbColumnInfo *col;
	const char *avtype;
} AttributeContext;

static int	rule_of(Oid typid);
static cJSON *find_attribute(const DdbColumnInfo *col, cJSON *record);
static Datum convert(const DdbColumnInfo *col, DdbConversion *cv, cJSON *av);
static Datum from_number(const DdbColumnInfo *col, cJSON *v);
static Datum from_time(const DdbColumnInfo *col, DdbConversion *cv, cJSON *v);
static Datum input_if(const DdbColumnInfo *col, cJSON *v, bool ok,
					  const char *what);
static const char *as_text(DdbConversion *cv, cJSON *av);
static bool is_iso8601(const char *s);
static bool digits(const char *s, int n);
pg_noreturn static void cannot_convert(const DdbColumnInfo *col, const char *avtype,
									   const char *detail);
static void attribute_error_context(void *arg);

/*
 * Check at planning time that the column's type can hold an attribute, and
 * look up its input function.
 */
void
ddb_check_attribute_column(DdbColumnInfo *col)
{
	Oid			input;

	if (rule_of(col->typid) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
				 errmsg("column \"%s\" of type %s cannot hold item attribute \"%s\"",
						col->name, format_type_be(col->typid), col->attribute_shown),
				 errhint("Declare the column as numeric, smallint, integer, bigint, real, double precision, text, varchar, boolean, timestamptz, jsonb or json.")));
	getTypeInputInfo(col->typid, &input, &col->ioparam);
	fmgr_info(input, &col->input);
}

static int
rule_of(Oid typid)
{
	int			i;

	for (i = 0; i < lengthof(rules); i++)
		if (rules[i].typid == typid)
			return rules[i].rule;
	return -1;
}

/* The column's value for the record being converted. */
Datum
ddb_attribute_datum(const DdbColumnInfo *col, DdbConversion *cv, bool *isnull)
{
	cJSON	   *av = find_attribute(col, cv->record);
	AttributeContext ctx;
	ErrorContextCallback errcallback;
	Datum		result;

	*isnull = true;
	if (av == NULL)
		return (Datum) 0;
	if (!cJSON_IsObject(av) || av->child == NULL || av->child->next != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
				 errmsg("%s returned an invalid attribute value", ddb_answer_name(cv)),
				 errdetail("An attribute value must be an object with exactly one member.")));
	if (strcmp(av->child->string, "NULL") == 0)
		return (Datum) 0;

	ctx.col = col;
	ctx.avtype = av->child->string;
	errcallback.callback = attribute_error_context;
	errcallback.arg = &ctx;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;
	result = convert(col, cv, av);
	error_context_stack = errcallback.previous;
	*isnull = false;
	return result;
}

/* The attribute in the new image, else in the old one; NULL if absent. */
static cJSON *
find_attribute(const DdbColumnInfo *col, cJSON *record)
{
	cJSON	   *ddb = cJSON_GetObjectItemCaseSensitive(record, "dynamodb");
	cJSON	   *image;

	if (!cJSON_IsObject(ddb))
		return NULL;
	image = cJSON_GetObjectItemCaseSensitive(ddb, "NewImage");
	if (!cJSON_IsObject(image))
		image = cJSON_GetObjectItemCaseSensitive(ddb, "OldImage");
	if (!cJSON_IsObject(image))
		return NULL;
	return cJSON_GetObjectItemCaseSensitive(image, col->attribute);
}

/* Apply the column type's rule to av, a one-member object that is not NULL. */
static Datum
convert(const DdbColumnInfo *col, DdbConversion *cv, cJSON *av)
{
	cJSON	   *v = av->child;
	const char *type = v->string;

	switch ((AttributeRule) rule_of(col->typid))
	{
		case RULE_JSON:
			return ddb_jsonb_to_column(ddb_attribute_jsonb(cv, av), col->typid);
		case RULE_BOOL:
			if (strcmp(type, "BOOL") != 0 || !cJSON_IsBool(v))
				cannot_convert(col, type, NULL);
			return BoolGetDatum(cJSON_IsTrue(v));
		case RULE_NUMBER:
			return from_number(col, v);
		case RULE_TIME:
			return from_time(col, cv, v);
		case RULE_TEXT:
			return InputFunctionCall((FmgrInfo *) &col->input,
									 (char *) as_text(cv, av),
									 col->ioparam, col->typmod);
	}
	pg_unreachable();
}

/*
 * N, or an S that is a number as DynamoDB writes one, through the column
 * type's input function (so an integer column takes whole numbers only).
 */
static Datum
from_number(const DdbColumnInfo *col, cJSON *v)
{
	const char *type = v->string;

	if ((strcmp(type, "N") != 0 && strcmp(type, "S") != 0) || !cJSON_IsString(v))
		cannot_convert(col, type, NULL);
	return input_if(col, v, ddb_is_number(v->valuestring), "a number");
}

/* An S in ISO 8601 form, or N seconds since 1970-01-01 00:00:00 UTC. */
static Datum
from_time(const DdbColumnInfo *col, DdbConversion *cv, cJSON *v)
{
	const char *type = v->string;

	if (strcmp(type, "N") == 0 && cJSON_IsString(v))
	{
		Numeric		n = ddb_number_from_string(cv, v->valuestring);

		return DirectFunctionCall1(float8_timestamptz,
								   DirectFunctionCall1(numeric_float8, NumericGetDatum(n)));
	}
	if (strcmp(type, "S") != 0 || !cJSON_IsString(v))
		cannot_convert(col, type, NULL);
	return input_if(col, v, is_iso8601(v->valuestring),
					"an ISO 8601 date and time");
}

/*
 * The string v through the column type's input function if ok, else an
 * error that says v's value is not what (a number, a date and time).
 */
static Datum
input_if(const DdbColumnInfo *col, cJSON *v, bool ok, const char *what)
{
	if (!ok)
		cannot_convert(col, v->string,
					   psprintf("The value \"%s\" is not %s.",
								ddb_printable(v->valuestring, strlen(v->valuestring), 100),
								what));
	return InputFunctionCall((FmgrInfo *) &col->input, v->valuestring,
							 col->ioparam, col->typmod);
}

/*
 * Any attribute as text: S and B (base64) as they are, N as its digits,
 * BOOL as true or false, M, L and the sets as plain JSON.
 */
static const char *
as_text(DdbConversion *cv, cJSON *av)
{
	cJSON	   *v = av->child;
	const char *type = v->string;
	Jsonb	   *jb;

	if ((strcmp(type, "S") == 0 || strcmp(type, "B") == 0) && cJSON_IsString(v))
		return ddb_text_of(cv, v->valuestring);
	if (strcmp(type, "N") == 0 && cJSON_IsString(v))
	{
		(void) ddb_number_from_string(cv, v->valuestring);	/* checks it */
		return v->valuestring;
	}
	if (strcmp(type, "BOOL") == 0 && cJSON_IsBool(v))
		return cJSON_IsTrue(v) ? "true" : "false";
	/* M, L, SS, NS, BS; anything malformed is refused here */
	jb = ddb_attribute_jsonb(cv, av);
	return JsonbToCString(NULL, &jb->root, VARSIZE(jb));
}

/*
 * YYYY-MM-DD, optionally followed by T (or a space) and hh:mm[:ss[.fff]],
 * and a zone: Z or +hh[[:]mm] or -hh[[:]mm].  Without a zone the time is in
 * the session's TimeZone, as timestamptz input does.
 */
static bool
is_iso8601(const char *s)
{
	const char *p;

	if (!digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' ||
		!digits(s + 8, 2))
		return false;
	p = s + 10;
	if (*p == '\0')
		return true;
	if ((*p != 'T' && *p != ' ') || !digits(p + 1, 2) || p[3] != ':' ||
		!digits(p + 4, 2))
		return false;
	p += 6;
	if (*p == ':')
	{
		if (!digits(p + 1, 2))
			return false;
		p += 3;
		if (*p == '.')
		{
			if (!isdigit((unsigned char) *++p))
				return false;
			while (isdigit((unsigned char) *p))
				p++;
		}
	}
	if (*p == 'Z')
		return p[1] == '\0';
	if (*p != '+' && *p != '-')
		return *p == '\0';
	if (!digits(++p, 2))
		return false;
	p += 2;
	if (*p == ':')
		p++;
	return *p == '\0' || (digits(p, 2) && p[2] == '\0');
}

/* Are the first n characters of s digits? */
static bool
digits(const char *s, int n)
{
	int			i;

	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char) s[i]))
			return false;
	return true;
}

static void
cannot_convert(const DdbColumnInfo *col, const char *avtype, const char *detail)
{
	const char *typname = format_type_be(col->typid);

	ereport(ERROR,
			(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
			 errmsg("cannot convert item attribute \"%s\" of type %s to column \"%s\" of type %s",
					col->attribute_shown, ddb_printable(avtype, strlen(avtype), 20),
					col->name, typname),
			 detail ? errdetail_internal("%s", detail) : 0,
			 errhint("Columns of type %s take %s.", typname,
					 rule_takes[rule_of(col->typid)])));
}

static void
attribute_error_context(void *arg)
{
	AttributeContext *ctx = (AttributeContext *) arg;

	errcontext("converting item attribute \"%s\" (%s) to column \"%s\" of type %s",
			   ctx->col->attribute_shown,
			   ddb_printable(ctx->avtype, strlen(ctx->avtype), 20),
			   ctx->col->name, format_type_be(ctx->col->typid));
}
