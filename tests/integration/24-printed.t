#!/bin/bash
# 24-printed: tables as agencies print them, through the real HTTP server
# into the real database, each figure checked exactly:
#   - the unit in the value column's header ("数值（万元）"), mapped with
#     columns: as an earlier error message invited: once loaded 10,000
#     times too small without a word;
#   - a printed wide table: title with its period, unit line, one column per
#     indicator with units in brackets, an of-which row, a 合计 row as the
#     national figure, footnotes kept as the file's notes, no rejects;
#   - the statistics portal's download: 数据库/指标/时间 lines, years as
#     columns, GBK-encoded;
#   - units that disagree are rejects naming both.
. "$(dirname "$0")/../lib/env.sh"

# 1. The unit in the value column's header.
cat >"$T/www/header-unit.csv" <<'CSV'
地区,指标,时期,数值（万元）
全国,实际到位投资额,2022年上半年,3423000
全国,实际投入财政援助资金,2022年上半年,2200000
CSV

# 2. A printed wide table.
cat >"$T/www/wide.csv" <<'CSV'
2021年东西部协作主要指标完成情况
单位：亿元、家、个

地区,新增引导企业(家),共建产业园区（个）,采购和帮助销售西部农副产品
北京,300,60,100
上海,400,80,150.5
江苏,200,40,0
其中：苏州,50,10,0
广东,1293,290,562.5
合计,2193,482,813
注：采购和帮助销售农副产品含消费帮扶。
数据来源：国家乡村振兴局
CSV

# 3. The statistics portal's download, in GBK.
printf '%s\n' "数据库：年度数据" "指标：互派干部(人)" "时间：最近3年" \
    "地区,2022年上半年,2021年,2020年" "全国,2448,,—" "数据来源：国家统计局" |
    iconv -f UTF-8 -t GBK >"$T/www/portal.csv"

# 4. Units that disagree.
cat >"$T/www/disagree.csv" <<'CSV'
单位：万元
地区,指标,时期,数值,单位
全国,无偿援助资金,1996—2011,78.6,亿元
全国,组织劳务输出,1996—2011,265,万人次
全国,引导企业到位资金,2021,5,亿元
CSV

# 5. An agency's workbook: a merged title, a unit line, a wide table of
#    provinces, 342.3 stored as a double, a second sheet chosen by name.
/usr/bin/python3 - "$T/www/book.xlsx" <<'PY'
import sys, openpyxl
wb = openpyxl.Workbook()
ws = wb.active
ws.title = "说明"
ws["A1"] = "本工作簿第二张表为分省数据"
ws = wb.create_sheet("分省")
ws.append(["2022年上半年东西部协作分省情况"])
ws.merge_cells("A1:C1")
ws.append(["单位：亿元、家"])
ws.append([])
ws.append(["地区", "实际到位投资额", "引导企业投资", "备注"])
ws.append(["北京", 100.2, 300])
ws.append(["江苏", 242.1, 827, "含苏州"])
ws.append(["合计", 342.3, 1127])
ws.append(["注：引导企业投资为新增引导企业数。"])
wb.save(sys.argv[1])
PY

# 5b. The older Excel format (.xls, BIFF8), a long table.
/usr/bin/python3 - "$T/www/old.xls" <<'PY'
import sys, xlwt
wb = xlwt.Workbook(encoding="utf-8")
ws = wb.add_sheet("数据")
for r, row in enumerate([["地区", "指标", "时期", "数值", "单位"],
                         ["全国", "无偿援助资金", "1996—2011", 78.6, "亿元"],
                         ["全国", "组织劳务输出", "1996—2011", 265, "万人次"]]):
    for c, v in enumerate(row):
        ws.write(r, c, v)
wb.save(sys.argv[1])
PY

# 6. An open-data portal's JSON, the records under data.list.
cat >"$T/www/portal.json" <<'JSON'
{"code": 0, "msg": "ok",
 "data": {"total": 2, "list": [
  {"region": "全国", "indicator": "结对学校", "period": "2021", "value": 824},
  {"region": "全国", "indicator": "结对医院", "period": "2021", "value": "582"}
 ]}}
JSON

