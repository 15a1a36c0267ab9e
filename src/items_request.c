/*-------------------------------------------------------------------------
 *
 * items_request.c
 *		  The request of an items scan, made at executor start from the
 *		  values of its pushed conditions (items_plan.c), and the attributes
 *		  it fetches.
 *
 * A value becomes a key value as DynamoDB's JSON writes it: a string as
 * UTF-8, a number as its shortest decimal text, binary as base64.  What a
 * key cannot hold (an empty string or binary, text over the key size
 * limits, NaN, infinity, more than 38 significant digits, a magnitude
 * outside 1E-130 to 1E+126, base64 that is not canonical) matches no item
 * where it is a value to equal, and is dropped where it is a bound: the
 * request then returns more than the query keeps, and PostgreSQL's check of
 * every condition removes the rest.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "mb/pg_wchar.h"
#include "nodes/nodeFuncs.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"

#include "items_plan.h"

/* DynamoDB's limits on key values and numbers. */
#define PARTITION_KEY_MAX_BYTES 2048
#define SORT_KEY_MAX_BYTES		1024
#define NUMBER_MAX_DIGITS		38
#define NUMBER_MAX_EXPONENT		125 /* magnitudes below 1E+126 */
#define NUMBER_MIN_EXPONENT		(-130)	/* and from 1E-130 */

static List *values_of(ExprState *state, ExprContext *econtext, bool in,
					   DdbKeyType type, int max_bytes);
static char *key_value(Datum value, Oid typid, DdbKeyType type, int max_bytes);
static char *number_text(Numeric n);
static bool is_canonical_base64(const char *s, size_t len);
static char *like_prefix(const char *pattern);
static int	key_cmp(DdbKeyType type, const char *a, const char *b);
static List *append_distinct(List *list, char *value);
static List *key_values(List *strings, DdbKeyType type);

/* The pushed values at scan start, as key values. */
typedef struct PushedValues
{
	List	   *partition;		/* the partition key's values */
	List	   *sort;			/* the sort key's = or IN values */
	char	   *lower;			/* the sort key's bounds, or NULL */
	char	   *upper;
	bool		lower_strict;
	bool		upper_strict;
	char	   *prefix;			/* LIKE's fixed start, or NULL */
} PushedValues;

static void evaluate(PushedValues *pv, List *roles, List *value_states,
					 ExprContext *econtext, const DdbKeySchema *schema,
					 bool *empty, bool *exact);
static void set_sort_condition(DdbItemsRequest *req, const PushedValues *pv,
							   const DdbKeySchema *schema, bool *exact);
static List *item_keys(const PushedValues *pv, const DdbKeySchema *schema);

/*
 * The request for api from the pushed values (their roles, as planned).
 * Sets *empty when no item can match (a NULL to equal, no value left), and
 * clears *exact when a condition could not be pushed whole.  The caller
 * fills in what the options and the columns decide.
 */
DdbItemsRequest *
ddb_items_request(DdbItemsApi api, List *roles, List *value_states,
				  ExprContext *econtext, const DdbTableKeys *keys,
				  bool *empty, bool *exact)
{
	DdbItemsRequest *req = palloc0(sizeof(DdbItemsRequest));
	const DdbKeySchema *schema = keys->index_name ? &keys->index : &keys->table;
	PushedValues pv = {0};

	*empty = false;
	req->api = api;
	req->limit = -1;
	req->segments = 1;
	evaluate(&pv, roles, value_states, econtext, schema, empty, exact);
	if (api == DDB_ITEMS_QUERY)
	{
		req->partition_key = schema->partition_key;
		req->partition_values = key_values(pv.partition, schema->partition_type);
		set_sort_condition(req, &pv, schema, exact);
	}
	else if (api != DDB_ITEMS_SCAN)
	{
		req->partition_key = schema->partition_key;
		req->sort_key_name = schema->sort_key;
		req->keys = item_keys(&pv, schema);
	}
	return req;
}

