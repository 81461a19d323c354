#!/bin/bash
# 46-page: `ewc-etl page` writes the status page, one HTML document from the
# database: recent runs, failed files with their error and a hint (a 404, a
# refused magnitude), rejects by reason, the coverage grid, the national
# series as inline SVG; every database text escaped, nothing fetched.
# Then headless Chromium renders it (screenshot) and parses it (DOM);
# CHROMIUM names another binary, and its absence skips that part.
. "$(dirname "$0")/../lib/env.sh"

re() {      # a text as an ERE
    printf '%s' "$1" | sed 's/[.[\*^$()+?{|]/\\&/g'
}

HEAD='地区,结对地区,指标,时期,数值,单位,备注'
cat >"$T/www/cov.csv" <<CSV
$HEAD
全国,,引导企业投资,2021,2193,家,
广东,,引导企业投资,2021,100,家,
广东,,引导企业投资,2022,120,家,
浙江,,引导企业投资,2022,130,家,
全国,,引导企业投资,2022年上半年,1127,家,
广东,,共建产业园区,2022,10,个,
北京,内蒙古,共建产业园区,2022,5,个,
火星,,引导企业投资,2022,1,家,
浙江,,共建产业园区,2022,l63,个,
CSV
# 342 yuan of investment in place: a 亿 lost on the way
cat >"$T/www/mag.csv" <<CSV
$HEAD
全国,,实际到位投资额,2021,342,元,
CSV

setup_all
cov=$EWC_SOURCE_URL/cov.csv
mag=$EWC_SOURCE_URL/mag.csv
gone="$EWC_SOURCE_URL/gone.csv?year=2021&kind=<all>"
write_pipeline --ratio 0.5 "$cov" "$mag" "$gone"
etl run
is_rc 4 "the run ends partial (a 404, a refused magnitude)"

page=$T/page.html
etl page -o "$page"
is_rc 0 "page -o FILE: exit 0"
is "$ETL_OUT" "" "nothing on stdout with -o"
html=$(cat "$page")

# --- the document ----------------------------------------------------------
like "$html" '^<!DOCTYPE html>' "an HTML document"
like "$html" '<meta charset="utf-8">' "its charset declared: UTF-8"
is "$(tail -c 8 "$page" | od -An -c | tr -s ' ')" " < / h t m l > \\n" "whole, to its end"
unlike "$html" '<script|<link|<img|<iframe|@import|url\(|src=|href="[^#]' \
       "no script and nothing fetched: no link, import, src or outside href"
unlike "$html" '[^a-z]nan[^a-z]|NaN|inf[^o]' "no NaN or infinity anywhere"

# --- runs and failed files -------------------------------------------------
like "$html" '<td class="n">1</td><td>indicators</td><td>manual</td><td class="s-partial">partial</td>' \
     "the run: its number, pipeline, kind and status (coloured)"
esc_gone='gone.csv?year=2021&amp;kind=&lt;all&gt;'
like "$html" "<td class=\"url\">[^<]*$(re "$esc_gone")</td><td class=\"n\">404</td>" \
     "the failed file's URL, escaped, and its HTTP status"
unlike "$html" 'kind=<all>' "no URL unescaped"
like "$html" "<td class=\"err\">GET [^<]*$(re "$esc_gone"): HTTP 404 Not Found</td><td class=\"hint\">The server refused the request or has no such file: check the URL" \
     "its error and the hint for an HTTP error"
like "$html" "<td class=\"err\">values of investment_in_place look about 100000000× too small for their periods and regions \(1 figures\): unit\?</td><td class=\"hint\">[^<]*Check the file&#39;s unit line" \
     "the refused magnitude: its error and the hint to check the unit line"
like "$html" 'not loaded since</td>' "a failed file not loaded since says so"

# --- rejects, coverage, charts ---------------------------------------------
like "$html" '<td class="err">unknown region &quot;…&quot;</td><td class="n">1</td><td class="n">1</td><td class="err">unknown region &quot;火星&quot;</td>' \
     "a reject reason, folded, with its example in Chinese, escaped"
like "$html" '<td class="err">invalid number &quot;…&quot;</td>' "another reason"
like "$html" '<tr><th>indicator</th><th>2021</th><th>2022</th><th>2022 H1</th></tr>' \
     "coverage: a column per period, years first, then halves"
like "$html" '<th>industrial_parks_cobuilt<br><small>共建产业园区</small></th><td class="missing">missing<small[^>]*>0/2 parts</small></td><td class="summed">summed' \
     "coverage: a missing cell (a year the catalog expects) and a summed one"
like "$html" '<th>enterprises_guided<br>.*<td class="reported">reported<small[^>]*>1/2 parts' \
     "coverage: a reported cell with its parts"
like "$html" '<svg class="chart" xmlns="http://www.w3.org/2000/svg" [^>]*aria-label="enterprises_guided, year">' \
     "a chart's svg element for an indicator's yearly series"
