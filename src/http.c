/*-------------------------------------------------------------------------
 *
 * http.c
 *		  libcurl for ddbstream_fdw: the requests of a scan share one multi
 *		  handle (and its connections), so a scan can have several requests in
 *		  flight (the next page of a shard, other shards) while it converts
 *		  rows.  Timeouts, cancellation, and a wait event while the backend
 *		  waits on the network.
 *
 * Nothing here raises an error from inside a libcurl callback: the write
 * callback records a failure and returns, and the outcome is reported by
 * ddb_http_finish.  Handles and response buffers are freed by a reset
 * callback of the memory context that owns them, so an ERROR anywhere in
 * the scan leaks neither.
 *
 * A response body is kept only up to max_response_bytes: a larger
 * Content-Length stops the transfer before the body is read, and a body
 * without one is stopped as soon as it passes the limit.
 *
 * Transport is set here, the same for every request, and never by the
 * environment of the database server: libcurl would otherwise send requests
 * through the proxy that http_proxy, https_proxy or ALL_PROXY name, and
 * write TLS session keys to the file SSLKEYLOGFILE names.  A request goes
 * through a proxy only when the client is given one (server option proxy,
 * superuser only).  Header lines (signatures, tokens) are wiped before they
 * are freed, and so are the bodies of a client that carries secrets.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <curl/curl.h>

#include "miscadmin.h"
#include "portability/instr_time.h"
#include "utils/memutils.h"
#include "utils/wait_event.h"

#include "http.h"

/* One request: an easy handle, its headers and its response body. */
struct DdbHttpCall
{
	DdbHttp    *http;
	CURL	   *curl;
	struct curl_slist *headers;
	char	   *buf;			/* response body, malloc'd, grown as needed */
	size_t		len;
	size_t		cap;
	bool		out_of_memory;
	bool		too_large;		/* longer than max_body: not kept */
	bool		over_budget;	/* the client's bodies passed max_held */
	int64		content_length; /* as the response declared it, or -1 */
	bool		added;			/* in the multi handle */
	bool		done;
	CURLcode	code;
	char		errbuf[CURL_ERROR_SIZE];
	DdbHttpCall *next;			/* in http->calls */
	bool		free;			/* may be reused */
};

/* The requests of one scan, sent and received together by a multi handle. */
struct DdbHttp
{
	CURLM	   *multi;
	DdbHttpOptions options;		/* strings copied into cxt */
	DdbHttpCall *calls;			/* every call made, for reuse and cleanup */
	size_t		held;			/* body bytes received and not yet released,
								 * all calls together */
	MemoryContext cxt;
	MemoryContextCallback cleanup;
};

/* Sent with every request: the extension and its default_version. */
#define USER_AGENT			"ddbstream_fdw/0.2.0"

/* A body buffer larger than this is freed once its request is done. */
#define RETAINED_BODY_CAP	(1024 * 1024)

/* The body of an answer that had none. */
static char empty_body[1];

static DdbHttpCall *get_call(DdbHttp *http);
static void set_transport(DdbHttp *http, CURL *curl);
static void set_method(DdbHttpCall *call, const char *method,
					   const char *body, size_t body_len);
static bool grow_body(DdbHttpCall *call, size_t need);
static void wipe_body(DdbHttpCall *call);
static void free_headers(DdbHttpCall *call);
static size_t write_body(char *data, size_t size, size_t nmemb, void *arg);
static size_t read_header(char *data, size_t size, size_t nmemb, void *arg);
static void harvest(DdbHttp *http);
static void http_cleanup(void *arg);

/*
 * Called once from _PG_init.  libcurl opens the file SSLKEYLOGFILE names
 * when it is initialized, and would log there the keys of every TLS session:
 * it is hidden from libcurl for that moment.  (A library loaded earlier into
 * the same process may have initialized libcurl already.)
 */
void
ddb_http_global_init(void)
{
	const char *keylog = getenv("SSLKEYLOGFILE");
	char	   *saved = keylog ? strdup(keylog) : NULL;
	CURLcode	code;

	if (saved)
		unsetenv("SSLKEYLOGFILE");
	code = curl_global_init(CURL_GLOBAL_ALL);
	if (saved)
	{
		setenv("SSLKEYLOGFILE", saved, 1);
		free(saved);
	}
	if (code != CURLE_OK)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("could not initialize libcurl")));
}

/*
 * Create a client whose lifetime is that of CurrentMemoryContext.
 */
