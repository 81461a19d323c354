#!/usr/bin/env python3
"""gen.py -- generate an N-row indicator CSV for the benchmark.

    gen.py N OUT.csv [--clean CLEAN.csv] [--wide WIDE.csv] [--sum SUM.txt]
           [--revised] [--seed S] [--catalog indicators.yaml]

OUT.csv is in the default layout, UTF-8, as a statistics office would
publish it:

    地区,结对地区,指标,时期,数值,单位,备注
    广东,广西,吸纳脱贫劳动力就业,2021,926.3万,人,

Every row has its own (region, partner, indicator, period) key.  The keys
come in blocks, each used up before the next, so that a smaller N is a
prefix of a larger one:

  1. periods over years, half-years, quarters, months and year ranges from
     1990 to 2039; regions over the 31 provinces and the nation, pair
     figures over the east-west pairs of the period (2016-2020 and 2021-
     stages): 1,373,256 keys;
  2. the same periods for the prefecture-level divisions of
     config/catalog/regions.yaml (those without valid_from / valid_to);
  3. cumulative months (2021年1-7月: the ones that are not a quarter,
     half or year) of 1990 to 2039, for every region and pair;
  4. every kind of period that ends in 2040 to 2100 (validate's default
     max_year), ranges from 1990 on, for every region and pair.

That is 12,215,088 keys (36 prefectures).  Values are random but plausible for their
unit, written with 万/亿 multipliers, thousands separators and the odd
lower-bound qualifier (多).  Their order of magnitude is the catalog's
(magnitude: of config/catalog/indicators.yaml, read here), scaled as
normalize's plausibility check scales it (stages/plausible.c: the period's
length, a province a thirtieth of the nation), spread over a factor of 10
either way: a file far off it would be refused as a whole.

--clean writes the same rows as ewc-etl should store them, as CSV for
`\\copy warehouse.observation (indicator, region, partner, period_kind,
period_start, period_end, value, unit, qualifier, raw_value, note,
source_id, file_id, run_id, line)`: the psql baseline of tests/bench/run.

--wide writes the same observations as a wide table, one record per
(region, partner, period) and one value column per indicator, the value
cells as in OUT.csv; when N is not a multiple of the indicators, the last
record's remaining cells hold the missing marker "—", a figure the table
does not have (not blank: a workbook row ends at its last non-empty cell,
and the parse stage rejects a record shorter than the header):

    地区,结对地区,时期,引导企业投资(家),实际到位投资额,...
    全国,,1990,"12,345",3.2亿元,...

A column's unit is in its header's brackets; money columns have none, as
their cells carry it (亿元, 万元).  The notes of OUT.csv are not in it.
tests/bench/xlsx_gen.c makes the .xlsx of the bench from this file.

--sum writes "N SUM": the number of observations and the sum of their
canonical values, exact, which a load must reproduce in the database.

--revised writes the file as re-published with corrections (and the --clean
and --sum of that version): the same rows, but 1% of the values changed
(rows i with i % 100 == 37), rows i with i % 10007 == 5001 dropped, and
max(5, N / 10000) rows of the next keys added at the end.  The other rows
are byte for byte those of the first version.
"""

import argparse
import math
import os
import random
import re
import sys

CATALOG = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                       "..", "..", "config", "catalog", "indicators.yaml")
REGIONS_YAML = os.path.join(os.path.dirname(CATALOG), "regions.yaml")

# name -> GB/T 2260 code
REGIONS = [
    ("全国", "000000"),
    ("北京", "110000"), ("天津", "120000"), ("河北", "130000"),
    ("山西", "140000"), ("内蒙古", "150000"), ("辽宁", "210000"),
    ("吉林", "220000"), ("黑龙江", "230000"), ("上海", "310000"),
    ("江苏", "320000"), ("浙江", "330000"), ("安徽", "340000"),
    ("福建", "350000"), ("江西", "360000"), ("山东", "370000"),
    ("河南", "410000"), ("湖北", "420000"), ("湖南", "430000"),
    ("广东", "440000"), ("广西", "450000"), ("海南", "460000"),
    ("重庆", "500000"), ("四川", "510000"), ("贵州", "520000"),
    ("云南", "530000"), ("西藏", "540000"), ("陕西", "610000"),
    ("甘肃", "620000"), ("青海", "630000"), ("宁夏", "640000"),
    ("新疆", "650000"),
]
CODE = dict(REGIONS)

