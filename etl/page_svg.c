/*
 * page_svg.c
 *    The status page's charts: an inline SVG bar chart of one series from
 *    plain arrays (labels, values, which are present), and the short
 *    number format of its axes; see page.h.  No database here: page.c
 *    reads ewc.national_period and calls etl_page_chart once per
 *    indicator and kind of period.
 *
 *    Every coordinate written comes from finite values over a range that
 *    is not empty, so no "nan" or "inf" reaches the SVG; missing and
 *    non-finite values are gaps.
 */
#include "page.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Geometry, in SVG user units (CSS pixels at scale 1). */
#define CHART_LEFT 64           /* room for the value labels */
#define CHART_RIGHT 12
#define CHART_TOP 40            /* the title and the unit */
#define CHART_HEIGHT 150        /* the plot area */
#define CHART_BOTTOM_FLAT 24    /* period labels written across */
#define CHART_BOTTOM_TILTED 62  /* period labels written at 45 degrees */
#define CHART_SLOT_MIN 22       /* width per point: at least, ... */
#define CHART_SLOT_MAX 56       /* ... at most */
#define CHART_PLOT_MIN 220      /* the plot is at least this wide */
#define CHART_PLOT_MAX 760      /* and at most this: many points get thin bars */
#define CHART_FLAT_MAX 8        /* up to this many labels lie flat */
#define CHART_VALUES_MAX 12     /* up to this many bars show their value */

/* See page.h. */
void
etl_page_number(double v, char *out, size_t size)
{
    static const char *const suffix[] = { "", " k", " M", " bn", " tn" };
    const size_t nsuffix = sizeof(suffix) / sizeof(suffix[0]);
    double scaled = v;
    char tmp[32];
    size_t i;

    if (!isfinite(v)) {
        snprintf(out, size, "?");
        return;
    }
    /* three significant digits; 999.9 rounds to 1e+03: the next suffix */
    for (i = 0;; i++) {
        snprintf(tmp, sizeof(tmp), "%.3g", scaled == 0 ? 0 : scaled);
        if (fabs(strtod(tmp, NULL)) < 1000 || i + 1 == nsuffix) {
            break;
        }
        scaled /= 1000;
    }
    snprintf(out, size, "%s%s", tmp, suffix[i]);
}

