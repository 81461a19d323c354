/*
 * http_retry.c
 *    When a failed download is tried again: full-jitter exponential backoff
 *    and the server's Retry-After; see http.h.  Pure functions of their
 *    arguments (and the caller's seed), so the policy is tested without a
 *    server or a clock.
 */
#include "http.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

/* xorshift64*: enough randomness to spread retries (not for secrets). */
static uint64_t
rand_next(uint64_t *s)
{
    uint64_t x = *s != 0 ? *s : UINT64_C(0x9E3779B97F4A7C15);

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * UINT64_C(0x2545F4914F6CDD1D);
}

long
etl_http_backoff(long base_ms, long max_ms, int attempt, long retry_after_ms,
                 uint64_t *seed)
{
    long cap = base_ms > 0 ? base_ms : 0;

    if (retry_after_ms >= 0) {
        return retry_after_ms < max_ms ? retry_after_ms : max_ms;
    }
    for (int i = 1; i < attempt && cap < max_ms; i++) {
        cap *= 2;
    }
    if (cap > max_ms) {
        cap = max_ms;
    }
    if (cap <= 0) {
        return 0;
    }
    return (long)(rand_next(seed) % ((uint64_t)cap + 1));
}

long
etl_http_retry_after(const char *value, long long now)
{
    const char *p = value;
    time_t t;

    while (*p == ' ' || *p == '\t') {
        p++;
    }
    if (*p >= '0' && *p <= '9') {
        char *end;
        long long s;

        errno = 0;
        s = strtoll(p, &end, 10);
        while (*end == ' ' || *end == '\t') {
            end++;
        }
        if (*end != '\0') {
            return -1;
        }
        if (errno == ERANGE || s > 86400L * 365) {
            s = 86400L * 365;       /* capped later anyway */
        }
        return (long)s;
    }
    t = curl_getdate(p, NULL);
    if (t == (time_t)-1) {
        return -1;
    }
    return (long long)t <= now ? 0 : (long)((long long)t - now);
}
