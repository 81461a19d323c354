/*
 * parse_label.c
 *    What the texts of a printed table say besides names, in the parse_csv
 *    stage: a total row's label (合计, 总计, 全国合计), of-which markers
 *    (#, 其中：) before a label, a footnote's first words (注：, 数据来源：)
 *    and a unit in the brackets at the end of a header ("数值（万元）").
 *    Pure functions of the text: no state, nothing allocated.
 *
 *    Next door: parse_shape.c finds the table, parse_rows.c makes the rows.
 */
#include "parse.h"

#include <string.h>

#include "etl/text.h"

/* Totals: the label of a table's own total row (blanks removed). */
static const char *const label_totals[] = {
    "合计", "总计", "全国合计", "全国总计", "总合计", "累计合计", "total", NULL
};

/* Footnote prefixes: the first non-blank field of a line after the table. */
static const char *const label_footnotes[] = {
    "注", "说明", "备注：", "备注:", "数据来源", "资料来源", "来源：", "来源:",
    "*", "※", NULL
};

/* Does [p, +n) start with 'prefix'? */
static bool
starts(const char *p, size_t n, const char *prefix)
{
    size_t k = strlen(prefix);

    return n >= k && memcmp(p, prefix, k) == 0;
}

/*
 * Split a header text (trimmed) into its name and the word in brackets at
 * its end: "数值（万元）" -> "数值" and "万元".  *unit is NULL when the text
 * does not end with a closing bracket that has its opening one.
 */
void
parse_label_bracket(const char *p, size_t n, size_t *name_len, const char **unit,
                    size_t *unit_len)
{
    static const char *const pairs[][2] = {
        { "(", ")" }, { "\xef\xbc\x88", "\xef\xbc\x89" },       /* （ ） */
        { "[", "]" }, { "\xe3\x80\x90", "\xe3\x80\x91" },       /* 【 】 */
    };

    *name_len = n;
    *unit = NULL;
    *unit_len = 0;
    for (size_t k = 0; k < sizeof(pairs) / sizeof(pairs[0]); k++) {
        size_t lo = strlen(pairs[k][0]), lc = strlen(pairs[k][1]);

        if (n <= lc || memcmp(p + n - lc, pairs[k][1], lc) != 0) {
            continue;
        }
        for (size_t i = n - lc; i-- > 0;) {
            if (i + lo <= n - lc && memcmp(p + i, pairs[k][0], lo) == 0) {
                const char *b = p + i + lo, *e = p + n - lc, *nb = p, *ne = p + i;

                etl_text_trim(&b, &e);
                etl_text_trim(&nb, &ne);
                if (b < e && nb < ne) {
                    *name_len = (size_t)(ne - nb);
                    *unit = b;
                    *unit_len = (size_t)(e - b);
                }
                return;
            }
        }
    }
}

/* ---- labels ------------------------------------------------------------- */

/* Is [p, +n) the label of a total row (合计, 总计, 全国合计 ...)? */
bool
parse_label_total(const char *p, size_t n)
{
    char buf[64];
    size_t o = 0;
    const char *e = p + n;

    while (p < e) {
        size_t k = etl_text_blank(p, e);
        int c;

        if (k > 0) {
            p += k;
            continue;
        }
        c = etl_text_fold(p, e, &k);
        if (o + k >= sizeof(buf)) {
            return false;
        }
        if (c >= 'A' && c <= 'Z') {
            buf[o++] = (char)(c + 'a' - 'A');
        } else if (c >= 0) {
            buf[o++] = (char)c;
        } else {
            memcpy(buf + o, p, k);
            o += k;
        }
        p += k;
    }
    buf[o] = '\0';
    for (size_t i = 0; label_totals[i] != NULL; i++) {
        if (strcmp(buf, label_totals[i]) == 0) {
            return true;
        }
    }
    return false;
}

/*
 * How many bytes of [p, +n) are of-which markers: "#", "＃", "其中" with an
 * optional ":" or "：", in any sequence, and the blanks after them
 * ("其中：广州" -> 9).  0 when the text does not start with one.
 */
size_t
parse_label_of_which(const char *p, size_t n)
{
    const char *s = p, *e = p + n, *after = p;
    size_t k;

    for (;;) {
        if ((k = etl_text_blank(s, e)) > 0) {
            s += k;
        } else if (etl_text_fold(s, e, &k) == '#') {
            after = s += k;
        } else if (e - s >= 6 && memcmp(s, "其中", 6) == 0) {
            s += 6;
            if (etl_text_fold(s, e, &k) == ':') {
                s += k;
            }
            after = s;
        } else {
            break;
        }
    }
    if (after == p) {
        return 0;
    }
    while ((k = etl_text_blank(after, e)) > 0) {
        after += k;
    }
    return (size_t)(after - p);
}

/* The first field of 'rec' that is not blank, trimmed; false if none. */
static bool
label_first(const struct etl_csv_record *rec, const char **p, size_t *n, size_t *at)
{
    for (size_t i = 0; i < rec->nfields; i++) {
        *p = rec->fields[i];
        *n = rec->lens[i];
        parse_trim(p, n);
        if (*n > 0) {
            *at = i;
            return true;
        }
    }
    return false;
}

/* Is 'rec' a footnote after the table (注：…, 数据来源：…)? */
bool
parse_label_footnote(const struct etl_csv_record *rec)
{
    const char *p;
    size_t n, at;

    if (rec->bad != NULL || !label_first(rec, &p, &n, &at)) {
        return false;
    }
    for (size_t i = 0; label_footnotes[i] != NULL; i++) {
        if (starts(p, n, label_footnotes[i])) {
            /* "注" alone starts words too (注册...): a marker must follow */
            if (strcmp(label_footnotes[i], "注") == 0 && n > 3) {
                const char *q = p + 3, *e = p + n;
                size_t k;
                int c = etl_text_fold(q, e, &k);

                if (!(c == ':' || c == ' ' || (c >= '0' && c <= '9') || c == '(' ||
                      c == '*' || starts(q, (size_t)(e - q), "、"))) {
                    continue;
                }
            }
            return true;
        }
    }
    return false;
}
