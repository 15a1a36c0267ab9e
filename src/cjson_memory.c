/*-------------------------------------------------------------------------
 *
 * cjson_memory.c
 *		  cJSON allocates with palloc, in CurrentMemoryContext.
 *
 * So a parsed page is freed by resetting its context, on success and on
 * error alike, and no answer of an endpoint can leak memory past its scan.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "ddbstream_fdw.h"

static void *
cjson_palloc(size_t size)
{
	return palloc(size > 0 ? size : 1);
}

static void
cjson_pfree(void *ptr)
{
	if (ptr)
		pfree(ptr);
}

/* Called once from _PG_init (and by the fuzz targets). */
void
ddb_cjson_use_palloc(void)
{
	cJSON_Hooks hooks = {cjson_palloc, cjson_pfree};

	cJSON_InitHooks(&hooks);
}
