/*-------------------------------------------------------------------------
 *
 * credentials.c
 *		  Which AWS keys sign a scan: the user mapping's, or, only where a
 *		  superuser allowed it (server option use_ambient_credentials), the
 *		  database server's own.
 *
 * The database server's own ("ambient") credentials come from, in order:
 *   1. its environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
 *      AWS_SESSION_TOKEN;
 *   2. the shared credentials file (AWS_SHARED_CREDENTIALS_FILE, else
 *      ~/.aws/credentials of the server's OS user), profile from the server
 *      option "profile", else AWS_PROFILE, else "default";
 *   3. the EC2 instance metadata service, IMDSv2 (a session token, then the
 *      instance role's keys), cached in the backend until five minutes
 *      before they expire.  AWS_EC2_METADATA_SERVICE_ENDPOINT moves it (as
 *      in the AWS SDKs); AWS_EC2_METADATA_DISABLED=true turns it off.
 * Server option credential_source pins one of them.  An explicit profile
 * skips the environment, as in the AWS SDKs.
 *
 * No secret ever appears in a message: errors name the source and the
 * field, never a value.  Secrets copied out of files and answers are wiped
 * from the buffers that held them.
 *
 * The metadata requests go through http.c like every other request, so a
 * cancel or statement_timeout ends them at once; they never use a proxy
 * (the service is link-local), whatever the server's options or the
 * environment say.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <pwd.h>
#include <time.h>
#include <unistd.h>

#include "access/reloptions.h"
#include "catalog/pg_user_mapping.h"
#include "commands/defrem.h"
#include "foreign/foreign.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

#include "ddbstream_fdw.h"
#include "http.h"

#define IMDS_DEFAULT_ENDPOINT	"http://169.254.169.254"
#define IMDS_TIMEOUT_MS			2000
#define IMDS_REFRESH_MARGIN_S	300
#define IMDS_MAX_BODY			(64 * 1024) /* no metadata answer is larger */

/* Instance role keys, cached for the backend's life (TopMemoryContext). */
static struct
{
	char	   *access_key_id;
	char	   *secret_access_key;
	char	   *session_token;
	time_t		expiration;
}			imds_cache;

static bool from_environment(DdbCredentials *creds);
static bool from_shared_file(const char *profile, DdbCredentials *creds,
							 char **where);
/*
 * What a metadata exchange held, wiped by a reset callback of the memory
 * context it lives in: at the end, or on an error or a cancel.
 */
typedef struct ImdsSecrets
{
	MemoryContextCallback wipe;
	char	   *token;
	char	   *header;
	char	   *keys;
	char	   *secret;			/* in the parsed keys */
	char	   *session;
} ImdsSecrets;

static bool from_instance_metadata(DdbCredentials *creds, char **why);
static bool imds_fetch(const char *base, ImdsSecrets *secrets, char **why);
static char *imds_request(DdbHttp *http, const char *method, const char *url,
						  const char *header, char **why);
static void imds_wipe(void *arg);
static void wipe_string(char *s);
pg_noreturn static void no_credentials(ForeignServer *server, Oid userid,
									 const char *tried);
static void find_credentials(ForeignServer *server, Oid userid,
							 DdbCredentials *creds);
static void from_user_mapping(ForeignServer *server, Oid userid,
							  DdbCredentials *creds);
static void find_ambient_credentials(ForeignServer *server, Oid userid,
									 DdbCredentials *creds);
static void from_ambient_sources(ForeignServer *server, Oid userid,
								 const char *source, const char *profile,
								 DdbCredentials *creds);
static void wipe_when_freed(DdbCredentials *creds);
static void wipe_credentials(void *arg);

/*
 * Fill *creds for a scan by userid on server, or raise an error that says
 * what was tried.  The secret and the session token are copies in
 * CurrentMemoryContext, wiped when it is reset or deleted.
 */
void
ddb_get_credentials(ForeignServer *server, Oid userid, DdbCredentials *creds)
{
	find_credentials(server, userid, creds);
	wipe_when_freed(creds);
}

