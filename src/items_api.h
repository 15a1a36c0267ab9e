/*-------------------------------------------------------------------------
 *
 * items_api.h
 *		  The bodies and answers of Scan, Query, GetItem and BatchGetItem
 *		  (items_api.c), for the reading of an items table (items_scan.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef DDB_ITEMS_API_H
#define DDB_ITEMS_API_H

#include "items.h"

extern cJSON *ddb_items_page_body(const DdbItemsRequest *req, int segment,
								  const DdbKeyValue *partition,
								  cJSON *start_key, long limit);
extern cJSON *ddb_item_key_json(const DdbItemsRequest *req,
								const DdbItemKey *key);
extern cJSON *ddb_items_keys_body(const DdbItemsRequest *req, cJSON *keys,
								  bool batch);
extern char *ddb_item_key_text(const DdbItemsRequest *req, cJSON *item);
extern char *ddb_item_partition_text(const DdbItemsRequest *req,
									 cJSON *item);
extern bool ddb_items_capacity(cJSON *response, const char *op,
							   double *units);
extern void ddb_items_check_array(cJSON *items, const char *op,
								  const char *member);

#endif							/* DDB_ITEMS_API_H */