DdbHttp *
ddb_http_create(const DdbHttpOptions *options)
{
	DdbHttp    *http = palloc0(sizeof(DdbHttp));

	http->multi = curl_multi_init();
	if (http->multi == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OUT_OF_MEMORY),
				 errmsg("could not create a libcurl handle")));
	http->cleanup.func = http_cleanup;
	http->cleanup.arg = http;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, &http->cleanup);
	http->options = *options;
	if (options->ca_file)
		http->options.ca_file = pstrdup(options->ca_file);
	if (options->proxy)
		http->options.proxy = pstrdup(options->proxy);
	http->cxt = CurrentMemoryContext;
	return http;
}

static void
http_cleanup(void *arg)
{
	DdbHttp    *http = (DdbHttp *) arg;
	DdbHttpCall *call;

	for (call = http->calls; call; call = call->next)
	{
		if (call->added)
			curl_multi_remove_handle(http->multi, call->curl);
		if (call->curl)
			curl_easy_cleanup(call->curl);
		call->curl = NULL;
		free_headers(call);
		wipe_body(call);
		free(call->buf);
		call->buf = NULL;
	}
	if (http->multi)
		curl_multi_cleanup(http->multi);
	http->multi = NULL;
}

/* A free call, its easy handle set up once; connections are shared. */
static DdbHttpCall *
get_call(DdbHttp *http)
{
	DdbHttpCall *call;

	for (call = http->calls; call; call = call->next)
		if (call->free)
			break;
	if (call == NULL)
	{
		call = MemoryContextAllocZero(http->cxt, sizeof(DdbHttpCall));
		call->http = http;
		call->curl = curl_easy_init();
		if (call->curl == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_OUT_OF_MEMORY),
					 errmsg("could not create a libcurl handle")));
		call->next = http->calls;
		http->calls = call;

		curl_easy_setopt(call->curl, CURLOPT_PRIVATE, call);
		curl_easy_setopt(call->curl, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(call->curl, CURLOPT_ERRORBUFFER, call->errbuf);
		set_transport(http, call->curl);
		curl_easy_setopt(call->curl, CURLOPT_USERAGENT, USER_AGENT);
		curl_easy_setopt(call->curl, CURLOPT_WRITEFUNCTION, write_body);
		curl_easy_setopt(call->curl, CURLOPT_WRITEDATA, call);
		curl_easy_setopt(call->curl, CURLOPT_HEADERFUNCTION, read_header);
		curl_easy_setopt(call->curl, CURLOPT_HEADERDATA, call);
	}
	call->free = false;
	call->done = false;
	call->http->held -= call->len;	/* 0 unless it was never released */
	call->len = 0;
	call->out_of_memory = false;
	call->too_large = false;
	call->over_budget = false;
	call->content_length = -1;
	call->errbuf[0] = '\0';
	call->code = CURLE_OK;
	return call;
}

/*
 * The transport of every request: timeouts, TLS verification, no redirect,
 * and a proxy only when the client was given one.  CURLOPT_PROXY "" and
 * CURLOPT_NOPROXY "*" keep libcurl from the proxy environment variables;
 * with a proxy, NOPROXY "" keeps no_proxy from exempting any host.
 */
static void
set_transport(DdbHttp *http, CURL *curl)
{
	const DdbHttpOptions *o = &http->options;

	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long) o->connect_timeout_ms);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long) o->request_timeout_ms);
	curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
	if (o->ca_file)
		curl_easy_setopt(curl, CURLOPT_CAINFO, o->ca_file);
	curl_easy_setopt(curl, CURLOPT_PROXY, o->proxy ? o->proxy : "");
	curl_easy_setopt(curl, CURLOPT_NOPROXY, o->proxy ? "" : "*");
	curl_easy_setopt(curl, CURLOPT_NETRC, (long) CURL_NETRC_IGNORED);
	/* a larger Content-Length fails before the body is read */
	if (o->max_body > 0)
		curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) o->max_body);
}

static size_t
write_body(char *data, size_t size, size_t nmemb, void *arg)
{
	DdbHttpCall *call = (DdbHttpCall *) arg;
	size_t		n = size * nmemb;
	size_t		max_body = call->http->options.max_body;

	if (max_body > 0 && call->len + n > max_body)
	{
		call->too_large = true;
		return 0;				/* makes libcurl fail with CURLE_WRITE_ERROR */
	}

	/*
	 * Nor more than max_held for the bodies of all requests in flight
	 * together: each may be up to max_body, and there may be many.
	 */
	if (call->http->options.max_held > 0 &&
		call->http->held + n > call->http->options.max_held)
	{
		call->too_large = call->over_budget = true;
		return 0;
	}
	if (call->len + n + 1 > call->cap && !grow_body(call, call->len + n + 1))
		return 0;				/* out_of_memory is set */
	memcpy(call->buf + call->len, data, n);
	call->len += n;
	call->http->held += n;
	call->buf[call->len] = '\0';
	return n;
}