/* What a memory context's reset callback wipes. */
typedef struct CredentialWipe
{
	MemoryContextCallback callback;
	char	   *secret_access_key;
	char	   *session_token;
} CredentialWipe;

static void
wipe_when_freed(DdbCredentials *creds)
{
	CredentialWipe *w = palloc(sizeof(CredentialWipe));

	w->secret_access_key = creds->secret_access_key;
	w->session_token = creds->session_token;
	w->callback.func = wipe_credentials;
	w->callback.arg = w;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, &w->callback);
}

static void
wipe_credentials(void *arg)
{
	CredentialWipe *w = (CredentialWipe *) arg;

	wipe_string(w->secret_access_key);
	wipe_string(w->session_token);
}

/* The user mapping's keys if it has both, else the server's own if allowed. */
static void
find_credentials(ForeignServer *server, Oid userid, DdbCredentials *creds)
{
	memset(creds, 0, sizeof(*creds));
	from_user_mapping(server, userid, creds);
	if (creds->access_key_id && creds->secret_access_key)
		return;
	find_ambient_credentials(server, userid, creds);
}

/*
 * The keys of userid's user mapping for server, else of its PUBLIC one; what
 * a mapping lacks stays NULL.
 */
static void
from_user_mapping(ForeignServer *server, Oid userid, DdbCredentials *creds)
{
	HeapTuple	tp;
	List	   *options = NIL;
	ListCell   *lc;

	tp = SearchSysCache2(USERMAPPINGUSERSERVER, ObjectIdGetDatum(userid),
						 ObjectIdGetDatum(server->serverid));
	if (!HeapTupleIsValid(tp))
		tp = SearchSysCache2(USERMAPPINGUSERSERVER, ObjectIdGetDatum(InvalidOid),
							 ObjectIdGetDatum(server->serverid));
	if (HeapTupleIsValid(tp))
	{
		bool		isnull;
		Datum		datum = SysCacheGetAttr(USERMAPPINGUSERSERVER, tp,
											Anum_pg_user_mapping_umoptions,
											&isnull);

		if (!isnull)
			options = untransformRelOptions(datum);
		ReleaseSysCache(tp);
	}
	foreach(lc, options)
	{
		DefElem    *def = (DefElem *) lfirst(lc);

		if (strcmp(def->defname, "access_key_id") == 0)
			creds->access_key_id = defGetString(def);
		else if (strcmp(def->defname, "secret_access_key") == 0)
			creds->secret_access_key = defGetString(def);
		else if (strcmp(def->defname, "session_token") == 0)
			creds->session_token = defGetString(def);
	}
}

/*
 * The database server's own credentials, where the server's options allow
 * them (use_ambient_credentials), from the sources credential_source and
 * profile name; an error that says what was tried when there are none.
 */
static void
find_ambient_credentials(ForeignServer *server, Oid userid,
						 DdbCredentials *creds)
{
	ListCell   *lc;
	bool		ambient = false;
	const char *source = "chain";
	const char *profile = NULL;

	foreach(lc, server->options)
	{
		DefElem    *def = (DefElem *) lfirst(lc);

		if (strcmp(def->defname, "use_ambient_credentials") == 0)
			ambient = defGetBoolean(def);
		else if (strcmp(def->defname, "credential_source") == 0)
			source = defGetString(def);
		else if (strcmp(def->defname, "profile") == 0)
			profile = defGetString(def);
	}
	if (!ambient)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("no AWS credentials for user \"%s\" on server \"%s\"",
						GetUserNameFromId(userid, false), server->servername),
				 errhint("Create a user mapping with options access_key_id and secret_access_key. A superuser can let the server sign with the database server's own credentials: ALTER SERVER %s OPTIONS (ADD use_ambient_credentials 'true').",
						 quote_identifier(server->servername))));
	memset(creds, 0, sizeof(*creds));
	from_ambient_sources(server, userid, source, profile, creds);
}

/*
 * The environment, the shared file, then the instance metadata service, or
 * only the source credential_source pins.  In the chain, a profile means the
 * shared file alone, as in the AWS SDKs.
 */
