/*
 * test_catalog.c
 *    The catalogs: the shipped files of config/catalog/ load, and their
 *    lookups give the right regions (names, abbreviations, English names,
 *    codes, old codes by date; foreign names and landforms not found),
 *    nicknames, indicators (aliases, bracketed units), units and unit words,
 *    and pairings.  Indicator names as people write them: every wording of
 *    the seed article, folded table headers, an ambiguous fold naming
 *    nothing, and the suggestions for misspelt names (none for garbage).  Every loading error is checked with its message and its
 *    file:line:col, on small catalogs written to a temporary directory;
 *    so are an indicator's expected years (years: [first, last]).
 *
 *    Run from the repository root (make unit does): the shipped catalog is
 *    read from config/catalog.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "etl/ewc/catalog.h"
#include "etl/ewc/period.h"
#include "etl/hash.h"

#define SHIPPED "config/catalog"

static struct etl_catalog *shipped;

static int
setup(void **state)
{
    struct etl_err err;

    (void)state;
    etl_err_clear(&err);
    shipped = etl_catalog_load(SHIPPED, &err);
    if (shipped == NULL) {
        char buf[1200];

        etl_err_format(&err, buf, sizeof(buf));
        fprintf(stderr, "cannot load %s: %s\n", SHIPPED, buf);
        return -1;
    }
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    etl_catalog_free(shipped);
    return 0;
}

/* ---- the shipped catalog ---------------------------------------------- */

static const char *
code_of(const char *name, int32_t date)
{
    const struct etl_region *r = etl_catalog_region(shipped, name, strlen(name), date);

    return r != NULL ? r->code : "(none)";
}

static void
test_region_names(void **state)
{
    static const char *const guangxi[] = {
        "广西壮族自治区", "广西", "桂", "Guangxi", "guangxi", "GUANGXI", "450000", NULL
    };
    static const char *const pairs[][2] = {
        { "川", "510000" }, { "蜀", "510000" }, { "黔", "520000" }, { "贵", "520000" },
        { "滇", "530000" }, { "云", "530000" }, { "陕", "610000" }, { "秦", "610000" },
        { "甘", "620000" }, { "陇", "620000" }, { "全国", "000000" }, { "中国", "000000" },
        { "China", "000000" }, { "000000", "000000" }, { "内蒙古", "150000" },
        { "内蒙", "150000" }, { "Inner Mongolia", "150000" }, { "蒙", "150000" },
        { "广元市", "510800" }, { "广元", "510800" }, { "银川市", "640100" },
        { "张家口", "130700" }, { "保定市", "130600" }, { "承德", "130800" },
        { "大连", "210200" }, { "六盘水市", "520200" }, { "遵义", "520300" },
        { "西宁", "630100" }, { "海东市", "630200" }, { "苏州", "320500" },
        { "铜仁市", "520600" }, { "杭州", "330100" }, { "恩施土家族苗族自治州", "422800" },
        { "黔东南", "522600" }, { "宁波", "330200" }, { "延边", "222400" },
        { "黔西南", "522300" }, { "福州", "350100" }, { "定西", "621100" },
        { "厦门", "350200" }, { "临夏", "622900" }, { "济南", "370100" },
        { "湘西", "433100" }, { "青岛", "370200" }, { "安顺", "520400" },
        { "陇南", "621200" }, { "广州", "440100" }, { "黔南", "522700" },
        { "毕节", "520500" }, { "佛山", "440600" }, { "凉山", "513400" },
        { "中山", "442000" }, { "东莞", "441900" }, { "昭通", "530600" },
        { "珠海", "440400" }, { "怒江", "533300" }, { "深圳", "440300" },
        { "百色", "451000" }, { "河池", "451200" }, { "Xizang", "540000" },
        { "Tibet", "540000" }, { "宁", "640000" }, { "青", "630000" },
        { NULL, NULL }
    };

    (void)state;
    for (const char *const *n = guangxi; *n != NULL; n++) {
        assert_string_equal(code_of(*n, 20210101), "450000");
        assert_string_equal(code_of(*n, 0), "450000");
    }
    for (size_t i = 0; pairs[i][0] != NULL; i++) {
        if (strcmp(code_of(pairs[i][0], 20210101), pairs[i][1]) != 0) {
            fail_msg("%s: got %s, expected %s", pairs[i][0], code_of(pairs[i][0], 20210101),
                     pairs[i][1]);
        }
    }
    /* the length is honoured: "广西壮族" is not 广西 */
    assert_non_null(etl_catalog_region(shipped, "广西壮族", strlen("广西"), 0));
    assert_null(etl_catalog_region(shipped, "广西壮族", strlen("广西壮族"), 0));
}

static void
test_region_not_found(void **state)
{
    static const char *const unknown[] = {
        "卢旺达", "Rwanda", "六盘山", "火星", "", "广西 ", " 广西", "北京市市", "香港",
        "45000", "4500000", NULL
    };

    (void)state;
    for (const char *const *n = unknown; *n != NULL; n++) {
        if (etl_catalog_region(shipped, *n, strlen(*n), 20210101) != NULL) {
            fail_msg("\"%s\" should not resolve", *n);
        }
    }
    assert_null(etl_catalog_region_code(shipped, "999999"));
}

static void
test_region_codes_by_date(void **state)
{
    (void)state;
    /* 铜仁地区 522200 became 铜仁市 520600 on 2011-10-22 */
    assert_string_equal(code_of("522200", 20100101), "522200");
    assert_string_equal(code_of("522200", 20111021), "522200");
    assert_string_equal(code_of("522200", 20111022), "520600");
    assert_string_equal(code_of("522200", 20150101), "520600");
    assert_string_equal(code_of("522200", 0), "520600");
    assert_string_equal(code_of("铜仁", 20100101), "522200");
    assert_string_equal(code_of("铜仁", 20150101), "520600");
    assert_string_equal(code_of("Tongren", 20100101), "522200");
    assert_string_equal(code_of("铜仁地区", 20150101), "520600");
    assert_string_equal(code_of("铜仁市", 20050101), "522200");
    assert_string_equal(code_of("520600", 20050101), "522200");
    /* 毕节 522400 -> 520500 */
    assert_string_equal(code_of("522400", 20120101), "520500");
    assert_string_equal(code_of("毕节地区", 20100101), "522400");
    assert_string_equal(code_of("毕节", 20100101), "522400");
    /* 海东 632100 -> 630200 on 2013-02-08 */
    assert_string_equal(code_of("632100", 20130207), "632100");
    assert_string_equal(code_of("632100", 20130208), "630200");
    assert_string_equal(code_of("海东", 20120101), "632100");
    assert_string_equal(code_of("海东", 0), "630200");
    /* 遵义地区 522100 -> 遵义市 520300 on 1997-06-10 */
    assert_string_equal(code_of("522100", 19970609), "522100");
    assert_string_equal(code_of("522100", 19970610), "520300");
    assert_string_equal(code_of("522100", 0), "520300");
    assert_string_equal(code_of("遵义", 19960101), "522100");
    assert_string_equal(code_of("遵义", 20160101), "520300");
    assert_string_equal(code_of("Zunyi", 19900101), "522100");
    assert_string_equal(code_of("遵义地区", 20190101), "520300");
    assert_string_equal(code_of("520300", 19900101), "522100");
    assert_string_equal(code_of("遵义市", 0), "520300");
    /* 安顺地区 522500 -> 安顺市 520400 on 2000-06-23 */
    assert_string_equal(code_of("522500", 20000622), "522500");
    assert_string_equal(code_of("522500", 20000623), "520400");
    assert_string_equal(code_of("安顺", 19990101), "522500");
    assert_string_equal(code_of("安顺", 20160101), "520400");
    assert_string_equal(code_of("安顺地区", 0), "520400");
    assert_string_equal(code_of("520400", 19960101), "522500");
    assert_string_equal(etl_catalog_region_code(shipped, "522100")->successor, "520300");
    assert_int_equal(etl_catalog_region_code(shipped, "522100")->valid_to, 19970610);
    assert_int_equal(etl_catalog_region_code(shipped, "520300")->valid_from, 19970610);
    assert_ptr_equal(etl_catalog_region_code(shipped, "520300")->prev,
                     etl_catalog_region_code(shipped, "522100"));
    assert_string_equal(etl_catalog_region_code(shipped, "522500")->successor, "520400");
    assert_int_equal(etl_catalog_region_code(shipped, "522500")->valid_to, 20000623);
    assert_int_equal(etl_catalog_region_code(shipped, "520400")->valid_from, 20000623);
    assert_string_equal(etl_catalog_region_code(shipped, "522500")->province->code, "520000");
    /* exact codes, no mapping */
    assert_string_equal(etl_catalog_region_code(shipped, "522200")->successor, "520600");
    assert_int_equal(etl_catalog_region_code(shipped, "522200")->valid_to, 20111022);
    assert_int_equal(etl_catalog_region_code(shipped, "520600")->valid_from, 20111022);
}

