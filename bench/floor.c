/*-------------------------------------------------------------------------
 *
 * floor.c
 *		  The benchmark's floor: the same DescribeStream, GetShardIterator and
 *		  GetRecords requests a scan makes, signed the same way over one
 *		  reused libcurl handle, with the bodies discarded.  What is left is
 *		  what the emulator and the network cost.
 *
 *   bench/floor ENDPOINT STREAM_ARN [PAGE_SIZE]     prints the records read
 *
 * Records are counted by "SequenceNumber" occurrences; the next iterator is
 * found by searching the body, not by parsing it.
 *
 *-------------------------------------------------------------------------
 */
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

static void
post(const char *target, const char *payload, Body *body)
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

	if (argc < 3)
	{
		fprintf(stderr, "usage: %s ENDPOINT STREAM_ARN [PAGE_SIZE]\n", argv[0]);
		return 2;
	}
	endpoint = argv[1];
	arn = argv[2];
	page_size = argc > 3 ? atoi(argv[3]) : 1000;
	snprintf(host, sizeof(host), "%.*s", (int) strcspn(strstr(endpoint, "://") + 3, "/"),
			 strstr(endpoint, "://") + 3);

	curl_global_init(CURL_GLOBAL_ALL);
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