/* Evaluate the pushed values into *pv. */
static void
evaluate(PushedValues *pv, List *roles, List *value_states,
		 ExprContext *econtext, const DdbKeySchema *schema, bool *empty,
		 bool *exact)
{
	ListCell   *lr;
	ListCell   *lv;

	forboth(lr, roles, lv, value_states)
	{
		DdbKeyRole	role = (DdbKeyRole) lfirst_int(lr);
		ExprState  *state = (ExprState *) lfirst(lv);
		bool		partition = (role == DDB_KEY_PK_EQ || role == DDB_KEY_PK_IN);
		bool		equal = partition || role == DDB_KEY_SK_EQ || role == DDB_KEY_SK_IN;
		bool		isnull;
		List	   *values;

		if (role == DDB_KEY_SK_PREFIX)
		{
			Datum		d = ExecEvalExpr(state, econtext, &isnull);

			if (!isnull)
				pv->prefix = like_prefix(TextDatumGetCString(d));
			if (isnull || (pv->prefix && strlen(pv->prefix) > SORT_KEY_MAX_BYTES))
				*empty = true;
			continue;
		}
		values = values_of(state, econtext,
						   role == DDB_KEY_PK_IN || role == DDB_KEY_SK_IN,
						   partition ? schema->partition_type : schema->sort_type,
						   partition ? PARTITION_KEY_MAX_BYTES : SORT_KEY_MAX_BYTES);
		if (equal && values == NIL)
			*empty = true;		/* nothing a key can equal */
		else if (partition)
			pv->partition = values;
		else if (equal)
			pv->sort = values;
		else if (values == NIL)
		{
			/* a NULL bound keeps no row; one a key cannot take is dropped */
			(void) ExecEvalExpr(state, econtext, &isnull);
			if (isnull)
				*empty = true;
			*exact = false;
		}
		else if (role == DDB_KEY_SK_GT || role == DDB_KEY_SK_GE)
		{
			pv->lower = linitial(values);
			pv->lower_strict = (role == DDB_KEY_SK_GT);
		}
		else
		{
			pv->upper = linitial(values);
			pv->upper_strict = (role == DDB_KEY_SK_LT);
		}
	}
	if (pv->lower && pv->upper && key_cmp(schema->sort_type, pv->lower, pv->upper) > 0)
		*empty = true;			/* BETWEEN would be refused */
}

/*
 * A Query's one condition on the sort key: =, else BETWEEN (inexact for
 * strict bounds), else one bound, else begins_with.
 */
static void
set_sort_condition(DdbItemsRequest *req, const PushedValues *pv,
				   const DdbKeySchema *schema, bool *exact)
{
	req->sort_key = schema->sort_key;
	req->sort_value.type = req->sort_value2.type = schema->sort_type;
	if (pv->sort)
	{
		req->sort_op = DDB_SORT_EQ;
		req->sort_value.value = linitial(pv->sort);
	}
	else if (pv->lower && pv->upper)
	{
		req->sort_op = DDB_SORT_BETWEEN;
		req->sort_value.value = pv->lower;
		req->sort_value2.value = pv->upper;
		if (pv->lower_strict || pv->upper_strict)
			*exact = false;
	}
	else if (pv->lower)
	{
		req->sort_op = pv->lower_strict ? DDB_SORT_GT : DDB_SORT_GE;
		req->sort_value.value = pv->lower;
	}
	else if (pv->upper)
	{
		req->sort_op = pv->upper_strict ? DDB_SORT_LT : DDB_SORT_LE;
		req->sort_value.value = pv->upper;
	}
	else if (pv->prefix && pv->prefix[0])
	{
		req->sort_op = DDB_SORT_BEGINS_WITH;
		req->sort_value.value = pv->prefix;
	}
	if (req->sort_op == DDB_SORT_NONE)
		req->sort_key = NULL;
}

/* GetItem's or BatchGetItem's keys: every partition value with every sort one. */
static List *
item_keys(const PushedValues *pv, const DdbKeySchema *schema)
{
	List	   *keys = NIL;
	ListCell   *lp;

	foreach(lp, pv->partition)
	{
		ListCell   *ls;
		int			nsort = schema->sort_key ? list_length(pv->sort) : 1;
		int			i;

		for (i = 0, ls = list_head(pv->sort); i < nsort; i++)
		{
			DdbItemKey *key = palloc0(sizeof(DdbItemKey));

			key->partition.type = schema->partition_type;
			key->partition.value = lfirst(lp);
			if (schema->sort_key)
			{
				key->sort.type = schema->sort_type;
				key->sort.value = lfirst(ls);
				ls = lnext(pv->sort, ls);
			}
			keys = lappend(keys, key);
		}
	}
	return keys;
}