static void
test_region_fields(void **state)
{
    const struct etl_region *r;
    size_t provinces = 0, nations = 0;

    (void)state;
    r = etl_catalog_region_code(shipped, "450000");
    assert_string_equal(r->name_zh, "广西壮族自治区");
    assert_string_equal(r->short_zh, "广西");
    assert_string_equal(r->name_en, "Guangxi");
    assert_string_equal(r->abbrev, "桂");
    assert_string_equal(r->level, "province");
    assert_string_equal(r->parent, "000000");
    assert_string_equal(r->zone, "west");
    assert_int_equal(r->valid_from, 0);
    assert_int_equal(r->valid_to, 0);
    assert_string_equal(r->successor, "");
    assert_ptr_equal(r->province, r);

    r = etl_catalog_region_code(shipped, "522600");
    assert_string_equal(r->level, "prefecture");
    assert_string_equal(r->parent, "520000");
    assert_string_equal(r->zone, "west");
    assert_null(r->abbrev);
    assert_string_equal(r->province->code, "520000");
    assert_string_equal(etl_catalog_region_code(shipped, "130700")->zone, "east");
    assert_string_equal(etl_catalog_region_code(shipped, "222400")->zone, "northeast");
    assert_string_equal(etl_catalog_region_code(shipped, "422800")->zone, "central");

    r = etl_catalog_region_code(shipped, "000000");
    assert_string_equal(r->level, "nation");
    assert_string_equal(r->parent, "");
    assert_null(r->zone);
    assert_null(r->province);
    assert_string_equal(r->short_zh, "全国");

    for (size_t i = 0; i < shipped->nregions; i++) {
        provinces += strcmp(shipped->regions[i].level, "province") == 0;
        nations += strcmp(shipped->regions[i].level, "nation") == 0;
    }
    assert_int_equal(provinces, 31);
    assert_int_equal(nations, 1);
}

static void
test_nicknames(void **state)
{
    static const char *const nicks[][3] = {
        { "京蒙", "110000", "150000" }, { "津甘", "120000", "620000" },
        { "沪滇", "310000", "530000" }, { "苏陕", "320000", "610000" },
        { "苏青", "320000", "630000" }, { "浙川", "330000", "510000" },
        { "川浙", "330000", "510000" }, { "闽宁", "350000", "640000" },
        { "鲁渝", "370000", "500000" }, { "鲁甘", "370000", "620000" },
        { "粤桂", "440000", "450000" }, { "粤黔", "440000", "520000" },
        { NULL, NULL, NULL }
    };

    (void)state;
    assert_int_equal(shipped->nnicknames, 12);
    for (size_t i = 0; nicks[i][0] != NULL; i++) {
        const struct etl_nickname *k = etl_catalog_nickname(shipped, nicks[i][0],
                                                            strlen(nicks[i][0]));

        assert_non_null(k);
        assert_string_equal(k->east->code, nicks[i][1]);
        assert_string_equal(k->west->code, nicks[i][2]);
    }
    assert_null(etl_catalog_nickname(shipped, "京沪", strlen("京沪")));
    assert_null(etl_catalog_nickname(shipped, "北京", strlen("北京")));
    /* a nickname is not a region */
    assert_null(etl_catalog_region(shipped, "京蒙", strlen("京蒙"), 0));
}

static const char *
ind_of(const char *text, char *unit, size_t size)
{
    const struct etl_indicator *ind;
    const char *u;
    size_t ul;

    ind = etl_catalog_indicator(shipped, text, &u, &ul);
    snprintf(unit, size, "%.*s", u != NULL ? (int)ul : 0, u != NULL ? u : "");
    return ind != NULL ? ind->code : "(none)";
}

static void
test_indicators(void **state)
{
    static const char *const codes[] = {
        "enterprises_guided", "investment_in_place", "industrial_parks_cobuilt",
        "agri_products_sold", "poverty_labour_employed", "labour_export",
        "demo_villages_started", "fiscal_aid_funds", "fiscal_social_funds",
        "free_aid_funds", "enterprise_investment", "cadres_exchanged",
        "technicians_exchanged", "poor_counties_delisted", "poor_villages_exited",
        "poor_people_lifted", "paired_schools", "paired_hospitals", NULL
    };
    static const char *const names[][2] = {
        { "引导企业到西部投资", "enterprises_guided" },
        { "引导企业(到西部)投资", "enterprises_guided" },
        { "引导企业投资", "enterprises_guided" },
        { "新增引导企业", "enterprises_guided" },
        { "enterprises guided to invest in the west", "enterprises_guided" },
        { "ENTERPRISES_GUIDED", "enterprises_guided" },
        { "采购和帮助销售农副产品", "agri_products_sold" },
        { "采购和帮助销售西部农副产品", "agri_products_sold" },
        { "吸纳脱贫劳动力就业", "poverty_labour_employed" },
        { "吸纳(西部)脱贫劳动力就业", "poverty_labour_employed" },
        { "劳务输出", "labour_export" }, { "组织劳务输出", "labour_export" },
        { "乡村振兴示范村", "demo_villages_started" },
        { "(启动实施)乡村振兴示范村(建设)", "demo_villages_started" },
        { "财政援助资金", "fiscal_aid_funds" }, { "企业投资", "enterprise_investment" },
        { "专业技术人员", "technicians_exchanged" },
        { NULL, NULL }
    };
    char unit[64];
    const struct etl_indicator *ind;

    (void)state;
    for (size_t i = 0; codes[i] != NULL; i++) {
        ind = etl_catalog_indicator_find(shipped, codes[i], strlen(codes[i]));
        if (ind == NULL) {
            fail_msg("indicator %s missing", codes[i]);
        }
        assert_true(ind->additive);
        assert_non_null(ind->unit_def);
        assert_string_equal(ind->unit_def->code, ind->unit);
    }
    for (size_t i = 0; names[i][0] != NULL; i++) {
        assert_string_equal(ind_of(names[i][0], unit, sizeof(unit)), names[i][1]);
        assert_string_equal(unit, "");
    }
    ind = etl_catalog_indicator_find(shipped, "poverty_labour_employed", 23);
    assert_string_equal(ind->unit, "person");
    assert_string_equal(ind->name_zh, "吸纳西部脱贫劳动力就业");
    ind = etl_catalog_indicator_find(shipped, "poverty_labour_employed_growth", 30);
    assert_false(ind->additive);
    assert_string_equal(ind->unit, "pct");
    assert_null(ind->of_which);
    /* an of-which item: 其中 建档立卡脱贫劳动力 */
    assert_string_equal(ind_of("建档立卡脱贫劳动力", unit, sizeof(unit)),
                        "registered_poor_labour_employed");
    ind = etl_catalog_indicator_find(shipped, "registered_poor_labour_employed", 31);
    assert_non_null(ind);
    assert_false(ind->additive);
    assert_string_equal(ind->of_which, "poverty_labour_employed");
    assert_string_equal(ind->unit, "person");

    /* a unit in brackets after the name */
    assert_string_equal(ind_of("实际到位投资额(亿元)", unit, sizeof(unit)), "investment_in_place");
    assert_string_equal(unit, "亿元");
    assert_string_equal(ind_of("实际到位投资额（亿元）", unit, sizeof(unit)),
                        "investment_in_place");
    assert_string_equal(unit, "亿元");
    assert_string_equal(ind_of(" 实际到位投资额 ( 亿元 ) ", unit, sizeof(unit)),
                        "investment_in_place");
    assert_string_equal(unit, "亿元");
    assert_string_equal(ind_of("引导企业(到西部)投资(家)", unit, sizeof(unit)),
                        "enterprises_guided");
    assert_string_equal(unit, "家");
    assert_string_equal(ind_of("劳务输出（万人次）", unit, sizeof(unit)), "labour_export");
    assert_string_equal(unit, "万人次");

    /* not found */
    assert_string_equal(ind_of("实际投资额(亿元)", unit, sizeof(unit)), "(none)");
    assert_string_equal(unit, "");
    assert_string_equal(ind_of("(亿元)", unit, sizeof(unit)), "(none)");
    assert_string_equal(ind_of("实际到位投资额(亿元", unit, sizeof(unit)), "(none)");
    assert_string_equal(ind_of("实际到位投资额亿元)", unit, sizeof(unit)), "(none)");
    assert_string_equal(ind_of("GDP", unit, sizeof(unit)), "(none)");
    assert_string_equal(ind_of("", unit, sizeof(unit)), "(none)");
}

