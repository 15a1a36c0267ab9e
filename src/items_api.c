/*-------------------------------------------------------------------------
 *
 * items_api.c
 *		  The DynamoDB operations an items table is read with: DescribeTable
 *		  (for the key schema), and the bodies and answers of Scan, Query,
 *		  GetItem and BatchGetItem.  C structs in, cJSON out; the requests go
 *		  through the AWS client (aws_client.c).
 *
 * Names always travel as expression attribute names (#p0, #k0...), so that
 * reserved words and names with dots work.  Answers are checked for what
 * the reading relies on: the shape of items, pages and keys.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "lib/stringinfo.h"

#include "items_api.h"
#include "items_plan.h"
#include "streams_api.h"

static const char *const key_type_names[] = {
	[DDB_KEY_S] = "S",
	[DDB_KEY_N] = "N",
	[DDB_KEY_B] = "B",
};

static void parse_key_schema(cJSON *key_schema, cJSON *definitions,
							 DdbKeySchema *schema, const char *what);
static DdbKeyType attribute_type(cJSON *definitions, const char *name,
								 const char *what);
static cJSON *find_index(cJSON *table, const char *member, const char *name);
static char *index_names(cJSON *table);
static void add_projection(cJSON *body, cJSON *names, List *projection);
static void add_read_options(cJSON *target, cJSON *names,
							 const DdbItemsRequest *req);
static cJSON *key_value_json(const DdbKeyValue *v);
static bool append_key_attribute(StringInfo buf, cJSON *item, const char *name);
static bool add_units(cJSON *cc, const char *op, double *units);

static const char *const api_names[] = {
	[DDB_ITEMS_SCAN] = "Scan",
	[DDB_ITEMS_QUERY] = "Query",
	[DDB_ITEMS_GET_ITEM] = "GetItem",
	[DDB_ITEMS_BATCH_GET_ITEM] = "BatchGetItem",
};

const char *
ddb_key_type_name(DdbKeyType type)
{
	return key_type_names[type];
}

/* The operation's name, as in requests, counters and EXPLAIN. */
const char *
ddb_items_api_name(DdbItemsApi api)
{
	return api_names[api];
}

/*
 * The key schema of a table and, when index_name is set, of that index;
 * the table's latest stream, if any.
 */
DdbTableKeys *
ddb_describe_table_keys(DdbClient *client, const char *table_name,
						const char *index_name)
{
	cJSON	   *response;
	cJSON	   *table = ddb_describe_table(client, table_name, &response);
	cJSON	   *definitions;
	DdbTableKeys *keys = palloc0(sizeof(DdbTableKeys));
	const char *arn;

	definitions = cJSON_GetObjectItemCaseSensitive(table, "AttributeDefinitions");
	parse_key_schema(cJSON_GetObjectItemCaseSensitive(table, "KeySchema"),
					 definitions, &keys->table, "the table");
	if (index_name)
	{
		cJSON	   *index = find_index(table, "GlobalSecondaryIndexes", index_name);

		keys->index_is_global = (index != NULL);
		if (index == NULL)
			index = find_index(table, "LocalSecondaryIndexes", index_name);
		if (index == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_TABLE_NOT_FOUND),
					 errmsg("DynamoDB table \"%s\" has no index \"%s\"",
							table_name, index_name),
					 errhint("%s", index_names(table))));
		keys->index_name = pstrdup(index_name);
		parse_key_schema(cJSON_GetObjectItemCaseSensitive(index, "KeySchema"),
						 definitions, &keys->index,
						 psprintf("index \"%s\"", index_name));
	}
	else
		keys->index = keys->table;
	arn = ddb_json_string(table, "LatestStreamArn");
	keys->stream_arn = arn ? pstrdup(arn) : NULL;
	cJSON_Delete(response);
	return keys;
}

