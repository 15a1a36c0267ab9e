/*-------------------------------------------------------------------------
 *
 * option.c
 *		  Option table, validator and the typed options struct of ddbstream_fdw.
 *
 * Every option value is checked here, so a bad value fails at CREATE or
 * ALTER time rather than at the first scan.  The table valid_options says
 * where each option may appear, the range of each integer option (read by
 * the validator and by the resolution alike) and which options only a
 * superuser may set.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "access/reloptions.h"
#include "catalog/pg_foreign_server.h"
#include "catalog/pg_foreign_table.h"
#include "catalog/pg_user_mapping.h"
#include "catalog/pg_attribute.h"
#include "commands/defrem.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/syscache.h"

#include "ddbstream_fdw.h"

#define DEFAULT_PAGE_SIZE			1000
#define DEFAULT_EMPTY_PAGE_LIMIT	3
#define DEFAULT_CONNECT_TIMEOUT_MS	10000
#define DEFAULT_REQUEST_TIMEOUT_MS	30000
#define DEFAULT_MAX_RETRIES			8
#define DEFAULT_RETRY_BASE_MS		100
#define DEFAULT_RETRY_MAX_MS		20000
/*
 * The largest response body a request accepts: far above any legitimate
 * answer (a GetRecords page holds at most 1 MB of records), far below what
 * would hurt the database server.
 */
#define DEFAULT_MAX_RESPONSE_BYTES	(16 * 1024 * 1024)
#define MIN_MAX_RESPONSE_BYTES		1024
#define MAX_MAX_RESPONSE_BYTES		(1024 * 1024 * 1024)
/* Shards read at once, each with at most one request in flight. */
#define DEFAULT_MAX_CONCURRENCY	4
#define MAX_CONCURRENCY			64

typedef enum DdbOptionKind
{
	OPT_TEXT,					/* checked by its own rule in the validator */
	OPT_INT						/* digits only, within [min, max] */
} DdbOptionKind;

typedef struct DdbOption
{
	const char *name;
	Oid			catalog;		/* where the option may appear */
	DdbOptionKind kind;
	int			min;			/* OPT_INT: the valid range */
	int			max;
	const char *superuser_why;	/* only superusers may set it, because... */
} DdbOption;

#define SERVER	ForeignServerRelationId
#define MAPPING	UserMappingRelationId
#define TABLE	ForeignTableRelationId
#define COLUMN	AttributeRelationId
#define MAX_MS	(3600 * 1000)

static const DdbOption valid_options[] = {
	/* server */
	{"region", SERVER},
	{"endpoint", SERVER},
	{"streams_endpoint", SERVER},
	{"connect_timeout", SERVER, OPT_INT, 1, MAX_MS},
	{"request_timeout", SERVER, OPT_INT, 1, MAX_MS},
	{"max_retries", SERVER, OPT_INT, 0, 100},
	{"retry_base_ms", SERVER, OPT_INT, 1, 600000},
	{"retry_max_ms", SERVER, OPT_INT, 1, 600000},
	{"max_concurrency", SERVER, OPT_INT, 1, MAX_CONCURRENCY},
	{"max_response_bytes", SERVER, OPT_INT, MIN_MAX_RESPONSE_BYTES, MAX_MAX_RESPONSE_BYTES},
	{"ca_file", SERVER, OPT_TEXT, 0, 0,
	"Only superusers may make the database server read a file."},
	{"proxy", SERVER, OPT_TEXT, 0, 0,
	"Only superusers may choose a proxy: it receives every request of the server, with its signature and any session token."},
	/* superuser only to set 'true', and then for any change: see below */
	{"use_ambient_credentials", SERVER},
	{"credential_source", SERVER},
	{"profile", SERVER},
	/* user mapping */
	{"access_key_id", MAPPING},
	{"secret_access_key", MAPPING},
	{"session_token", MAPPING},
	/* foreign table */
	{"table_name", TABLE},
	{"stream_arn", TABLE},
	{"iterator_type", TABLE},
	{"sequence_number", TABLE},
	{"page_size", TABLE, OPT_INT, 1, 1000},
	{"image_format", TABLE},
	{"empty_page_limit", TABLE, OPT_INT, 1, 1000},
	{"on_trimmed", TABLE},
	{"consumer", TABLE},
	{"max_concurrency", TABLE, OPT_INT, 1, MAX_CONCURRENCY},
	{"nul_replacement", TABLE},
	/* column */
	{"field", COLUMN},
	{"attribute", COLUMN},
	{NULL, InvalidOid}
};