like "$html" '<title>2021: 2193 enterprise \(enterprises\)</title></rect>' \
     "its bar for 2021 with the exact value and the unit"
like "$html" 'aria-label="enterprises_guided, half">.*>2022 H1</text>' \
     "half-years get a chart of their own, labelled"
like "$html" 'aria-label="industrial_parks_cobuilt, year">.*<title>2021: no figure</title>' \
     "a year without a national figure is a gap in the chart"
is "$(grep -c '<svg class="chart"' "$page")" "3" "three charts: two series of enterprises_guided, one of parks"

# --- stdout, a fixed file, failures ------------------------------------------
etl page
is_rc 0 "page to stdout: exit 0"
like "$ETL_OUT" '^<!DOCTYPE html>.*aria-label="enterprises_guided, year".*</html>$' \
     "stdout gets the whole page"

# a client_encoding that cannot hold Chinese: the page is still UTF-8
PGCLIENTENCODING=LATIN1 etl page
is_rc 0 "client_encoding LATIN1: exit 0"
like "$ETL_OUT" '<small>共建产业园区</small>' "the page comes in UTF-8 all the same"

cp "$T/www/cov.csv" "$T/www/gone.csv"       # published after all
etl run
etl page -o "$page"
is_rc 0 "page after a second run: exit 0"
like "$(cat "$page")" "$(re "$esc_gone")</td><td class=\"n\">404</td>.*loaded since \(run 2\)" \
     "the 404 of run 1 says it loaded since, in run 2"
like "$(cat "$page")" '<td class="n">2</td><td>indicators</td>' "run 2 is listed"

cp "$page" "$T/page.before"
etl_raw -d "host=$PGHOST port=1 dbname=x" page -o "$page"
is_rc 1 "database unreachable: exit 1"
like "$ETL_ERR" "could not connect to the database" "the error says so"
ok "the page written before is left as it was" -- cmp -s "$page" "$T/page.before"
ok "no temporary file left" -- test ! -e "$page.tmp"
etl page -o "$T/no/such/dir/page.html"
is_rc 1 "a file that cannot be created: exit 1"
like "$ETL_ERR" "could not create \"$(re "$T")/no/such/dir/page\.html\.tmp\": No such file" \
     "the error names the file and why"
etl page --bogus
is_rc 2 "an unknown option: exit 2"
etl page extra
is_rc 2 "an argument: exit 2"
etl help page
like "$ETL_OUT" "Usage: ewc-etl page \[-o FILE\]" "help page"

# --- Chromium: rendered and parsed -------------------------------------------
skip() {    # skip N REASON: N tests skipped
    local i
    for ((i = 0; i < $1; i++)); do
        TAP_N=$((TAP_N + 1))
        echo "ok $TAP_N # skip $2"
    done
}
CHROMIUM=${CHROMIUM:-chromium}
if ! command -v "$CHROMIUM" >/dev/null; then
    skip 10 "$CHROMIUM is not installed (tests/install-deps installs chromium)"
    done_testing
fi
chrome() {
    timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run \
        --user-data-dir="$T/chromium" "$@" "file://$page"
}
chrome --screenshot="$T/page.png" --window-size=1200,2000 >"$T/chromium.out" 2>&1
is "$?" "0" "chromium --screenshot: exit 0"
size=$(stat -c %s "$T/page.png" 2>/dev/null || echo 0)
ok "the screenshot exists and is not trivial ($size bytes)" -- test "$size" -gt 20000
is "$(python3 - "$T/page.png" <<'PY'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "no PNG signature"
w, h = struct.unpack(">II", data[16:24])
idat, pos = b"", 8
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    if kind == b"IDAT":
        idat += data[pos + 8:pos + 8 + n]
    pos += 12 + n
print(w, h, "drawn" if len(set(zlib.decompress(idat))) > 16 else "blank")
PY
)" "1200 2000 drawn" "a PNG of 1200x2000 with something drawn on it"

dom=$(chrome --dump-dom 2>"$T/chromium.err")
is "$?" "0" "chromium --dump-dom: exit 0"
like "$dom" "$(re "$esc_gone")</td><td class=\"n\">404</td>" \
     "parsed: the failed file's URL (re-serialized escaped) and status"
like "$dom" 'HTTP 404 Not Found</td><td class="hint">The server refused the request' \
     "parsed: its error and hint"
like "$dom" "Check the file's unit line" "parsed: the magnitude hint, &#39; read as a quote"
like "$dom" '<td class="err">unknown region "火星"</td>' \
     "parsed: the reject's example, &quot; read as quotes, Chinese intact"
is "$(grep -o '<td class="missing">missing' <<<"$dom" | wc -l)" \
   "$(grep -o '<td class="missing">missing' "$page" | wc -l)" \
   "parsed: every missing coverage cell"
like "$dom" '<svg class="chart" xmlns="http://www.w3.org/2000/svg" [^>]*aria-label="enterprises_guided, year">' \
     "parsed: the chart's svg element"

done_testing
