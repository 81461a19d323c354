#!/usr/bin/python3
"""tests/data/xls/make.py -- write book.xls, the BIFF8 workbook test_xls.c
reads, with xlwt (Debian python3-xlwt; run with /usr/bin/python3):

    cd tests/data/xls && /usr/bin/python3 make.py

Two sheets with Chinese names; text, integers, floating point (342.3,
0.000123, 1e20), a date, a row with gaps, an absent row, a merged header.
"""
import datetime
import xlwt

wb = xlwt.Workbook(encoding="utf-8")
ws = wb.add_sheet("汇总")
ws.write(0, 0, "地区")
ws.write_merge(0, 0, 1, 2, "2021年")         # B1:C1
ws.write(0, 3, "备注")
ws.write(1, 1, "引导企业(家)")
ws.write(1, 2, "投资(亿元)")
ws.write(2, 0, "全国")
ws.write(2, 1, 2193)
ws.write(2, 2, 342.3)
ws.write(2, 3, "说明")
ws.write(3, 0, "广东")
ws.write(3, 1, 0.000123)
ws.write(3, 2, 1e20)
ws.write(3, 3, -5)
ws.write(5, 1, "b")                           # row 5 absent; B and D only
ws.write(5, 3, "d")
ws.write(6, 0, 1005400000000)
ws.write(6, 1, datetime.date(2021, 6, 30),
         xlwt.easyxf(num_format_str="YYYY-MM-DD"))

ws2 = wb.add_sheet("分省")
ws2.write(0, 0, "省份")
ws2.write(0, 1, "数值")
ws2.write(1, 0, "四川")
ws2.write(1, 1, 926.3)

wb.save("book.xls")
