#!/usr/bin/python3
"""reference.py -- what a user would write instead of ewc-etl: one Python
script (python3, psycopg2, PyYAML) that loads one indicator file of the
default layout into warehouse.observation.

    reference.py URL [--catalog DIR] [--sum SUM.txt]

Downloads URL (plain or gzip CSV, over HTTP), reads the columns
地区,结对地区,指标,时期,数值,单位,备注 and normalizes each row the way ewc-etl
does for that layout, as far as tests/bench/gen.py's files need it:

  * region and partner names (short or official name, English name,
    alternates, code) to GB/T 2260 codes, from config/catalog/regions.yaml
    (the bench's regions have no validity dates);
  * indicator names (name, aliases, code, English name) to codes, from
    indicators.yaml;
  * periods 2021, 2021H1, 2021Q3, 2021-06, 2021年1-7月 and 2012-2020 to
    their kind and [start, end);
  * values with thousands separators, 万 and 亿, the 多 qualifier and a
    money word (万元, 亿元) to the indicator's canonical unit (units.yaml:
    the unit column's word must be one of that unit's), exactly (Decimal).

It then COPYs the rows into warehouse.observation (source, file and run 0,
the line number of the file) in one transaction, streaming: the download is
read as the COPY consumes it.  A row it cannot read stops it (exit status
1): the bench's files have none.  Prints "ROWS SUM" (and writes them to
--sum), the count and the sum of the canonical values, for the bench to
compare with gen.py's.  Connection: libpq's PG* variables.
"""

import argparse
import codecs
import csv
import gzip
import io
import os
import re
import sys
import urllib.request
from decimal import Decimal

import psycopg2
import yaml

CATALOG = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                       "..", "..", "config", "catalog")

COLUMNS = ("indicator, region, partner, period_kind, period_start, "
           "period_end, value, unit, qualifier, raw_value, note, source_id, "
           "file_id, run_id, line")


def load_catalog(d):
    def read(name):
        with open(os.path.join(d, name), encoding="utf-8") as f:
            return yaml.load(f, Loader=yaml.CSafeLoader)

    regions = {}
    for r in read("regions.yaml")["regions"]:
        for k in ("code", "name_zh", "short_zh", "name_en"):
            if r.get(k):
                regions[str(r[k])] = str(r["code"])
        for a in r.get("alternates", []):
            regions[a] = str(r["code"])
    indicators = {}     # name -> (code, canonical unit)
    for i in read("indicators.yaml")["indicators"]:
        names = [i["code"], i["name_zh"], i["name_en"]] + i.get("aliases", [])
        for n in names:
            indicators[n] = (i["code"], i["unit"])
    units = read("units.yaml")
    kind = {u["code"]: u["kind"] for u in units["units"]}
    generic = {u["code"] for u in units["units"] if u.get("generic")}
    words = {}          # word -> ([unit codes], power of ten)
    for u in units["units"]:
        words[u["code"]] = ([u["code"]], 0)
    for w in units["words"]:
        us = w["unit"] if isinstance(w["unit"], list) else [w["unit"]]
        words[str(w["word"])] = (us, int(w["pow10"]))
    return regions, indicators, words, kind, generic


def month_start(y, m):
    """yyyy-mm-01 of month m of year y (m may be 13: January of y + 1)."""
    y += (m - 1) // 12
    m = (m - 1) % 12 + 1
    return "%04d-%02d-01" % (y, m)


PERIODS = [
    (re.compile(r"^(\d{4})$"),
     lambda y: ("year", month_start(int(y), 1), month_start(int(y), 13))),
    (re.compile(r"^(\d{4})H([12])$"),
     lambda y, h: ("half", month_start(int(y), 6 * int(h) - 5),
                   month_start(int(y), 6 * int(h) + 1))),
    (re.compile(r"^(\d{4})Q([1-4])$"),
     lambda y, q: ("quarter", month_start(int(y), 3 * int(q) - 2),
                   month_start(int(y), 3 * int(q) + 1))),
    (re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$"),
     lambda y, m: ("month", month_start(int(y), int(m)),
                   month_start(int(y), int(m) + 1))),
    (re.compile(r"^(\d{4})年1-(\d{1,2})月$"),
     lambda y, m: ("months", month_start(int(y), 1),
                   month_start(int(y), int(m) + 1))),
    (re.compile(r"^(\d{4})-(\d{4})$"),
     lambda a, b: ("range", month_start(int(a), 1), month_start(int(b), 13))),
]