static void
from_ambient_sources(ForeignServer *server, Oid userid, const char *source,
					 const char *profile, DdbCredentials *creds)
{
	char	   *where = NULL;
	char	   *why = NULL;

	if (strcmp(source, "environment") == 0 ||
		(strcmp(source, "chain") == 0 && profile == NULL))
	{
		if (from_environment(creds))
			return;
		if (strcmp(source, "environment") == 0)
			no_credentials(server, userid, "the environment variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
	}
	if (strcmp(source, "shared_file") == 0 || strcmp(source, "chain") == 0)
	{
		if (from_shared_file(profile, creds, &where))
			return;
		if (strcmp(source, "shared_file") == 0 || profile != NULL)
			no_credentials(server, userid, where);
	}
	if (from_instance_metadata(creds, &why))
		return;
	if (strcmp(source, "instance_metadata") == 0)
		no_credentials(server, userid, why);
	no_credentials(server, userid,
				   psprintf("the environment variables; %s; %s", where, why));
}

static void
no_credentials(ForeignServer *server, Oid userid, const char *tried)
{
	ereport(ERROR,
			(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
			 errmsg("no AWS credentials for user \"%s\" on server \"%s\"",
					GetUserNameFromId(userid, false), server->servername),
			 errdetail("Looked for the database server's own credentials in: %s.", tried),
			 errhint("Create a user mapping with options access_key_id and secret_access_key, or give the database server credentials.")));
}

static bool
from_environment(DdbCredentials *creds)
{
	const char *id = getenv("AWS_ACCESS_KEY_ID");
	const char *secret = getenv("AWS_SECRET_ACCESS_KEY");
	const char *token = getenv("AWS_SESSION_TOKEN");

	if (id == NULL || id[0] == '\0' || secret == NULL || secret[0] == '\0')
		return false;
	creds->access_key_id = pstrdup(id);
	creds->secret_access_key = pstrdup(secret);
	creds->session_token = (token && token[0]) ? pstrdup(token) : NULL;
	return true;
}

/* Trim spaces at both ends of s, in place. */
static char *
trim(char *s)
{
	char	   *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' ||
					   end[-1] == '\n'))
		*--end = '\0';
	return s;
}

/*
 * The profile's keys from the shared credentials file (INI: [profile],
 * then key = value lines).  *where names the file and profile for errors.
 */
static bool
from_shared_file(const char *profile, DdbCredentials *creds, char **where)
{
	const char *path = getenv("AWS_SHARED_CREDENTIALS_FILE");
	char		line[4096];
	bool		in_profile = false;
	FILE	   *f;

	if (profile == NULL)
		profile = getenv("AWS_PROFILE");
	if (profile == NULL || profile[0] == '\0')
		profile = "default";
	if (path == NULL || path[0] == '\0')
	{
		const char *home = getenv("HOME");
		struct passwd *pw = home ? NULL : getpwuid(geteuid());

		if (home == NULL && pw != NULL)
			home = pw->pw_dir;
		path = psprintf("%s/.aws/credentials", home ? home : "");
	}
	*where = psprintf("profile \"%s\" of the shared credentials file \"%s\"", profile, path);

	f = AllocateFile(path, "r");
	if (f == NULL)
		return false;
	/* no stdio buffer: it would keep a copy of the keys, unwiped */
	setvbuf(f, NULL, _IONBF, 0);
	while (fgets(line, sizeof(line), f) != NULL)
	{
		char	   *s = trim(line);
		char	   *eq;

		if (*s == '#' || *s == ';' || *s == '\0')
			continue;
		if (*s == '[')
		{
			char	   *close = strchr(s, ']');

			if (close)
				*close = '\0';
			in_profile = strcmp(trim(s + 1), profile) == 0;
			continue;
		}
		if (!in_profile || (eq = strchr(s, '=')) == NULL)
			continue;
		*eq = '\0';
		if (strcmp(trim(s), "aws_access_key_id") == 0)
			creds->access_key_id = pstrdup(trim(eq + 1));
		else if (strcmp(trim(s), "aws_secret_access_key") == 0)
			creds->secret_access_key = pstrdup(trim(eq + 1));
		else if (strcmp(trim(s), "aws_session_token") == 0)
			creds->session_token = pstrdup(trim(eq + 1));
	}
	explicit_bzero(line, sizeof(line));
	FreeFile(f);
	if (creds->access_key_id && creds->access_key_id[0] &&
		creds->secret_access_key && creds->secret_access_key[0])
		return true;
	/* an incomplete profile: forget, and wipe, what was read of it */
	if (creds->secret_access_key)
		explicit_bzero(creds->secret_access_key, strlen(creds->secret_access_key));
	if (creds->session_token)
		explicit_bzero(creds->session_token, strlen(creds->session_token));
	memset(creds, 0, sizeof(*creds));
	return false;
}