static const char *const iterator_type_names[] = {
	[DDB_ITER_TRIM_HORIZON] = "trim_horizon",
	[DDB_ITER_LATEST] = "latest",
	[DDB_ITER_AT_SEQUENCE_NUMBER] = "at_sequence_number",
	[DDB_ITER_AFTER_SEQUENCE_NUMBER] = "after_sequence_number",
};

PG_FUNCTION_INFO_V1(ddbstream_fdw_validator);

static const DdbOption *find_option(const char *name, Oid catalog);
static char *valid_option_list(Oid catalog);
static void check_region(const char *value);
static void check_url(const char *option, const char *value);
static void check_proxy(const char *value);
static bool split_authority(const char *authority, size_t len, char **host,
							char **port);
static void check_port(const char *option, const char *value, const char *port);
static void check_ca_file(const char *path);
static bool parse_strict_int(const char *value, int *result);
static int	int_option(DefElem *def);
static void check_access_key_id(const char *value);
static void check_table_name(const char *value);
static void check_stream_arn(const char *value);
static DdbIteratorType parse_iterator_type(const char *value);
static DdbImageFormat parse_image_format(const char *value);
static void check_sequence_number(const char *value);
static bool parse_on_trimmed(const char *value);
static void check_table_options(List *options);
static void check_user_mapping_options(List *options);
static char *default_endpoint(const char *service_prefix, const char *region);
static void resolve_options(ForeignServer *server, List *table_options,
							DdbStreamOptions *opts);

/*
 * Validate the options of a CREATE/ALTER of a server, user mapping, foreign
 * table or column.  PostgreSQL passes the complete resulting option list, so
 * rules that relate options to each other are checked here too.
 */
Datum
ddbstream_fdw_validator(PG_FUNCTION_ARGS)
{
	List	   *options = untransformRelOptions(PG_GETARG_DATUM(0));
	Oid			catalog = PG_GETARG_OID(1);
	bool		have_region = false;
	bool		ambient = false;
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *def = (DefElem *) lfirst(lc);
		const char *name = def->defname;
		const DdbOption *opt = find_option(name, catalog);

		if (opt == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
					 errmsg("invalid option \"%s\"", name),
					 errhint("Valid options in this context are: %s.",
							 valid_option_list(catalog))));
		if (opt->superuser_why && !superuser())
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied to set option \"%s\"", name),
					 errdetail("%s", opt->superuser_why)));

		if (opt->kind == OPT_INT)
			(void) int_option(def);
		else if (strcmp(name, "region") == 0)
		{
			check_region(defGetString(def));
			have_region = true;
		}
		else if (strcmp(name, "endpoint") == 0 ||
				 strcmp(name, "streams_endpoint") == 0)
			check_url(name, defGetString(def));
		else if (strcmp(name, "ca_file") == 0)
			check_ca_file(defGetString(def));
		else if (strcmp(name, "proxy") == 0)
			check_proxy(defGetString(def));
		else if (strcmp(name, "use_ambient_credentials") == 0)
			ambient = defGetBoolean(def);
		else if (strcmp(name, "credential_source") == 0)
		{
			const char *v = defGetString(def);

			if (strcmp(v, "chain") != 0 && strcmp(v, "environment") != 0 &&
				strcmp(v, "shared_file") != 0 && strcmp(v, "instance_metadata") != 0)
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
						 errmsg("invalid value for option \"credential_source\": \"%s\"", v),
						 errhint("Valid values are \"chain\", \"environment\", \"shared_file\" and \"instance_metadata\".")));
		}
		else if (strcmp(name, "profile") == 0)
		{
			if (defGetString(def)[0] == '\0')
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_STRING_FORMAT),
						 errmsg("option \"profile\" must not be empty")));
		}
		else if (strcmp(name, "on_trimmed") == 0)
			(void) parse_on_trimmed(defGetString(def));
		else if (strcmp(name, "access_key_id") == 0)
			check_access_key_id(defGetString(def));
		else if (strcmp(name, "secret_access_key") == 0 ||
				 strcmp(name, "session_token") == 0)
		{
			if (defGetString(def)[0] == '\0')
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_STRING_FORMAT),
						 errmsg("option \"%s\" must not be empty", name)));
		}
		else if (strcmp(name, "table_name") == 0)
			check_table_name(defGetString(def));
		else if (strcmp(name, "stream_arn") == 0)
			check_stream_arn(defGetString(def));
		else if (strcmp(name, "iterator_type") == 0)
			(void) parse_iterator_type(defGetString(def));
		else if (strcmp(name, "sequence_number") == 0)
			check_sequence_number(defGetString(def));
		else if (strcmp(name, "image_format") == 0)
			(void) parse_image_format(defGetString(def));
		else if (strcmp(name, "consumer") == 0)
		{
			if (defGetString(def)[0] == '\0')
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_STRING_FORMAT),
						 errmsg("option \"consumer\" must not be empty"),
						 errhint("Name the consumer, as in OPTIONS (consumer 'mirror').")));
		}
		else if (strcmp(name, "attribute") == 0)
		{
			if (defGetString(def)[0] == '\0')
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_STRING_FORMAT),
						 errmsg("option \"attribute\" must not be empty")));
			if (list_length(options) > 1)
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
						 errmsg("options \"field\" and \"attribute\" cannot both be set"),
						 errhint("A column holds either a field of the stream record or an attribute of the item.")));
		}
		else if (strcmp(name, "field") == 0)
		{
			if (ddb_field_by_name(defGetString(def)) < 0)
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
						 errmsg("invalid value for option \"field\": \"%s\"",
								defGetString(def)),
						 errhint("Valid fields are: %s.", ddb_field_name_list())));
		}
	}

	/*
	 * A server that signs with the database server's own credentials is a
	 * superuser's decision, and so is every later change to it: whoever can
	 * change its endpoint could send those credentials' signatures anywhere.
	 */
	if (catalog == ForeignServerRelationId && ambient && !superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to set or keep option \"use_ambient_credentials\""),
				 errdetail("Only superusers may let a server sign with the database server's own AWS credentials, or change the options of such a server."),
				 errhint("Ask a superuser, or use a user mapping with access_key_id and secret_access_key.")));
	if (catalog == ForeignServerRelationId && !have_region)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("option \"region\" is required for a ddbstream_fdw server"),
				 errhint("Add the AWS region of the DynamoDB table, as in OPTIONS (region 'us-east-1').")));
	if (catalog == ForeignTableRelationId)
		check_table_options(options);
	if (catalog == UserMappingRelationId)
		check_user_mapping_options(options);

	PG_RETURN_VOID();
}

