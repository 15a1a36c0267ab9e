/*-------------------------------------------------------------------------
 *
 * row.c
 *		  A stream record as a row of the foreign table: which stream field
 *		  or item attribute each column holds, and the row built from a
 *		  record, one column at a time (convert.c, attribute.c).
 *
 * The column map is checked at plan time, so that a column that matches no
 * field, or has a type its field cannot take, fails before any request.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/defrem.h"
#include "foreign/foreign.h"
#include "catalog/pg_type.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/rel.h"

#include "ddbstream_fdw.h"

static int	item_field(Relation rel, Form_pg_attribute attr, const char *name);
static void build_columns(DdbRowBuilder *rb, cJSON *record, Datum *values,
						  bool *isnull);
static void item_error_context(void *arg);
static void conversion_error_context(void *arg);

/*
 * Map each attribute to the stream field it holds: its option "field", or
 * else its name.  An unknown name or an unsuitable type is an error.
 */
DdbColumnInfo *
ddb_column_map(Relation rel)
{
	TupleDesc	tupdesc = RelationGetDescr(rel);
	DdbColumnInfo *columns = palloc(sizeof(DdbColumnInfo) * Max(tupdesc->natts, 1));
	DdbSource	source = ddb_table_source(RelationGetRelid(rel));
	int			i;

	for (i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute attr = TupleDescAttr(tupdesc, i);
		const char *name = NameStr(attr->attname);
		ListCell   *lc;
		int			field;

		columns[i].name = pstrdup(NameStr(attr->attname));
		columns[i].field = -1;
		columns[i].typid = attr->atttypid;
		columns[i].typmod = attr->atttypmod;
		columns[i].attribute = NULL;
		columns[i].attribute_shown = NULL;
		if (attr->attisdropped)
			continue;

		foreach(lc, GetForeignColumnOptions(RelationGetRelid(rel), attr->attnum))
		{
			DefElem    *def = (DefElem *) lfirst(lc);

			if (strcmp(def->defname, "field") == 0)
				name = defGetString(def);
			else if (strcmp(def->defname, "attribute") == 0)
			{
				/* compared with, and sent as, the answers' UTF-8 names */
				const char *attribute = defGetString(def);

				columns[i].attribute = pg_server_to_any(attribute, strlen(attribute),
														PG_UTF8);
				columns[i].attribute_shown = attribute;
			}
		}
		if (columns[i].attribute)
		{
			columns[i].field = DDB_FIELD_ATTRIBUTE;
			ddb_check_attribute_column(&columns[i]);
			continue;
		}
		if (source == DDB_SOURCE_ITEMS)
		{
			columns[i].field = item_field(rel, attr, name);
			continue;
		}
		field = ddb_field_by_name(name);
		if (field < 0)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_COLUMN_NAME_NOT_FOUND),
					 errmsg("column \"%s\" of foreign table \"%s\" matches no stream field",
							NameStr(attr->attname), RelationGetRelationName(rel)),
					 errhint("Name the column after a field, map it with OPTIONS (field '...'), or give it an item attribute with OPTIONS (attribute '...'). Valid fields are: %s.",
							 ddb_field_name_list())));
		ddb_check_column_type(field, attr->atttypid, NameStr(attr->attname));
		columns[i].field = field;
	}
	return columns;
}

/*
 * The field a column of an items table holds: "keys" (the item's key
 * attributes) or "item" (the whole item), read as a record's Keys and
 * NewImage (see ddb_item_record).
 */
static int
item_field(Relation rel, Form_pg_attribute attr, const char *name)
{
	const char *colname = NameStr(attr->attname);

	if (strcmp(name, "keys") != 0 && strcmp(name, "item") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_COLUMN_NAME_NOT_FOUND),
				 errmsg("column \"%s\" of foreign table \"%s\" matches no item field",
						colname, RelationGetRelationName(rel)),
				 errhint("An items table has the columns keys and item, and attribute columns (OPTIONS (attribute '...')).")));
	if (attr->atttypid != JSONBOID && attr->atttypid != JSONOID &&
		attr->atttypid != TEXTOID)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
				 errmsg("column \"%s\" of type %s cannot hold item field \"%s\"",
						colname, format_type_be(attr->atttypid), name),
				 errhint("Declare the column as jsonb, json or text.")));
	return strcmp(name, "keys") == 0 ? DDB_FIELD_KEYS : DDB_FIELD_NEW_IMAGE;
}

/*
 * Which attributes a query uses, from the planner's list of attribute
 * numbers: (0) means all (a whole-row reference).
 */
bool *
ddb_used_columns(Relation rel, List *retrieved_attrs)
{
	int			natts = RelationGetDescr(rel)->natts;
	bool	   *used = palloc0(sizeof(bool) * Max(natts, 1));
	bool		all = (retrieved_attrs != NIL && linitial_int(retrieved_attrs) == 0);
	int			i;

	for (i = 0; i < natts; i++)
		used[i] = all || list_member_int(retrieved_attrs, i + 1);
	return used;
}

/*
 * What it takes to build the rows of a scan: the column map, the columns
 * the query uses, and what U+0000 becomes.
 */
DdbRowBuilder *
ddb_row_builder_create(Relation rel, List *retrieved_attrs,
					   const DdbStreamOptions *opts)
{
	DdbRowBuilder *rb = palloc0(sizeof(DdbRowBuilder));

	rb->columns = ddb_column_map(rel);
	rb->used = ddb_used_columns(rel, retrieved_attrs);
	rb->ncolumns = RelationGetDescr(rel)->natts;
	rb->image_format = opts->image_format;
	if (opts->nul_replacement)
		rb->conv.nul_replacement = pg_server_to_any(opts->nul_replacement,
													strlen(opts->nul_replacement),
													PG_UTF8);
	return rb;
}

