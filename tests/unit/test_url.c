/*
 * test_url.c
 *    URL redaction (etl/url.c): userinfo with and without a password, secret
 *    query parameters (default and given names, twice, encoded, any case),
 *    fragments, no query, IPv6 hosts, texts that are no URL, that a
 *    redacted URL redacts to itself, and a short output buffer that cuts
 *    the redacted text (never a secret) as snprintf would.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etl/url.h"

/* Redact 'in' with 'names' (NULL: defaults); must give 'want', also again. */
static void
check_names(const char *in, const char *const *names, const char *want)
{
    char out[512], again[512];
    size_t n = etl_url_redact_names(in, names, out, sizeof(out));

    assert_string_equal(out, want);
    assert_int_equal(n, strlen(want));
    etl_url_redact_names(out, names, again, sizeof(again));
    assert_string_equal(again, want);
}

static void
check(const char *in, const char *want)
{
    check_names(in, NULL, want);
}

static void
test_userinfo(void **state)
{
    (void)state;
    check("http://user:pw@127.0.0.1:8080/x.csv", "http://***@127.0.0.1:8080/x.csv");
    check("https://user@host/x.csv", "https://***@host/x.csv");
    check("https://:pw@host/", "https://***@host/");
    check("https://@host/", "https://***@host/");
    /* an unencoded '@' in the password: the last one before the path ends it */
    check("https://u:p@ss@host/a@b", "https://***@host/a@b");
    /* '@' in the path or query alone is no userinfo */
    check("https://host/users/@me?to=a@b", "https://host/users/@me?to=a@b");
    check("https://host?x=a@b", "https://host?x=a@b");
    check("HTTPS://U:P@Host", "HTTPS://***@Host");
}

static void
test_query(void **state)
{
    (void)state;
    check("https://host/x.csv?token=s3cr3t", "https://host/x.csv?token=***");
    check("https://host/x.csv?year=2021&token=s3cr3t&p=gd",
          "https://host/x.csv?year=2021&token=***&p=gd");
    check("https://host/x?access_token=a&key=b&apikey=c&api_key=d&password=e&passwd=f"
          "&secret=g&signature=h&sig=i&auth=j",
          "https://host/x?access_token=***&key=***&apikey=***&api_key=***&password=***"
          "&passwd=***&secret=***&signature=***&sig=***&auth=***");
    /* a secret parameter twice: both values */
    check("https://host/x?token=a&y=1&token=b", "https://host/x?token=***&y=1&token=***");
    /* names in any case; ';' separates too; empty values */
    check("https://host/x?Token=a;API_KEY=b&sig=", "https://host/x?Token=***;API_KEY=***&sig=***");
    /* names that only look alike stay */
    check("https://host/x?tokens=a&mytoken=b&token_type=c&keyword=d",
          "https://host/x?tokens=a&mytoken=b&token_type=c&keyword=d");
    /* a name without '=', empty pairs */
    check("https://host/x?token&&=v&token==x", "https://host/x?token&&=v&token=***");
    /* a URL in a value: its own query is looked at too */
    check("https://host/x?next=/a?token=b&c=d", "https://host/x?next=/a?token=***&c=d");
    /* a value with '=' and encoded bytes is masked whole */
    check("https://host/x?token=a%3Db=c%26d&n=1", "https://host/x?token=***&n=1");
}

static void
test_encoded(void **state)
{
    (void)state;
    /* the name is compared decoded */
    check("https://host/x?to%6Ben=a&api%5Fkey=b&%4B%45%59=c",
          "https://host/x?to%6Ben=***&api%5Fkey=***&%4B%45%59=***");
    /* a bad escape is compared as it is */
    check("https://host/x?token%=a&%zztoken=b", "https://host/x?token%=a&%zztoken=b");
    /* encoded characters in userinfo and path */
    check("https://us%40er:p%3Aw@host/a%20b.csv", "https://***@host/a%20b.csv");
    /* a NUL by escape is no name */
    check("https://host/x?tok%00en=a", "https://host/x?tok%00en=a");
}

static void
test_fragment(void **state)
{
    (void)state;
    check("https://host/x.csv?token=a#part", "https://host/x.csv?token=***#part");
    check("https://host/x.csv#access_token=a&t=1", "https://host/x.csv#access_token=***&t=1");
    check("https://u:p@host#frag", "https://***@host#frag");
    /* '?' inside the fragment belongs to it */
    check("https://host/x#a?token=b", "https://host/x#a?token=***");
    /* '@' after the authority's end is no userinfo */
    check("https://host#u:p@x", "https://host#u:p@x");
}

static void
test_no_query(void **state)
{
    (void)state;
    check("https://host/x.csv", "https://host/x.csv");
    check("https://host", "https://host");
    check("https://host/x.csv?", "https://host/x.csv?");
    check("", "");
}

static void
test_ipv6(void **state)
{
    (void)state;
    check("http://[::1]:8080/x.csv?key=k", "http://[::1]:8080/x.csv?key=***");
    check("http://user:pw@[::1]:8080/x.csv", "http://***@[::1]:8080/x.csv");
    check("http://[fe80::1%25eth0]/x", "http://[fe80::1%25eth0]/x");
}

static void
test_not_a_url(void **state)
{
    (void)state;
    /* no scheme: no userinfo, but the query is still looked at */
    check("user:pw@host/x?token=a", "user:pw@host/x?token=***");
    check("1http://u:p@h/", "1http://u:p@h/");
    /* templates are redacted as text ({year} stays) */
    check("https://u:p@h/{year}/{p}.csv?token=t", "https://***@h/{year}/{p}.csv?token=***");
}

static void
test_names(void **state)
{
    static const char *const mine[] = { "client_secret", "X-Amz-Signature", NULL };
    static const char *const none[] = { NULL };

    (void)state;
    /* given names replace the defaults */
    check_names("https://u:p@h/x?key=gdp&client_secret=s&x-amz-signature=z",
                mine, "https://***@h/x?key=gdp&client_secret=***&x-amz-signature=***");
    /* an empty list: userinfo only */
    check_names("https://u:p@h/x?token=t", none, "https://***@h/x?token=t");
}

static void
test_short_buffer(void **state)
{
    const char *in = "https://user:pw@host/x?token=s3cr3t&y=2";
    const char *want = "https://***@host/x?token=***&y=2";
    char out[64];
    char *dup;

    (void)state;
    /* any cut is a prefix of the redacted text */
    for (size_t size = 0; size <= strlen(want) + 1; size++) {
        memset(out, 'Z', sizeof(out));
        assert_int_equal(etl_url_redact(in, out, size), strlen(want));
        if (size > 0) {
            assert_int_equal(strlen(out), size - 1 < strlen(want) ? size - 1 : strlen(want));
            assert_int_equal(strncmp(out, want, strlen(out)), 0);
        } else {
            assert_int_equal(out[0], 'Z');
        }
    }
    assert_int_equal(etl_url_redact(in, NULL, 0), strlen(want));
    dup = etl_url_redact_dup(in, NULL);
    assert_non_null(dup);
    assert_string_equal(dup, want);
    free(dup);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_userinfo),
        cmocka_unit_test(test_query),
        cmocka_unit_test(test_encoded),
        cmocka_unit_test(test_fragment),
        cmocka_unit_test(test_no_query),
        cmocka_unit_test(test_ipv6),
        cmocka_unit_test(test_not_a_url),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_short_buffer),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