/* An indicator as normalize finds it: exactly, else by its fold. */
static const char *
resolve(const char *text, char *unit, size_t size)
{
    const struct etl_indicator *ind;
    const char *u;
    size_t ul;

    ind = etl_catalog_indicator(shipped, text, &u, &ul);
    if (ind == NULL) {
        ind = etl_catalog_indicator_folded(shipped, text, strlen(text), &u, &ul);
    }
    snprintf(unit, size, "%.*s", u != NULL ? (int)ul : 0, u != NULL ? u : "");
    return ind != NULL ? ind->code : "(none)";
}

static void
test_indicator_wordings(void **state)
{
    /* the seed article's own wordings, with their figures taken out */
    static const char *const article[][2] = {
        { "新增引导企业到西部省(区、市)投资", "enterprises_guided" },
        { "引导企业到西部省(区、市)投资", "enterprises_guided" },
        { "引导企业投资", "enterprises_guided" },
        { "共建产业园区", "industrial_parks_cobuilt" },
        { "采购和帮助销售西部农副产品", "agri_products_sold" },
        { "吸纳西部脱贫劳动力就业", "poverty_labour_employed" },
        { "吸纳西部脱贫劳动力就业同比增长", "poverty_labour_employed_growth" },
        { "启动实施乡村振兴示范村建设", "demo_villages_started" },
        { "实际投入财政援助资金", "fiscal_aid_funds" },
        { "互派干部", "cadres_exchanged" },
        { "专业技术人员", "technicians_exchanged" },
        { "专业技术人才", "technicians_exchanged" },
        { "实际到位投资额", "investment_in_place" },
        { "无偿援助资金", "free_aid_funds" },
        { "组织劳务输出", "labour_export" },
        { "财政援助和社会帮扶资金", "fiscal_social_funds" },
        { "企业累计投资", "enterprise_investment" },
        { "企业向扶贫协作地区累计投资", "enterprise_investment" },
        { "贫困县摘帽", "poor_counties_delisted" },
        { "贫困村出列", "poor_villages_exited" },
        { "贫困人口脱贫", "poor_people_lifted" },
        { "结对学校", "paired_schools" },
        { "结对医院", "paired_hospitals" },
        { "建立协作关系的学校", "paired_schools" },
        { "建立协作关系的医院", "paired_hospitals" },
        /* table headers */
        { "引导企业数", "enterprises_guided" },
        { "新增引导企业数量", "enterprises_guided" },
        { "互派党政干部", "cadres_exchanged" },
        { "挂职干部人数", "cadres_exchanged" },
        { "选派专业技术人员", "technicians_exchanged" },
        { NULL, NULL }
    };
    /* found by their fold (those without a unit by their fold only) */
    static const char *const folded[][3] = {
        { "新增引导企业到西部省（区、市）投资", "enterprises_guided", "" },
        { "新增引导企业数量（家）", "enterprises_guided", "家" },
        { "新增 引导企业 数量 (家)", "enterprises_guided", "家" },
        { "全年新增引导企业总数", "enterprises_guided", "" },
        { "挂职干部人数（人）", "cadres_exchanged", "人" },
        { "互派 党政 干部", "cadres_exchanged", "" },
        { "选派挂职党政干部人数", "cadres_exchanged", "" },
        { "选派专业技术人才数", "technicians_exchanged", "" },
        { "互派专业技术人才人数(人)", "technicians_exchanged", "人" },
        { "实际投入财政援助资金（亿元）总额", "fiscal_aid_funds", "亿元" },
        { "财政援助资金金额", "fiscal_aid_funds", "" },
        { "财政援助和社会帮扶资金额", "fiscal_social_funds", "" },
        { "无偿援助资金总额（万元）", "free_aid_funds", "万元" },
        { "实际到位投资额规模", "investment_in_place", "" },
        { "采购和帮助销售农副产品总额(亿元)", "agri_products_sold", "亿元" },
        { "共建产业园区个数", "industrial_parks_cobuilt", "" },
        { "当年共建产业园区数", "industrial_parks_cobuilt", "" },
        { "年度启动实施乡村振兴示范村建设数量", "demo_villages_started", "" },
        { "吸纳（西部）脱贫劳动力就业人数（万人）", "poverty_labour_employed", "万人" },
        { "累计组织劳务输出（万人次）", "labour_export", "万人次" },
        { "贫困人口脱贫数", "poor_people_lifted", "" },
        { "结对学校数（所）", "paired_schools", "所" },
        { "ＥＮＴＥＲＰＲＩＳＥＳ＿ＧＵＩＤＥＤ", "enterprises_guided", "" },
        { NULL, NULL, NULL }
    };
    static const char *const unknown[] = {
        /* a unit outside brackets is part of the name: never dropped */
        "实际到位投资额亿元",
        /* two bracketed units: which one? */
        "引导企业(家)(个)",
        /* what is left after a prefix or suffix is no name */
        "新增", "数量", "投资", "干部人才", "GDP", "",
        NULL
    };
    char unit[64];
    const char *u;
    size_t ul;

    (void)state;
    for (size_t i = 0; article[i][0] != NULL; i++) {
        const char *got = ind_of(article[i][0], unit, sizeof(unit));

        if (strcmp(got, article[i][1]) != 0) {
            fail_msg("\"%s\": got %s, expected %s (an exact name or alias)", article[i][0],
                     got, article[i][1]);
        }
    }
    for (size_t i = 0; folded[i][0] != NULL; i++) {
        const char *got = ind_of(folded[i][0], unit, sizeof(unit));

        if (strcmp(got, "(none)") != 0 && strcmp(folded[i][2], "") == 0) {
            fail_msg("\"%s\" should need its fold, got %s exactly", folded[i][0], got);
        }
        got = resolve(folded[i][0], unit, sizeof(unit));
        if (strcmp(got, folded[i][1]) != 0 || strcmp(unit, folded[i][2]) != 0) {
            fail_msg("\"%s\": got %s (%s), expected %s (%s)", folded[i][0], got, unit,
                     folded[i][1], folded[i][2]);
        }
    }
    for (const char *const *t = unknown; *t != NULL; t++) {
        if (strcmp(resolve(*t, unit, sizeof(unit)), "(none)") != 0) {
            fail_msg("\"%s\" should name no indicator", *t);
        }
    }
    /* the length is honoured; the unit points into the text */
    {
        static const char text[] = "挂职干部人数（人）GDP";
        const struct etl_indicator *ind;

        ind = etl_catalog_indicator_folded(shipped, text, strlen(text) - 3, &u, &ul);
        assert_non_null(ind);
        assert_string_equal(ind->code, "cadres_exchanged");
        assert_true(u > text && u < text + sizeof(text));
        assert_int_equal(ul, strlen("人"));
        assert_null(etl_catalog_indicator_folded(shipped, text, strlen(text), &u, &ul));
        assert_null(u);
        assert_int_equal(ul, 0);
    }
    /* every name of every indicator folds to itself, unambiguously */
    for (size_t i = 0; i < shipped->nindicators; i++) {
        const struct etl_indicator *ind = &shipped->indicators[i];

        assert_ptr_equal(etl_catalog_indicator_folded(shipped, ind->name_zh,
                                                      strlen(ind->name_zh), &u, &ul), ind);
        for (size_t j = 0; j < ind->naliases; j++) {
            if (etl_catalog_indicator_folded(shipped, ind->aliases[j],
                                             strlen(ind->aliases[j]), &u, &ul) != ind) {
                fail_msg("alias \"%s\" of %s does not fold to it", ind->aliases[j],
                         ind->code);
            }
        }
    }
}

static void
test_indicator_fold_rules(void **state)
{
    static const char *const cases[][2] = {
        { " 新增 引导企业数量 ", "引导企业" },
        { "全年新增引导企业总数", "引导企业" },
        { "累计实际到位投资额", "到位投资额" },
        { "互派党政干部人数", "互派干部" },
        { "选派挂职干部", "干部" },
        { "专业技术人才个数", "专业技术人员" },
        { "财政援助资金额", "财政援助资金" },
        { "财政援助资金金额", "财政援助资金" },
        { "共建产业园区规模", "建产业园区" },
        { "引导企业（到西部）投资（家）", "引导企业到西部投资" },
        { "Cadres_Exchanged", "cadres_exchanged" },
        { "ｃａｄｒｅｓ　ｅｘｃｈａｎｇｅｄ", "cadresexchanged" },
        { "新增", "新增" },
        { "数", "数" },
        { NULL, NULL }
    };
    char out[64];
    const char *u;
    size_t ul, n;

    (void)state;
    for (size_t i = 0; cases[i][0] != NULL; i++) {
        n = etl_catalog_indicator_fold(shipped, cases[i][0], strlen(cases[i][0]), out,
                                       sizeof(out), &u, &ul);
        if (strcmp(out, cases[i][1]) != 0 || n != strlen(cases[i][1])) {
            fail_msg("fold of \"%s\": got \"%s\" (%zu), expected \"%s\"", cases[i][0], out, n,
                     cases[i][1]);
        }
    }
    n = etl_catalog_indicator_fold(shipped, "实际到位投资额(亿元)", strlen("实际到位投资额(亿元)"),
                                   out, sizeof(out), &u, &ul);
    assert_string_equal(out, "到位投资额");
    assert_int_equal(n, strlen("到位投资额"));
    assert_int_equal(ul, strlen("亿元"));
    assert_memory_equal(u, "亿元", ul);
    /* too long for out: nothing */
    assert_int_equal(etl_catalog_indicator_fold(shipped, "引导企业到西部投资",
                                                strlen("引导企业到西部投资"), out, 10,
                                                &u, &ul), 0);
    assert_string_equal(out, "");
    assert_null(u);
    assert_int_equal(etl_catalog_indicator_fold(shipped, "", 0, out, sizeof(out), &u, &ul), 0);
    assert_string_equal(out, "");
}