# province-level pairs (east, west) per stage: (first year, last year)
PAIRS_2016 = [("北京", "内蒙古"), ("天津", "甘肃"), ("上海", "云南"),
              ("江苏", "陕西"), ("浙江", "四川"), ("福建", "宁夏"),
              ("山东", "重庆"), ("广东", "广西")]
PAIRS_2021 = [("北京", "内蒙古"), ("天津", "甘肃"), ("上海", "云南"),
              ("江苏", "陕西"), ("江苏", "青海"), ("浙江", "四川"),
              ("福建", "宁夏"), ("山东", "重庆"), ("山东", "甘肃"),
              ("广东", "广西"), ("广东", "贵州")]

# (name in the file, code, unit column, canonical unit, kind of value)
INDICATORS = [
    ("引导企业投资", "enterprises_guided", "家", "enterprise", "count"),
    ("实际到位投资额", "investment_in_place", "", "CNY", "money"),
    ("共建产业园区", "industrial_parks_cobuilt", "个", "park", "count"),
    ("采购和帮助销售农副产品", "agri_products_sold", "", "CNY", "money"),
    ("吸纳脱贫劳动力就业", "poverty_labour_employed", "人", "person", "people"),
    ("劳务输出", "labour_export", "人次", "person_time", "people"),
    ("乡村振兴示范村", "demo_villages_started", "个", "village", "count"),
    ("财政援助资金", "fiscal_aid_funds", "", "CNY", "money"),
    ("财政援助和社会帮扶资金", "fiscal_social_funds", "", "CNY", "money"),
    ("无偿援助资金", "free_aid_funds", "", "CNY", "money"),
    ("企业投资", "enterprise_investment", "", "CNY", "money"),
    ("互派干部", "cadres_exchanged", "人", "person", "count"),
    ("专业技术人员", "technicians_exchanged", "人", "person", "count"),
    ("贫困县摘帽", "poor_counties_delisted", "个", "county", "count"),
    ("贫困村出列", "poor_villages_exited", "个", "village", "count"),
    ("贫困人口脱贫", "poor_people_lifted", "人", "person", "people"),
    ("结对学校", "paired_schools", "所", "school", "count"),
    ("结对医院", "paired_hospitals", "所", "hospital", "count"),
]


def year_periods(y):
    """(text, kind, start, end, first year, last year) of the year,
    half-years, quarters and months of year y."""
    out = [("%d" % y, "year", "%d-01-01" % y, "%d-01-01" % (y + 1), y, y),
           ("%dH1" % y, "half", "%d-01-01" % y, "%d-07-01" % y, y, y),
           ("%dH2" % y, "half", "%d-07-01" % y, "%d-01-01" % (y + 1), y, y)]
    for q in range(1, 5):
        m = 3 * q - 2
        end = "%d-%02d-01" % (y, m + 3) if q < 4 else "%d-01-01" % (y + 1)
        out.append(("%dQ%d" % (y, q), "quarter", "%d-%02d-01" % (y, m),
                    end, y, y))
    for m in range(1, 13):
        end = "%d-%02d-01" % (y, m + 1) if m < 12 else "%d-01-01" % (y + 1)
        out.append(("%d-%02d" % (y, m), "month", "%d-%02d-01" % (y, m),
                    end, y, y))
    return out


def cumulative_months(y):
    """2021年1-7月: January to month m, for the m that are not also a
    quarter, a half or the year (those would repeat a key)."""
    return [("%d年1-%d月" % (y, m), "months", "%d-01-01" % y,
             "%d-%02d-01" % (y, m + 1), y, y)
            for m in (2, 4, 5, 7, 8, 9, 10, 11)]


def year_range(a, b):
    return ("%d-%d" % (a, b), "range", "%d-01-01" % a, "%d-01-01" % (b + 1),
            a, b)


