/*-------------------------------------------------------------------------
 *
 * json_check.c
 *		  A raw response body checked, before cJSON parses it, for what cJSON
 *		  would let through although RFC 8259 forbids it, and for what would
 *		  cost too much to parse.
 *
 * cJSON ends a string at a raw NUL byte, so "abc<NUL>def" would become
 * "abc" and a sequence number could be cut short, and it keeps raw control
 * characters inside strings and skips them between tokens.  A body with a
 * NUL byte anywhere, a byte below 0x20 inside a string, or one outside
 * strings other than the four JSON white-space characters is refused, so
 * such an answer is an invalid response, never a wrong row.
 *
 * So is a body that nests deeper than cJSON's limit (cJSON would fail on it
 * as on a body cut short, which is retried, and this one would come back
 * the same), and one of more than DDB_JSON_MAX_VALUES values: cJSON spends
 * about 80 bytes on each, so 16 MB of "0,0,0,..." would take 650 MB to
 * parse.  A legitimate page (at most 1 MB of records) holds far fewer.
 *
 * One pass over the body, tracking whether it is inside a string; a
 * backslash escapes the byte after it, so \" does not end a string.  The
 * rest of the syntax is left to cJSON.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "ddbstream_fdw.h"

/*
 * The most JSON values a body may hold, counted as its commas and opening
 * brackets outside strings: a parse tree of at most about 160 MB.
 */
#define DDB_JSON_MAX_VALUES		2000000

static int	name_cmp(const void *a, const void *b);
static int	hex4(const char *s);

typedef enum BodyFault
{
	BODY_OK,
	BODY_BAD_BYTE,				/* a NUL, or a raw control character */
	BODY_TOO_DEEP,
	BODY_TOO_MANY_VALUES,
	BODY_LONE_SURROGATE			/* \ud800 without its pair, or \udc00 alone */
} BodyFault;

static BodyFault check_surrogates(const char *body, size_t len, size_t *i);

/* What is wrong at offset i, in words for an error detail. */
static const char *
describe_fault(BodyFault fault, const char *body, size_t i, bool in_string)
{
	unsigned char c = (unsigned char) body[i];

	if (fault == BODY_TOO_DEEP)
		return psprintf("The body nests arrays and objects deeper than %d levels at offset %zu.",
						CJSON_NESTING_LIMIT, i);
	if (fault == BODY_TOO_MANY_VALUES)
		return psprintf("The body holds more than %d JSON values (offset %zu).",
						DDB_JSON_MAX_VALUES, i);
	if (fault == BODY_LONE_SURROGATE)
		return psprintf("The body holds a \\u escape of half a UTF-16 surrogate pair at offset %zu.", i);
	if (c == '\0')
		return psprintf("The body holds a NUL byte at offset %zu.", i);
	return psprintf("The body holds the control character 0x%02X %s at offset %zu; JSON allows it only escaped.",
					c, in_string ? "inside a string" : "between tokens", i);
}

/* The fault of byte c outside strings, counting nesting and values. */
static BodyFault
check_between_tokens(unsigned char c, int *depth, int *values)
{
	if (c == '[' || c == '{')
	{
		if (++*depth > CJSON_NESTING_LIMIT)
			return BODY_TOO_DEEP;
	}
	else if (c == ']' || c == '}')
		--*depth;
	else if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
		return BODY_BAD_BYTE;
	if ((c == '[' || c == '{' || c == ',') && ++*values > DDB_JSON_MAX_VALUES)
		return BODY_TOO_MANY_VALUES;
	return BODY_OK;
}

/* The value of the four hex digits at s, or -1. */
static int
hex4(const char *s)
{
	int			v = 0;

	for (int k = 0; k < 4; k++)
	{
		char		h = s[k];

		v <<= 4;
		if (h >= '0' && h <= '9')
			v |= h - '0';
		else if (h >= 'a' && h <= 'f')
			v |= h - 'a' + 10;
		else if (h >= 'A' && h <= 'F')
			v |= h - 'A' + 10;
		else
			return -1;
	}
	return v;
}