static void
test_indicator_suggest(void **state)
{
    static const char *const cases[][2] = {
        { "引导企页投资", "enterprises_guided (引导企业到西部投资)" },
        { "新增引导企页数量", "enterprises_guided (引导企业到西部投资)" },
        { "实际到为投资额(亿元)", "investment_in_place (实际到位投资额)" },
        { "互派干布", "cadres_exchanged (互派干部)" },
        { "财政援组资金", "fiscal_aid_funds (实际投入财政援助资金)" },
        { "贫困县摘冒", "poor_counties_delisted (贫困县摘帽)" },
        { "劳务输出人次", "labour_export (组织劳务输出)" },
        { "enterprise_guided", "enterprises_guided (引导企业到西部投资)" },
        { "引导投资额", "investment_in_place (实际到位投资额) or "
                       "enterprise_investment (企业累计投资)" },
        { NULL, NULL }
    };
    static const char *const garbage[] = {
        "GDP", "xyz", "不存在的指标", "火星", "投资", "", "(亿元)",
        "引导企业到西部投资引导企业到西部投资引导企业到西部投资引导企业到西部投资"
        "引导企业到西部投资引导企业到西部投资引导企业到西部投资引导企业到西部投资",
        NULL
    };
    char out[200];
    size_t n;

    (void)state;
    for (size_t i = 0; cases[i][0] != NULL; i++) {
        n = etl_catalog_indicator_suggest(shipped, cases[i][0], out, sizeof(out));
        if (strcmp(out, cases[i][1]) != 0 || n != strlen(cases[i][1])) {
            fail_msg("\"%s\": got \"%s\" (%zu), expected \"%s\"", cases[i][0], out, n,
                     cases[i][1]);
        }
    }
    for (const char *const *g = garbage; *g != NULL; g++) {
        n = etl_catalog_indicator_suggest(shipped, *g, out, sizeof(out));
        if (n != 0 || out[0] != '\0') {
            fail_msg("\"%s\": no suggestion expected, got \"%s\"", *g, out);
        }
    }
    /* whole entries only */
    n = etl_catalog_indicator_suggest(shipped, "引导投资额", out, 50);
    assert_string_equal(out, "investment_in_place (实际到位投资额)");
    assert_int_equal(n, strlen(out));
    assert_int_equal(etl_catalog_indicator_suggest(shipped, "引导投资额", out, 10), 0);
    assert_string_equal(out, "");
    assert_int_equal(etl_catalog_indicator_suggest(shipped, "引导投资额", out, 0), 0);
}

static void
test_units(void **state)
{
    const struct etl_unit_word *w;
    const struct etl_unit *person = etl_catalog_unit(shipped, "person");
    static const char *const counts[] = {
        "park", "village", "county", "enterprise", "school", "hospital", "count", NULL
    };

    (void)state;
    assert_int_equal(shipped->nunits, 11);
    assert_null(etl_catalog_unit(shipped, "kg"));
    assert_string_equal(person->kind, "person");

    w = etl_catalog_unit_word(shipped, "亿元", strlen("亿元"));
    assert_string_equal(w->units[0]->code, "CNY");
    assert_int_equal(w->pow10, 8);
    w = etl_catalog_unit_word(shipped, "万亿元", strlen("万亿元"));
    assert_int_equal(w->pow10, 12);
    w = etl_catalog_unit_word(shipped, "万元", strlen("万元"));
    assert_int_equal(w->pow10, 4);
    w = etl_catalog_unit_word(shipped, "元", strlen("元"));
    assert_int_equal(w->pow10, 0);
    w = etl_catalog_unit_word(shipped, "万人次", strlen("万人次"));
    assert_string_equal(w->units[0]->code, "person_time");
    assert_int_equal(w->pow10, 4);
    w = etl_catalog_unit_word(shipped, "cny", 3);
    assert_string_equal(w->units[0]->code, "CNY");
    assert_int_equal(w->pow10, 0);
    w = etl_catalog_unit_word(shipped, "%", 1);
    assert_string_equal(w->units[0]->code, "pct");
    w = etl_catalog_unit_word(shipped, "％", strlen("％"));
    assert_string_equal(w->units[0]->code, "pct");
    assert_null(etl_catalog_unit_word(shipped, "吨", strlen("吨")));
    assert_null(etl_catalog_unit_word(shipped, "", 0));

    /* 个 fits every count unit, not persons */
    w = etl_catalog_unit_word(shipped, "个", strlen("个"));
    for (const char *const *c = counts; *c != NULL; c++) {
        assert_true(etl_catalog_unit_fits(w, etl_catalog_unit(shipped, *c)));
    }
    assert_false(etl_catalog_unit_fits(w, person));
    /* 家: enterprises and hospitals, not schools */
    w = etl_catalog_unit_word(shipped, "家", strlen("家"));
    assert_true(etl_catalog_unit_fits(w, etl_catalog_unit(shipped, "enterprise")));
    assert_true(etl_catalog_unit_fits(w, etl_catalog_unit(shipped, "hospital")));
    assert_false(etl_catalog_unit_fits(w, etl_catalog_unit(shipped, "school")));
    /* person-times are not persons */
    w = etl_catalog_unit_word(shipped, "人次", strlen("人次"));
    assert_false(etl_catalog_unit_fits(w, person));
    w = etl_catalog_unit_word(shipped, "万人", strlen("万人"));
    assert_true(etl_catalog_unit_fits(w, person));
}

static void
test_pairings(void **state)
{
    const struct etl_pairing *p;

    (void)state;
    assert_int_equal(shipped->npairings, 8 + 25 + 11);
    /* province pairs of the new stage only */
    assert_null(etl_catalog_paired(shipped, "320000", "630000", 20190101, 20200101));
    p = etl_catalog_paired(shipped, "320000", "630000", 20210101, 20220101);
    assert_non_null(p);
    assert_string_equal(p->stage, "2021-");
    assert_string_equal(p->level, "province");
    assert_int_equal(p->valid_from, 20210101);
    assert_int_equal(p->valid_to, 0);
    assert_non_null(etl_catalog_paired(shipped, "320000", "630000", 20120101, 20220101));
    assert_null(etl_catalog_paired(shipped, "370000", "620000", 20190101, 20200101));
    assert_non_null(etl_catalog_paired(shipped, "370000", "620000", 20220101, 20220701));
    assert_null(etl_catalog_paired(shipped, "110000", "450000", 20210101, 20220101));
    /* either order */
    assert_non_null(etl_catalog_paired(shipped, "150000", "110000", 20210101, 20220101));
    /* city pair */
    p = etl_catalog_paired(shipped, "320500", "520600", 20190101, 20200101);
    assert_non_null(p);
    assert_string_equal(p->level, "city");
    assert_string_equal(p->stage, "2016-2020");
    assert_int_equal(p->valid_from, 20160101);
    assert_int_equal(p->valid_to, 20210101);
    assert_null(etl_catalog_pairing(shipped, "320500", "520600", 20210101, 20220101));
    /* a province with a prefecture, and prefectures of paired provinces */
    assert_non_null(etl_catalog_paired(shipped, "320000", "630200", 20180101, 20190101));
    assert_non_null(etl_catalog_paired(shipped, "320500", "630100", 20180101, 20190101));
    assert_non_null(etl_catalog_paired(shipped, "330100", "510800", 20210101, 20220101));
    assert_null(etl_catalog_paired(shipped, "330100", "510800", 20150101, 20160101));
    assert_non_null(etl_catalog_paired(shipped, "110000", "130700", 20170101, 20180101));
    /* unknown codes */
    assert_null(etl_catalog_paired(shipped, "999999", "150000", 20210101, 20220101));
    assert_null(etl_catalog_pairing(shipped, "11000", "150000", 20210101, 20220101));
    /* exact pairing */
    p = etl_catalog_pairing(shipped, "110000", "150000", 20190101, 20200101);
    assert_string_equal(p->stage, "2016-2020");
    p = etl_catalog_pairing(shipped, "110000", "150000", 0, 0);
    assert_non_null(p);
}