def periods():
    """Block 1: years 1990-2039 and their parts, then ranges within them."""
    out = []
    for y in range(1990, 2040):
        out += year_periods(y)
    for a in range(1990, 2040):
        for b in range(a + 1, 2040):
            out.append(year_range(a, b))
    return out


def prefectures(path):
    """Short names of the prefecture-level divisions of regions.yaml that
    are valid at every date (no valid_from, no valid_to), with their
    codes."""
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if "level: prefecture" not in line or "valid_" in line:
                continue
            code = re.search(r'code:\s*"(\d{6})"', line).group(1)
            name = re.search(r"short_zh:\s*([^,}\s]+)", line).group(1)
            out.append((name, code))
    return out


def keys(prefs):
    """(period, [(region, partner)]) in the order of the blocks of the
    module's doc."""
    provinces = [(r, "") for r, _ in REGIONS]
    cities = [(r, "") for r, _ in prefs]
    block1 = periods()
    for p in block1:
        yield p, provinces + pairs_for(p[4], p[5])
    for p in block1:
        yield p, cities
    everyone = provinces + cities
    for y in range(1990, 2040):
        for p in cumulative_months(y):
            yield p, everyone + pairs_for(p[4], p[5])
    for y in range(2040, 2101):
        for p in year_periods(y) + cumulative_months(y):
            yield p, everyone + pairs_for(p[4], p[5])
    for b in range(2040, 2101):
        for a in range(1990, b):
            p = year_range(a, b)
            yield p, everyone + pairs_for(a, b)


def pairs_for(first, last):
    """The pairs that existed for the whole of [first, last]."""
    if first >= 2021:
        return PAIRS_2021
    if first >= 2016 and last <= 2020:
        return PAIRS_2016
    return []


def magnitudes(path):
    """code -> (low, high): the catalog's plausible national figure of a
    year, in the canonical unit (the YAML's `magnitude: [low, high]`)."""
    out = {}
    code = None
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"\s*- code:\s*(\S+)", line)
            if m:
                code = m.group(1)
                continue
            m = re.match(r"\s*magnitude:\s*\[\s*([^,\]]+),\s*([^\]]+)\]", line)
            if m and code:
                out[code] = (float(m.group(1)), float(m.group(2)))
    return out


def middle(mag, months, level):
    """The middle of a figure's plausible range, as stages/plausible.c
    has it: the low end lowered for a shorter period, the high end raised
    for a longer one, a province's a thirtieth of the nation's, a
    prefecture's a thousandth."""
    years = months / 12.0
    lo = mag[0] * min(years, 1.0)
    hi = mag[1] * max(years, 1.0)
    mid = math.sqrt(lo * hi)
    return mid / {"nation": 1, "province": 30, "prefecture": 1000}[level]