/* A KeySchema: one HASH key, then at most one RANGE key, with their types. */
static void
parse_key_schema(cJSON *key_schema, cJSON *definitions, DdbKeySchema *schema,
				 const char *what)
{
	cJSON	   *element;
	int			n = 0;

	memset(schema, 0, sizeof(*schema));
	if (!cJSON_IsArray(key_schema))
		ddb_raise_invalid_response(DDB_API_DYNAMODB, "DescribeTable",
								   psprintf("The key schema of %s is not an array.", what));
	cJSON_ArrayForEach(element, key_schema)
	{
		const char *name = ddb_json_string(element, "AttributeName");
		const char *kind = ddb_json_string(element, "KeyType");
		char	   *copy = name ? pstrdup(name) : NULL;

		if (name == NULL || name[0] == '\0' || kind == NULL ||
			strcmp(kind, n == 0 ? "HASH" : "RANGE") != 0 || n >= 2)
			ddb_raise_invalid_response(DDB_API_DYNAMODB, "DescribeTable",
									   psprintf("The key schema of %s is not one HASH key and at most one RANGE key.", what));
		if (n == 0)
		{
			schema->partition_key = copy;
			schema->partition_type = attribute_type(definitions, name, what);
		}
		else
		{
			schema->sort_key = copy;
			schema->sort_type = attribute_type(definitions, name, what);
		}
		n++;
	}
	if (n == 0)
		ddb_raise_invalid_response(DDB_API_DYNAMODB, "DescribeTable",
								   psprintf("The key schema of %s is empty.", what));
}

/* A key attribute's type, S, N or B, from AttributeDefinitions. */
static DdbKeyType
attribute_type(cJSON *definitions, const char *name, const char *what)
{
	cJSON	   *def;

	cJSON_ArrayForEach(def, (cJSON_IsArray(definitions) ? definitions : (cJSON *) NULL))
	{
		const char *def_name = ddb_json_string(def, "AttributeName");
		const char *type = ddb_json_string(def, "AttributeType");
		int			i;

		if (def_name == NULL || strcmp(def_name, name) != 0 || type == NULL)
			continue;
		for (i = 0; i < lengthof(key_type_names); i++)
			if (strcmp(type, key_type_names[i]) == 0)
				return (DdbKeyType) i;
	}
	ddb_raise_invalid_response(DDB_API_DYNAMODB, "DescribeTable",
							   psprintf("A key attribute of %s has no type S, N or B in \"AttributeDefinitions\".",
										what));
}

static cJSON *
find_index(cJSON *table, const char *member, const char *name)
{
	cJSON	   *indexes = cJSON_GetObjectItemCaseSensitive(table, member);
	cJSON	   *index;

	cJSON_ArrayForEach(index, (cJSON_IsArray(indexes) ? indexes : (cJSON *) NULL))
	{
		const char *index_name = ddb_json_string(index, "IndexName");

		if (index_name && strcmp(index_name, name) == 0)
			return index;
	}
	return NULL;
}

/* The hint that lists a table's indexes. */
static char *
index_names(cJSON *table)
{
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	for (i = 0; i < 2; i++)
	{
		cJSON	   *indexes = cJSON_GetObjectItemCaseSensitive(table, i == 0 ?
															   "GlobalSecondaryIndexes" : "LocalSecondaryIndexes");
		cJSON	   *index;

		cJSON_ArrayForEach(index, (cJSON_IsArray(indexes) ? indexes : (cJSON *) NULL))
		{
			const char *name = ddb_json_string(index, "IndexName");

			if (name)
				appendStringInfo(&buf, "%s%s", buf.len ? ", " : "",
								 ddb_printable(name, strlen(name), 255));
		}
	}
	if (buf.len == 0)
		return "The table has no secondary index.";
	return psprintf("The table's indexes are: %s.", buf.data);
}

/* A key value as an AttributeValue: {"S": ...}, {"N": ...} or {"B": ...}. */
static cJSON *
key_value_json(const DdbKeyValue *v)
{
	cJSON	   *av = cJSON_CreateObject();

	cJSON_AddStringToObject(av, key_type_names[v->type], v->value);
	return av;
}

/* ProjectionExpression "#p0, #p1" with its names, when there is one. */
static void
add_projection(cJSON *body, cJSON *names, List *projection)
{
	StringInfoData expr;
	ListCell   *lc;

	if (projection == NIL)
		return;
	initStringInfo(&expr);
	foreach(lc, projection)
	{
		char	   *placeholder = psprintf("#p%d", foreach_current_index(lc));

		appendStringInfo(&expr, "%s%s", expr.len ? ", " : "", placeholder);
		cJSON_AddStringToObject(names, placeholder, (const char *) lfirst(lc));
	}
	cJSON_AddStringToObject(body, "ProjectionExpression", expr.data);
}

