/*-------------------------------------------------------------------------
 *
 * sigv4_test.c
 *		  Unit test of sigv4.c against AWS's published Signature Version 4
 *		  test suite ("aws-sig-v4-test-suite": credentials AKIDEXAMPLE,
 *		  date 20150830T123600Z, region us-east-1, service "service").
 *
 * The expected signatures are the suite's published values; botocore's
 * signer (Debian's python3-botocore) gives the same ones.  The DynamoDB case
 * at the end was cross-checked against botocore the same way.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <string.h>

#include "sigv4.h"

#define SUITE_KEY		"AKIDEXAMPLE"
#define SUITE_SECRET	"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define SUITE_DATE		"20150830T123600Z"
#define SUITE_HOST		"example.amazonaws.com"
#define SUITE_SCOPE		"Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request"

static int	passed;
static int	failed;

static void
check(const char *name, const char *actual, const char *expected)
{
	if (strcmp(actual, expected) == 0)
	{
		passed++;
		printf("ok %d - %s\n", passed + failed, name);
	}
	else
	{
		failed++;
		printf("not ok %d - %s\n#   expected: %s\n#   actual:   %s\n",
			   passed + failed, name, expected, actual);
	}
}

static void
check_case(const char *name, const char *method, const char *query,
		   const SigV4Header *headers, int nheaders, const char *payload,
		   const char *expected)
{
	SigV4Request req = {0};
	char		out[1024];

	req.method = method;
	req.path = "/";
	req.query = query;
	req.headers = headers;
	req.nheaders = nheaders;
	req.payload = (const unsigned char *) payload;
	req.payload_len = strlen(payload);
	req.region = "us-east-1";
	req.service = "service";
	req.amz_date = SUITE_DATE;
	req.access_key_id = SUITE_KEY;
	req.secret_access_key = SUITE_SECRET;
	if (sigv4_authorization(&req, out, sizeof(out)) != 0)
		strcpy(out, "<sigv4_authorization failed>");
	check(name, out, expected);
}

int
main(void)
{
	{
		SigV4Header h[] = {{"Host", SUITE_HOST}, {"X-Amz-Date", SUITE_DATE}};

		check_case("get-vanilla", "GET", "", h, 2, "",
				   "AWS4-HMAC-SHA256 " SUITE_SCOPE ", SignedHeaders=host;x-amz-date, "
				   "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
		check_case("post-vanilla", "POST", "", h, 2, "",
				   "AWS4-HMAC-SHA256 " SUITE_SCOPE ", SignedHeaders=host;x-amz-date, "
				   "Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
		check_case("get-vanilla-query-order-key-case", "GET", "Param2=value2&Param1=value1", h, 2, "",
				   "AWS4-HMAC-SHA256 " SUITE_SCOPE ", SignedHeaders=host;x-amz-date, "
				   "Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
	}
	{
		SigV4Header h[] = {{"Content-Type", "application/x-www-form-urlencoded"},
		{"Host", SUITE_HOST}, {"X-Amz-Date", SUITE_DATE}};

		check_case("post-x-www-form-urlencoded", "POST", "", h, 3, "Param1=value1",
				   "AWS4-HMAC-SHA256 " SUITE_SCOPE ", SignedHeaders=content-type;host;x-amz-date, "
				   "Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a");
	}
	{
		/* headers given out of order and in mixed case */
		SigV4Header h[] = {{"X-Amz-Date", SUITE_DATE}, {"My-Header2", " \"a   b   c\""},
		{"host", SUITE_HOST}, {"My-Header1", " value1"}};

		check_case("get-header-value-trim", "GET", "", h, 4, "",
				   "AWS4-HMAC-SHA256 " SUITE_SCOPE ", SignedHeaders=host;my-header1;my-header2;x-amz-date, "
				   "Signature=acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736");
	}
	{
		SigV4Header h[] = {{"Host", SUITE_HOST}, {"My-Header1", "value1"}, {"X-Amz-Date", SUITE_DATE}};

		check_case("post-header-key-sort", "POST", "", h, 3, "",
				   "AWS4-HMAC-SHA256 " SUITE_SCOPE ", SignedHeaders=host;my-header1;x-amz-date, "
				   "Signature=c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c");
	}
	{
		/* The suite's get-vanilla canonical request and string to sign. */
		SigV4Header h[] = {{"Host", SUITE_HOST}, {"X-Amz-Date", SUITE_DATE}};
		SigV4Request req = {0};
		char		out[1024];

		req.method = "GET";
		req.path = "/";
		req.headers = h;
		req.nheaders = 2;
		req.region = "us-east-1";
		req.service = "service";
		req.amz_date = SUITE_DATE;
		req.access_key_id = SUITE_KEY;
		req.secret_access_key = SUITE_SECRET;
		sigv4_canonical_request(&req, out, sizeof(out));
		check("get-vanilla canonical request", out,
			  "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
			  "host;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
		sigv4_string_to_sign(&req, out, sizeof(out));
		check("get-vanilla string to sign", out,
			  "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
			  "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
		/* too small a buffer fails instead of truncating */
		check("small buffer refused",
			  sigv4_authorization(&req, out, 40) == -1 ? "refused" : "accepted", "refused");
	}
	{
		/* A DynamoDB Streams request as ddbstream_fdw sends it. */
		static const char body[] = "{\"StreamArn\":\"arn:aws:dynamodb:us-east-1:123456789012:table/Phones/stream/2024-01-01T00:00:00.000\"}";
		SigV4Header h[] = {{"host", "streams.dynamodb.us-east-1.amazonaws.com"},
		{"content-type", "application/x-amz-json-1.0"},
		{"x-amz-date", SUITE_DATE},
		{"x-amz-target", "DynamoDBStreams_20120810.DescribeStream"},
		{"x-amz-security-token", "FQoGZXIvYXdzEXAMPLETOKEN"}};
		SigV4Request req = {0};
		char		out[1024];

		req.method = "POST";
		req.path = "/";
		req.query = "";
		req.headers = h;
		req.nheaders = 5;
		req.payload = (const unsigned char *) body;
		req.payload_len = strlen(body);
		req.region = "us-east-1";
		req.service = "dynamodb";
		req.amz_date = SUITE_DATE;
		req.access_key_id = SUITE_KEY;
		req.secret_access_key = SUITE_SECRET;
		sigv4_authorization(&req, out, sizeof(out));
		check("dynamodb streams request with session token", out,
			  "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/dynamodb/aws4_request, "
			  "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, "
			  "Signature=0ba798ab6bd1c2ee231bfbb9c70634ea59629096dea13f6b71cf08eec5d01542");
	}

	printf("%d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
