/*-------------------------------------------------------------------------
 *
 * nul_chars.c
 *		  U+0000 in stream records: DynamoDB strings may hold it, PostgreSQL
 *		  text and jsonb cannot.
 *
 * cJSON decodes the escape \u0000 into a NUL byte that silently ends the
 * string, so a GetRecords body is marked before it is parsed: each \u0000
 * escape becomes the single byte DDB_NUL_MARK, which UTF-8 text never holds
 * (a body that already holds it is not UTF-8, so not JSON, and is refused).
 * The strings of the parsed page then keep every character.
 *
 * Each string that becomes text or jsonb passes through ddb_nul_replace:
 * without the table option nul_replacement, a marked string is an error
 * that names the record (eventID, sequence number, shard) and the path of
 * the string in it (NewImage.address.street, Keys.id, NewImage.tags[3]);
 * with it, each U+0000 is replaced by the option's value and counted for
 * EXPLAIN ANALYZE.  Only the columns a query builds are checked.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "miscadmin.h"

#include "ddbstream_fdw.h"

#define ESCAPE_LEN	6			/* \u0000 */
#define MESSAGE_CHARS	200		/* the longest name quoted in a message */

typedef struct NulTarget
{
	const char *s;				/* the string that holds U+0000 */
	bool		is_key;			/* it is a member's name, not a value */
} NulTarget;

pg_noreturn static void nul_error(DdbConversion *cv, const char *s);
pg_noreturn static void item_nul_error(DdbConversion *cv, const char *path,
									   bool in_name);
static char *record_id(cJSON *record);
static bool holds(cJSON *node, NulTarget *t);
static bool find_in_record(cJSON *record, NulTarget *t, StringInfo path);
static bool find_in_image(cJSON *image, NulTarget *t, StringInfo path);
static bool find_in_attribute(cJSON *av, NulTarget *t, StringInfo path);
static bool find_in_json(cJSON *item, NulTarget *t, StringInfo path);
static void append_name(StringInfo path, const char *sep, const char *name);
static void truncate_path(StringInfo path, int len);
static const char *member_string(cJSON *obj, const char *name);

/*
 * Mark the \u0000 escapes of a JSON body in place (it only shrinks), and
 * return how many there were; -1 when the body already holds the mark byte.
 * A backslash can only start an escape inside a string, and every escape
 * is consumed whole, so "\\u0000" (a backslash, then "u0000") is left alone.
 */
int
ddb_mark_nuls(char *body, size_t *len)
{
	char	   *end = body + *len;
	char	   *src = body;
	char	   *dst = body;
	int			marked = 0;

	if (memchr(body, DDB_NUL_MARK, *len) != NULL)
		return -1;
	for (;;)
	{
		char	   *bs = memchr(src, '\\', end - src);
		size_t		keep;

		if (bs == NULL)
			break;
		if (end - bs >= ESCAPE_LEN && memcmp(bs, "\\u0000", ESCAPE_LEN) == 0)
		{
			keep = bs - src;
			if (dst != src)
				memmove(dst, src, keep);
			dst += keep;
			*dst++ = DDB_NUL_MARK;
			src = bs + ESCAPE_LEN;
			marked++;
			continue;
		}
		/* any other escape: its backslash and the character after it */
		keep = Min(bs + 2, end) - src;
		if (dst != src)
			memmove(dst, src, keep);
		dst += keep;
		src += keep;
	}
	if (marked == 0)
		return 0;
	memmove(dst, src, end - src);
	dst += end - src;
	*len = dst - body;
	*dst = '\0';
	return marked;
}

/*
 * s, a string of the record being converted (a value or a member's name,
 * as cJSON holds it), with each U+0000 replaced by the table's
 * nul_replacement; s itself when it holds none.  Without the option, an
 * error naming the record and where s is in it.
 */
