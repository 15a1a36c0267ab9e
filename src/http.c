/*-------------------------------------------------------------------------
 *
 * http.c
 *		  libcurl for ddbstream_fdw: one reused handle per scan, timeouts,
 *		  cancellation and a wait event while the backend waits on the network.
 *
 * Nothing here raises an error from inside a libcurl callback: the write
 * callback records a failure and returns, and the outcome is reported after
 * curl_easy_perform returns.  The handle and the response buffer are freed
 * by a reset callback of the memory context that owns them, so an ERROR
 * anywhere in the scan leaks neither.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <curl/curl.h>

#include "miscadmin.h"
#include "portability/instr_time.h"
#include "utils/memutils.h"
#include "utils/wait_event.h"

#include "ddbstream_fdw.h"

struct DdbHttp
{
	CURL	   *curl;
	char	   *buf;			/* response body, malloc'd, grown as needed */
	size_t		len;
	size_t		cap;
	bool		out_of_memory;
	char		errbuf[CURL_ERROR_SIZE];
	MemoryContextCallback cleanup;
};

static size_t write_body(char *data, size_t size, size_t nmemb, void *arg);
static int	check_interrupts(void *arg, curl_off_t dltotal, curl_off_t dlnow,
							 curl_off_t ultotal, curl_off_t ulnow);
static void http_cleanup(void *arg);

/* Called once from _PG_init. */
void
ddb_http_global_init(void)
{
	if (curl_global_init(CURL_GLOBAL_ALL) != CURLE_OK)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("could not initialize libcurl")));
}

/*
 * Create a client whose lifetime is that of CurrentMemoryContext.
 */
DdbHttp *
ddb_http_create(int connect_timeout_ms, int request_timeout_ms)
{
	DdbHttp    *http = palloc0(sizeof(DdbHttp));

	http->curl = curl_easy_init();
	if (http->curl == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OUT_OF_MEMORY),
				 errmsg("could not create a libcurl handle")));

	http->cleanup.func = http_cleanup;
	http->cleanup.arg = http;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, &http->cleanup);

	curl_easy_setopt(http->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(http->curl, CURLOPT_ERRORBUFFER, http->errbuf);
	curl_easy_setopt(http->curl, CURLOPT_CONNECTTIMEOUT_MS, (long) connect_timeout_ms);
	curl_easy_setopt(http->curl, CURLOPT_TIMEOUT_MS, (long) request_timeout_ms);
	curl_easy_setopt(http->curl, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(http->curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(http->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(http->curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(http->curl, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(http->curl, CURLOPT_USERAGENT, "ddbstream_fdw/" DDBSTREAM_FDW_VERSION);
	curl_easy_setopt(http->curl, CURLOPT_WRITEFUNCTION, write_body);
	curl_easy_setopt(http->curl, CURLOPT_WRITEDATA, http);
	curl_easy_setopt(http->curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(http->curl, CURLOPT_XFERINFOFUNCTION, check_interrupts);
	curl_easy_setopt(http->curl, CURLOPT_XFERINFODATA, http);
	return http;
}

static void
http_cleanup(void *arg)
{
	DdbHttp    *http = (DdbHttp *) arg;

	if (http->curl)
		curl_easy_cleanup(http->curl);
	http->curl = NULL;
	free(http->buf);
	http->buf = NULL;
}

static size_t
write_body(char *data, size_t size, size_t nmemb, void *arg)
{
	DdbHttp    *http = (DdbHttp *) arg;
	size_t		n = size * nmemb;

	if (http->len + n + 1 > http->cap)
	{
		size_t		newcap = Max(http->cap * 2, http->len + n + 1);
		char	   *newbuf;

		newcap = Max(newcap, 64 * 1024);
		newbuf = realloc(http->buf, newcap);
		if (newbuf == NULL)
		{
			http->out_of_memory = true;
			return 0;			/* makes libcurl fail with CURLE_WRITE_ERROR */
		}
		http->buf = newbuf;
		http->cap = newcap;
	}
	memcpy(http->buf + http->len, data, n);
	http->len += n;
	http->buf[http->len] = '\0';
	return n;
}

/*
 * Abort the transfer when a cancel or termination is pending and may be
 * processed now.  Other interrupts (catchup, barriers) are processed by the
 * CHECK_FOR_INTERRUPTS between requests and need not abort a request.
 */
static int
check_interrupts(void *arg, curl_off_t dltotal, curl_off_t dlnow,
				 curl_off_t ultotal, curl_off_t ulnow)
{
	return (QueryCancelPending || ProcDiePending) &&
		INTERRUPTS_CAN_BE_PROCESSED() ? 1 : 0;
}

/*
 * POST body to url with the given header lines ("Name: value").  Transport
 * failures are returned in res->error, not raised, so the caller can name
 * the operation and decide whether to retry.  A pending cancel is raised
 * here as the ordinary query-cancel error.
 */
void
ddb_http_post(DdbHttp *http, const char *url, const char *const *headers,
			  int nheaders, const char *body, size_t body_len,
			  DdbHttpResult *res)
{
	struct curl_slist *list = NULL;
	CURLcode	code;
	instr_time	start,
				elapsed;
	int			i;

	memset(res, 0, sizeof(*res));
	for (i = 0; i < nheaders; i++)
	{
		struct curl_slist *next = curl_slist_append(list, headers[i]);

		if (next == NULL)
		{
			curl_slist_free_all(list);
			ereport(ERROR,
					(errcode(ERRCODE_FDW_OUT_OF_MEMORY),
					 errmsg("out of memory building an HTTP request")));
		}
		list = next;
	}

	http->len = 0;
	http->out_of_memory = false;
	http->errbuf[0] = '\0';
	curl_easy_setopt(http->curl, CURLOPT_URL, url);
	curl_easy_setopt(http->curl, CURLOPT_HTTPHEADER, list);
	curl_easy_setopt(http->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(http->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) body_len);

	INSTR_TIME_SET_CURRENT(start);
	pgstat_report_wait_start(PG_WAIT_EXTENSION);
	code = curl_easy_perform(http->curl);
	pgstat_report_wait_end();
	INSTR_TIME_SET_CURRENT(elapsed);
	INSTR_TIME_SUBTRACT(elapsed, start);
	res->elapsed_ms = INSTR_TIME_GET_MILLISEC(elapsed);

	curl_easy_setopt(http->curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(list);

	if (code == CURLE_ABORTED_BY_CALLBACK)
	{
		CHECK_FOR_INTERRUPTS();
		res->error = "the request was interrupted";
		return;
	}
	if (http->out_of_memory)
	{
		res->error = "out of memory receiving the response";
		return;
	}
	if (code != CURLE_OK)
	{
		res->error = curl_easy_strerror(code);
		res->error_detail = http->errbuf[0] ? pstrdup(http->errbuf) : NULL;
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
	curl_easy_getinfo(http->curl, CURLINFO_RESPONSE_CODE, &res->status);
	res->body = http->buf ? http->buf : "";
	res->body_len = http->len;
}