/*
 * What every read takes: the projection, the expression attribute names
 * (names, given to target or freed) and ConsistentRead.
 */
static void
add_read_options(cJSON *target, cJSON *names, const DdbItemsRequest *req)
{
	add_projection(target, names, req->projection);
	if (names->child)
		cJSON_AddItemToObject(target, "ExpressionAttributeNames", names);
	else
		cJSON_Delete(names);
	if (req->consistent_read)
		cJSON_AddBoolToObject(target, "ConsistentRead", true);
}

/*
 * The body of a Scan of one segment, or of a Query of one partition key
 * value (partition not NULL), continuing from start_key (NULL: the first
 * page) and asking for at most limit items (0: no Limit).
 */
cJSON *
ddb_items_page_body(const DdbItemsRequest *req, int segment,
					const DdbKeyValue *partition, cJSON *start_key, long limit)
{
	cJSON	   *body = cJSON_CreateObject();
	cJSON	   *names = cJSON_CreateObject();

	cJSON_AddStringToObject(body, "TableName", req->table_name);
	if (req->index_name)
		cJSON_AddStringToObject(body, "IndexName", req->index_name);
	if (partition)
	{
		static const char *const ops[] = {
			[DDB_SORT_EQ] = "=", [DDB_SORT_LT] = "<", [DDB_SORT_LE] = "<=",
			[DDB_SORT_GT] = ">", [DDB_SORT_GE] = ">=",
		};
		cJSON	   *values = cJSON_AddObjectToObject(body, "ExpressionAttributeValues");
		const char *condition = "#k0 = :k0";

		cJSON_AddStringToObject(names, "#k0", req->partition_key);
		cJSON_AddItemToObject(values, ":k0", key_value_json(partition));
		if (req->sort_key && req->sort_op != DDB_SORT_NONE)
		{
			cJSON_AddStringToObject(names, "#k1", req->sort_key);
			cJSON_AddItemToObject(values, ":k1", key_value_json(&req->sort_value));
			if (req->sort_op == DDB_SORT_BETWEEN)
			{
				cJSON_AddItemToObject(values, ":k2", key_value_json(&req->sort_value2));
				condition = "#k0 = :k0 AND #k1 BETWEEN :k1 AND :k2";
			}
			else if (req->sort_op == DDB_SORT_BEGINS_WITH)
				condition = "#k0 = :k0 AND begins_with(#k1, :k1)";
			else
				condition = psprintf("#k0 = :k0 AND #k1 %s :k1", ops[req->sort_op]);
		}
		cJSON_AddStringToObject(body, "KeyConditionExpression", condition);
	}
	else if (req->segments > 1)
	{
		cJSON_AddNumberToObject(body, "Segment", segment);
		cJSON_AddNumberToObject(body, "TotalSegments", req->segments);
	}
	add_read_options(body, names, req);
	if (limit > 0)
		cJSON_AddNumberToObject(body, "Limit", (double) limit);
	if (start_key)
		cJSON_AddItemToObject(body, "ExclusiveStartKey", cJSON_Duplicate(start_key, true));
	cJSON_AddStringToObject(body, "ReturnConsumedCapacity", "TOTAL");
	return body;
}

/* A key as an item's key attributes: {"pk": {"S": ...}, "sk": ...}. */
cJSON *
ddb_item_key_json(const DdbItemsRequest *req, const DdbItemKey *key)
{
	cJSON	   *json = cJSON_CreateObject();

	cJSON_AddItemToObject(json, req->partition_key, key_value_json(&key->partition));
	if (req->sort_key_name)
		cJSON_AddItemToObject(json, req->sort_key_name, key_value_json(&key->sort));
	return json;
}

/*
 * The body of a GetItem of one key (keys of one element) or a BatchGetItem
 * of up to 100 keys (cJSON objects of key attributes).
 */
