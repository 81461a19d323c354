/*
 * url.c
 *    Redact the credentials of a URL for display; see url.h.  One pass over
 *    the text: scheme and authority (userinfo out), path as is, then the
 *    query and the fragment pair by pair.  The output is written as
 *    snprintf writes, so a short buffer cuts the redacted text, never the
 *    original one.
 *
 *    Users: stages/fetch.c (the file's URL), etl/http.c (its messages),
 *    etl/status.c (what it prints).
 */
#include "url.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "text.h"

/* What a secret becomes. */
#define URL_MASK "***"

const char *const etl_url_secret_params[] = {
    "token", "access_token", "key", "apikey", "api_key", "password", "passwd",
    "secret", "signature", "sig", "auth", NULL
};

/* The output: 'len' counts every byte asked for, 'size' bounds what is stored. */
struct url_out {
    char *p;
    size_t size;
    size_t len;
};

/* Append n bytes of 's', as far as they fit (one byte kept for the NUL). */
static void
out_put(struct url_out *o, const char *s, size_t n)
{
    if (o->size > 0 && o->len < o->size - 1) {
        size_t room = o->size - 1 - o->len;

        memcpy(o->p + o->len, s, n < room ? n : room);
    }
    o->len += n;
}

/*
 * Whether the parameter name [s, s+n), percent-decoded, is one of 'names'
 * (ASCII case ignored).  A name longer than ETL_URL_PARAM_MAX once decoded
 * matches nothing.
 */
static bool
url_name_secret(const char *s, size_t n, const char *const *names)
{
    char dec[ETL_URL_PARAM_MAX + 1];
    size_t k = 0;

    for (size_t i = 0; i < n; i++) {
        char c = s[i];

        if (c == '%' && i + 2 < n && etl_text_hexval(s[i + 1]) >= 0 && etl_text_hexval(s[i + 2]) >= 0) {
            c = (char)(etl_text_hexval(s[i + 1]) * 16 + etl_text_hexval(s[i + 2]));
            i += 2;
        } else if (c == '+') {
            c = ' ';
        }
        if (k == ETL_URL_PARAM_MAX || c == '\0') {
            return false;
        }
        dec[k++] = c;
    }
    dec[k] = '\0';
    for (size_t j = 0; names[j] != NULL; j++) {
        if (strcasecmp(dec, names[j]) == 0) {
            return true;
        }
    }
    return false;
}

/*
 * The pairs of a query or fragment [s, e), split at '&', ';' and '?' (a
 * route in a fragment, a URL in a value): secret values masked.
 */
static void
url_pairs(struct url_out *o, const char *s, const char *e, const char *const *names)
{
    while (s < e) {
        const char *end = s, *eq;

        while (end < e && *end != '&' && *end != ';' && *end != '?') {
            end++;
        }
        eq = memchr(s, '=', (size_t)(end - s));
        if (eq != NULL && url_name_secret(s, (size_t)(eq - s), names)) {
            out_put(o, s, (size_t)(eq + 1 - s));
            out_put(o, URL_MASK, strlen(URL_MASK));
        } else {
            out_put(o, s, (size_t)(end - s));
        }
        if (end < e) {
            out_put(o, end, 1);         /* the separator */
            end++;
        }
        s = end;
    }
}

/* The length of "scheme://" at the start of 'url', 0 when there is none. */
static size_t
url_scheme_len(const char *url)
{
    const char *p = url;

    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))) {
        return 0;
    }
    while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
           (*p >= '0' && *p <= '9') || *p == '+' || *p == '-' || *p == '.') {
        p++;
    }
    return strncmp(p, "://", 3) == 0 ? (size_t)(p - url) + 3 : 0;
}

/* Redact with 'names'; see url.h. */
size_t
etl_url_redact_names(const char *url, const char *const *names, char *out, size_t size)
{
    struct url_out o = { .p = out, .size = size, .len = 0 };
    size_t scheme = url_scheme_len(url);
    const char *p = url + scheme, *q, *e;

    if (names == NULL) {
        names = etl_url_secret_params;
    }
    out_put(&o, url, scheme);
    if (scheme > 0) {
        const char *auth_end = p + strcspn(p, "/?#");
        const char *at = NULL;

        for (q = p; q < auth_end; q++) {
            if (*q == '@') {
                at = q;
            }
        }
        if (at != NULL) {
            out_put(&o, URL_MASK "@", strlen(URL_MASK) + 1);
            p = at + 1;
        }
    }
    /* host, port and path, as they are */
    q = p + strcspn(p, "?#");
    out_put(&o, p, (size_t)(q - p));
    if (*q == '?') {
        out_put(&o, q, 1);
        q++;
        e = q + strcspn(q, "#");
        url_pairs(&o, q, e, names);
        q = e;
    }
    if (*q == '#') {
        out_put(&o, q, 1);
        q++;
        url_pairs(&o, q, q + strlen(q), names);
    }
    if (size > 0) {
        out[o.len < size ? o.len : size - 1] = '\0';
    }
    return o.len;
}

/* Redact with the default names; see url.h. */
size_t
etl_url_redact(const char *url, char *out, size_t size)
{
    return etl_url_redact_names(url, NULL, out, size);
}

/* Redact into a new string; see url.h. */
char *
etl_url_redact_dup(const char *url, const char *const *names)
{
    size_t n = etl_url_redact_names(url, names, NULL, 0);
    char *s = malloc(n + 1);

    if (s != NULL) {
        etl_url_redact_names(url, names, s, n + 1);
    }
    return s;
}