/* The option of that name in catalog (any catalog: InvalidOid), or NULL. */
static const DdbOption *
find_option(const char *name, Oid catalog)
{
	const DdbOption *opt;

	for (opt = valid_options; opt->name; opt++)
		if ((opt->catalog == catalog || catalog == InvalidOid) &&
			strcmp(opt->name, name) == 0)
			return opt;
	return NULL;
}

static char *
valid_option_list(Oid catalog)
{
	StringInfoData buf;
	const DdbOption *opt;

	initStringInfo(&buf);
	for (opt = valid_options; opt->name; opt++)
	{
		if (opt->catalog != catalog)
			continue;
		if (buf.len > 0)
			appendStringInfoString(&buf, ", ");
		appendStringInfoString(&buf, opt->name);
	}
	return buf.len > 0 ? buf.data : pstrdup("<none>");
}

static void
check_region(const char *value)
{
	const char *p;

	for (p = value; *p; p++)
		if (!(islower((unsigned char) *p) || isdigit((unsigned char) *p) || *p == '-'))
			break;
	if (value[0] == '\0' || *p != '\0')
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("invalid value for option \"region\": \"%s\"", value),
				 errhint("A region is lower-case letters, digits and hyphens, such as \"us-east-1\".")));
}

/*
 * An endpoint is an http or https URL with a host, an optional port from 1
 * to 65535, and nothing that could hide a secret or change the request: no
 * user information, query or fragment.
 */
