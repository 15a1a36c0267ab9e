/*-------------------------------------------------------------------------
 *
 * page_peek.h
 *		  A look at a raw GetRecords answer before it is parsed (page_peek.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef DDB_PAGE_PEEK_H
#define DDB_PAGE_PEEK_H

#include "postgres.h"

typedef struct DdbPagePeek
{
	bool		has_records;
	char	   *next_iterator;	/* NULL when absent or not plain */
	char	   *last_seq;		/* of the last record, or NULL */
	double		last_created;	/* its ApproximateCreationDateTime, or -1 */
} DdbPagePeek;
extern bool ddb_page_peek(const char *body, size_t len, DdbPagePeek *peek);

#endif							/* DDB_PAGE_PEEK_H */