# 8. A unit written nowhere: figures in 万元 read as yuan, 10,000 times too
#    small; the file is refused, nothing of it loaded.
cat >"$T/www/no-unit.csv" <<'CSV'
地区,指标,时期,数值
全国,实际到位投资额,2021年,6846000
广东,实际到位投资额,2021年,1200000
CSV

# 7. An HTML page where a file should be.
printf '<!DOCTYPE html>\n<html><body>请登录</body></html>\n' >"$T/www/login.csv"

url() { echo "$EWC_SOURCE_URL/$1"; }

setup_all
cat >"$T/pipeline.yaml" <<EOF
catalog: $REPO/config/catalog
spool: \${EWC_SPOOL}
pipelines:
  header_unit:
    stages:
      - { name: fetch, kind: http_fetch, urls: ["$(url header-unit.csv)"] }
      - { name: parse, kind: parse_csv, needs: [fetch], columns: { value: 数值（万元） } }
      - { name: normalize, kind: normalize, needs: [parse] }
      - { name: load, kind: pg_load, needs: [normalize] }
  printed:
    stages:
      - { name: fetch, kind: http_fetch,
          urls: ["$(url wide.csv)", "$(url portal.csv)", "$(url disagree.csv)"] }
      - { name: parse, kind: parse_csv, needs: [fetch] }
      - { name: normalize, kind: normalize, needs: [parse] }
      - { name: validate, kind: validate, needs: [normalize], max_reject_ratio: 1 }
      - { name: load, kind: pg_load, needs: [validate] }
  book:
    stages:
      - { name: fetch, kind: http_fetch, urls: ["$(url book.xlsx)"] }
      - { name: parse, kind: parse_csv, needs: [fetch], sheet: 分省 }
      - { name: normalize, kind: normalize, needs: [parse] }
      - { name: load, kind: pg_load, needs: [normalize] }
  portal:
    stages:
      - { name: fetch, kind: http_fetch,
          urls: ["$(url portal.json)", "$(url login.csv)", "$(url no-unit.csv)",
                 "$(url old.xls)"] }
      - { name: parse, kind: parse_csv, needs: [fetch], records: data.list }
      - { name: normalize, kind: normalize, needs: [parse] }
      - { name: load, kind: pg_load, needs: [normalize] }
EOF
etl check
is_rc 0 "check accepts the pipelines"
etl run
is_rc 4 "run loads, with rejects, and one file fails (the HTML page)"

nat() {
    q "select trim_scale(value) || '|' || source from ewc.national_period
        where indicator = '$1' and period_start = '$2' and period_end = '$3'"
}
is "$(nat investment_in_place 2022-01-01 2022-07-01)" "34230000000|reported" \
   "数值（万元） 3423000 is 342.3亿元, not 342.3万元"
is "$(nat fiscal_aid_funds 2022-01-01 2022-07-01)" "22000000000|reported" \
   "数值（万元） 2200000 is 220亿元"

is "$(nat enterprises_guided 2021-01-01 2022-01-01)" "2193|reported" \
   "wide table: the 合计 row is the national 2193 enterprises"
is "$(nat industrial_parks_cobuilt 2021-01-01 2022-01-01)" "482|reported" \
   "wide table: 482 parks"
is "$(nat agri_products_sold 2021-01-01 2022-01-01)" "81300000000|reported" \
   "wide table: 813亿元 from the unit line"
is "$(q "select trim_scale(value) from warehouse.observation
          where indicator = 'agri_products_sold' and region = '440000'")" "56250000000" \
   "wide table: 广东 562.5亿元"
is "$(q "select of_which from warehouse.observation
          where indicator = 'enterprises_guided' and region = '320500'")" "t" \
   "wide table: 其中：苏州 is an of-which row"
is "$(q "select rows_in, rows_loaded, rows_rejected from ledger.file
          where url = '$(url wide.csv)'")" "18|18|0" \
   "wide table: 6 records x 3 cells, no reject"
like "$(q "select notes from ledger.file where url = '$(url wide.csv)'")" \
   "单位：亿元、家、个.*注：采购.*数据来源：国家乡村振兴局" \
   "wide table: title, unit line and footnotes kept as the file's notes"
