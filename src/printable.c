/*-------------------------------------------------------------------------
 *
 * printable.c
 *		  Text from the network made safe to quote in a message.
 *
 * An endpoint can answer anything (an HTML page, binary bytes, invalid
 * UTF-8), and an item can hold any string.  A message that quotes such text
 * must stay one readable line in the server encoding: runs of white space
 * become one space, U+0000 (DDB_NUL_MARK) is written \u0000, other control
 * characters and bytes that are not valid UTF-8 are written \xNN, and the
 * text is cut short after max_chars characters with "...".
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"

#include "ddbstream_fdw.h"

static bool is_space(unsigned char c);

/*
 * Characters other than ASCII are kept only in a UTF-8 database, where
 * they need no conversion (which could itself fail).
 */
char *
ddb_printable(const char *s, size_t len, int max_chars)
{
	StringInfoData buf;
	bool		keep_utf8 = (GetDatabaseEncoding() == PG_UTF8);
	size_t		i = 0;
	int			chars = 0;

	initStringInfo(&buf);
	while (i < len && chars < max_chars)
	{
		unsigned char c = (unsigned char) s[i];
		int			n = 1;

		if (is_space(c))
		{
			while (i + n < len && is_space((unsigned char) s[i + n]))
				n++;
			appendStringInfoChar(&buf, ' ');
		}
		else if (s[i] == DDB_NUL_MARK)
			appendStringInfoString(&buf, "\\u0000");
		else if (c >= 0x20 && c < 0x7f)
			appendStringInfoChar(&buf, (char) c);
		else if (c >= 0x80 && keep_utf8 &&
				 (n = pg_utf_mblen((const unsigned char *) s + i)) > 1 &&
				 i + n <= len &&
				 pg_utf8_islegal((const unsigned char *) s + i, n))
			appendBinaryStringInfo(&buf, s + i, n);
		else
		{
			n = 1;
			appendStringInfo(&buf, "\\x%02x", c);
		}
		i += n;
		chars++;
	}
	if (i < len)
		appendStringInfoString(&buf, "...");
	return buf.data;
}

static bool
is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}
