/*-------------------------------------------------------------------------
 *
 * items_scan.c
 *		  The reading of an items table: the pages of a Scan's segments, of
 *		  a Query per partition key value, or the answers of GetItem and
 *		  BatchGetItem, several requests in flight at once.
 *
 * The work is a list of parts (a segment, a partition key value, up to 100
 * keys), read by at most max_concurrency slots at once over the client's
 * one libcurl multi handle; a slot that finishes its part takes the next.
 * As soon as a slot's page is parsed, its next request is sent, so the
 * network works while the rows of the page are built.  Items come out of
 * whichever slot has an answer first.
 *
 * Under a pushed LIMIT one slot reads, and each request asks for no more
 * items than the query can still use.  Each slot's parsed page lives in a
 * memory context of its own, reset once its items are handed out.
 *
 * Answers are checked for what exactly-once rests on: a LastEvaluatedKey
 * the reading has already followed (a loop), more items than a request's
 * Limit, an item of a partition other than the one queried, a key not
 * asked for or returned twice.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"
#include "utils/memutils.h"

#include "items_api.h"
#include "streams_api.h"

/* The most keys BatchGetItem takes in one request. */
#define BATCH_GET_MAX_KEYS	100

typedef struct Slot
{
	int			part;			/* the part read, or -1: idle */
	DdbRequest *req;			/* the request in flight, or NULL */
	bool		done;			/* no request left for the part */
	List	   *wanted;			/* keys asked for and not yet returned */
	int			fruitless;		/* BatchGetItem answers with no item in a row */
	long		sent_limit;		/* the Limit of the request in flight, or 0 */
	MemoryContext page_cxt;		/* the parsed answer */
	cJSON	   *next_item;		/* the next item of it to hand out */
} Slot;

struct DdbItemsScan
{
	const DdbItemsRequest *req;
	const char *op;				/* the operation's name */
	DdbClient  *client;
	MemoryContext cxt;
	int			max_retries;
	int			nparts;
	int			next_part;		/* the first part no slot has taken */
	Slot	   *slots;
	int			nslots;
	int			last;			/* the slot items came from last */
	Slot	   *current;		/* the slot whose page is being handed out */
	long		handed_out;
	long		buffered;		/* items parsed and not yet handed out */
	bool		finished;
	DdbTokenSet *continued;		/* every LastEvaluatedKey followed */
	DdbItemsStats stats;
};

static void fill_slots(DdbItemsScan *scan);
static void send_page(DdbItemsScan *scan, Slot *slot, cJSON *start_key,
					  cJSON *keys);
static Slot *next_answer(DdbItemsScan *scan);
static void receive(DdbItemsScan *scan, Slot *slot);
static cJSON *page_items(DdbItemsScan *scan, Slot *slot, cJSON *response);
static cJSON *batch_items(DdbItemsScan *scan, Slot *slot, cJSON *response);
static void continue_page(DdbItemsScan *scan, Slot *slot, cJSON *response,
						  long received);
static long items_wanted(DdbItemsScan *scan);
static bool take_wanted(Slot *slot, const char *key);


/*
 * Start reading what request asks for: the first requests are sent now.
 * Everything lives in a context under parent, gone at ddb_items_end.
 */