const char *
ddb_nul_replace(DdbConversion *cv, const char *s)
{
	StringInfoData buf;
	const char *p;
	const char *mark = strchr(s, DDB_NUL_MARK);

	if (mark == NULL)
		return s;
	if (cv->nul_replacement == NULL)
		nul_error(cv, s);

	initStringInfo(&buf);
	for (p = s; mark != NULL; p = mark + 1, mark = strchr(p, DDB_NUL_MARK))
	{
		appendBinaryStringInfo(&buf, p, mark - p);
		appendStringInfoString(&buf, cv->nul_replacement);
		cv->nul_replaced++;
	}
	appendStringInfoString(&buf, p);
	return buf.data;
}

/*
 * 'eventID "...", sequence number ...' of a record, for messages; the parts
 * it lacks are left out.
 */
static char *
record_id(cJSON *record)
{
	const char *id = member_string(record, "eventID");
	cJSON	   *ddb = cJSON_GetObjectItemCaseSensitive(record, "dynamodb");
	const char *seq = cJSON_IsObject(ddb) ? member_string(ddb, "SequenceNumber") : NULL;
	StringInfoData buf;

	initStringInfo(&buf);
	if (id)
		appendStringInfo(&buf, "eventID \"%s\"",
						 ddb_printable(id, strlen(id), MESSAGE_CHARS));
	if (seq)
		appendStringInfo(&buf, "%ssequence number %s", id ? ", " : "",
						 ddb_printable(seq, strlen(seq), MESSAGE_CHARS));
	return buf.data;
}

/*
 * U+0000 in an item of an items table (ddb_build_item_row: its key and the
 * item stand as a record's Keys and NewImage, named keys and item here).
 */
static void
item_nul_error(DdbConversion *cv, const char *path, bool in_name)
{
	cJSON	   *ddb = cJSON_GetObjectItemCaseSensitive(cv->record, "dynamodb");
	cJSON	   *keys = cJSON_GetObjectItemCaseSensitive(ddb, "Keys");
	char	   *key = (keys && keys->child) ? cJSON_PrintUnformatted(keys) : NULL;
	const char *where = path;

	if (strncmp(path, "NewImage", 8) == 0)
		where = psprintf("item%s", path + 8);
	else if (strncmp(path, "Keys", 4) == 0)
		where = psprintf("keys%s", path + 4);
	ereport(ERROR,
			(errcode(ERRCODE_UNTRANSLATABLE_CHARACTER),
			 errmsg("%s returned an item with U+0000 in %s, which PostgreSQL text cannot hold",
					ddb_answer_name(cv), where),
			 key ? errdetail("The item's key is %s. The U+0000 is in %s.",
							 ddb_printable(key, strlen(key), MESSAGE_CHARS),
							 in_name ? "a name" : "a value") :
			 errdetail("The U+0000 is in %s.", in_name ? "a name" : "a value"),
			 errhint("To read the item, set the foreign table option nul_replacement to the text that replaces each U+0000, such as ALTER FOREIGN TABLE ... OPTIONS (ADD nul_replacement '') to remove them.")));
}

static void
nul_error(DdbConversion *cv, const char *s)
{
	StringInfoData path;
	NulTarget	t = {s, false};

	initStringInfo(&path);
	if (!find_in_record(cv->record, &t, &path))
		appendStringInfoString(&path, "?");
	if (cv->shard_id == NULL)
		item_nul_error(cv, path.data, t.is_key);
	ereport(ERROR,
			(errcode(ERRCODE_UNTRANSLATABLE_CHARACTER),
			 errmsg("DynamoDB Streams record has U+0000 in %s, which PostgreSQL text cannot hold",
					path.data),
			 errdetail("Record %s, shard \"%s\". The U+0000 is in %s.",
					   record_id(cv->record),
					   ddb_printable(cv->shard_id, strlen(cv->shard_id), MESSAGE_CHARS),
					   t.is_key ? "a name" : "a value"),
			 errhint("To read the record, set the foreign table option nul_replacement to the text that replaces each U+0000, such as ALTER FOREIGN TABLE ... OPTIONS (ADD nul_replacement '') to remove them.")));
}

/* Is the target string node's name or its value?  (The very pointer.) */
static bool
holds(cJSON *node, NulTarget *t)
{
	if (node->string == t->s)
		t->is_key = true;
	return node->string == t->s || node->valuestring == t->s;
}