def value(rng, kind, mid):
    """(text in the file, canonical value as text, qualifier): a figure
    within 10 times of 'mid' either way (or, without one, of 5000)."""
    v = (mid or 5000.0) * 10 ** rng.uniform(-1, 1)
    if kind == "money":
        # 亿元 with one decimal, or whole 万元 for the smaller ones
        if v >= 1e8:
            v10 = int(round(v / 1e7))
            return ("%d.%d亿元" % (v10 // 10, v10 % 10),
                    str(v10 * 10000000), "exact")
        w = max(1, int(round(v / 1e4)))
        return ("%d万元" % w, str(w * 10000), "exact")
    if kind == "people" and v >= 1e4:
        if rng.random() < 0.05:
            w = max(1, int(round(v / 1e4)))
            return ("%d多万" % w, str(w * 10000), "lower_bound")
        v10 = int(round(v / 1e3))
        return ("%d.%d万" % (v10 // 10, v10 % 10), str(v10 * 1000), "exact")
    v = max(1, int(round(v)))
    return ("{:,}".format(v), str(v), "exact")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("rows", type=int)
    ap.add_argument("out")
    ap.add_argument("--clean")
    ap.add_argument("--wide")
    ap.add_argument("--sum")
    ap.add_argument("--revised", action="store_true",
                    help="the re-published version: 1%% of the values "
                         "changed, a few rows dropped and added")
    ap.add_argument("--seed", type=int, default=2021)
    ap.add_argument("--catalog", default=CATALOG,
                    help="indicators.yaml, for the magnitudes")
    args = ap.parse_args()
    if args.revised and args.wide:
        sys.exit("gen.py: --wide and --revised do not go together")

    rng = random.Random(args.seed)
    # the changed values of --revised: their own stream, so that every
    # other row draws what it draws in the first version
    rng2 = random.Random(args.seed + 1)
    mags = magnitudes(args.catalog)
    prefs = prefectures(os.path.join(os.path.dirname(args.catalog),
                                     "regions.yaml"))
    code = dict(CODE)
    code.update(prefs)
    level = {r: "province" for r, _ in REGIONS}
    level["全国"] = "nation"
    level.update((r, "prefecture") for r, _ in prefs)
    added = max(5, args.rows // 10000) if args.revised else 0
    last = args.rows + added        # key index to stop at

    out = open(args.out, "w", encoding="utf-8", newline="")
    clean = open(args.clean, "w", encoding="utf-8", newline="") \
        if args.clean else None
    wide = open(args.wide, "w", encoding="utf-8", newline="") \
        if args.wide else None
    out.write("地区,结对地区,指标,时期,数值,单位,备注\n")
    if wide:
        wide.write("地区,结对地区,时期,%s\n" % ",".join(
            "%s(%s)" % (iname, ucol) if ucol else iname
            for iname, _, ucol, _, _ in INDICATORS))
    n = 0           # key index
    written = 0
    total = 0
    line = 1
    mids = {}       # (months, level) -> the middle of each indicator
    for period, regions in keys(prefs):
        ptext, pkind, pstart, pend, first, last_year = period
        y0, m0 = int(pstart[:4]), int(pstart[5:7])
        y1, m1 = int(pend[:4]), int(pend[5:7])
        months = (y1 * 12 + m1) - (y0 * 12 + m0)
        for region, partner in regions:
            lv = level[region]
            mid_of = mids.get((months, lv))
            if mid_of is None:
                mid_of = [middle(mags[icode], months, lv)
                          if icode in mags else None
                          for _, icode, _, _, _ in INDICATORS]
                mids[(months, lv)] = mid_of
            rcode = code[region]
            pcode = code[partner] if partner else ""
            cells = []
            for k, (iname, icode, ucol, unit, vkind) in enumerate(INDICATORS):
                if n >= last:
                    break
                vtext, vcanon, qual = value(rng, vkind, mid_of[k])
                if args.revised and n >= args.rows:
                    pass                    # an added row
                elif args.revised and n % 10007 == 5001:
                    n += 1                  # a dropped row
                    continue
                elif args.revised and n % 100 == 37:
                    while True:             # a changed value
                        v2 = value(rng2, vkind, mid_of[k])
                        if v2[1] != vcanon:
                            break
                    vtext, vcanon, qual = v2
                raw = '"%s"' % vtext if "," in vtext else vtext
                cells.append(raw)
                total += int(vcanon)
                note = "估计" if n % 97 == 0 else ""
                out.write("%s,%s,%s,%s,%s,%s,%s\n" % (
                    region, partner, iname, ptext, raw, ucol, note))
                n += 1
                written += 1
                line += 1
                if clean:
                    clean.write("%s,%s,%s,%s,%s,%s,%s,%s,%s,\"%s\",%s,0,0,0,%d\n"
                                % (icode, rcode, pcode,
                                   pkind, pstart, pend, vcanon, unit, qual,
                                   vtext, note, line))
            if wide and cells:
                cells += ["—"] * (len(INDICATORS) - len(cells))
                wide.write("%s,%s,%s,%s\n" % (region, partner, ptext,
                                               ",".join(cells)))
            if n >= last:
                break
        if n >= last:
            break
    out.close()
    if clean:
        clean.close()
    if wide:
        wide.close()
    if args.sum:
        with open(args.sum, "w") as f:
            f.write("%d %d\n" % (written, total))
    if n < last:
        sys.exit("gen.py: only %d distinct keys available" % n)


if __name__ == "__main__":
    main()