/*
 * The key values of a pushed value (an array for IN), distinct, without
 * NULLs and those no key can hold.
 */
static List *
values_of(ExprState *state, ExprContext *econtext, bool in, DdbKeyType type,
		  int max_bytes)
{
	Oid			typid = exprType((Node *) state->expr);
	bool		isnull;
	Datum		value = ExecEvalExpr(state, econtext, &isnull);
	List	   *result = NIL;
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int			i;
	int16		elmlen;
	bool		elmbyval;
	char		elmalign;
	Oid			elemtype;

	if (isnull)
		return NIL;
	if (!in)
	{
		char	   *s = key_value(value, typid, type, max_bytes);

		return s ? list_make1(s) : NIL;
	}
	elemtype = get_element_type(typid);
	get_typlenbyvalalign(elemtype, &elmlen, &elmbyval, &elmalign);
	deconstruct_array(DatumGetArrayTypeP(value), elemtype, elmlen, elmbyval,
					  elmalign, &elems, &nulls, &n);
	for (i = 0; i < n; i++)
	{
		char	   *s = nulls[i] ? NULL : key_value(elems[i], elemtype, type, max_bytes);

		if (s)
			result = append_distinct(result, s);
	}
	return result;
}

/* A value of typid as a key value of type, or NULL when no key holds it. */
static char *
key_value(Datum value, Oid typid, DdbKeyType type, int max_bytes)
{
	char	   *s;
	size_t		len;

	if (type == DDB_KEY_N)
	{
		switch (typid)
		{
			case INT2OID:
				return number_text(int64_to_numeric(DatumGetInt16(value)));
			case INT4OID:
				return number_text(int64_to_numeric(DatumGetInt32(value)));
			case INT8OID:
				return number_text(int64_to_numeric(DatumGetInt64(value)));
			case NUMERICOID:
				return number_text(DatumGetNumeric(value));
		}
		return NULL;
	}
	s = TextDatumGetCString(value);
	len = strlen(s);
	if (type == DDB_KEY_B)
		return is_canonical_base64(s, len) && len > 0 &&
			len / 4 * 3 <= (size_t) max_bytes ? s : NULL;
	s = pg_server_to_any(s, len, PG_UTF8);
	len = strlen(s);
	return len > 0 && len <= (size_t) max_bytes ? s : NULL;
}

/*
 * A number as DynamoDB takes it: no trailing fractional zeros, at most 38
 * significant digits, within its magnitudes; NULL otherwise.
 */
static char *
number_text(Numeric n)
{
	char	   *s;
	char	   *p;
	char	   *dot;
	char	   *first;
	int			digits = 0;
	int			significant = 0;
	int			exponent;

	if (numeric_is_nan(n) || numeric_is_inf(n))
		return NULL;
	s = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(n)));
	dot = strchr(s, '.');
	if (dot)
	{
		p = s + strlen(s) - 1;
		while (p > dot && *p == '0')
			*p-- = '\0';
		if (p == dot)
			*dot = '\0', dot = NULL;
	}
	if (strcmp(s, "-0") == 0)
		return pstrdup("0");

	/* significant digits, and the power of ten of the first */
	first = s + strspn(s, "-0.");
	if (*first == '\0')
		return s;				/* zero */
	/* from the first non-zero digit to the last: 1000 has one */
	for (p = first; *p; p++)
		if (*p != '.')
		{
			digits++;
			if (*p != '0')
				significant = digits;
		}
	if (dot == NULL || first < dot)
		exponent = (int) ((dot ? dot : s + strlen(s)) - first) - 1;
	else
		exponent = -(int) (first - dot);
	if (significant > NUMBER_MAX_DIGITS || exponent > NUMBER_MAX_EXPONENT ||
		exponent < NUMBER_MIN_EXPONENT)
		return NULL;
	return s;
}

/*
 * A number of an answer in the form key values are sent in (7.00 is 7), to
 * compare keys; NULL when it is no number a key can hold.
 */