DdbItemsScan *
ddb_items_begin(const DdbStreamOptions *opts, const DdbCredentials *creds,
				const DdbItemsRequest *request, MemoryContext parent)
{
	MemoryContext cxt = AllocSetContextCreate(parent, "ddbstream_fdw items reading",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	DdbItemsScan *scan = palloc0(sizeof(DdbItemsScan));
	DdbAwsConfig config;
	int			i;

	scan->req = request;
	scan->op = ddb_items_api_name(request->api);
	scan->cxt = cxt;
	scan->max_retries = opts->max_retries;
	scan->continued = ddb_token_set_create();
	ddb_aws_config(opts, &config);
	scan->client = ddb_client_create(&config, creds);
	switch (request->api)
	{
		case DDB_ITEMS_SCAN:
			scan->nparts = Max(request->segments, 1);
			break;
		case DDB_ITEMS_QUERY:
			scan->nparts = list_length(request->partition_values);
			break;
		case DDB_ITEMS_GET_ITEM:
			scan->nparts = list_length(request->keys);
			break;
		case DDB_ITEMS_BATCH_GET_ITEM:
			scan->nparts = (list_length(request->keys) + BATCH_GET_MAX_KEYS - 1) /
				BATCH_GET_MAX_KEYS;
			break;
	}
	/* under a LIMIT one request at a time, each for what is still wanted */
	scan->nslots = request->limit >= 0 ? 1 : Min(opts->max_concurrency, scan->nparts);
	scan->nslots = Max(scan->nslots, 1);
	scan->slots = palloc0(sizeof(Slot) * scan->nslots);
	for (i = 0; i < scan->nslots; i++)
	{
		scan->slots[i].part = -1;
		scan->slots[i].page_cxt = AllocSetContextCreate(cxt, "ddbstream_fdw items page",
														ALLOCSET_DEFAULT_SIZES);
	}
	scan->last = scan->nslots - 1;
	fill_slots(scan);
	MemoryContextSwitchTo(old);
	return scan;
}

/* The next item (a map of attribute name to AttributeValue), or NULL. */
cJSON *
ddb_items_next(DdbItemsScan *scan)
{
	MemoryContext old = MemoryContextSwitchTo(scan->cxt);
	cJSON	   *item = NULL;

	for (;;)
	{
		Slot	   *slot = scan->current;

		if (slot && slot->next_item)
		{
			item = slot->next_item;
			slot->next_item = item->next;
			scan->handed_out++;
			scan->buffered--;
			if (scan->req->limit >= 0 && scan->handed_out >= scan->req->limit)
				scan->finished = true;
			break;
		}
		if (slot)
		{
			MemoryContextReset(slot->page_cxt);
			scan->current = NULL;
		}
		if (scan->finished)
			break;
		fill_slots(scan);
		slot = next_answer(scan);
		if (slot == NULL)
		{
			scan->finished = true;
			break;
		}
		receive(scan, slot);
		scan->current = slot;
	}
	MemoryContextSwitchTo(old);
	return item;
}

/* Give the next parts to the slots that are free, and send their requests. */
static void
fill_slots(DdbItemsScan *scan)
{
	int			i;

	for (i = 0; i < scan->nslots && scan->next_part < scan->nparts; i++)
	{
		Slot	   *slot = &scan->slots[i];

		if (slot == scan->current || (slot->part >= 0 && !slot->done))
			continue;
		if (scan->req->limit >= 0 && items_wanted(scan) <= 0)
			return;
		slot->part = scan->next_part++;
		slot->done = false;
		slot->fruitless = 0;
		list_free_deep(slot->wanted);
		slot->wanted = NIL;
		send_page(scan, slot, NULL, NULL);
	}
}

/*
 * Send a slot's next request: a page of its segment or partition key value
 * from start_key, or its keys (NULL: the part's own, else those left
 * unprocessed).
 */
static void
send_page(DdbItemsScan *scan, Slot *slot, cJSON *start_key, cJSON *keys)
{
	const DdbItemsRequest *req = scan->req;
	cJSON	   *body = NULL;
	long		limit = req->page_size;

	if (req->limit >= 0)
		limit = limit > 0 ? Min(limit, items_wanted(scan)) : items_wanted(scan);
	switch (req->api)
	{
		case DDB_ITEMS_SCAN:
			body = ddb_items_page_body(req, slot->part, NULL, start_key, limit);
			break;
		case DDB_ITEMS_QUERY:
			body = ddb_items_page_body(req, 0, list_nth(req->partition_values, slot->part),
									   start_key, limit);
			break;
		case DDB_ITEMS_GET_ITEM:
		case DDB_ITEMS_BATCH_GET_ITEM:
			if (keys == NULL)
			{
				int			per = req->api == DDB_ITEMS_GET_ITEM ? 1 : BATCH_GET_MAX_KEYS;
				int			first = slot->part * per;
				int			i;

				keys = cJSON_CreateArray();
				for (i = first; i < Min(first + per, list_length(req->keys)); i++)
				{
					cJSON	   *key = ddb_item_key_json(req, list_nth(req->keys, i));

					slot->wanted = lappend(slot->wanted, ddb_item_key_text(req, key));
					cJSON_AddItemToArray(keys, key);
				}
				body = ddb_items_keys_body(req, keys, req->api == DDB_ITEMS_BATCH_GET_ITEM);
				cJSON_Delete(keys);
			}
			else
				body = ddb_items_keys_body(req, keys, true);
			break;
	}
	slot->sent_limit = (req->api == DDB_ITEMS_SCAN || req->api == DDB_ITEMS_QUERY) ? limit : 0;
	slot->req = ddb_request_start(scan->client, DDB_API_DYNAMODB, scan->op, body,
								  DDB_REQUEST_MARK_NULS);
	cJSON_Delete(body);
}

/*
 * The slot whose answer to take next: the first in flight (after the one
 * read last) whose answer is in, else the first in flight; NULL when none
 * is.
 */
static Slot *
next_answer(DdbItemsScan *scan)
{
	Slot	   *first = NULL;
	int			i;

	ddb_client_pump(scan->client);
	for (i = 1; i <= scan->nslots; i++)
	{
		int			at = (scan->last + i) % scan->nslots;
		Slot	   *slot = &scan->slots[at];

		if (slot->req == NULL)
			continue;
		if (ddb_request_ready(scan->client, slot->req))
		{
			scan->last = at;
			return slot;
		}
		if (first == NULL)
			first = slot;
	}
	if (first)
		scan->last = first - scan->slots;
	return first;
}

/*
 * Parse a slot's answer into its page context, check it, and send the
 * slot's next request if its part has more.
 */
static void
receive(DdbItemsScan *scan, Slot *slot)
{
	MemoryContext old = MemoryContextSwitchTo(slot->page_cxt);
	cJSON	   *response = ddb_request_parse(scan->client, slot->req, NULL);
	cJSON	   *items;
	cJSON	   *item;
	double		units;
	long		n = 0;

	slot->req = NULL;
	if (!cJSON_IsObject(response))
		ddb_raise_invalid_response(DDB_API_DYNAMODB, scan->op,
								   "The response is not a JSON object.");
	if (scan->req->api == DDB_ITEMS_BATCH_GET_ITEM)
		items = batch_items(scan, slot, response);
	else
		items = page_items(scan, slot, response);
	cJSON_ArrayForEach(item, items)
		n++;
	scan->stats.pages++;
	scan->stats.items += n;
	scan->buffered += n;
	if (ddb_items_capacity(response, scan->op, &units))
	{
		scan->stats.consumed_capacity += units;
		scan->stats.capacity_reported = true;
		if (!isfinite(scan->stats.consumed_capacity))
			ddb_raise_invalid_response(DDB_API_DYNAMODB, scan->op,
									   "The capacity units reported add up to more than a double holds.");
	}
	slot->next_item = items->child;
	if (scan->req->api == DDB_ITEMS_SCAN || scan->req->api == DDB_ITEMS_QUERY)
		continue_page(scan, slot, response, n);
	MemoryContextSwitchTo(old);
}

/*
 * The items of a Scan, Query or GetItem answer, checked: a Query's are of
 * the partition asked for, a GetItem's is the key asked for.
 */
static cJSON *
page_items(DdbItemsScan *scan, Slot *slot, cJSON *response)
{
	const DdbItemsRequest *req = scan->req;
	cJSON	   *items;
	cJSON	   *item;

	if (req->api == DDB_ITEMS_GET_ITEM)
	{
		item = cJSON_GetObjectItemCaseSensitive(response, "Item");
		items = cJSON_CreateArray();
		slot->done = true;
		if (item == NULL || cJSON_IsNull(item))
			return items;
		if (!cJSON_IsObject(item))
			ddb_raise_invalid_response(DDB_API_DYNAMODB, scan->op,
									   "\"Item\" is not an object.");
		if (!take_wanted(slot, ddb_item_key_text(req, item)))
			ddb_raise_invalid_response(DDB_API_DYNAMODB, scan->op,
									   "The item returned is not the one asked for.");
		cJSON_AddItemReferenceToArray(items, item);
		return items;
	}

	items = cJSON_GetObjectItemCaseSensitive(response, "Items");
	ddb_items_check_array(items, scan->op, "Items");
	if (slot->sent_limit > 0 && cJSON_GetArraySize(items) > slot->sent_limit)
		ddb_raise_invalid_response(DDB_API_DYNAMODB, scan->op,
								   psprintf("The page holds more items than the %ld its request asked for.",
											slot->sent_limit));
	if (req->api == DDB_ITEMS_QUERY)
	{
		const DdbKeyValue *pk = list_nth(req->partition_values, slot->part);
		char	   *want = psprintf("%s:%s", ddb_key_type_name(pk->type), pk->value);

		cJSON_ArrayForEach(item, items)
		{
			char	   *got = ddb_item_partition_text(req, item);

			if (got == NULL || strcmp(got, want) != 0)
				ddb_raise_invalid_response(DDB_API_DYNAMODB, scan->op,
										   "An item is not of the partition the Query asked for.");
		}
	}
	return items;
}

/*
 * Follow LastEvaluatedKey: send the next page's request at once, unless the
 * query has all the items it can use.  Each key is an item's, of one
 * segment or partition, so no key is followed twice in a reading: one that
 * repeats (a, b, a, b, ...) would make it loop for ever.
 */
static void
continue_page(DdbItemsScan *scan, Slot *slot, cJSON *response, long received)
{
	cJSON	   *lek = cJSON_GetObjectItemCaseSensitive(response, "LastEvaluatedKey");
	char	   *text;

	if (lek == NULL || cJSON_IsNull(lek))
	{
		slot->done = true;
		return;
	}
	if (!cJSON_IsObject(lek) || lek->child == NULL)
		ddb_raise_invalid_response(DDB_API_DYNAMODB, scan->op,
								   "\"LastEvaluatedKey\" is not an object of key attributes.");
	text = cJSON_PrintUnformatted(lek);
	if (!ddb_token_set_add(scan->continued, text))
		ddb_raise_invalid_response(DDB_API_DYNAMODB, scan->op,
								   "\"LastEvaluatedKey\" repeats a key the reading has already continued from, so it would never end.");
	pfree(text);
	if (scan->req->limit >= 0 && items_wanted(scan) <= 0)
	{
		slot->done = true;
		return;
	}
	send_page(scan, slot, lek, NULL);
}

/*
 * The items of a BatchGetItem answer, each one of the keys asked for and
 * not yet returned; its UnprocessedKeys (also asked for) are sent again
 * after a backoff, and after max_retries answers in a row without an item
 * the reading fails.
 */
static cJSON *
batch_items(DdbItemsScan *scan, Slot *slot, cJSON *response)
{
	const DdbItemsRequest *req = scan->req;
	cJSON	   *responses = cJSON_GetObjectItemCaseSensitive(response, "Responses");
	cJSON	   *unprocessed = cJSON_GetObjectItemCaseSensitive(response, "UnprocessedKeys");
	cJSON	   *items = NULL;
	cJSON	   *keys = NULL;
	cJSON	   *item;

	if (responses != NULL && !cJSON_IsObject(responses))
		ddb_raise_invalid_response(DDB_API_DYNAMODB, scan->op,
								   "\"Responses\" is not an object.");
	if (responses)
		items = cJSON_GetObjectItemCaseSensitive(responses, req->table_name);
	if (items == NULL)
		items = cJSON_CreateArray();
	ddb_items_check_array(items, scan->op, "Responses");
	cJSON_ArrayForEach(item, items)
		if (!take_wanted(slot, ddb_item_key_text(req, item)))
			ddb_raise_invalid_response(DDB_API_DYNAMODB, scan->op,
									   "An item returned was not asked for, or was returned twice.");

	if (unprocessed != NULL && !cJSON_IsNull(unprocessed))
	{
		cJSON	   *table;

		if (!cJSON_IsObject(unprocessed))
			ddb_raise_invalid_response(DDB_API_DYNAMODB, scan->op,
									   "\"UnprocessedKeys\" is not an object.");
		table = cJSON_GetObjectItemCaseSensitive(unprocessed, req->table_name);
		if (table)
		{
			keys = cJSON_GetObjectItemCaseSensitive(table, "Keys");
			ddb_items_check_array(keys, scan->op, "UnprocessedKeys");
		}
	}
	if (keys == NULL || keys->child == NULL)
	{
		slot->done = true;
		return items;
	}
	cJSON_ArrayForEach(item, keys)
	{
		char	   *text = ddb_item_key_text(req, item);
		ListCell   *lc;
		bool		found = false;

		foreach(lc, slot->wanted)
			if (text && strcmp((char *) lfirst(lc), text) == 0)
				found = true;
		if (!found)
			ddb_raise_invalid_response(DDB_API_DYNAMODB, scan->op,
									   "\"UnprocessedKeys\" names a key that was not asked for.");
	}
	slot->fruitless = items->child ? 0 : slot->fruitless + 1;
	if (slot->fruitless > scan->max_retries)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("DynamoDB BatchGetItem left %d keys unprocessed after %d attempts",
						cJSON_GetArraySize(keys), slot->fruitless + 1),
				 errdetail("Each answer returned the keys as UnprocessedKeys, with no item."),
				 errhint("The table's read capacity is exhausted: raise it, or the server option max_retries.")));
	scan->stats.unprocessed_retries++;
	if (slot->fruitless > 0)
		ddb_client_backoff(scan->client, slot->fruitless);
	send_page(scan, slot, NULL, keys);
	return items;
}

/* Remove key from the keys a slot waits for; false if it was not there. */
static bool
take_wanted(Slot *slot, const char *key)
{
	ListCell   *lc;

	if (key == NULL)
		return false;
	foreach(lc, slot->wanted)
	{
		if (strcmp((char *) lfirst(lc), key) == 0)
		{
			pfree(lfirst(lc));
			slot->wanted = foreach_delete_current(slot->wanted, lc);
			return true;
		}
	}
	return false;
}

/* Under a LIMIT: the items the query can still use beyond those parsed. */
static long
items_wanted(DdbItemsScan *scan)
{
	return scan->req->limit - scan->handed_out - scan->buffered;
}

/* Stop: requests in flight are abandoned, and everything freed. */
void
ddb_items_end(DdbItemsScan *scan)
{
	int			i;

	for (i = 0; i < scan->nslots; i++)
		if (scan->slots[i].req)
			ddb_request_cancel(scan->client, scan->slots[i].req);
	/* also frees the libcurl handle */
	MemoryContextDelete(scan->cxt);
}

void
ddb_items_stats(DdbItemsScan *scan, DdbItemsStats *stats)
{
	*stats = scan->stats;
	stats->requests = *ddb_client_stats(scan->client);
}