/*
 * The pairing paragraph of DOMAIN.md (docs of the project, kept outside the
 * repository), copied verbatim.  walk_domain() reads the file itself when it
 * can find it (EWC_DOMAIN_MD, docs/DOMAIN.md, ../shared/DOMAIN.md) and walks
 * this copy in any case.
 */
static const char domain_pairings[] =
    "Pairings of the new stage (from 2021): 北京–内蒙古, 天津–甘肃, 上海–云南,\n"
    "江苏–陕西, 江苏–青海, 浙江–四川, 福建–宁夏, 山东–重庆, 山东–甘肃,\n"
    "广东–广西, 广东–贵州 (8 east, 10 west). The 2016–2020 stage (from the\n"
    "December 2016 guideline: 9 east provinces and 13 cities, 14 west provinces and\n"
    "20 prefectures) differs. Province level: 北京–内蒙古, 天津–甘肃, 上海–云南,\n"
    "江苏–陕西, 浙江–四川, 福建–宁夏, 山东–重庆, 广东–广西. City level: 北京–张家口,\n"
    "保定; 天津–承德; 大连–六盘水; 上海–遵义; 江苏–西宁, 海东; 苏州–铜仁;\n"
    "杭州–恩施, 黔东南; 宁波–延边, 黔西南; 福州–定西; 厦门–临夏; 济南–湘西;\n"
    "青岛–安顺, 陇南; 广州–黔南, 毕节; 佛山–凉山; 中山 and 东莞–昭通; 珠海–怒江;\n"
    "深圳–百色, 河池. A pair figure whose pair did not exist in its period is an\n"
    "error; a city-level figure is valid when its pair, or its provinces' pair,\n"
    "existed then.\n";

#define EN_DASH "\xE2\x80\x93"

/* Copy [b, e) into out (size n) with line ends as spaces and spaces trimmed. */
static void
span(const char *b, const char *e, char *out, size_t n)
{
    size_t o = 0;

    while (b < e && (*b == ' ' || *b == '\n')) {
        b++;
    }
    while (e > b && (e[-1] == ' ' || e[-1] == '\n')) {
        e--;
    }
    assert_true((size_t)(e - b) < n);
    for (; b < e; b++) {
        out[o++] = *b == '\n' ? ' ' : *b;
    }
    out[o] = '\0';
}

/*
 * Check that east–west resolves at 'date' and is a pairing of 'stage' at
 * 'level' in the shipped catalog.
 */
static void
expect_domain_pair(const char *east, const char *west, int32_t date, const char *stage,
                   const char *level)
{
    const struct etl_region *e = etl_catalog_region(shipped, east, strlen(east), date);
    const struct etl_region *w = etl_catalog_region(shipped, west, strlen(west), date);
    const struct etl_pairing *p;

    if (e == NULL || w == NULL) {
        fail_msg("DOMAIN.md pair %s–%s: %s does not resolve", east, west,
                 e == NULL ? east : west);
    }
    p = etl_catalog_pairing(shipped, e->code, w->code, date, etl_date_add_months(date, 12));
    if (p == NULL) {
        fail_msg("DOMAIN.md pair %s–%s (%s–%s) is no pairing of stage %s", east, west,
                 e->code, w->code, stage);
    }
    assert_string_equal(p->stage, stage);
    assert_string_equal(p->level, level);
    /* and validate's check accepts it, both ways round */
    assert_non_null(etl_catalog_paired(shipped, w->code, e->code, date,
                                       etl_date_add_months(date, 12)));
}

/*
 * Walk a list "A–B, C–D" (province pairs) or "A–B, C; D and E–F" (city
 * groups: 'groups' true) in [b, e); returns the number of pairs.
 */
static size_t
walk_list(const char *b, const char *e, bool groups, int32_t date, const char *stage,
          const char *level)
{
    const char *sep = groups ? ";" : ",";
    size_t n = 0;

    while (b < e) {
        const char *end = strstr(b, sep), *dash;
        char eastpart[128], westpart[256];

        if (end == NULL || end > e) {
            end = e;
        }
        dash = strstr(b, EN_DASH);
        if (dash == NULL || dash > end) {
            fail_msg("DOMAIN.md: no dash in \"%.*s\"", (int)(end - b), b);
        }
        span(b, dash, eastpart, sizeof(eastpart));
        span(dash + strlen(EN_DASH), end, westpart, sizeof(westpart));
        /* "中山 and 东莞" x "张家口, 保定" */
        for (char *es = eastpart, *enext; es != NULL; es = enext) {
            char *and = strstr(es, " and ");

            enext = NULL;
            if (and != NULL) {
                *and = '\0';
                enext = and + 5;
            }
            for (char *ws = westpart, *wnext; ws != NULL; ws = wnext) {
                char w[64];
                char *comma = groups ? strchr(ws, ',') : NULL;

                wnext = comma != NULL ? comma + 1 : NULL;
                span(ws, comma != NULL ? comma : ws + strlen(ws), w, sizeof(w));
                expect_domain_pair(es, w, date, stage, level);
                n++;
            }
            if (and != NULL) {
                *and = ' ';
            }
        }
        b = end + 1;
    }
    return n;
}

/* [after 'from', before 'to') in text; fails if either is missing. */
static void
section(const char *text, const char *from, const char *to, const char **b, const char **e)
{
    *b = strstr(text, from);
    if (*b == NULL) {
        fail_msg("DOMAIN.md: \"%s\" not found", from);
    }
    *b += strlen(from);
    *e = strstr(*b, to);
    if (*e == NULL) {
        fail_msg("DOMAIN.md: \"%s\" not found after \"%s\"", to, from);
    }
}

/*
 * Every pair of the pairing paragraph resolves and is a pairing of its
 * stage and level; the catalog has no pair the paragraph lacks.
 */
static void
walk_domain(const char *text)
{
    const char *b, *e;
    size_t n = 0;

    section(text, "Pairings of the new stage (from 2021):", "(8 east", &b, &e);
    n += walk_list(b, e, false, 20210101, "2021-", "province");
    section(text, "Province level:", ". City level:", &b, &e);
    n += walk_list(b, e, false, 20160101, "2016-2020", "province");
    section(text, "City level:", ". A pair figure", &b, &e);
    n += walk_list(b, e, true, 20160101, "2016-2020", "city");
    /* ... and each year of the 2016-2020 stage, with the codes of then */
    for (int32_t d = 20170101; d <= 20200101; d += 10000) {
        section(text, "City level:", ". A pair figure", &b, &e);
        walk_list(b, e, true, d, "2016-2020", "city");
    }
    assert_int_equal(n, 11 + 8 + 25);
    assert_int_equal(n, shipped->npairings);
}

static void
test_domain_pairings(void **state)
{
    const char *paths[] = { getenv("EWC_DOMAIN_MD"), "docs/DOMAIN.md",
                            "../shared/DOMAIN.md" };

    (void)state;
    walk_domain(domain_pairings);
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        static char text[65536];
        FILE *fp;
        size_t n;

        if (paths[i] == NULL || (fp = fopen(paths[i], "r")) == NULL) {
            continue;
        }
        n = fread(text, 1, sizeof(text) - 1, fp);
        fclose(fp);
        text[n] = '\0';
        walk_domain(text);
        break;
    }
}

/* ---- loading errors on small catalogs ---------------------------------- */

static const char units_ok[] =
    "units:\n"
    "  - {code: CNY, name_zh: 元, name_en: yuan, kind: money}\n"
    "  - {code: person, name_zh: 人, name_en: persons, kind: person}\n"
    "words:\n"
    "  - {word: 亿元, unit: CNY, pow10: 8}\n";
static const char indicators_ok[] =
    "indicators:\n"
    "  - {code: funds, name_zh: 资金, name_en: funds, unit: CNY, additive: true}\n";
static const char regions_ok[] =
    "regions:\n"
    "  - {code: \"000000\", name_zh: 全国, name_en: China, level: nation}\n"
    "  - {code: \"110000\", name_zh: 北京市, short_zh: 北京, name_en: Beijing, abbrev: 京,"
    " level: province, zone: east}\n"
    "  - {code: \"150000\", name_zh: 内蒙古自治区, short_zh: 内蒙古, name_en: Inner Mongolia,"
    " abbrev: 蒙, level: province, zone: west}\n"
    "nicknames:\n"
    "  - {name: 京蒙, east: 北京, west: 内蒙古}\n";