char *
ddb_key_number_text(const char *s)
{
	if (!ddb_is_number(s))
		return NULL;
	return number_text(DatumGetNumeric(DirectFunctionCall3(numeric_in,
														   CStringGetDatum(s),
														   ObjectIdGetDatum(InvalidOid),
														   Int32GetDatum(-1))));
}

/* Whether s is base64 as DynamoDB writes it: padded, no spare bits set. */
static bool
is_canonical_base64(const char *s, size_t len)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t		pad = 0;
	size_t		i;
	const char *last;

	if (len % 4 != 0)
		return false;
	while (pad < 2 && pad < len && s[len - 1 - pad] == '=')
		pad++;
	for (i = 0; i < len - pad; i++)
		if (s[i] == '\0' || strchr(alphabet, s[i]) == NULL)
			return false;
	if (pad == 0)
		return true;
	/* the last character before the padding carries no spare bits */
	last = strchr(alphabet, s[len - pad - 1]);
	return ((last - alphabet) & (pad == 1 ? 0x03 : 0x0F)) == 0;
}

/*
 * The fixed start of a LIKE pattern (before its first wildcard, escapes
 * resolved), in UTF-8; NULL for a pattern PostgreSQL refuses.
 */
static char *
like_prefix(const char *pattern)
{
	StringInfoData buf;
	const char *p;
	char	   *result;

	initStringInfo(&buf);
	for (p = pattern; *p && *p != '%' && *p != '_'; p++)
	{
		if (*p == '\\' && p[1] == '\0')
			return NULL;		/* an error for PostgreSQL's LIKE: leave it so */
		if (*p == '\\')
			p++;
		appendStringInfoChar(&buf, *p);
	}
	result = pg_server_to_any(buf.data, buf.len, PG_UTF8);
	return result;
}

/* The order of two key values of a type DynamoDB orders (N or S). */
static int
key_cmp(DdbKeyType type, const char *a, const char *b)
{
	if (type == DDB_KEY_N)
		return DatumGetInt32(DirectFunctionCall2(numeric_cmp,
												 DirectFunctionCall3(numeric_in, CStringGetDatum(a),
																	 ObjectIdGetDatum(InvalidOid),
																	 Int32GetDatum(-1)),
												 DirectFunctionCall3(numeric_in, CStringGetDatum(b),
																	 ObjectIdGetDatum(InvalidOid),
																	 Int32GetDatum(-1))));
	return strcmp(a, b);
}

static List *
append_distinct(List *list, char *value)
{
	ListCell   *lc;

	foreach(lc, list)
		if (strcmp((char *) lfirst(lc), value) == 0)
			return list;
	return lappend(list, value);
}

static List *
key_values(List *strings, DdbKeyType type)
{
	List	   *result = NIL;
	ListCell   *lc;

	foreach(lc, strings)
	{
		DdbKeyValue *v = palloc(sizeof(DdbKeyValue));

		v->type = type;
		v->value = lfirst(lc);
		result = lappend(result, v);
	}
	return result;
}

/*
 * The attributes a scan fetches: NIL (all) when the query uses the whole
 * item, else the used attribute columns' and, for the keys column, the
 * table's key attributes.  A query that uses no column fetches the
 * partition key alone when it is known.
 */
List *
ddb_items_projection(const DdbColumnInfo *columns, const bool *used,
					 int ncolumns, const DdbTableKeys *keys)
{
	List	   *names = NIL;
	bool		need_keys = false;
	int			i;

	for (i = 0; i < ncolumns; i++)
	{
		if (!used[i] || columns[i].field < 0)
			continue;
		if (columns[i].field == DDB_FIELD_NEW_IMAGE)
			return NIL;
		if (columns[i].field == DDB_FIELD_KEYS)
			need_keys = true;
		else if (columns[i].field == DDB_FIELD_ATTRIBUTE)
			names = append_distinct(names, (char *) columns[i].attribute);
	}
	if (keys && (need_keys || names == NIL))
	{
		names = append_distinct(names, keys->table.partition_key);
		if (keys->table.sort_key && need_keys)
			names = append_distinct(names, keys->table.sort_key);
	}
	else if (need_keys && names == NIL)
		return NIL;				/* unknown keys alone: fetch all */
	return names;
}
