#!/usr/bin/python3
"""tests/data/xlsx/make.py -- write book.xlsx, the workbook test_xlsx.c reads,
with openpyxl (Debian python3-openpyxl), as a real writer lays it out:
shared strings for every text, numbers as repr() gives them, an error cell,
a boolean, merged cells, two sheets with Chinese names.

    cd tests/data/xlsx && /usr/bin/python3 make.py   (Debian's python, which has openpyxl)

The edge cases openpyxl cannot write (342.30000000000001, inline strings,
cells without r, rich text, broken XML) are built by test_xlsx.c itself.
"""
import datetime
import openpyxl

wb = openpyxl.Workbook()
ws = wb.active
ws.title = "汇总"
ws["A1"] = "地区"
ws["B1"] = "2021年"
ws.merge_cells("B1:C1")
ws["D1"] = "备注"
ws["B2"] = "引导企业(家)"
ws["C2"] = "投资(亿元)"
ws["A3"] = "全国"
ws["B3"] = 2193
ws["C3"] = 342.3
ws["D3"] = "#N/A"                      # openpyxl writes an error cell (t="e")
ws["A4"] = "广东"
ws["B4"] = True
ws["C4"] = 0.000123
ws["D4"] = "a & <b>\r\nline"
ws["B6"] = "b"                          # row 5 absent, A and C empty
ws["D6"] = "d"
ws["A7"] = 1005400000000
ws["B7"] = -5
ws["C7"] = 1e20
ws["A8"] = "合计"
ws.merge_cells("A8:A9")                 # a label merged down two rows
ws["B8"] = 1
ws["B9"] = 2

ws2 = wb.create_sheet("分省")
ws2["A1"] = "省份"
ws2["B1"] = "数值"
ws2["A2"] = "四川"
ws2["B2"] = 926.3

# keep the file the same from run to run
wb.properties.created = datetime.datetime(2022, 1, 1)
wb.properties.modified = datetime.datetime(2022, 1, 1)
wb.save("book.xlsx")