static const char pairings_ok[] =
    "stages:\n"
    "  - name: s\n"
    "    valid_from: 2021-01-01\n"
    "    province:\n"
    "      - [北京, 内蒙古]\n";

struct bad_case {
    const char *file;           /* the file replaced */
    const char *text;
    const char *msg;
    const char *where;          /* after "<dir>/"; "" for none */
};

/* Regions after the nation and 北京, in block style so columns are plain. */
#define REGIONS_HEAD \
    "regions:\n" \
    "  - {code: \"000000\", name_zh: 全国, name_en: China, level: nation}\n" \
    "  - {code: \"110000\", name_zh: 北京市, short_zh: 北京, name_en: Beijing, abbrev: 京," \
    " level: province, zone: east}\n" \
    "  - {code: \"150000\", name_zh: 内蒙古自治区, short_zh: 内蒙古, name_en: Inner Mongolia," \
    " abbrev: 蒙, level: province, zone: west}\n"

static const struct bad_case bad_cases[] = {
    /* units.yaml */
    { "units.yaml", "unit:\n  - {code: CNY}\n",
      "unknown key \"unit\" in units.yaml", "units.yaml:1:1" },
    { "units.yaml", "words: []\n",
      "units.yaml has no \"units\" (the canonical units)", "units.yaml:1:1" },
    { "units.yaml", "units:\n  - code: CNY\n    name_zh: 元\n    name_en: yuan\n    kind: cash\n",
      "kind \"cash\" is not one of: money, person, person_time, count, ratio", "units.yaml:5:11" },
    { "units.yaml", "units:\n  - code: CNY\n    name_zh: 元\n    nmae_en: yuan\n",
      "unknown key \"nmae_en\" in unit", "units.yaml:4:5" },
    { "units.yaml", "units:\n  - {code: CNY, name_zh: 元, name_en: yuan, kind: money}\n"
      "  - code: CNY\n    name_zh: 元\n    name_en: yuan\n    kind: money\n",
      "unit \"CNY\" given twice", "units.yaml:3:11" },
    { "units.yaml", "units:\n  - {code: CNY, name_zh: 元, name_en: yuan, kind: money}\n"
      "words:\n  - word: 吨\n    unit: kg\n",
      "unknown unit \"kg\"", "units.yaml:5:11" },
    { "units.yaml", "units:\n  - {code: CNY, name_zh: 元, name_en: yuan, kind: money}\n"
      "words:\n  - {word: 亿元, unit: CNY, pow10: 8}\n  - word: 亿元\n    unit: CNY\n",
      "unit word \"亿元\" given twice", "units.yaml:5:11" },
    { "units.yaml", "units:\n  - {code: CNY, name_zh: 元, name_en: yuan, kind: money}\n"
      "words:\n  - word: x\n    unit: [CNY, CNY, CNY, CNY, CNY]\n",
      "a unit word names 1 to 4 units", "units.yaml:5:11" },
    { "units.yaml", "units:\n  - {code: CNY, name_zh: 元, name_en: yuan, kind: money}\n"
      "words:\n  - word: x\n    unit: CNY\n    pow10: 99\n",
      "99 is out of range (-24 to 24)", "units.yaml:6:12" },
    { "units.yaml", "units:\n  - code: CNY\n    name_zh: 元\n    name_en: yuan\n"
      "    kind: money\n    generic: maybe\n",
      "\"generic\" must be true or false", "units.yaml:6:14" },
    /* indicators.yaml */
    { "indicators.yaml", "indicators:\n  - code: funds\n    name_zh: 资金\n    name_en: funds\n"
      "    unit: kg\n    additive: true\n",
      "unknown unit \"kg\" of indicator funds", "indicators.yaml:5:11" },
    { "indicators.yaml", "indicators:\n  - code: funds\n    name_zh: 资金\n    name_en: funds\n"
      "    additive: true\n",
      "indicator has no \"unit\" (canonical unit code)", "indicators.yaml:2:5" },
    { "indicators.yaml", "indicators:\n  - {code: funds, name_zh: 资金, name_en: funds, unit: CNY,"
      " additive: true}\n  - code: aid\n    name_zh: 援助\n    name_en: aid\n    unit: CNY\n"
      "    additive: true\n    aliases: [援助资金, 资金]\n",
      "name \"资金\" of indicator aid already names indicator funds", "indicators.yaml:8:21" },
    { "indicators.yaml", "indicators:\n  - {code: funds, name_zh: 资金, name_en: funds, unit: CNY,"
      " additive: true}\n  - code: sub\n    name_zh: 其中\n    name_en: of which\n    unit: CNY\n"
      "    additive: true\n    of_which: funds\n",
      "indicator sub is an of-which item of funds and cannot be additive",
      "indicators.yaml:8:15" },
    { "indicators.yaml", "indicators:\n  - {code: funds, name_zh: 资金, name_en: funds, unit: CNY,"
      " additive: true}\n  - code: sub\n    name_zh: 其中\n    name_en: of which\n    unit: CNY\n"
      "    additive: false\n    of_which: fund\n",
      "of_which \"fund\" of indicator sub is not another indicator's code",
      "indicators.yaml:8:15" },
    { "indicators.yaml", "indicators:\n  - code: funds\n    name_zh: 资金\n    name_en: funds\n"
      "    unit: CNY\n    additive: true\n    aliases: [[x]]\n",
      "an alias must be a string", "indicators.yaml:7:15" },
    /* indicators.yaml: years */
#define YEARS_OF(v) "indicators:\n  - code: funds\n    name_zh: 资金\n    name_en: funds\n" \
    "    unit: CNY\n    additive: true\n    years: " v "\n"
    { "indicators.yaml", YEARS_OF("2021"),
      "\"years\" must be a list", "indicators.yaml:7:12" },
    { "indicators.yaml", YEARS_OF("{first: 2016, last: 2020}"),
      "\"years\" must be a list", "indicators.yaml:7:12" },
    { "indicators.yaml", YEARS_OF("[]"),
      "years of indicator funds must be [first, last] or [first]", "indicators.yaml:7:12" },
    { "indicators.yaml", YEARS_OF("[2016, 2020, 2025]"),
      "years of indicator funds must be [first, last] or [first]", "indicators.yaml:7:12" },
    { "indicators.yaml", YEARS_OF("[[2016], 2020]"),
      "years of indicator funds must be [first, last] or [first]", "indicators.yaml:7:12" },
    { "indicators.yaml", YEARS_OF("[2016, {to: 2020}]"),
      "years of indicator funds must be [first, last] or [first]", "indicators.yaml:7:12" },
    { "indicators.yaml", YEARS_OF("[2016, 2021.5]"),
      "years of indicator funds: \"2021.5\" is not a year from 1990 to 2100",
      "indicators.yaml:7:19" },
    { "indicators.yaml", YEARS_OF("[abc]"),
      "years of indicator funds: \"abc\" is not a year from 1990 to 2100",
      "indicators.yaml:7:13" },
    { "indicators.yaml", YEARS_OF("[\"abc\", 2020]"),
      "years of indicator funds: \"abc\" is not a year from 1990 to 2100",
      "indicators.yaml:7:13" },
    { "indicators.yaml", YEARS_OF("[2e3]"),
      "years of indicator funds: \"2e3\" is not a year from 1990 to 2100",
      "indicators.yaml:7:13" },
    { "indicators.yaml", YEARS_OF("[-2016]"),
      "years of indicator funds: \"-2016\" is not a year from 1990 to 2100",
      "indicators.yaml:7:13" },
    { "indicators.yaml", YEARS_OF("[2016, ~]"),
      "years of indicator funds: \"~\" is not a year from 1990 to 2100",
      "indicators.yaml:7:19" },
    { "indicators.yaml", YEARS_OF("[1989]"),
      "years of indicator funds: \"1989\" is not a year from 1990 to 2100",
      "indicators.yaml:7:13" },
    { "indicators.yaml", YEARS_OF("[2016, 2101]"),
      "years of indicator funds: \"2101\" is not a year from 1990 to 2100",
      "indicators.yaml:7:19" },
    { "indicators.yaml", YEARS_OF("[02016]"),
      "years of indicator funds: \"02016\" is not a year from 1990 to 2100",
      "indicators.yaml:7:13" },
    { "indicators.yaml", YEARS_OF("\n      - 2016\n      - 20x0"),
      "years of indicator funds: \"20x0\" is not a year from 1990 to 2100",
      "indicators.yaml:9:9" },
    { "indicators.yaml", YEARS_OF("[2021, 2016]"),
      "years of indicator funds: first must not be after last", "indicators.yaml:7:12" },
#undef YEARS_OF
    /* regions.yaml */
    { "regions.yaml", "regions:\n  - code: \"000000\"\n    name_zh: 全国\n    name_en: China\n"
      "    level: nation\n    nmae_zh: x\n",
      "unknown key \"nmae_zh\" in region", "regions.yaml:6:5" },
    { "regions.yaml", REGIONS_HEAD "  - code: \"12000\"\n    name_zh: 天津市\n"
      "    name_en: Tianjin\n    level: province\n    zone: east\n",
      "code \"12000\" is not a six-digit code", "regions.yaml:5:11" },
    { "regions.yaml", REGIONS_HEAD "  - code: \"120000\"\n    name_zh: 天津市\n"
      "    name_en: Tianjin\n    level: city\n",
      "level \"city\" is not one of: nation, province, prefecture", "regions.yaml:8:12" },
    { "regions.yaml", REGIONS_HEAD "  - code: \"120000\"\n    name_zh: 天津市\n"
      "    name_en: Tianjin\n    level: province\n    zone: south\n",
      "zone \"south\" is not one of: east, central, west, northeast", "regions.yaml:9:11" },
    { "regions.yaml", REGIONS_HEAD "  - code: \"120000\"\n    name_zh: 天津市\n"
      "    name_en: Tianjin\n    level: province\n",
      "province 120000 has no zone", "regions.yaml:5:5" },
    { "regions.yaml", REGIONS_HEAD "  - code: \"120100\"\n    name_zh: 市辖区\n"
      "    name_en: Tianjin city\n    level: prefecture\n",
      "prefecture 120100 has no parent", "regions.yaml:5:5" },
    { "regions.yaml", REGIONS_HEAD "  - code: \"120000\"\n    name_zh: 天津市\n"
      "    name_en: Tianjin\n    level: province\n    zone: east\n    abbrev: 京\n",
      "name \"京\" of region 120000 already names region 110000", "regions.yaml:10:13" },
    { "regions.yaml", REGIONS_HEAD "  - code: \"110000\"\n    name_zh: 北京\n"
      "    name_en: Peking\n    level: province\n    zone: east\n",
      "region code 110000 given twice", "regions.yaml:5:11" },
    { "regions.yaml", REGIONS_HEAD "  - code: \"110100\"\n    name_zh: 北京城区\n"
      "    name_en: Beijing city\n    level: prefecture\n    parent: \"990000\"\n",
      "parent 990000 of region 110100 is not a province", "regions.yaml:9:13" },
    { "regions.yaml", REGIONS_HEAD "  - code: \"110100\"\n    name_zh: 北京城区\n"
      "    name_en: Beijing city\n    level: prefecture\n    parent: \"110000\"\n"
      "    valid_to: 2011-13-01\n",
      "valid_to \"2011-13-01\" is not a date (YYYY-MM-DD)", "regions.yaml:10:15" },
    { "regions.yaml", REGIONS_HEAD "  - code: \"110100\"\n    name_zh: 北京城区\n"
      "    name_en: Beijing city\n    level: prefecture\n    parent: \"110000\"\n"
      "    valid_from: 2012-01-01\n    valid_to: 2011-01-01\n",
      "region 110100: valid_to is not after valid_from", "regions.yaml:11:15" },
    { "regions.yaml", REGIONS_HEAD "  - code: \"110100\"\n    name_zh: 北京城区\n"
      "    name_en: Beijing city\n    level: prefecture\n    parent: \"110000\"\n"
      "    successor: \"110101\"\n",
      "region 110100 has a successor but no valid_to", "regions.yaml:10:16" },
    { "regions.yaml", REGIONS_HEAD "  - code: \"110100\"\n    name_zh: 北京城区\n"
      "    name_en: Beijing city\n    level: prefecture\n    parent: \"110000\"\n"
      "    valid_to: 2011-01-01\n    successor: \"110101\"\n",
      "successor 110101 of region 110100 is not another region", "regions.yaml:11:16" },
    { "regions.yaml", "regions:\n  - code: \"000000\"\n    name_zh: 全国\n    name_en: China\n"
      "    level: nation\n    parent: \"110000\"\n",
      "the nation has no parent", "regions.yaml:6:13" },
    { "regions.yaml", "regions:\n  - code: \"000000\"\n    name_zh: 全国\n    name_en: China\n"
      "    level: nation\n    alternates: [[x]]\n",
      "an alternate name must be a string", "regions.yaml:6:18" },
    { "regions.yaml", REGIONS_HEAD "nicknames:\n  - name: 京火\n    east: 北京\n    west: 火星\n",
      "unknown region \"火星\"", "regions.yaml:8:11" },
    { "regions.yaml", REGIONS_HEAD "nicknames:\n  - {name: 京蒙, east: 北京, west: 内蒙古}\n"
      "  - name: 京蒙\n    east: 北京\n    west: 内蒙古\n",
      "nickname \"京蒙\" given twice", "regions.yaml:7:11" },
    { "regions.yaml", REGIONS_HEAD "nicknames:\n  - name: 京蒙\n    east: 北京\n",
      "nickname has no \"west\" (western region)", "regions.yaml:6:5" },
    /* pairings.yaml */
    { "pairings.yaml", "stages:\n  - name: s\n    valid_from: 2021-01-01\n    province:\n"
      "      - [北京, 火星]\n",
      "unknown region \"火星\"", "pairings.yaml:5:14" },
    { "pairings.yaml", "stages:\n  - name: s\n    valid_from: 2021-01-01\n    province:\n"
      "      - [北京]\n",
      "a pair must be a list [east, west]", "pairings.yaml:5:9" },
    { "pairings.yaml", "stages:\n  - name: s\n    valid_from: 2021-01-01\n    province:\n"
      "      - [北京, 内蒙古]\n      - [\"110000\", \"150000\"]\n",
      "pair 北京–内蒙古 given twice in stage s", "pairings.yaml:6:9" },
    { "pairings.yaml", "stages:\n  - name: s\n    valid_from: 2021-01-01\n"
      "    valid_to: 2020-01-01\n",
      "stage s: valid_to is not after valid_from", "pairings.yaml:4:15" },
    { "pairings.yaml", "stages:\n  - name: s\n    valid_form: 2021-01-01\n",
      "unknown key \"valid_form\" in stage", "pairings.yaml:3:5" },
    { "pairings.yaml", "stages:\n  - name: s\n    valid_from: 2021\n",
      "valid_from \"2021\" is not a date (YYYY-MM-DD)", "pairings.yaml:3:17" },
    { "pairings.yaml", "",
      "catalog file is empty", "pairings.yaml" },
    { NULL, NULL, NULL, NULL }
};