is "$(q "select r.indicator || '|' || trim_scale(r.national) || '|' || trim_scale(r.sum_of_regions)
          from ledger.reconcile r join ledger.file f on f.id = r.file_id
          where f.url = '$(url wide.csv)'")" "industrial_parks_cobuilt|482|470" \
   "wide table: the total is reconciled against the provinces, never added (482 vs 470)"

is "$(nat cadres_exchanged 2022-01-01 2022-07-01)" "2448|reported" \
   "portal download: 2,448 cadres in 2022 H1 from a GBK table with years as columns"
is "$(q "select count(*), count(value) from warehouse.observation o join ledger.source s
          on s.id = o.source_id where s.url = '$(url portal.csv)'")" "1|1" \
   "portal download: a blank cell and — are no figures, no rows, no rejects"

is "$(q "select line || ': ' || reason from ledger.reject r join ledger.file f
          on f.id = r.file_id where f.url = '$(url disagree.csv)' and r.unmatched is null
          order by line")" \
   '3: unit "亿元" of the unit column disagrees with "万元" of the unit line' \
   "units that disagree: a reject naming both"
is "$(nat labour_export 1996-01-01 2012-01-01)" "2650000|reported" \
   "a 万人次 unit column beside a 万元 unit line: the line's word does not fit, 265万人次"

is "$(nat investment_in_place 2022-01-01 2022-07-01)" "34230000000|reported" \
   "workbook: 342.3亿元 (a double in the sheet) as the 合计 of its second sheet, the same figure"
is "$(q "select trim_scale(value) from warehouse.observation o join ledger.source s
          on s.id = o.source_id where s.url = '$(url book.xlsx)'
          and indicator = 'enterprises_guided' and region = '000000'")" "1127" \
   "workbook: 1,127 enterprises in the 合计 row"
is "$(q "select rows_in, rows_loaded, rows_rejected from ledger.file
          where url = '$(url book.xlsx)'")" "6|6|0" \
   "workbook: 3 rows x 2 cells, the title, unit line and footnote are no rows; rows without a 备注 cell are whole"
like "$(q "select notes from ledger.file where url = '$(url book.xlsx)'")" \
   "2022年上半年东西部协作分省情况.*注：引导企业投资" "workbook: its title and footnote are notes"

is "$(q "select indicator || '=' || trim_scale(value) from warehouse.observation o
          join ledger.source s on s.id = o.source_id where s.url = '$(url old.xls)'
          order by indicator")" "$(printf '%s\n' free_aid_funds=7860000000 labour_export=2650000)" \
   ".xls: 78.6亿元 and 265万人次 from a BIFF8 workbook"

is "$(q "select indicator || '=' || trim_scale(value) from warehouse.observation o
          join ledger.source s on s.id = o.source_id where s.url = '$(url portal.json)'
          order by indicator")" "$(printf '%s\n' paired_hospitals=582 paired_schools=824)" \
   "JSON: the records under data.list, numbers as text"
like "$(q "select status || ': ' || error from ledger.file where url = '$(url login.csv)'")" \
   "^failed: .*login.csv, line 1: the file is an HTML page, not a data file; hint: the server" \
   "an HTML page served instead of a file is called that"

is "$(q "select status, rows_in, rows_loaded from ledger.file where url = '$(url no-unit.csv)'")" \
   "failed|2|0" "a file 10,000 times too small is refused, nothing of it loaded"
is "$(q "select error from ledger.file where url = '$(url no-unit.csv)'")" \
   "values of investment_in_place look about 10000× too small for their periods and regions (2 figures): unit?" \
   "... with the reason: unit?"

etl unmatched
is_rc 0 "unmatched runs"
is "$ETL_OUT" "$(printf 'column\tname\trows\tfiles\tdid you mean\turls\nindicator\t%s\t1\t1\t%s\t%s' \
    引导企业到位资金 "$(q "select suggestion from ledger.unmatched")" "$(url disagree.csv)")" \
   "unmatched: the unknown indicator, its count, file and suggestion"
like "$(q "select suggestion from ledger.unmatched")" "enterprises_guided" \
   "unmatched: the suggestion names the nearest entry"

done_testing