/*
 * A \u escape, *i at its 'u': half a surrogate pair is not a character
 * (cJSON fails on it as on a body cut short, which would be retried).  A
 * whole pair is stepped over.
 */
static BodyFault
check_surrogates(const char *body, size_t len, size_t *i)
{
	int			v = (*i + 4 < len) ? hex4(body + *i + 1) : -1;
	int			low;

	if (v < 0xD800 || v > 0xDFFF)
		return BODY_OK;			/* not a surrogate, or left to cJSON */
	if (v >= 0xDC00)
		return BODY_LONE_SURROGATE;
	low = (*i + 10 < len && body[*i + 5] == '\\' && body[*i + 6] == 'u') ?
		hex4(body + *i + 7) : -1;
	if (low < 0xDC00 || low > 0xDFFF)
		return BODY_LONE_SURROGATE;
	*i += 10;					/* at the last hex digit of the pair */
	return BODY_OK;
}

/*
 * True when the body has none of the faults above; otherwise false, with
 * *why saying what and where.
 */
bool
ddb_json_check(const char *body, size_t len, const char **why)
{
	BodyFault	fault = BODY_OK;
	bool		in_string = false;
	int			depth = 0;
	int			values = 0;
	size_t		i;

	for (i = 0; i < len && fault == BODY_OK; i++)
	{
		unsigned char c = (unsigned char) body[i];

		if (!in_string)
		{
			if (c == '"')
				in_string = true;
			else
				fault = check_between_tokens(c, &depth, &values);
		}
		else if (c == '"')
			in_string = false;
		else if (c == '\\' && i + 1 < len)
		{
			/* the escaped byte must not be a raw control character */
			if ((unsigned char) body[++i] < 0x20)
				fault = BODY_BAD_BYTE;
			else if (body[i] == 'u')
				fault = check_surrogates(body, len, &i);
		}
		else if (c < 0x20)
			fault = BODY_BAD_BYTE;
	}
	if (fault == BODY_OK)
		return true;
	*why = describe_fault(fault, body, i - 1, in_string);
	return false;
}

/*
 * After parsing: no object may name a member twice.  cJSON keeps both and
 * finds the first, jsonb keeps the last, so {"eventID": "a", "eventID": "b"}
 * would give a row whose event_id and record disagree.  The tree is walked
 * with a stack of its own, not recursion, and each object's names are
 * sorted to compare.
 */
bool
ddb_json_unique_names(cJSON *root, const char **why)
{
	int			maxdepth = 64;
	cJSON	  **stack = palloc(sizeof(cJSON *) * maxdepth);
	int			depth = 0;
	const char **names = NULL;
	int			maxnames = 0;
	bool		ok = true;

	stack[depth++] = root;
	while (depth > 0 && ok)
	{
		cJSON	   *node = stack[--depth];
		cJSON	   *child;
		int			n = 0;

		if (!cJSON_IsObject(node) && !cJSON_IsArray(node))
			continue;
		for (child = node->child; child; child = child->next)
		{
			if (cJSON_IsObject(node))
			{
				if (n == maxnames)
				{
					maxnames = Max(maxnames * 2, 16);
					names = names ? repalloc(names, sizeof(char *) * maxnames) :
						palloc(sizeof(char *) * maxnames);
				}
				names[n++] = child->string ? child->string : "";
			}
			if (child->child == NULL)
				continue;
			if (depth == maxdepth)
			{
				maxdepth *= 2;
				stack = repalloc(stack, sizeof(cJSON *) * maxdepth);
			}
			stack[depth++] = child;
		}
		if (n > 1)
		{
			qsort(names, n, sizeof(char *), name_cmp);
			for (int i = 1; i < n && ok; i++)
				if (strcmp(names[i - 1], names[i]) == 0)
				{
					*why = "An object names the same member twice.";
					ok = false;
				}
		}
	}
	pfree(stack);
	if (names)
		pfree(names);
	return ok;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *) a, *(const char *const *) b);
}
