/*-------------------------------------------------------------------------
 *
 * import_schema.c
 *		  IMPORT FOREIGN SCHEMA dynamodb: one foreign table per DynamoDB table
 *		  that has a stream.
 *
 * ListTables (paginated) names the tables, DescribeTable tells which have a
 * stream.  Each foreign table is named exactly as its DynamoDB table (case
 * kept, quoted as needed), has the standard columns, and follows the
 * table's latest stream through option table_name.
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

List *
ddb_import_foreign_schema(ImportForeignSchemaStmt *stmt, Oid serverOid)
{
	ForeignServer *server = GetForeignServer(serverOid);
	const char *image_format = NULL;
	const char *consumer = NULL;
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
		else
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
					 errmsg("invalid option \"%s\"", def->defname),
					 errhint("Valid options of IMPORT FOREIGN SCHEMA are: image_format, consumer.")));
	}

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
		if (ddb_describe_table_stream(client, name, true) == NULL)
			continue;			/* no stream: nothing to read */

		initStringInfo(&cmd);
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
