/*-------------------------------------------------------------------------
 *
 * floor.c
 *		  The benchmarks' floor: the requests a scan makes, signed the same
 *		  way over libcurl, with the bodies discarded.  What is left is what
 *		  the emulator and the network cost.
 *
 *   bench/floor ENDPOINT STREAM_ARN [PAGE_SIZE]
 *		  a stream (bench/run.py): DescribeStream, GetShardIterator and
 *		  GetRecords over one reused handle; prints the records read
 *   bench/floor --scan ENDPOINT TABLE SEGMENTS [LIMIT]
 *		  a table's items (bench/items.py): a parallel Scan, every segment's
 *		  next page requested as soon as its last one arrived, all segments
 *		  at once over curl's multi interface; prints "ITEMS items,
 *		  REQUESTS requests"
 *
 * Nothing is parsed: records are counted by "SequenceNumber" occurrences,
 * items by a page's "Count", and the next iterator and LastEvaluatedKey are
 * found by searching the body.
 *
 *-------------------------------------------------------------------------
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "sigv4.h"

typedef struct Body
{
	char	   *data;
	size_t		len;
	size_t		cap;
} Body;

static CURL *curl;
static const char *endpoint;
static char host[256];

static size_t
collect(char *ptr, size_t size, size_t nmemb, void *arg)
{
	Body	   *b = arg;
	size_t		n = size * nmemb;

	if (b->len + n + 1 > b->cap)
	{
		b->cap = (b->len + n + 1) * 2;
		b->data = realloc(b->data, b->cap);
		if (b->data == NULL)
			return 0;
	}
	memcpy(b->data + b->len, ptr, n);
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

/* The headers of a DynamoDB (Streams) request, signed; free with curl_slist_free_all. */
static struct curl_slist *
signed_headers(const char *target, const char *payload)
{
	char		date[17];
	char		auth[1024];
	char		h_auth[1100];
	char		h_date[64];
	char		h_target[128];
	char		h_host[300];
	SigV4Header sign[4] = {{"host", host}, {"content-type", "application/x-amz-json-1.0"},
	{"x-amz-date", date}, {"x-amz-target", target}};
	SigV4Request req = {0};
	struct curl_slist *list = NULL;

	sigv4_format_amz_date(time(NULL), date);
	req.method = "POST";
	req.path = "/";
	req.headers = sign;
	req.nheaders = 4;
	req.payload = (const unsigned char *) payload;
	req.payload_len = strlen(payload);
	req.region = "us-east-1";
	req.service = "dynamodb";
	req.amz_date = date;
	req.access_key_id = "bench";
	req.secret_access_key = "bench";
	sigv4_authorization(&req, auth, sizeof(auth));
	snprintf(h_auth, sizeof(h_auth), "Authorization: %s", auth);
	snprintf(h_date, sizeof(h_date), "X-Amz-Date: %s", date);
	snprintf(h_target, sizeof(h_target), "X-Amz-Target: %s", target);
	snprintf(h_host, sizeof(h_host), "Host: %s", host);
	list = curl_slist_append(list, h_host);
	list = curl_slist_append(list, "Content-Type: application/x-amz-json-1.0");
	list = curl_slist_append(list, h_date);
	list = curl_slist_append(list, h_target);
	list = curl_slist_append(list, h_auth);
	list = curl_slist_append(list, "Expect:");
	return list;
}

static void
post(const char *target, const char *payload, Body *body)
{
	struct curl_slist *list = signed_headers(target, payload);

	body->len = 0;
	curl_easy_setopt(curl, CURLOPT_URL, endpoint);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, payload);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, body);
	if (curl_easy_perform(curl) != CURLE_OK)
	{
		fprintf(stderr, "request failed\n");
		exit(1);
	}
	curl_slist_free_all(list);
}

/* The string value of "key" in body, copied, or NULL. */
static char *
find_string(const char *body, const char *key, const char *from)
{
	char		pattern[64];
	const char *p;
	const char *end;
	char	   *out;

	snprintf(pattern, sizeof(pattern), "\"%s\":\"", key);
	p = strstr(from ? from : body, pattern);
	if (p == NULL)
		return NULL;
	p += strlen(pattern);
	end = strchr(p, '"');
	out = malloc(end - p + 1);
	memcpy(out, p, end - p);
	out[end - p] = '\0';
	return out;
}