/*
 * Where the target is in a record, into path: attribute paths in the images
 * (NewImage.address.street, Keys.id, OldImage.tags[3]), member names
 * elsewhere (eventID, userIdentity.principalId, dynamodb.StreamViewType).
 * Only called for an error, so a plain search is good enough.
 */
static bool
find_in_record(cJSON *record, NulTarget *t, StringInfo path)
{
	cJSON	   *member;
	cJSON	   *d;

	cJSON_ArrayForEach(member, record)
	{
		if (strcmp(member->string, "dynamodb") != 0 || !cJSON_IsObject(member))
		{
			resetStringInfo(path);
			append_name(path, "", member->string);
			if (find_in_json(member, t, path))
				return true;
			continue;
		}
		cJSON_ArrayForEach(d, member)
		{
			bool		image = (strcmp(d->string, "Keys") == 0 ||
								 strcmp(d->string, "NewImage") == 0 ||
								 strcmp(d->string, "OldImage") == 0);

			resetStringInfo(path);
			append_name(path, "", image ? d->string : "dynamodb");
			if (!image)
				append_name(path, ".", d->string);
			if (image ? find_in_image(d, t, path) : find_in_json(d, t, path))
				return true;
		}
	}
	return false;
}

/* An image, or an M value: a map of attribute name to AttributeValue. */
static bool
find_in_image(cJSON *image, NulTarget *t, StringInfo path)
{
	cJSON	   *attr;

	cJSON_ArrayForEach(attr, image)
	{
		int			len = path->len;

		append_name(path, ".", attr->string);
		if (holds(attr, t) || find_in_attribute(attr, t, path))
			return true;
		truncate_path(path, len);
	}
	return false;
}

/* An AttributeValue: {"S": "..."}, {"M": {...}}, {"L": [...]}, {"SS": [...]}. */
static bool
find_in_attribute(cJSON *av, NulTarget *t, StringInfo path)
{
	cJSON	   *v = cJSON_IsObject(av) ? av->child : NULL;
	cJSON	   *elem;
	int			i = 0;

	check_stack_depth();
	if (v == NULL)
		return false;
	if (holds(v, t))
		return true;
	if (strcmp(v->string, "M") == 0)
		return find_in_image(v, t, path);
	if (!cJSON_IsArray(v))
		return false;
	/* L holds AttributeValues; SS, NS and BS hold strings */
	cJSON_ArrayForEach(elem, v)
	{
		int			len = path->len;

		appendStringInfo(path, "[%d]", i++);
		if (holds(elem, t) ||
			(strcmp(v->string, "L") == 0 && find_in_attribute(elem, t, path)))
			return true;
		truncate_path(path, len);
	}
	return false;
}

/* Any JSON value: member names joined by dots, array indexes in brackets. */
static bool
find_in_json(cJSON *item, NulTarget *t, StringInfo path)
{
	cJSON	   *child;
	int			i = 0;

	check_stack_depth();
	if (holds(item, t))
		return true;
	cJSON_ArrayForEach(child, item)
	{
		int			len = path->len;

		if (cJSON_IsArray(item))
			appendStringInfo(path, "[%d]", i++);
		else
			append_name(path, ".", child->string);
		if (find_in_json(child, t, path))
			return true;
		truncate_path(path, len);
	}
	return false;
}

/* Back to the path's first len bytes, after a member that did not hold it. */
static void
truncate_path(StringInfo path, int len)
{
	path->len = len;
	path->data[len] = '\0';
}

/* sep, then name made printable; no separator at the start of the path. */
static void
append_name(StringInfo path, const char *sep, const char *name)
{
	if (path->len > 0)
		appendStringInfoString(path, sep);
	appendStringInfoString(path, ddb_printable(name, strlen(name), MESSAGE_CHARS));
}

static const char *
member_string(cJSON *obj, const char *name)
{
	cJSON	   *item = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsString(item) ? item->valuestring : NULL;
}