/* Note the Content-Length, to say what a body refused for its size declared. */
static size_t
read_header(char *data, size_t size, size_t nmemb, void *arg)
{
	DdbHttpCall *call = (DdbHttpCall *) arg;
	size_t		n = size * nmemb;
	char		value[32];

	if (n > 15 && n - 15 < sizeof(value) &&
		pg_strncasecmp(data, "Content-Length:", 15) == 0)
	{
		memcpy(value, data + 15, n - 15);
		value[n - 15] = '\0';
		call->content_length = strtoi64(value, NULL, 10);
	}
	return n;
}

/*
 * Make room for need bytes.  A client that carries secrets never lets
 * realloc free a copy of a body unwiped.
 */
static bool
grow_body(DdbHttpCall *call, size_t need)
{
	size_t		newcap = Max(Max(call->cap * 2, need), 64 * 1024);
	char	   *newbuf;

	/* never more than the largest body kept, and its terminating NUL */
	if (call->http->options.max_body > 0)
		newcap = Min(newcap, Max(need, call->http->options.max_body + 1));

	if (!call->http->options.sensitive)
		newbuf = realloc(call->buf, newcap);
	else if ((newbuf = malloc(newcap)) != NULL && call->buf)
	{
		memcpy(newbuf, call->buf, call->len);
		explicit_bzero(call->buf, call->cap);
		free(call->buf);
	}
	if (newbuf == NULL)
	{
		call->out_of_memory = true;
		return false;
	}
	call->buf = newbuf;
	call->cap = newcap;
	return true;
}

/* Wipe the body of a client that carries secrets. */
static void
wipe_body(DdbHttpCall *call)
{
	if (call->http->options.sensitive && call->buf)
		explicit_bzero(call->buf, call->cap);
}

/*
 * Start a request (method GET, POST or PUT; body only for the last two) to
 * url with the given header lines ("Name: value"), and send what can be sent
 * now; the response is received while the caller does other work
 * (ddb_http_pump) or waits for it (ddb_http_finish).
 */
DdbHttpCall *
ddb_http_start(DdbHttp *http, const char *method, const char *url,
			   const char *const *headers, int nheaders, const char *body,
			   size_t body_len)
{
	DdbHttpCall *call = get_call(http);
	int			i;

	for (i = 0; i < nheaders; i++)
	{
		struct curl_slist *next = curl_slist_append(call->headers, headers[i]);

		if (next == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_OUT_OF_MEMORY),
					 errmsg("out of memory building an HTTP request")));
		call->headers = next;
	}
	curl_easy_setopt(call->curl, CURLOPT_URL, url);
	curl_easy_setopt(call->curl, CURLOPT_HTTPHEADER, call->headers);
	set_method(call, method, body, body_len);
	if (curl_multi_add_handle(http->multi, call->curl) != CURLM_OK)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OUT_OF_MEMORY),
				 errmsg("could not start an HTTP request")));
	call->added = true;
	ddb_http_pump(http);
	return call;
}

/* A handle is reused for the next request: set every part of the method. */
static void
set_method(DdbHttpCall *call, const char *method, const char *body,
		   size_t body_len)
{
	if (strcmp(method, "GET") == 0)
	{
		curl_easy_setopt(call->curl, CURLOPT_CUSTOMREQUEST, NULL);
		curl_easy_setopt(call->curl, CURLOPT_HTTPGET, 1L);
		return;
	}
	curl_easy_setopt(call->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) body_len);
	curl_easy_setopt(call->curl, CURLOPT_COPYPOSTFIELDS, body ? body : "");
	curl_easy_setopt(call->curl, CURLOPT_CUSTOMREQUEST,
					 strcmp(method, "POST") == 0 ? NULL : method);
}

/* Move every request along as far as it can go without waiting. */
void
ddb_http_pump(DdbHttp *http)
{
	int			running;

	(void) curl_multi_perform(http->multi, &running);
	harvest(http);
}