static void
check_url(const char *option, const char *value)
{
	const char *rest;
	const char *host_end;
	char	   *host;
	char	   *port;

	if (strncmp(value, "https://", 8) == 0)
		rest = value + 8;
	else if (strncmp(value, "http://", 7) == 0)
		rest = value + 7;
	else
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("invalid value for option \"%s\": \"%s\"", option, value),
				 errhint("The endpoint must be an http:// or https:// URL, such as \"https://dynamodb.us-east-1.amazonaws.com\".")));

	host_end = rest + strcspn(rest, "/");
	if (host_end == rest || strpbrk(value, "?#@ ") != NULL ||
		!split_authority(rest, host_end - rest, &host, &port))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("invalid value for option \"%s\": \"%s\"", option, value),
				 errhint("The endpoint must name a host and may not contain user information, a query or a fragment.")));
	check_port(option, value, port);

	if (strncmp(value, "http://", 7) == 0 &&
		pg_strcasecmp(host, "localhost") != 0 &&
		strncmp(host, "127.", 4) != 0 && strcmp(host, "[::1]") != 0)
		ereport(WARNING,
				(errmsg("option \"%s\" sends requests to \"%s\" without TLS", option, host),
				 errdetail("Signed requests, the stream's records and any session token travel in clear text."),
				 errhint("Use an https:// URL, unless the host is a local emulator.")));
}

/*
 * A proxy is http://, https://, socks5:// or socks5h:// with a host and an
 * optional port, nothing else: no user information (server options are
 * readable by every user), path, query or fragment.
 */
static void
check_proxy(const char *value)
{
	static const char *const schemes[] = {"http://", "https://", "socks5://", "socks5h://"};
	const char *rest = NULL;
	size_t		len;
	char	   *host;
	char	   *port;
	int			i;

	for (i = 0; i < lengthof(schemes) && rest == NULL; i++)
		if (pg_strncasecmp(value, schemes[i], strlen(schemes[i])) == 0)
			rest = value + strlen(schemes[i]);
	len = rest ? strcspn(rest, "/") : 0;
	if (rest == NULL || len == 0 || strpbrk(value, "?#@ ") != NULL ||
		(rest[len] != '\0' && strcmp(rest + len, "/") != 0) ||
		!split_authority(rest, len, &host, &port))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("invalid value for option \"proxy\": \"%s\"", value),
				 errhint("The proxy must be an http://, https://, socks5:// or socks5h:// URL with a host and an optional port, such as \"http://proxy.example.com:3128\", without user information or path.")));
	check_port("proxy", value, port);
}

/*
 * Split an authority ("host", "host:port", "[::1]:port") into its host and
 * port (NULL when none).  False when it is malformed.
 */
static bool
split_authority(const char *authority, size_t len, char **host, char **port)
{
	char	   *a = pnstrdup(authority, len);
	char	   *colon;

	if (a[0] == '[')
	{
		char	   *close = strchr(a, ']');

		if (close == NULL || (close[1] != '\0' && close[1] != ':'))
			return false;
		colon = close[1] == ':' ? close + 1 : NULL;
	}
	else
		colon = strchr(a, ':');
	*port = NULL;
	if (colon)
	{
		*colon = '\0';
		*port = colon + 1;
	}
	*host = a;
	return a[0] != '\0';
}

static void
check_port(const char *option, const char *value, const char *port)
{
	int			n;

	if (port && (!parse_strict_int(port, &n) || n < 1 || n > 65535))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("invalid value for option \"%s\": \"%s\"", option, value),
				 errhint("A port is a number from 1 to 65535.")));
}

/*
 * The CA certificates must be a regular file the database server can read,
 * now: a path that is wrong fails the ALTER, not every scan.  Only a
 * superuser gets here (see valid_options), so this tells no one else
 * whether a file exists.
 */
static void
check_ca_file(const char *path)
{
	struct stat st;
	int			fd;

	if (!is_absolute_path(path))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("invalid value for option \"ca_file\": \"%s\"", path),
				 errhint("Give the absolute path of a PEM file of CA certificates.")));
	if (stat(path, &st) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not access file \"%s\" of option \"ca_file\": %m", path)));
	if (!S_ISREG(st.st_mode))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("invalid value for option \"ca_file\": \"%s\" is not a regular file", path),
				 errhint("Give the absolute path of a PEM file of CA certificates.")));
	fd = OpenTransientFile(path, O_RDONLY | PG_BINARY);
	if (fd < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open file \"%s\" of option \"ca_file\" for reading: %m", path),
				 errhint("The database server's operating system user must be able to read it.")));
	CloseTransientFile(fd);
}

/*
 * The one integer parser of the options: decimal digits only, so that
 * '1.5', ' 5', '5 ', '+5', '0x10' and '5ms' are refused rather than
 * rounded, trimmed or read as hex or units (as parse_int would).
 */