/*
 * Build the columns the query uses from a record of a shard, in
 * CurrentMemoryContext.  An error names the record.
 */
void
ddb_build_row(DdbRowBuilder *rb, cJSON *record, const char *shard_id,
			  Datum *values, bool *isnull)
{
	ErrorContextCallback errcallback;

	errcallback.callback = conversion_error_context;
	errcallback.arg = record;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;
	if (!cJSON_IsObject(record))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_REPLY_HANDLE),
				 errmsg("DynamoDB Streams GetRecords returned an invalid response"),
				 errdetail_internal("A record is not a JSON object.")));
	rb->conv.shard_id = shard_id;
	build_columns(rb, record, values, isnull);
	error_context_stack = errcallback.previous;
}

/*
 * Build the columns the query uses from an item of an items table (read by
 * operation, such as "DynamoDB Scan"): its key attributes (the table's
 * primary key; table_keys may be NULL when the query does not use them)
 * and the whole item stand as a record's Keys and NewImage.
 */
void
ddb_build_item_row(DdbRowBuilder *rb, cJSON *item, const char *operation,
				   const char *const *table_keys, Datum *values, bool *isnull)
{
	ErrorContextCallback errcallback;
	cJSON	   *record = cJSON_CreateObject();
	cJSON	   *ddb = cJSON_AddObjectToObject(record, "dynamodb");
	cJSON	   *keys = cJSON_AddObjectToObject(ddb, "Keys");
	int			i;

	/* references: the item stays the page's, and this lives in the row's context */
	for (i = 0; table_keys && i < 2 && table_keys[i]; i++)
	{
		cJSON	   *av = cJSON_GetObjectItemCaseSensitive(item, table_keys[i]);

		if (av)
			cJSON_AddItemReferenceToObject(keys, table_keys[i], av);
	}
	cJSON_AddItemReferenceToObject(ddb, "NewImage", item);

	errcallback.callback = item_error_context;
	errcallback.arg = keys;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;
	rb->conv.answer = operation;
	rb->conv.shard_id = NULL;
	build_columns(rb, record, values, isnull);
	error_context_stack = errcallback.previous;
}

static void
build_columns(DdbRowBuilder *rb, cJSON *record, Datum *values, bool *isnull)
{
	int			i;

	rb->conv.record = record;
	for (i = 0; i < rb->ncolumns; i++)
	{
		const DdbColumnInfo *col = &rb->columns[i];

		isnull[i] = true;
		if (col->field < 0 || !rb->used[i])
			continue;
		if (col->field == DDB_FIELD_ATTRIBUTE)
			values[i] = ddb_attribute_datum(col, &rb->conv, &isnull[i]);
		else
			values[i] = ddb_field_datum((DdbField) col->field, col->typid,
										&rb->conv, rb->image_format, &isnull[i]);
	}
}

/* Name the item being converted, by its key, in any error it causes. */
static void
item_error_context(void *arg)
{
	cJSON	   *keys = (cJSON *) arg;
	char	   *text = keys->child ? cJSON_PrintUnformatted(keys) : NULL;

	if (text)
		errcontext("converting the DynamoDB item with key %s",
				   ddb_printable(text, strlen(text), 200));
	else
		errcontext("converting a DynamoDB item");
}

/* Name the record being converted in any error it causes. */
static void
conversion_error_context(void *arg)
{
	cJSON	   *record = (cJSON *) arg;
	cJSON	   *id = cJSON_IsObject(record) ?
		cJSON_GetObjectItemCaseSensitive(record, "eventID") : NULL;

	if (cJSON_IsString(id))
		errcontext("converting the DynamoDB Streams record with eventID \"%s\"",
				   ddb_printable(id->valuestring, strlen(id->valuestring), 200));
	else
		errcontext("converting a DynamoDB Streams record");
}

/* A record's sequence number: 1 to 40 digits, or the answer is invalid. */
const char *
ddb_record_seq(cJSON *record)
{
	cJSON	   *ddb = cJSON_GetObjectItemCaseSensitive(record, "dynamodb");
	cJSON	   *seq = ddb ? cJSON_GetObjectItemCaseSensitive(ddb, "SequenceNumber") : NULL;
	size_t		n;

	if (!cJSON_IsString(seq))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_REPLY_HANDLE),
				 errmsg("DynamoDB Streams GetRecords returned an invalid response"),
				 errdetail_internal("A record has no \"dynamodb.SequenceNumber\" string.")));
	n = strspn(seq->valuestring, "0123456789");
	if (n == 0 || n > DDB_SEQ_MAX_DIGITS || seq->valuestring[n] != '\0')
		ereport(ERROR,
				(errcode(ERRCODE_FDW_REPLY_HANDLE),
				 errmsg("DynamoDB Streams GetRecords returned an invalid response"),
				 errdetail_internal("A record's \"dynamodb.SequenceNumber\" is not 1 to %d digits.",
									DDB_SEQ_MAX_DIGITS)));
	return seq->valuestring;
}

/* A record's ApproximateCreationDateTime in epoch seconds, or -1 if none. */
double
ddb_record_created(cJSON *record)
{
	cJSON	   *ddb = cJSON_GetObjectItemCaseSensitive(record, "dynamodb");
	cJSON	   *created = ddb ? cJSON_GetObjectItemCaseSensitive(ddb, "ApproximateCreationDateTime") : NULL;

	return cJSON_IsNumber(created) ? created->valuedouble : -1;
}
