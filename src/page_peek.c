/*-------------------------------------------------------------------------
 *
 * page_peek.c
 *		  A look at a raw GetRecords answer before it is parsed: its next
 *		  iterator, whether it holds records, and its last record's sequence
 *		  number and creation time.
 *
 * A shard's next page can be requested only with the iterator in the answer
 * to the previous one.  Finding it (and what decides whether the shard is
 * finished) in the raw body lets the scan send the next request before it
 * parses this page, so parsing overlaps the network.  The parsed page is
 * checked against the peek afterwards, so a wrong peek costs one wasted
 * request, never a wrong row.
 *
 * Only compact JSON as AWS sends it is recognised ("Key":"value", no
 * spaces).  A key pattern such as "SequenceNumber":" cannot occur inside a
 * JSON string (its quotes would be escaped), and item attributes map to
 * objects ("Name":{"S":...}), so the patterns find only record fields.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <stdlib.h>

#include "page_peek.h"

/* The last occurrence of pattern in [body, end), or NULL. */
static const char *
last_match(const char *body, const char *end, const char *pattern)
{
	size_t		plen = strlen(pattern);
	const char *found = NULL;
	const char *p = body;

	while (p < end &&
		   (p = memmem(p, end - p, pattern, plen)) != NULL)
	{
		found = p;
		p += plen;
	}
	return found;
}

/* The plain string value after the pattern: no escapes, or NULL. */
static char *
string_after(const char *at, const char *end, const char *pattern)
{
	const char *start = at + strlen(pattern);
	const char *p;

	for (p = start; p < end && *p != '"'; p++)
		if (*p == '\\' || (unsigned char) *p < 0x20)
			return NULL;
	if (p >= end || p == start)
		return NULL;
	return pnstrdup(start, p - start);
}

/*
 * Fill *peek from the body; false when the body does not look like a
 * compact GetRecords answer (then nothing should be read ahead).
 */
bool
ddb_page_peek(const char *body, size_t len, DdbPagePeek *peek)
{
	const char *end = body + len;
	const char *at;

	memset(peek, 0, sizeof(*peek));
	peek->last_created = -1;

	if (len < 2 || body[0] != '{')
		return false;
	at = last_match(body, end, "\"NextShardIterator\":\"");
	if (at)
		peek->next_iterator = string_after(at, end, "\"NextShardIterator\":\"");

	at = last_match(body, end, "\"SequenceNumber\":\"");
	if (at)
	{
		peek->has_records = true;
		peek->last_seq = string_after(at, end, "\"SequenceNumber\":\"");
		if (peek->last_seq == NULL ||
			strspn(peek->last_seq, "0123456789") != strlen(peek->last_seq))
			return false;
	}
	else if (memmem(body, len, "\"Records\":[]", 12) == NULL)
		return false;			/* neither records nor an empty list */

	at = last_match(body, end, "\"ApproximateCreationDateTime\":");
	if (at && peek->has_records)
	{
		char		num[64];
		size_t		n = 0;

		at += strlen("\"ApproximateCreationDateTime\":");
		while (at + n < end && n < sizeof(num) - 1 &&
			   strchr("0123456789.eE+-", at[n]) != NULL)
			n++;
		memcpy(num, at, n);
		num[n] = '\0';
		if (n > 0)
			peek->last_created = strtod(num, NULL);
	}
	return true;
}