static bool
parse_strict_int(const char *value, int *result)
{
	int64		n = 0;
	const char *p;

	if (*value == '\0')
		return false;
	for (p = value; *p; p++)
	{
		if (!isdigit((unsigned char) *p))
			return false;
		n = n * 10 + (*p - '0');
		if (n > PG_INT32_MAX)
			return false;
	}
	*result = (int) n;
	return true;
}

/* An integer option's value, checked against its range in valid_options. */
static int
int_option(DefElem *def)
{
	const DdbOption *opt = find_option(def->defname, InvalidOid);
	const char *value = defGetString(def);
	int			result;

	Assert(opt && opt->kind == OPT_INT);
	if (!parse_strict_int(value, &result) || result < opt->min || result > opt->max)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("invalid value for option \"%s\": \"%s\"", def->defname, value),
				 errhint("Valid values are integers from %d to %d.", opt->min, opt->max)));
	return result;
}

static void
check_access_key_id(const char *value)
{
	const char *p;

	for (p = value; *p; p++)
		if (!isalnum((unsigned char) *p))
			break;
	if (value[0] == '\0' || *p != '\0')
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_STRING_FORMAT),
				 errmsg("invalid value for option \"access_key_id\""),
				 errhint("An AWS access key ID consists of letters and digits only.")));
}

/* DynamoDB table names: 3 to 255 of [a-zA-Z0-9_.-]. */
static void
check_table_name(const char *value)
{
	size_t		len = strlen(value);
	const char *p;

	for (p = value; *p; p++)
		if (!(isalnum((unsigned char) *p) || *p == '_' || *p == '.' || *p == '-'))
			break;
	if (len < 3 || len > 255 || *p != '\0')
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("invalid value for option \"table_name\": \"%s\"", value),
				 errhint("DynamoDB table names are 3 to 255 letters, digits, underscores, dots and hyphens.")));
}

static void
check_stream_arn(const char *value)
{
	if (strncmp(value, "arn:", 4) != 0 ||
		strstr(value, ":table/") == NULL ||
		strstr(value, "/stream/") == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("invalid value for option \"stream_arn\": \"%s\"", value),
				 errhint("A stream ARN looks like \"arn:aws:dynamodb:us-east-1:123456789012:table/Phones/stream/2024-01-01T00:00:00.000\".")));
}

static DdbIteratorType
parse_iterator_type(const char *value)
{
	int			i;

	for (i = 0; i < lengthof(iterator_type_names); i++)
		if (pg_strcasecmp(value, iterator_type_names[i]) == 0)
			return (DdbIteratorType) i;
	ereport(ERROR,
			(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
			 errmsg("invalid value for option \"iterator_type\": \"%s\"", value),
			 errhint("Valid values are trim_horizon, latest, at_sequence_number and after_sequence_number.")));
	return DDB_ITER_TRIM_HORIZON;	/* keep compiler quiet */
}

const char *
ddb_iterator_type_name(DdbIteratorType type)
{
	return iterator_type_names[type];
}

DdbImageFormat
ddb_parse_image_format(const char *value)
{
	return parse_image_format(value);
}

static DdbImageFormat
parse_image_format(const char *value)
{
	if (pg_strcasecmp(value, "plain") == 0)
		return DDB_IMAGE_PLAIN;
	if (pg_strcasecmp(value, "typed") == 0)
		return DDB_IMAGE_TYPED;
	ereport(ERROR,
			(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
			 errmsg("invalid value for option \"image_format\": \"%s\"", value),
			 errhint("Valid values are plain and typed.")));
	return DDB_IMAGE_PLAIN;		/* keep compiler quiet */
}

/* on_trimmed: 'error' (false) or 'skip' (true). */
static bool
parse_on_trimmed(const char *value)
{
	if (pg_strcasecmp(value, "error") == 0)
		return false;
	if (pg_strcasecmp(value, "skip") == 0)
		return true;
	ereport(ERROR,
			(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
			 errmsg("invalid value for option \"on_trimmed\": \"%s\"", value),
			 errhint("Valid values are error and skip.")));
	return false;				/* keep compiler quiet */
}

static void
check_sequence_number(const char *value)
{
	size_t		len = strlen(value);

	if (len == 0 || len > DDB_SEQ_MAX_DIGITS || strspn(value, "0123456789") != len)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("invalid value for option \"sequence_number\": \"%s\"", value),
				 errhint("A sequence number is 1 to %d decimal digits.", DDB_SEQ_MAX_DIGITS)));
}