/*
 * One request to the metadata service, through a client that wipes what it
 * received: the body (palloc'd; the caller wipes it) on HTTP 200, else NULL
 * and *why.  A cancel or statement timeout is raised while it waits.
 */
static char *
imds_request(DdbHttp *http, const char *method, const char *url,
			 const char *header, char **why)
{
	const char *headers[1] = {header};
	DdbHttpCall *call;
	DdbHttpResult res;
	char	   *body = NULL;

	call = ddb_http_start(http, method, url, headers, header ? 1 : 0, NULL, 0);
	ddb_http_finish(http, call, &res);
	if (res.error)
		*why = psprintf("the instance metadata service (%s %s: %s)", method, url,
						res.error);
	else if (res.status != 200)
		*why = psprintf("the instance metadata service (%s %s: HTTP %ld)", method, url,
						res.status);
	else if (res.body_len == 0)
		*why = psprintf("the instance metadata service (%s %s: an empty answer)", method, url);
	else
		body = pnstrdup(res.body, res.body_len);
	ddb_http_release(http, call);
	return body;
}

static void
imds_wipe(void *arg)
{
	ImdsSecrets *secrets = (ImdsSecrets *) arg;

	wipe_string(secrets->token);
	wipe_string(secrets->header);
	wipe_string(secrets->keys);
	wipe_string(secrets->secret);
	wipe_string(secrets->session);
}

static void
wipe_string(char *s)
{
	if (s)
		explicit_bzero(s, strlen(s));
}

