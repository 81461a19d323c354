/*
 * url.h
 *    URLs as they may be shown: credentials taken out.  A source URL may
 *    carry a secret -- "user:password@" before the host, or a query
 *    parameter such as "?token=..." -- that must reach the server and
 *    nobody else: not the log, not `ewc-etl status`, not the ledger, not
 *    the analysts' views.  The fetch (etl/http.c) uses the real URL; every
 *    other place uses the redacted one: after the scheme's "://",
 *
 *        me:pw@host/x.csv?year=2021&token=abc#p
 *     -> ***@host/x.csv?year=2021&token=***#p
 *
 *    stages/fetch.c redacts each URL once, with its stage's secret_params,
 *    and hands the redacted form on as the file's URL (ledger, logs);
 *    etl/http.c and etl/status.c redact what they print as a safeguard.
 */
#ifndef ETL_URL_H
#define ETL_URL_H

#include <stddef.h>
#include "err.h"

/* Longest parameter name compared with the secret names (after decoding). */
#define ETL_URL_PARAM_MAX 64

/*
 * The default names of secret query parameters, NULL-terminated: token,
 * access_token, key, apikey, api_key, password, passwd, secret, signature,
 * sig, auth.
 */
extern const char *const etl_url_secret_params[];

/*
 * Write 'url' redacted into 'out' ('size' bytes, NUL-terminated unless
 * 'size' is 0), as snprintf does: returns the length of the whole redacted
 * text, so a result >= size means it was cut (a cut text is a prefix of the
 * redacted one: it never holds any part of a secret).
 *
 *   - userinfo: everything between "scheme://" and the last '@' before the
 *     end of the authority (the first '/', '?' or '#') becomes "***"
 *     ("user@" too: a user name alone may be a token);
 *   - query and fragment: the value of each "name=value" pair (split at
 *     '&', ';' and '?') whose name, percent-decoded, equals one of 'names' in
 *     any case becomes "***"; a name without '=' has nothing to hide;
 *   - the rest, the host (IPv6 "[::1]" included), port and path, is copied
 *     as is.
 *
 * 'names' is a NULL-terminated list; NULL means etl_url_secret_params, an
 * empty list only userinfo.  A text that is not "scheme://..." has no
 * userinfo but its query is still redacted.  The result redacts again to
 * itself.  O(length of url x number of names); no allocation.
 */
size_t etl_url_redact_names(const char *url, const char *const *names, char *out,
                            size_t size);

/* etl_url_redact_names with the default names. */
size_t etl_url_redact(const char *url, char *out, size_t size);

/*
 * The redacted form in a new string (free() it); NULL when out of memory.
 * 'names' as for etl_url_redact_names.
 */
char *etl_url_redact_dup(const char *url, const char *const *names) ETL_MUSTCHECK;

#endif
