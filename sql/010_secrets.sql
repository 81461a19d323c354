-- 010_secrets.sql -- no credential in the ledger, nor in what analysts read.
--
-- A source URL may carry a secret: "user:password@" before the host, or a
-- query parameter such as "?token=...".  From this version on ewc-etl
-- stores every URL redacted (etl/url.h: userinfo -> "***@", the values of
-- the stage's secret_params -> "***") in ledger.source, ledger.file and
-- ledger.task, and its error texts name URLs only so.  The one view that
-- shows a URL to ewc_analyst, ewc.observation_named (its "source", from
-- ledger.source.url), therefore shows the redacted form with no change of
-- its own; ledger.unmatched is not granted to ewc_analyst.
--
-- The rows written before are redacted here the same way, with the default
-- names (token, access_token, key, apikey, api_key, password, passwd,
-- secret, signature, sig, auth; any case; names are not percent-decoded
-- here): userinfo of ledger.source.url, ledger.file.url and ledger.task.url,
-- and the same in the free texts ledger.file.error and ledger.run.error.
-- A stage whose secret_params differ from the defaults gets its own names
-- applied from its next run on; its older rows keep what this leaves.
--
-- A source is known by (pipeline, url).  Sources whose URLs differ only in
-- their secrets become one URL: the one loaded last (highest file_id, then
-- id) keeps it, and so its validators for the next conditional GET; each
-- other keeps its rows and observations under that URL followed by
-- "#ledger-source-<id>", as a source whose URL changed would.

CREATE FUNCTION ledger.redact_url_010(u text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT regexp_replace(substring(u FROM '^[^?#]*'),
                          '^([A-Za-z][A-Za-z0-9+.-]*://)[^/?#]*@', '\1***@')
        || regexp_replace(substring(u FROM '^[^?#]*(.*)$'),
                          '([?&;#](token|access_token|key|apikey|api_key|password|passwd'
                          '|secret|signature|sig|auth)=)[^&;?#]*', '\1***', 'gi')
$$;

-- In a free text: each "scheme://userinfo@" and each secret parameter; a
-- value ends at a space, a quote or a ':' before either ("GET <url>: ...").
CREATE FUNCTION ledger.redact_text_010(t text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT regexp_replace(
               regexp_replace(t, '([A-Za-z][A-Za-z0-9+.-]*://)[^/?#[:space:]"]*@',
                              '\1***@', 'g'),
               '([?&;#](token|access_token|key|apikey|api_key|password|passwd'
               '|secret|signature|sig|auth)=)[^&;?#[:space:]":]*(:[^&;?#[:space:]":]+)*',
               '\1***', 'gi')
$$;

CREATE TEMP TABLE source_redacted_010 ON COMMIT DROP AS
SELECT id, ledger.redact_url_010(url) AS shown,
       row_number() OVER (PARTITION BY pipeline, ledger.redact_url_010(url)
                          ORDER BY file_id DESC NULLS LAST, id DESC) AS n
FROM ledger.source;

-- first those that give their URL up, so that no two rows meet on the way
UPDATE ledger.source s SET url = r.shown || '#ledger-source-' || s.id
FROM source_redacted_010 r
WHERE r.id = s.id AND r.n > 1;

UPDATE ledger.source s SET url = r.shown
FROM source_redacted_010 r
WHERE r.id = s.id AND r.n = 1 AND s.url <> r.shown;

UPDATE ledger.file SET url = ledger.redact_url_010(url)
WHERE url <> ledger.redact_url_010(url);
UPDATE ledger.file SET error = ledger.redact_text_010(error)
WHERE error <> ledger.redact_text_010(error);
UPDATE ledger.task SET url = ledger.redact_url_010(url)
WHERE url <> ledger.redact_url_010(url);
UPDATE ledger.run SET error = ledger.redact_text_010(error)
WHERE error <> ledger.redact_text_010(error);

DROP FUNCTION ledger.redact_url_010(text);
DROP FUNCTION ledger.redact_text_010(text);

COMMENT ON COLUMN ledger.source.url IS
    'the source URL, redacted: no userinfo, no value of a secret query parameter '
    '(a source is known by its URL without credentials)';
COMMENT ON COLUMN ledger.file.url IS
    'the URL the file came from, redacted as ledger.source.url';
COMMENT ON COLUMN ewc.observation_named.source IS
    'the URL of the observation''s source, redacted: never a credential';