/* Rules that relate the options of a foreign table to each other. */
static void
check_table_options(List *options)
{
	DefElem    *table_name = NULL;
	DefElem    *stream_arn = NULL;
	DefElem    *sequence_number = NULL;
	DefElem    *consumer = NULL;
	DdbIteratorType type = DDB_ITER_TRIM_HORIZON;
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *def = (DefElem *) lfirst(lc);

		if (strcmp(def->defname, "table_name") == 0)
			table_name = def;
		else if (strcmp(def->defname, "stream_arn") == 0)
			stream_arn = def;
		else if (strcmp(def->defname, "sequence_number") == 0)
			sequence_number = def;
		else if (strcmp(def->defname, "iterator_type") == 0)
			type = parse_iterator_type(defGetString(def));
		else if (strcmp(def->defname, "consumer") == 0)
			consumer = def;
	}

	if (table_name == NULL && stream_arn == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("either option \"table_name\" or option \"stream_arn\" is required"),
				 errhint("Name the DynamoDB table, as in OPTIONS (table_name 'Phones'), to follow its latest stream.")));
	if (table_name != NULL && stream_arn != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
				 errmsg("options \"table_name\" and \"stream_arn\" cannot both be set"),
				 errhint("Use table_name to follow the table's latest stream, or stream_arn to read one stream.")));

	if ((type == DDB_ITER_AT_SEQUENCE_NUMBER ||
		 type == DDB_ITER_AFTER_SEQUENCE_NUMBER) && sequence_number == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("iterator_type \"%s\" requires option \"sequence_number\"",
						ddb_iterator_type_name(type)),
				 errhint("Add the sequence number to start from, as in OPTIONS (sequence_number '4900000000000000000000001').")));
	if ((type == DDB_ITER_TRIM_HORIZON || type == DDB_ITER_LATEST) &&
		sequence_number != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
				 errmsg("option \"sequence_number\" is not allowed with iterator_type \"%s\"",
						ddb_iterator_type_name(type)),
				 errhint("Set iterator_type to at_sequence_number or after_sequence_number.")));

	/*
	 * A consumer's first scan would start at LATEST, and a shard that gave no
	 * record has no position to save: the next scan could not tell where the
	 * first one began, and would lose or repeat records.
	 */
	if (consumer != NULL && type == DDB_ITER_LATEST)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
				 errmsg("option \"consumer\" is not allowed with iterator_type \"latest\""),
				 errhint("A consumer starts at trim_horizon or at a sequence number. To skip what the stream holds now, scan the consumer once and discard the rows.")));
}

static void
check_user_mapping_options(List *options)
{
	bool		have_key = false;
	bool		have_secret = false;
	bool		have_token = false;
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *def = (DefElem *) lfirst(lc);

		if (strcmp(def->defname, "access_key_id") == 0)
			have_key = true;
		else if (strcmp(def->defname, "secret_access_key") == 0)
			have_secret = true;
		else if (strcmp(def->defname, "session_token") == 0)
			have_token = true;
	}
	if (have_key != have_secret || (have_token && !have_key))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("options \"access_key_id\" and \"secret_access_key\" must be given together"),
				 errhint("A session_token is used only with both of them.")));
}

static char *
default_endpoint(const char *service_prefix, const char *region)
{
	return psprintf("https://%s.%s.amazonaws.com%s", service_prefix, region,
					strncmp(region, "cn-", 3) == 0 ? ".cn" : "");
}

/*
 * Resolve every option of a foreign table and its server into opts, with
 * defaults filled in.  The values were checked by the validator.
 */
void
ddb_get_table_options(Oid foreigntableid, DdbStreamOptions *opts)
{
	ForeignTable *table = GetForeignTable(foreigntableid);

	resolve_options(GetForeignServer(table->serverid), table->options, opts);
}

/* The options of a server alone (IMPORT FOREIGN SCHEMA). */
void
ddb_get_server_options(ForeignServer *server, DdbStreamOptions *opts)
{
	resolve_options(server, NIL, opts);
}