static long
count(const char *body, const char *needle)
{
	long		n = 0;
	const char *p = body;

	while ((p = strstr(p, needle)) != NULL)
		n++, p++;
	return n;
}

/*
 * The JSON object that follows "key": in body, copied, or NULL.  Strings
 * inside it are skipped whole, so braces in key values do not count.
 */
static char *
find_object(const char *body, const char *key)
{
	char		pattern[64];
	const char *start;
	const char *p;
	int			depth = 0;
	char	   *out;

	snprintf(pattern, sizeof(pattern), "\"%s\":", key);
	start = strstr(body, pattern);
	if (start == NULL)
		return NULL;
	start += strlen(pattern);
	while (*start == ' ')
		start++;
	for (p = start; *p; p++)
	{
		if (*p == '"')
		{
			for (p++; *p && *p != '"'; p++)
				if (*p == '\\' && p[1])
					p++;
		}
		else if (*p == '{')
			depth++;
		else if (*p == '}' && --depth == 0)
			break;
	}
	if (*p != '}')
		return NULL;
	out = malloc(p - start + 2);
	memcpy(out, start, p - start + 1);
	out[p - start + 1] = '\0';
	return out;
}

/* One segment of a parallel Scan: its handle, its last page, its totals. */
typedef struct Segment
{
	CURL	   *handle;
	struct curl_slist *headers;
	char	   *payload;		/* the request in flight (curl does not copy it) */
	Body		body;
	long		items;
	long		requests;
} Segment;

/* Send segment i's next Scan request: its first, or from start_key. */
static void
scan_request(CURLM *multi, Segment *seg, int i, const char *table, int segments,
			 int limit, const char *start_key)
{
	size_t		len = strlen(table) + (start_key ? strlen(start_key) : 0) + 200;
	int			n;

	free(seg->payload);
	seg->payload = malloc(len);
	n = snprintf(seg->payload, len, "{\"TableName\":\"%s\",\"Segment\":%d,\"TotalSegments\":%d",
				 table, i, segments);
	if (limit > 0)
		n += snprintf(seg->payload + n, len - n, ",\"Limit\":%d", limit);
	if (start_key)
		n += snprintf(seg->payload + n, len - n, ",\"ExclusiveStartKey\":%s", start_key);
	snprintf(seg->payload + n, len - n, "}");

	curl_slist_free_all(seg->headers);
	seg->headers = signed_headers("DynamoDB_20120810.Scan", seg->payload);
	seg->body.len = 0;
	curl_easy_setopt(seg->handle, CURLOPT_HTTPHEADER, seg->headers);
	curl_easy_setopt(seg->handle, CURLOPT_POSTFIELDS, seg->payload);
	curl_multi_add_handle(multi, seg->handle);
	seg->requests++;
}

/*
 * A parallel Scan of every segment at once, each segment's next page asked
 * for as soon as its page arrives.
 */