cJSON *
ddb_items_keys_body(const DdbItemsRequest *req, cJSON *keys, bool batch)
{
	cJSON	   *body = cJSON_CreateObject();
	cJSON	   *names = cJSON_CreateObject();
	cJSON	   *target = body;

	if (batch)
	{
		cJSON	   *items = cJSON_AddObjectToObject(body, "RequestItems");

		target = cJSON_AddObjectToObject(items, req->table_name);
		cJSON_AddItemToObject(target, "Keys", cJSON_Duplicate(keys, true));
	}
	else
	{
		cJSON_AddStringToObject(body, "TableName", req->table_name);
		cJSON_AddItemToObject(body, "Key", cJSON_Duplicate(keys->child, true));
	}
	add_read_options(target, names, req);
	cJSON_AddStringToObject(body, "ReturnConsumedCapacity", "TOTAL");
	return body;
}

/*
 * Append one key attribute of an item as "T:value" to buf; false when the
 * item lacks it or it is not an S, N or B string.  Numbers as numbers: an
 * answer may write 7 as 7.0.
 */
static bool
append_key_attribute(StringInfo buf, cJSON *item, const char *name)
{
	cJSON	   *av = cJSON_GetObjectItemCaseSensitive(item, name);
	const char *value;

	if (!cJSON_IsObject(av) || av->child == NULL || av->child->next != NULL ||
		!cJSON_IsString(av->child) || strlen(av->child->string) != 1 ||
		strchr("SNB", av->child->string[0]) == NULL)
		return false;
	value = av->child->valuestring;
	if (av->child->string[0] == 'N' && (value = ddb_key_number_text(value)) == NULL)
		return false;
	appendStringInfo(buf, "%s%s:%s", buf->len ? "|" : "", av->child->string, value);
	return true;
}

/*
 * A key's attributes as one string ("S:alpha|N:3"), to compare keys; NULL
 * when the item lacks one or it is not an S, N or B string.
 */
char *
ddb_item_key_text(const DdbItemsRequest *req, cJSON *item)
{
	StringInfoData buf;

	initStringInfo(&buf);
	if (!append_key_attribute(&buf, item, req->partition_key) ||
		(req->sort_key_name && !append_key_attribute(&buf, item, req->sort_key_name)))
		return NULL;
	return buf.data;
}

/* An item's partition key (the one queried) alone, as ddb_item_key_text. */
char *
ddb_item_partition_text(const DdbItemsRequest *req, cJSON *item)
{
	StringInfoData buf;

	initStringInfo(&buf);
	return append_key_attribute(&buf, item, req->partition_key) ? buf.data : NULL;
}

/* Add one ConsumedCapacity object's CapacityUnits, if it has them. */
static bool
add_units(cJSON *cc, const char *op, double *units)
{
	cJSON	   *cu = cJSON_GetObjectItemCaseSensitive(cc, "CapacityUnits");

	if (cu == NULL)
		return false;
	if (!cJSON_IsNumber(cu) || !isfinite(cu->valuedouble) || cu->valuedouble < 0)
		ddb_raise_invalid_response(DDB_API_DYNAMODB, op,
								   "\"CapacityUnits\" is not a finite number of at least 0.");
	*units += cu->valuedouble;
	return true;
}

/*
 * The capacity units an answer reports (ConsumedCapacity: an object, or
 * BatchGetItem's array of them); false when it reports none.
 */
bool
ddb_items_capacity(cJSON *response, const char *op, double *units)
{
	cJSON	   *cc = cJSON_GetObjectItemCaseSensitive(response, "ConsumedCapacity");
	cJSON	   *one;
	bool		found = false;

	*units = 0;
	if (cc == NULL || cJSON_IsNull(cc))
		return false;
	if (cJSON_IsObject(cc))
		return add_units(cc, op, units);
	if (!cJSON_IsArray(cc))
		ddb_raise_invalid_response(DDB_API_DYNAMODB, op,
								   "\"ConsumedCapacity\" is neither an object nor an array.");
	cJSON_ArrayForEach(one, cc)
		if (cJSON_IsObject(one) && add_units(one, op, units))
			found = true;
	return found;
}

/* Check that items is an array of objects (an answer's "Items"). */
void
ddb_items_check_array(cJSON *items, const char *op, const char *member)
{
	cJSON	   *item;

	if (!cJSON_IsArray(items))
		ddb_raise_invalid_response(DDB_API_DYNAMODB, op,
								   psprintf("\"%s\" is not an array.", member));
	cJSON_ArrayForEach(item, items)
		if (!cJSON_IsObject(item))
			ddb_raise_invalid_response(DDB_API_DYNAMODB, op,
									   psprintf("An element of \"%s\" is not an object.", member));
}