static void
resolve_options(ForeignServer *server, List *table_options,
				DdbStreamOptions *opts)
{
	List	   *options = list_concat(list_copy(server->options), table_options);
	ListCell   *lc;

	memset(opts, 0, sizeof(*opts));
	opts->iterator_type = DDB_ITER_TRIM_HORIZON;
	opts->page_size = DEFAULT_PAGE_SIZE;
	opts->image_format = DDB_IMAGE_PLAIN;
	opts->empty_page_limit = DEFAULT_EMPTY_PAGE_LIMIT;
	opts->connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT_MS;
	opts->request_timeout_ms = DEFAULT_REQUEST_TIMEOUT_MS;
	opts->max_retries = DEFAULT_MAX_RETRIES;
	opts->retry_base_ms = DEFAULT_RETRY_BASE_MS;
	opts->retry_max_ms = DEFAULT_RETRY_MAX_MS;
	opts->max_concurrency = DEFAULT_MAX_CONCURRENCY;
	opts->max_response_bytes = DEFAULT_MAX_RESPONSE_BYTES;

	foreach(lc, options)
	{
		DefElem    *def = (DefElem *) lfirst(lc);
		const char *name = def->defname;

		if (strcmp(name, "region") == 0)
			opts->region = defGetString(def);
		else if (strcmp(name, "endpoint") == 0)
			opts->endpoint = defGetString(def);
		else if (strcmp(name, "streams_endpoint") == 0)
			opts->streams_endpoint = defGetString(def);
		else if (strcmp(name, "connect_timeout") == 0)
			opts->connect_timeout_ms = int_option(def);
		else if (strcmp(name, "request_timeout") == 0)
			opts->request_timeout_ms = int_option(def);
		else if (strcmp(name, "max_retries") == 0)
			opts->max_retries = int_option(def);
		else if (strcmp(name, "max_concurrency") == 0)
			opts->max_concurrency = int_option(def);
		else if (strcmp(name, "max_response_bytes") == 0)
			opts->max_response_bytes = int_option(def);
		else if (strcmp(name, "ca_file") == 0)
			opts->ca_file = defGetString(def);
		else if (strcmp(name, "proxy") == 0)
			opts->proxy = defGetString(def);
		else if (strcmp(name, "retry_base_ms") == 0)
			opts->retry_base_ms = int_option(def);
		else if (strcmp(name, "retry_max_ms") == 0)
			opts->retry_max_ms = int_option(def);
		else if (strcmp(name, "on_trimmed") == 0)
			opts->skip_trimmed = parse_on_trimmed(defGetString(def));
		else if (strcmp(name, "table_name") == 0)
			opts->table_name = defGetString(def);
		else if (strcmp(name, "stream_arn") == 0)
			opts->stream_arn = defGetString(def);
		else if (strcmp(name, "iterator_type") == 0)
			opts->iterator_type = parse_iterator_type(defGetString(def));
		else if (strcmp(name, "sequence_number") == 0)
			opts->sequence_number = defGetString(def);
		else if (strcmp(name, "page_size") == 0)
			opts->page_size = int_option(def);
		else if (strcmp(name, "empty_page_limit") == 0)
			opts->empty_page_limit = int_option(def);
		else if (strcmp(name, "image_format") == 0)
			opts->image_format = parse_image_format(defGetString(def));
		else if (strcmp(name, "consumer") == 0)
			opts->consumer = defGetString(def);
		else if (strcmp(name, "nul_replacement") == 0)
			opts->nul_replacement = defGetString(def);
	}

	/* A server created before the validator existed could lack a region. */
	if (opts->region == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("server \"%s\" has no option \"region\"", server->servername)));

	if (opts->streams_endpoint == NULL)
		opts->streams_endpoint = opts->endpoint ? opts->endpoint :
			default_endpoint("streams.dynamodb", opts->region);
	if (opts->endpoint == NULL)
		opts->endpoint = default_endpoint("dynamodb", opts->region);
}


/*
 * The AWS client's settings, from the resolved options of a server.
 */
void
ddb_aws_config(const DdbStreamOptions *opts, DdbAwsConfig *config)
{
	config->region = opts->region;
	config->endpoint = opts->endpoint;
	config->streams_endpoint = opts->streams_endpoint;
	config->connect_timeout_ms = opts->connect_timeout_ms;
	config->request_timeout_ms = opts->request_timeout_ms;
	config->max_retries = opts->max_retries;
	config->retry_base_ms = opts->retry_base_ms;
	config->retry_max_ms = opts->retry_max_ms;
	config->max_response_bytes = opts->max_response_bytes;
	config->ca_file = opts->ca_file;
	config->proxy = opts->proxy;
}