static int
scan_floor(const char *table, int segments, int limit)
{
	CURLM	   *multi = curl_multi_init();
	Segment    *seg = calloc(segments, sizeof(Segment));
	int			running = 0;
	long		items = 0;
	long		requests = 0;
	int			i;

	for (i = 0; i < segments; i++)
	{
		seg[i].handle = curl_easy_init();
		curl_easy_setopt(seg[i].handle, CURLOPT_URL, endpoint);
		curl_easy_setopt(seg[i].handle, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(seg[i].handle, CURLOPT_WRITEFUNCTION, collect);
		curl_easy_setopt(seg[i].handle, CURLOPT_WRITEDATA, &seg[i].body);
		curl_easy_setopt(seg[i].handle, CURLOPT_PRIVATE, &seg[i]);
		scan_request(multi, &seg[i], i, table, segments, limit, NULL);
	}
	do
	{
		CURLMsg    *msg;
		int			left;

		curl_multi_perform(multi, &running);
		while ((msg = curl_multi_info_read(multi, &left)) != NULL)
		{
			Segment    *s;
			long		status = 0;
			const char *count;
			char	   *start_key;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &s);
			curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
			curl_multi_remove_handle(multi, msg->easy_handle);
			if (msg->data.result != CURLE_OK || status != 200)
			{
				fprintf(stderr, "Scan failed (HTTP %ld): %.300s\n", status,
						s->body.data ? s->body.data : curl_easy_strerror(msg->data.result));
				exit(1);
			}
			count = strstr(s->body.data, "\"Count\":");
			if (count)
				s->items += strtol(count + strlen("\"Count\":"), NULL, 10);
			start_key = find_object(s->body.data, "LastEvaluatedKey");
			if (start_key)
			{
				scan_request(multi, s, (int) (s - seg), table, segments, limit, start_key);
				running++;
				free(start_key);
			}
		}
		if (running)
			curl_multi_poll(multi, NULL, 0, 1000, NULL);
	} while (running);

	for (i = 0; i < segments; i++)
	{
		items += seg[i].items;
		requests += seg[i].requests;
		curl_slist_free_all(seg[i].headers);
		free(seg[i].payload);
		free(seg[i].body.data);
		curl_easy_cleanup(seg[i].handle);
	}
	curl_multi_cleanup(multi);
	free(seg);
	printf("%ld items, %ld requests\n", items, requests);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *arn;
	int			page_size;
	Body		body = {0};
	char		payload[4096];
	char	  **shards = NULL;
	int			nshards = 0;
	char	   *start = NULL;
	long		records = 0;
	int			i;

	bool		scan = argc > 1 && strcmp(argv[1], "--scan") == 0;

	if (scan)
		argc--, argv++;
	if (argc < 3 || (scan && argc < 4) || strstr(argv[1], "://") == NULL)
	{
		fprintf(stderr, "usage: floor ENDPOINT STREAM_ARN [PAGE_SIZE]\n"
				"       floor --scan ENDPOINT TABLE SEGMENTS [LIMIT]\n");
		return 2;
	}
	endpoint = argv[1];
	snprintf(host, sizeof(host), "%.*s", (int) strcspn(strstr(endpoint, "://") + 3, "/"),
			 strstr(endpoint, "://") + 3);
	curl_global_init(CURL_GLOBAL_ALL);
	if (scan)
		return scan_floor(argv[2], atoi(argv[3]), argc > 4 ? atoi(argv[4]) : 0);

	arn = argv[2];
	page_size = argc > 3 ? atoi(argv[3]) : 1000;
	curl = curl_easy_init();
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);

	/* every shard, following the pagination */
	do
	{
		const char *p;

		if (start)
			snprintf(payload, sizeof(payload), "{\"StreamArn\":\"%s\",\"Limit\":100,\"ExclusiveStartShardId\":\"%s\"}", arn, start);
		else
			snprintf(payload, sizeof(payload), "{\"StreamArn\":\"%s\",\"Limit\":100}", arn);
		post("DynamoDBStreams_20120810.DescribeStream", payload, &body);
		for (p = body.data; (p = strstr(p, "\"ShardId\":\"")) != NULL; p++)
		{
			shards = realloc(shards, sizeof(char *) * (nshards + 1));
			shards[nshards++] = find_string(body.data, "ShardId", p);
		}
		free(start);
		start = find_string(body.data, "LastEvaluatedShardId", NULL);
	} while (start);

	for (i = 0; i < nshards; i++)
	{
		char	   *iterator;
		long		shard_records = 0;

		snprintf(payload, sizeof(payload), "{\"StreamArn\":\"%s\",\"ShardId\":\"%s\",\"ShardIteratorType\":\"TRIM_HORIZON\"}", arn, shards[i]);
		post("DynamoDBStreams_20120810.GetShardIterator", payload, &body);
		iterator = find_string(body.data, "ShardIterator", NULL);
		while (iterator)
		{
			long		n;

			snprintf(payload, sizeof(payload), "{\"ShardIterator\":\"%s\",\"Limit\":%d}", iterator, page_size);
			post("DynamoDBStreams_20120810.GetRecords", payload, &body);
			free(iterator);
			n = count(body.data, "\"SequenceNumber\"");
			records += n;
			iterator = find_string(body.data, "NextShardIterator", NULL);
			/* the scan's rule: an empty page after records means caught up */
			if (n == 0 && shard_records > 0)
			{
				free(iterator);
				iterator = NULL;
			}
			shard_records += n;
		}
	}
	printf("%ld\n", records);
	curl_easy_cleanup(curl);
	return 0;
}