/* "2026-11-25T20:00:00Z" as epoch seconds, or 0. */
static time_t
parse_expiration(const char *s)
{
	struct tm	tm;

	memset(&tm, 0, sizeof(tm));
	if (s == NULL || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon,
							&tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return timegm(&tm);
}

static void
imds_cache_clear(void)
{
	if (imds_cache.secret_access_key)
	{
		explicit_bzero(imds_cache.secret_access_key, strlen(imds_cache.secret_access_key));
		pfree(imds_cache.secret_access_key);
	}
	if (imds_cache.session_token)
	{
		explicit_bzero(imds_cache.session_token, strlen(imds_cache.session_token));
		pfree(imds_cache.session_token);
	}
	if (imds_cache.access_key_id)
		pfree(imds_cache.access_key_id);
	memset(&imds_cache, 0, sizeof(imds_cache));
}

/*
 * The instance role's keys through IMDSv2, from the cache while they are
 * fresh.  Everything the exchange holds lives in a memory context of its
 * own, deleted at the end (with the libcurl handles) or with its parent on
 * an error or a cancel; the secrets in it are wiped first either way.
 */
static bool
from_instance_metadata(DdbCredentials *creds, char **why)
{
	const char *disabled = getenv("AWS_EC2_METADATA_DISABLED");
	const char *endpoint = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	MemoryContext outer = CurrentMemoryContext;
	MemoryContext cxt;
	ImdsSecrets *secrets;
	char	   *base;
	bool		ok;

	if (imds_cache.access_key_id == NULL ||
		time(NULL) >= imds_cache.expiration - IMDS_REFRESH_MARGIN_S)
	{
		if (disabled && pg_strcasecmp(disabled, "true") == 0)
		{
			*why = "the instance metadata service (disabled by AWS_EC2_METADATA_DISABLED)";
			return false;
		}
		base = pstrdup(endpoint && endpoint[0] ? endpoint : IMDS_DEFAULT_ENDPOINT);
		if (base[strlen(base) - 1] == '/')
			base[strlen(base) - 1] = '\0';

		cxt = AllocSetContextCreate(outer, "ddbstream_fdw instance metadata",
									ALLOCSET_SMALL_SIZES);
		secrets = MemoryContextAllocZero(cxt, sizeof(ImdsSecrets));
		secrets->wipe.func = imds_wipe;
		secrets->wipe.arg = secrets;
		MemoryContextRegisterResetCallback(cxt, &secrets->wipe);
		MemoryContextSwitchTo(cxt);
		ok = imds_fetch(base, secrets, why);
		MemoryContextSwitchTo(outer);
		if (!ok)
			*why = pstrdup(*why);
		MemoryContextDelete(cxt);
		if (!ok)
			return false;
	}
	creds->access_key_id = pstrdup(imds_cache.access_key_id);
	creds->secret_access_key = pstrdup(imds_cache.secret_access_key);
	creds->session_token = pstrdup(imds_cache.session_token);
	return true;
}

/*
 * PUT /latest/api/token, then GET /latest/meta-data/iam/security-credentials/
 * (the role's name) and GET .../<role> (the keys), each with the token;
 * the keys go to the cache.  What secrets held goes to *secrets.
 */
static bool
imds_fetch(const char *base, ImdsSecrets *secrets, char **why)
{
	DdbHttpOptions options = {0};
	DdbHttp    *http;
	char	   *role;
	cJSON	   *json;
	const char *id,
			   *expiration;
	const char *not_json;
	MemoryContext old;

	options.connect_timeout_ms = IMDS_TIMEOUT_MS;
	options.request_timeout_ms = IMDS_TIMEOUT_MS;
	options.max_body = IMDS_MAX_BODY;
	options.sensitive = true;
	http = ddb_http_create(&options);

	secrets->token = imds_request(http, "PUT", psprintf("%s/latest/api/token", base),
								  "X-aws-ec2-metadata-token-ttl-seconds: 21600", why);
	if (secrets->token == NULL)
		return false;
	secrets->header = psprintf("X-aws-ec2-metadata-token: %s", trim(secrets->token));
	role = imds_request(http, "GET", psprintf("%s/latest/meta-data/iam/security-credentials/", base),
						secrets->header, why);
	if (role == NULL)
		return false;
	secrets->keys = imds_request(http, "GET",
								 psprintf("%s/latest/meta-data/iam/security-credentials/%s",
										  base, trim(role)),
								 secrets->header, why);
	if (secrets->keys == NULL)
		return false;

	/* strict JSON only: cJSON would cut a string at a raw NUL (json_check.c) */
	json = ddb_json_check(secrets->keys, strlen(secrets->keys), &not_json) ?
		cJSON_Parse(secrets->keys) : NULL;
	id = json ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(json, "AccessKeyId")) : NULL;
	secrets->secret = json ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(json, "SecretAccessKey")) : NULL;
	secrets->session = json ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(json, "Token")) : NULL;
	expiration = json ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(json, "Expiration")) : NULL;
	if (id == NULL || secrets->secret == NULL || secrets->session == NULL ||
		parse_expiration(expiration) == 0)
	{
		*why = "the instance metadata service (an answer without AccessKeyId, SecretAccessKey, Token and Expiration)";
		return false;
	}
	imds_cache_clear();
	old = MemoryContextSwitchTo(TopMemoryContext);
	imds_cache.access_key_id = pstrdup(id);
	imds_cache.secret_access_key = pstrdup(secrets->secret);
	imds_cache.session_token = pstrdup(secrets->session);
	imds_cache.expiration = parse_expiration(expiration);
	MemoryContextSwitchTo(old);
	return true;
}
