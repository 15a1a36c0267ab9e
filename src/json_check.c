/*-------------------------------------------------------------------------
 *
 * json_check.c
 *		  A raw response body checked for what cJSON would let through
 *		  although RFC 8259 forbids it, before cJSON parses it.
 *
 * cJSON ends a string at a raw NUL byte, so "abc<NUL>def" would become
 * "abc" and a sequence number could be cut short, and it keeps raw control
 * characters inside strings and skips them between tokens.  A body with a
 * NUL byte anywhere, a byte below 0x20 inside a string, or one outside
 * strings other than the four JSON white-space characters is refused, so
 * such an answer is an invalid response, never a wrong row.  So is a body
 * that nests deeper than cJSON's limit: cJSON would fail on it as on a body
 * cut short, which is retried, and this one would come back the same.
 *
 * One pass over the body, tracking whether it is inside a string; a
 * backslash escapes the byte after it, so \" does not end a string.  The
 * rest of the syntax is left to cJSON.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "ddbstream_fdw.h"

/* What is wrong with the byte at offset i, in words for an error detail. */
static const char *
describe_bad_byte(const char *body, size_t i, bool in_string)
{
	unsigned char c = (unsigned char) body[i];

	if (c == '\0')
		return psprintf("The body holds a NUL byte at offset %zu.", i);
	if (c == '[' || c == '{')
		return psprintf("The body nests arrays and objects deeper than %d levels at offset %zu.",
						CJSON_NESTING_LIMIT, i);
	return psprintf("The body holds the control character 0x%02X %s at offset %zu; JSON allows it only escaped.",
					c, in_string ? "inside a string" : "between tokens", i);
}

/*
 * True when the body has none of the bytes above and nests no deeper than
 * cJSON can parse (which it would refuse as if the body were cut short);
 * otherwise false, with *why saying which byte and where.
 */
bool
ddb_json_check(const char *body, size_t len, const char **why)
{
	bool		in_string = false;
	int			depth = 0;
	size_t		i;

	for (i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) body[i];

		if (in_string)
		{
			if (c == '"')
				in_string = false;
			else if (c == '\\' && i + 1 < len)
			{
				/* the escaped byte must not be a raw control character */
				if ((unsigned char) body[++i] < 0x20)
					break;
			}
			else if (c < 0x20)
				break;
		}
		else if (c == '"')
			in_string = true;
		else if (c == '[' || c == '{')
		{
			if (++depth > CJSON_NESTING_LIMIT)
				break;
		}
		else if (c == ']' || c == '}')
			depth--;
		else if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
			break;
	}
	if (i >= len)
		return true;
	*why = describe_bad_byte(body, i, in_string);
	return false;
}