static char tmpdir[64];

static void
write_file(const char *name, const char *text)
{
    char path[256];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static void
remove_files(void)
{
    static const char *const files[] = {
        "units.yaml", "indicators.yaml", "regions.yaml", "pairings.yaml", NULL
    };
    char path[256];

    for (const char *const *f = files; *f != NULL; f++) {
        snprintf(path, sizeof(path), "%s/%s", tmpdir, *f);
        unlink(path);
    }
}

static void
write_ok(void)
{
    write_file("units.yaml", units_ok);
    write_file("indicators.yaml", indicators_ok);
    write_file("regions.yaml", regions_ok);
    write_file("pairings.yaml", pairings_ok);
}

static int
setup_tmp(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_catalog.XXXXXX");
    return mkdtemp(tmpdir) != NULL ? 0 : -1;
}

static int
teardown_tmp(void **state)
{
    (void)state;
    remove_files();
    rmdir(tmpdir);
    return 0;
}

static void
test_small_catalog_loads(void **state)
{
    struct etl_catalog *c;
    struct etl_err err;

    (void)state;
    write_ok();
    etl_err_clear(&err);
    c = etl_catalog_load(tmpdir, &err);
    assert_non_null(c);
    assert_int_equal(c->nunits, 2);
    assert_int_equal(c->nwords, 3);     /* 亿元 and the two codes */
    assert_int_equal(c->nindicators, 1);
    assert_int_equal(c->nregions, 3);
    assert_int_equal(c->npairings, 1);
    assert_string_equal(c->pairings[0].east, "110000");
    assert_string_equal(c->pairings[0].west, "150000");
    assert_string_equal(c->pairings[0].stage, "s");
    assert_int_equal(c->pairings[0].valid_to, 0);
    /* short_zh defaults to the official name */
    assert_string_equal(c->regions[0].short_zh, "全国");
    etl_catalog_free(c);
    etl_catalog_free(NULL);
}

/*
 * An indicator's expected years: [first, last], [first] (open: years[1]
 * 0), a single year, the bounds 1990 and 2100, and none when absent.
 */
static void
test_indicator_years(void **state)
{
    static const struct {
        const char *code;
        int first, last;
    } want[] = {
        { "funds", 2016, 2020 }, { "aid", 2021, 0 }, { "staff", 0, 0 },
        { "once", 2020, 2020 }, { "wide", 1990, 2100 }, { "late", 2100, 0 },
    };
    struct etl_catalog *c;
    struct etl_err err;

    (void)state;
    write_ok();
    write_file("indicators.yaml", "indicators:\n"
               "  - {code: funds, name_zh: 资金, name_en: funds, unit: CNY, additive: true,\n"
               "     years: [2016, 2020]}\n"
               "  - {code: aid, name_zh: 援助, name_en: aid, unit: CNY, additive: true,\n"
               "     years: [2021]}\n"
               "  - {code: staff, name_zh: 人员, name_en: staff, unit: person, additive: true}\n"
               "  - code: once\n    name_zh: 一次\n    name_en: once\n    unit: CNY\n"
               "    additive: true\n    years:\n      - 2020\n      - 2020\n"
               "  - {code: wide, name_zh: 宽, name_en: wide, unit: CNY, additive: true,\n"
               "     years: [1990, 2100]}\n"
               "  - {code: late, name_zh: 晚, name_en: late, unit: CNY, additive: true,\n"
               "     years: [2100]}\n");
    etl_err_clear(&err);
    c = etl_catalog_load(tmpdir, &err);
    if (c == NULL) {
        fail_msg("not loaded: %s at %s", err.msg, err.where);
    }
    assert_int_equal(c->nindicators, sizeof(want) / sizeof(want[0]));
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        const struct etl_indicator *ind = etl_catalog_indicator_find(c, want[i].code,
                                                                     strlen(want[i].code));

        assert_non_null(ind);
        assert_int_equal(ind->years[0], want[i].first);
        assert_int_equal(ind->years[1], want[i].last);
    }
    etl_catalog_free(c);
}