/* Mark the requests that have ended. */
static void
harvest(DdbHttp *http)
{
	CURLMsg    *msg;
	int			left;

	while ((msg = curl_multi_info_read(http->multi, &left)) != NULL)
	{
		DdbHttpCall *call = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &call);
		call->code = msg->data.result;
		call->done = true;
		curl_multi_remove_handle(http->multi, call->curl);
		call->added = false;
	}
}

/*
 * Wait for a request to end, and report how.  Transport failures are
 * returned in res->error, not raised, so the caller can name the operation
 * and decide whether to retry.  A cancel or a statement timeout is raised
 * while waiting, as the ordinary error.  res->body stays valid until the
 * call is released.
 */
void
ddb_http_finish(DdbHttp *http, DdbHttpCall *call, DdbHttpResult *res)
{
	instr_time	start,
				elapsed;

	memset(res, 0, sizeof(*res));
	res->declared_length = -1;
	INSTR_TIME_SET_CURRENT(start);
	ddb_http_pump(http);
	pgstat_report_wait_start(PG_WAIT_EXTENSION);
	while (!call->done)
	{
		if (INTERRUPTS_PENDING_CONDITION())
		{
			pgstat_report_wait_end();
			CHECK_FOR_INTERRUPTS();
			pgstat_report_wait_start(PG_WAIT_EXTENSION);
		}
		/* wakes up at network activity; the timeout bounds cancel latency */
		(void) curl_multi_poll(http->multi, NULL, 0, 10, NULL);
		ddb_http_pump(http);
	}
	pgstat_report_wait_end();
	INSTR_TIME_SET_CURRENT(elapsed);
	INSTR_TIME_SUBTRACT(elapsed, start);
	res->elapsed_ms = INSTR_TIME_GET_MILLISEC(elapsed);

	if (call->out_of_memory)
	{
		res->error = "out of memory receiving the response";
		return;
	}
	if (call->too_large || call->code == CURLE_FILESIZE_EXCEEDED)
	{
		res->error = "the response is too large";
		res->error_detail = call->over_budget ?
			psprintf("The bodies of the requests in flight passed %zu bytes together.",
					 call->http->options.max_held) :
			psprintf("The body is longer than %zu bytes.",
					 call->http->options.max_body);
		res->too_large = true;
		res->declared_length = call->content_length;
		return;
	}
	if (call->code != CURLE_OK)
	{
		CURLcode	code = call->code;

		res->error = curl_easy_strerror(code);
		res->error_detail = call->errbuf[0] ? pstrdup(call->errbuf) : NULL;
		res->tls_failure = (code == CURLE_PEER_FAILED_VERIFICATION ||
							code == CURLE_SSL_CACERT_BADFILE ||
							code == CURLE_SSL_CERTPROBLEM);
		/* refused, reset, timed out, cut short: the network, not the request */
		res->retryable = (code == CURLE_COULDNT_CONNECT ||
						  code == CURLE_OPERATION_TIMEDOUT ||
						  code == CURLE_SEND_ERROR ||
						  code == CURLE_RECV_ERROR ||
						  code == CURLE_GOT_NOTHING ||
						  code == CURLE_PARTIAL_FILE ||
						  code == CURLE_HTTP2 ||
						  code == CURLE_HTTP2_STREAM);
		return;
	}
	curl_easy_getinfo(call->curl, CURLINFO_RESPONSE_CODE, &res->status);
	res->body = call->buf ? call->buf : empty_body;
	res->body_len = call->len;
}

/* Has the request ended (ddb_http_finish would not wait)? */
bool
ddb_http_done(DdbHttpCall *call)
{
	return call->done;
}

/*
 * Done with a call: an unfinished request is abandoned (its connection
 * closed), and the handle is kept for the next request.
 */
void
ddb_http_release(DdbHttp *http, DdbHttpCall *call)
{
	if (call->added)
		curl_multi_remove_handle(http->multi, call->curl);
	call->added = false;
	curl_easy_setopt(call->curl, CURLOPT_HTTPHEADER, NULL);
	free_headers(call);
	wipe_body(call);
	http->held -= call->len;
	call->len = 0;
	call->free = true;
	/* a large buffer is not kept for the next request */
	if (call->cap > RETAINED_BODY_CAP)
	{
		free(call->buf);
		call->buf = NULL;
		call->cap = 0;
	}
}

/* Free a call's header lines, wiping them first: they hold a signature. */
static void
free_headers(DdbHttpCall *call)
{
	struct curl_slist *h;

	for (h = call->headers; h; h = h->next)
		explicit_bzero(h->data, strlen(h->data));
	curl_slist_free_all(call->headers);
	call->headers = NULL;
}