def period(text, cache={}):
    p = cache.get(text)
    if p is None:
        for rx, f in PERIODS:
            m = rx.match(text)
            if m:
                p = f(*m.groups())
                break
        else:
            raise ValueError("invalid period %r" % text)
        cache[text] = p
    return p


VALUE = re.compile(r"^([0-9][0-9,]*(?:\.[0-9]+)?)(多|余)?(万|亿)?(.*)$")
MULT = {None: 0, "万": 4, "亿": 8}


def canonical(text, ucol, unit, words, kind, generic):
    """(canonical value as text, qualifier) of the value cell 'text' of an
    indicator in 'unit', the unit column holding 'ucol'."""
    m = VALUE.match(text)
    if not m:
        raise ValueError("invalid value %r" % text)
    digits, more, mult, word = m.groups()
    word = word or ucol
    pow10 = MULT[mult]
    if word:
        w = words.get(word)
        if w is None:
            raise ValueError("unknown unit %r" % word)
        us, p = w
        if unit not in us and not any(u in generic and kind[u] == kind[unit]
                                      for u in us):
            raise ValueError("unit %r is not one of %s" % (word, unit))
        pow10 += p
    v = Decimal(digits.replace(",", "")).scaleb(pow10)
    if v == v.to_integral_value():
        v = v.quantize(Decimal(1))
    return str(v), "lower_bound" if more else "exact"


def rows(url, catalog, stats):
    """The COPY lines (CSV) of the file at 'url'."""
    regions, indicators, words, kind, generic = catalog
    resp = urllib.request.urlopen(url)
    raw = resp
    head = resp.peek(2) if hasattr(resp, "peek") else b""
    if head[:2] == b"\x1f\x8b":
        raw = gzip.GzipFile(fileobj=resp)
    text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
    rd = csv.reader(text)
    header = next(rd)
    want = ["地区", "结对地区", "指标", "时期", "数值", "单位", "备注"]
    if header[:7] != want:
        raise ValueError("unexpected header %r" % header)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    n, total = 0, 0
    for line, rec in enumerate(rd, start=2):
        region, partner, ind, ptext, vtext, ucol, note = rec[:7]
        try:
            rcode = regions[region]
            pcode = regions[partner] if partner else ""
            icode, unit = indicators[ind]
            pkind, start, end = period(ptext)
            value, qual = canonical(vtext, ucol, unit, words, kind, generic)
        except (KeyError, ValueError) as e:
            raise SystemExit("reference.py: line %d: %s" % (line, e))
        w.writerow((icode, rcode, pcode, pkind, start, end, value, unit,
                    qual, vtext, note, 0, 0, 0, line))
        n += 1
        total += Decimal(value)
        if n % 4096 == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()
    stats.extend((n, total))


class Stream(io.RawIOBase):
    """A file psycopg2's copy_expert reads, over a generator of text."""

    def __init__(self, gen):
        self.gen = gen
        self.buf = b""

    def readable(self):
        return True

    def read(self, size=-1):
        while self.buf == b"" or (size > 0 and len(self.buf) < size):
            chunk = next(self.gen, None)
            if chunk is None:
                break
            self.buf += chunk.encode("utf-8")
        if size < 0 or size >= len(self.buf):
            out, self.buf = self.buf, b""
        else:
            out, self.buf = self.buf[:size], self.buf[size:]
        return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--catalog", default=CATALOG)
    ap.add_argument("--sum")
    args = ap.parse_args()

    catalog = load_catalog(args.catalog)
    stats = []
    conn = psycopg2.connect("")
    with conn:                          # one transaction
        with conn.cursor() as cur:
            cur.copy_expert("COPY warehouse.observation (%s) FROM STDIN "
                            "WITH (FORMAT csv)" % COLUMNS,
                            Stream(rows(args.url, catalog, stats)),
                            size=1 << 16)
    conn.close()
    line = "%d %s\n" % (stats[0], stats[1])
    sys.stdout.write(line)
    if args.sum:
        with open(args.sum, "w") as f:
            f.write(line)


if __name__ == "__main__":
    main()