/* Two indicators whose aliases fold the same: the fold names neither. */
static void
test_fold_ambiguous(void **state)
{
    struct etl_catalog *c;
    struct etl_err err;
    const struct etl_indicator *ind;
    const char *u;
    size_t ul;
    char out[200];

    (void)state;
    write_ok();
    write_file("indicators.yaml", "indicators:\n"
               "  - {code: funds, name_zh: 资金, name_en: funds, unit: CNY, additive: true,\n"
               "     aliases: [新增投资, 帮扶人员]}\n"
               "  - {code: aid, name_zh: 援助, name_en: aid, unit: CNY, additive: true,\n"
               "     aliases: [累计投资]}\n"
               "  - {code: staff, name_zh: 人员, name_en: staff, unit: person, additive: true,\n"
               "     aliases: [帮扶人才数]}\n");
    etl_err_clear(&err);
    c = etl_catalog_load(tmpdir, &err);
    assert_non_null(c);
    /* exact names still name their indicator */
    ind = etl_catalog_indicator(c, "新增投资", &u, &ul);
    assert_string_equal(ind->code, "funds");
    ind = etl_catalog_indicator(c, "累计投资", &u, &ul);
    assert_string_equal(ind->code, "aid");
    /* 投资 is the fold of both: no guess, by any spelling */
    assert_null(etl_catalog_indicator_folded(c, "投资数", strlen("投资数"), &u, &ul));
    assert_null(etl_catalog_indicator_folded(c, "新增投资", strlen("新增投资"), &u, &ul));
    assert_null(etl_catalog_indicator_folded(c, "实际投资(亿元)", strlen("实际投资(亿元)"),
                                             &u, &ul));
    assert_null(u);
    /* 帮扶人员 (funds) and 帮扶人才数 (staff) fold the same too */
    assert_null(etl_catalog_indicator_folded(c, "帮扶人员数", strlen("帮扶人员数"), &u, &ul));
    /* the suggestion names both */
    assert_int_equal(etl_catalog_indicator_suggest(c, "投资数", out, sizeof(out)),
                     strlen("funds (资金) or aid (援助)"));
    assert_string_equal(out, "funds (资金) or aid (援助)");
    /* an unambiguous fold still works */
    ind = etl_catalog_indicator_folded(c, "援助总额(亿元)", strlen("援助总额(亿元)"), &u, &ul);
    assert_non_null(ind);
    assert_string_equal(ind->code, "aid");
    assert_int_equal(ul, strlen("亿元"));
    etl_catalog_free(c);
}

static void
test_load_errors(void **state)
{
    (void)state;
    for (const struct bad_case *bc = bad_cases; bc->file != NULL; bc++) {
        struct etl_catalog *c;
        struct etl_err err;
        char where[300];

        write_ok();
        write_file(bc->file, bc->text);
        etl_err_clear(&err);
        c = etl_catalog_load(tmpdir, &err);
        if (c != NULL) {
            etl_catalog_free(c);
            fail_msg("case %d (%s): loaded", (int)(bc - bad_cases), bc->msg);
        }
        snprintf(where, sizeof(where), "%s/%s", tmpdir, bc->where);
        if (err.code != ETL_E_CONFIG || strcmp(err.msg, bc->msg) != 0 ||
            strcmp(err.where, where) != 0) {
            fail_msg("case %d: got code %d \"%s\" at \"%s\", expected \"%s\" at \"%s\"",
                     (int)(bc - bad_cases), err.code, err.msg, err.where, bc->msg, where);
        }
    }
}

static void
test_unknown_key_hint(void **state)
{
    struct etl_err err;

    (void)state;
    write_ok();
    write_file("regions.yaml", "regions:\n  - code: \"000000\"\n    nmae_zh: x\n");
    etl_err_clear(&err);
    assert_null(etl_catalog_load(tmpdir, &err));
    assert_string_equal(err.msg, "unknown key \"nmae_zh\" in region");
    assert_string_equal(err.hint, "did you mean \"name_zh\"?");
    /* no key near: the whole list */
    write_file("regions.yaml", "regions:\n  - code: \"000000\"\n    colour: x\n");
    etl_err_clear(&err);
    assert_null(etl_catalog_load(tmpdir, &err));
    assert_string_equal(err.msg, "unknown key \"colour\" in region");
    assert_string_equal(err.hint, "expected one of: code, name_zh, short_zh, name_en, abbrev, "
                                  "alternates, level, parent, zone, valid_from, valid_to, "
                                  "successor");
}

static void
test_missing_files(void **state)
{
    struct etl_err err;
    char msg[300];

    (void)state;
    write_ok();
    remove_files();
    etl_err_clear(&err);
    assert_null(etl_catalog_load(tmpdir, &err));
    assert_int_equal(err.code, ETL_E_IO);
    snprintf(msg, sizeof(msg), "could not open \"%s/units.yaml\": No such file or directory",
             tmpdir);
    assert_string_equal(err.msg, msg);

    write_ok();
    write_file("pairings.yaml", "stages: [\n");
    etl_err_clear(&err);
    assert_null(etl_catalog_load(tmpdir, &err));
    assert_int_equal(err.code, ETL_E_CONFIG);
    assert_non_null(strstr(err.where, "/pairings.yaml:"));
}

/* Every allocation of a hash table failing in turn: NOMEM, nothing leaked. */
static void
test_hash_out_of_memory(void **state)
{
    struct etl_catalog *c;
    struct etl_err err;
    int failed = 0;

    (void)state;
    for (int n = 1; n < 200; n++) {
        etl_err_clear(&err);
        etl_hash_fail_alloc(n);
        c = etl_catalog_load(SHIPPED, &err);
        etl_hash_fail_alloc(0);
        if (c != NULL) {
            etl_catalog_free(c);
            break;          /* n is past the last allocation */
        }
        assert_int_equal(err.code, ETL_E_NOMEM);
        assert_string_equal(err.msg, "out of memory");
        failed++;
    }
    /* seven tables, and each grew at least once */
    assert_true(failed >= 14);
    assert_true(failed < 199);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_region_names),
        cmocka_unit_test(test_region_not_found),
        cmocka_unit_test(test_region_codes_by_date),
        cmocka_unit_test(test_region_fields),
        cmocka_unit_test(test_nicknames),
        cmocka_unit_test(test_indicators),
        cmocka_unit_test(test_indicator_wordings),
        cmocka_unit_test(test_indicator_fold_rules),
        cmocka_unit_test(test_indicator_suggest),
        cmocka_unit_test(test_units),
        cmocka_unit_test(test_pairings),
        cmocka_unit_test(test_domain_pairings),
        cmocka_unit_test(test_hash_out_of_memory),
        cmocka_unit_test_setup_teardown(test_small_catalog_loads, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_indicator_years, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_fold_ambiguous, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_load_errors, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_unknown_key_hint, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_missing_files, setup_tmp, teardown_tmp),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
