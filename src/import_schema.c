/*-------------------------------------------------------------------------
 *
 * import_schema.c
 *		  IMPORT FOREIGN SCHEMA dynamodb: one foreign table per DynamoDB table
 *		  that has a stream, or with OPTIONS (source 'items') per table.
 *
 * ListTables (paginated) names the tables, DescribeTable tells which have a
 * stream, or their key schema.  Each foreign table is named exactly as its
 * DynamoDB table (case kept, quoted as needed).  A stream table has the
 * standard columns and follows the table's latest stream through option
 * table_name; an items table has a typed attribute column per key
 * attribute (text for S and B, numeric for N) and the whole item.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/defrem.h"
#include "foreign/foreign.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "utils/builtins.h"

#include "ddbstream_fdw.h"
#include "items.h"
#include "streams_api.h"

/* The columns of an imported table: the fields of a stream record. */
static const char *const standard_columns =
"event_id text, event_name text, seq numeric, shard_id text, "
"created_at timestamptz, keys jsonb, new_image jsonb, old_image jsonb, "
"size_bytes integer, stream_view_type text, user_identity jsonb, record jsonb";

/* Is the DynamoDB table named in the statement's LIMIT TO / EXCEPT list? */
static bool
table_listed(ImportForeignSchemaStmt *stmt, const char *name)
{
	ListCell   *lc;

	foreach(lc, stmt->table_list)
		if (strcmp(((RangeVar *) lfirst(lc))->relname, name) == 0)
			return true;
	return false;
}

/* Whether an import's option source is 'items' ('stream': false). */
static bool
import_items_source(const char *value)
{
	if (strcmp(value, "items") != 0 && strcmp(value, "stream") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("invalid value for option \"source\": \"%s\"", value),
				 errhint("Valid values are \"stream\" and \"items\".")));
	return strcmp(value, "items") == 0;
}

/* One key attribute as a typed attribute column. */
static void
append_key_column(StringInfo cmd, const char *attribute, DdbKeyType type)
{
	/* a key attribute named keys or item keeps its name in the option only */
	const char *column = (strcmp(attribute, "item") == 0 || strcmp(attribute, "keys") == 0) ?
		psprintf("%s_key", attribute) : attribute;

	appendStringInfo(cmd, "%s %s OPTIONS (attribute %s), ", quote_identifier(column),
					 type == DDB_KEY_N ? "numeric" : "text",
					 quote_literal_cstr(attribute));
}

/* CREATE FOREIGN TABLE of the items of a table, its key schema described. */
static void
import_items_table(StringInfo cmd, DdbClient *client, const char *name,
				   ForeignServer *server, const char *image_format)
{
	DdbTableKeys *keys = ddb_describe_table_keys(client, name, NULL);

	appendStringInfo(cmd, "CREATE FOREIGN TABLE %s (", quote_identifier(name));
	append_key_column(cmd, keys->table.partition_key, keys->table.partition_type);
	if (keys->table.sort_key)
		append_key_column(cmd, keys->table.sort_key, keys->table.sort_type);
	appendStringInfo(cmd, "item jsonb) SERVER %s OPTIONS (table_name %s, source 'items'",
					 quote_identifier(server->servername), quote_literal_cstr(name));
	if (image_format)
		appendStringInfo(cmd, ", image_format %s", quote_literal_cstr(image_format));
	appendStringInfoChar(cmd, ')');
}

List *
ddb_import_foreign_schema(ImportForeignSchemaStmt *stmt, Oid serverOid)
{
	ForeignServer *server = GetForeignServer(serverOid);
	const char *image_format = NULL;
	const char *consumer = NULL;
	bool		items = false;
	DdbStreamOptions opts;
	DdbCredentials creds;
	DdbAwsConfig config;
	DdbClient  *client;
	List	   *commands = NIL;
	ListCell   *lc;

	if (strcmp(stmt->remote_schema, "dynamodb") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_SCHEMA_NOT_FOUND),
				 errmsg("schema \"%s\" is not present on foreign server \"%s\"",
						stmt->remote_schema, server->servername),
				 errhint("DynamoDB has one schema to import: IMPORT FOREIGN SCHEMA dynamodb FROM SERVER %s INTO ...",
						 quote_identifier(server->servername))));

	foreach(lc, stmt->options)
	{
		DefElem    *def = (DefElem *) lfirst(lc);

		if (strcmp(def->defname, "image_format") == 0)
		{
			image_format = defGetString(def);
			(void) ddb_parse_image_format(image_format);
		}
		else if (strcmp(def->defname, "consumer") == 0)
		{
			consumer = defGetString(def);
			if (consumer[0] == '\0')
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_STRING_FORMAT),
						 errmsg("option \"consumer\" must not be empty")));
		}
		else if (strcmp(def->defname, "source") == 0)
			items = import_items_source(defGetString(def));
		else
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
					 errmsg("invalid option \"%s\"", def->defname),
					 errhint("Valid options of IMPORT FOREIGN SCHEMA are: image_format, consumer, source.")));
	}
	if (items && consumer)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
				 errmsg("option \"consumer\" is not allowed with source 'items'"),
				 errhint("A consumer reads a stream; an items table reads the table's items.")));

	ddb_get_server_options(server, &opts);
	ddb_get_credentials(server, GetUserId(), &creds);
	ddb_aws_config(&opts, &config);
	client = ddb_client_create(&config, &creds);

	foreach(lc, ddb_list_tables(client))
	{
		const char *name = (const char *) lfirst(lc);
		StringInfoData cmd;

		/* ask nothing about the tables the statement leaves out */
		if (stmt->list_type == FDW_IMPORT_SCHEMA_LIMIT_TO && !table_listed(stmt, name))
			continue;
		if (stmt->list_type == FDW_IMPORT_SCHEMA_EXCEPT && table_listed(stmt, name))
			continue;
		initStringInfo(&cmd);
		if (items)
		{
			import_items_table(&cmd, client, name, server, image_format);
			commands = lappend(commands, cmd.data);
			continue;
		}
		if (ddb_describe_table_stream(client, name, true) == NULL)
			continue;			/* no stream: nothing to read */

		appendStringInfo(&cmd, "CREATE FOREIGN TABLE %s (%s) SERVER %s OPTIONS (table_name %s",
						 quote_identifier(name), standard_columns,
						 quote_identifier(server->servername), quote_literal_cstr(name));
		if (image_format)
			appendStringInfo(&cmd, ", image_format %s", quote_literal_cstr(image_format));
		if (consumer)
			appendStringInfo(&cmd, ", consumer %s", quote_literal_cstr(consumer));
		appendStringInfoChar(&cmd, ')');
		commands = lappend(commands, cmd.data);
	}
	return commands;
}