/* A "nice" step (1, 2 or 5 times a power of ten) near range/4. */
static double
nice_step(double range)
{
    double raw = range / 4, mag = pow(10, floor(log10(raw))), f = raw / mag;

    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

/* The chart's scale: values lo..hi (ticks from lo by step) over the plot. */
struct chart_scale {
    double lo, hi, step;
    double x0, slot, y0, h;     /* plot's left edge, width per point, top, height */
};

/* The value's y coordinate. */
static double
scale_y(const struct chart_scale *sc, double v)
{
    return sc->y0 + (sc->hi - v) / (sc->hi - sc->lo) * sc->h;
}

static bool
point_present(const struct etl_page_series *s, size_t i)
{
    return (s->present == NULL || s->present[i]) && isfinite(s->values[i]);
}

/*
 * The scale of the present values, with zero in the range: 0 when there
 * is at least one, -1 when none (or when their range overflows).
 */
static int
chart_scale_of(const struct etl_page_series *s, struct chart_scale *sc)
{
    double lo = 0, hi = 0;
    size_t have = 0;

    for (size_t i = 0; i < s->n; i++) {
        if (point_present(s, i)) {
            lo = fmin(lo, s->values[i]);
            hi = fmax(hi, s->values[i]);
            have++;
        }
    }
    if (have == 0 || !isfinite(hi - lo)) {
        return -1;
    }
    if (hi == lo) {
        hi = lo + 1;                    /* all zero: a unit range */
    }
    sc->step = nice_step(hi - lo);
    sc->lo = floor(lo / sc->step) * sc->step;
    sc->hi = ceil(hi / sc->step) * sc->step;
    if (!(sc->hi > sc->lo) || !isfinite(sc->hi - sc->lo)) {
        return -1;
    }
    return 0;
}

/* The value axis: a grid line and label per tick, the unit above. */
static int
chart_axis(struct etl_buf *out, const struct etl_page_series *s, const struct chart_scale *sc,
           double width, struct etl_err *err)
{
    int ticks = (int)lround((sc->hi - sc->lo) / sc->step);

    for (int k = 0; k <= ticks; k++) {
        double v = sc->lo + k * sc->step, y = scale_y(sc, v);
        char num[32];

        if (fabs(v) < sc->step / 1e6) {
            v = 0;                      /* not "-1.11e-16" */
        }
        etl_page_number(v, num, sizeof(num));
        if (etl_buf_printf(out, err, "<line class=\"%s\" x1=\"%d\" y1=\"%.1f\" x2=\"%.1f\" "
                           "y2=\"%.1f\"/><text class=\"tick\" x=\"%d\" y=\"%.1f\" "
                           "text-anchor=\"end\">%s</text>\n", v == 0 ? "zero" : "grid",
                           CHART_LEFT, y, width - CHART_RIGHT, y, CHART_LEFT - 4, y + 4,
                           num) < 0) {
            return -1;
        }
    }
    if (etl_buf_printf(out, err, "<text class=\"unit\" x=\"4\" y=\"%d\">",
                       CHART_TOP - 8) < 0 ||
        etl_page_escape(out, s->unit != NULL && s->unit[0] != '\0' ? s->unit : "value",
                        err) < 0) {
        return -1;
    }
    return etl_buf_addstr(out, "</text>\n", err);
}

/* Point i: its bar (or the "no figure" mark) and its value label. */
static int
chart_bar(struct etl_buf *out, const struct etl_page_series *s, const struct chart_scale *sc,
          size_t i, struct etl_err *err)
{
    double cx = sc->x0 + (i + 0.5) * sc->slot, bw = sc->slot * 0.7;
    double yz = scale_y(sc, 0);
    char num[32];

    if (!point_present(s, i)) {
        if (etl_buf_printf(out, err, "<text class=\"gap\" x=\"%.1f\" y=\"%.1f\" "
                           "text-anchor=\"middle\"><title>", cx, yz - 3) < 0 ||
            etl_page_escape(out, s->labels[i], err) < 0) {
            return -1;
        }
        return etl_buf_addstr(out, ": no figure</title>\xE2\x80\x93</text>\n", err);
    }
    double v = s->values[i], y = scale_y(sc, v);
    double top = fmin(y, yz), h = fabs(yz - y);

    etl_page_number(v, num, sizeof(num));
    if (etl_buf_printf(out, err, "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                       "height=\"%.1f\"><title>", v < 0 ? "bar neg" : "bar", cx - bw / 2, top,
                       bw, h < 0.5 ? 0.5 : h) < 0 ||
        etl_page_escape(out, s->labels[i], err) < 0 ||
        etl_buf_printf(out, err, ": %.15g ", v) < 0 ||
        etl_page_escape(out, s->unit, err) < 0 ||
        etl_buf_addstr(out, "</title></rect>\n", err) < 0) {
        return -1;
    }
    if (s->n > CHART_VALUES_MAX) {
        return 0;
    }
    return etl_buf_printf(out, err, "<text class=\"val\" x=\"%.1f\" y=\"%.1f\" "
                          "text-anchor=\"middle\">%s</text>\n", cx,
                          v < 0 ? top + h + 11 : top - 3, num);
}

/* Point i's period label under the plot, flat or tilted. */
static int
chart_label(struct etl_buf *out, const struct etl_page_series *s, const struct chart_scale *sc,
            size_t i, struct etl_err *err)
{
    double cx = sc->x0 + (i + 0.5) * sc->slot, y = sc->y0 + sc->h + 14;
    int rc;

    if (s->n <= CHART_FLAT_MAX) {
        rc = etl_buf_printf(out, err, "<text class=\"per\" x=\"%.1f\" y=\"%.1f\" "
                            "text-anchor=\"middle\">", cx, y);
    } else {
        rc = etl_buf_printf(out, err, "<text class=\"per\" x=\"%.1f\" y=\"%.1f\" "
                            "text-anchor=\"end\" transform=\"rotate(-45 %.1f %.1f)\">",
                            cx + 4, y, cx + 4, y);
    }
    if (rc < 0 || etl_page_escape(out, s->labels[i], err) < 0) {
        return -1;
    }
    return etl_buf_addstr(out, "</text>\n", err);
}

/* The <svg> element's opening, its title and the chart's heading. */
static int
chart_open(struct etl_buf *out, const struct etl_page_series *s, double width, double height,
           struct etl_err *err)
{
    const char *title = s->title != NULL ? s->title : "";

    if (etl_buf_printf(out, err, "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" "
                       "width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
                       "aria-label=\"", width, height, width, height) < 0 ||
        etl_page_escape(out, title, err) < 0 ||
        etl_buf_addstr(out, "\"><title>", err) < 0 ||
        etl_page_escape(out, title, err) < 0 ||
        etl_buf_printf(out, err, "</title>\n<text class=\"head\" x=\"%d\" y=\"14\">",
                       CHART_LEFT) < 0 ||
        etl_page_escape(out, title, err) < 0) {
        return -1;
    }
    return etl_buf_addstr(out, "</text>\n", err);
}

/* See page.h. */
int
etl_page_chart(struct etl_buf *out, const struct etl_page_series *s, struct etl_err *err)
{
    struct chart_scale sc = { .lo = 0, .hi = 1, .step = 1 };
    double plot, width, height;
    bool empty = chart_scale_of(s, &sc) < 0;

    sc.slot = s->n == 0 ? CHART_SLOT_MAX : fmin(CHART_SLOT_MAX, fmax(CHART_SLOT_MIN,
                                                                     CHART_PLOT_MIN / s->n));
    plot = fmin(CHART_PLOT_MAX, fmax(CHART_PLOT_MIN, sc.slot * (double)s->n));
    if (s->n > 0) {
        sc.slot = plot / (double)s->n;
    }
    sc.x0 = CHART_LEFT;
    sc.y0 = CHART_TOP;
    sc.h = CHART_HEIGHT;
    width = CHART_LEFT + plot + CHART_RIGHT;
    height = CHART_TOP + CHART_HEIGHT +
             (s->n <= CHART_FLAT_MAX ? CHART_BOTTOM_FLAT : CHART_BOTTOM_TILTED);
    if (chart_open(out, s, width, height, err) < 0 ||
        etl_buf_printf(out, err, "<rect class=\"frame\" x=\"%d\" y=\"%d\" width=\"%.0f\" "
                       "height=\"%d\"/>\n", CHART_LEFT, CHART_TOP, plot, CHART_HEIGHT) < 0) {
        return -1;
    }
    if (empty) {
        if (etl_buf_printf(out, err, "<text class=\"gap\" x=\"%.1f\" y=\"%.1f\" "
                           "text-anchor=\"middle\">no figure</text>\n",
                           CHART_LEFT + plot / 2, CHART_TOP + CHART_HEIGHT / 2.0) < 0) {
            return -1;
        }
    } else if (chart_axis(out, s, &sc, width, err) < 0) {
        return -1;
    }
    for (size_t i = 0; i < s->n; i++) {
        if ((!empty && chart_bar(out, s, &sc, i, err) < 0) ||
            chart_label(out, s, &sc, i, err) < 0) {
            return -1;
        }
    }
    return etl_buf_addstr(out, "</svg>\n", err);
}
