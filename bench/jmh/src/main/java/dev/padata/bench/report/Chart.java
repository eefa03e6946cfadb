/* SPDX-License-Identifier: MIT */
package dev.padata.bench.report;

import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.axis.ValueAxis;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.renderer.category.LineAndShapeRenderer;
import org.jfree.data.category.DefaultCategoryDataset;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.text.NumberFormat;
import java.util.Locale;

/**
 * The charts of the FNV sweep: throughput (one line per contender, work per job on the x axis,
 * the sweep's values evenly spaced as they grow tenfold, jobs per second on a log y axis) and
 * speedup over the single loop of the same language (linear, where the log scale of the
 * throughput chart hides differences at large w).
 */
final class Chart {
    private Chart() {
    }

    static void write(Report.Model m, String title, Path png) throws IOException {
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        double min = Double.MAX_VALUE;
        for (String c : m.contenders()) {
            for (int w : m.ws()) {
                double r = m.rate(c, w);
                if (!Double.isNaN(r) && r > 0) {
                    data.addValue(r, c, Integer.toString(w));
                    min = Math.min(min, r);
                }
            }
        }
        LogAxis y = new LogAxis("jobs per second (log scale)");
        y.setSmallestValue(min == Double.MAX_VALUE ? 1 : min / 2);
        y.setAutoRange(true);
        y.setTickUnit(new NumberTickUnit(1.0)); // one tick per power of ten
        y.setNumberFormatOverride(NumberFormat.getCompactNumberInstance(Locale.ROOT, NumberFormat.Style.SHORT));
        save(plot(data, y), title + ": throughput vs work per job", png);
    }

    /** Speedup over c-single / java-single per contender and w, a line at 1×. */
    static void writeSpeedup(Report.Model m, String title, Path png) throws IOException {
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        for (String c : m.contenders()) {
            if (c.endsWith("-single")) {
                continue;
            }
            for (int w : m.ws()) {
                double r = m.rate(c, w) / m.rate(Report.Model.singleFor(c), w);
                if (!Double.isNaN(r) && !Double.isInfinite(r)) {
                    data.addValue(r, c, Integer.toString(w));
                }
            }
        }
        CategoryPlot plot = plot(data, new NumberAxis("× the single-threaded loop of the same language (same run)"));
        plot.addRangeMarker(new ValueMarker(1.0, Color.DARK_GRAY, new BasicStroke(1.5f)));
        save(plot, title + ": speedup over the single loop", png);
    }

    /**
     * One line per contender against w on {@code y}: C and oneTBB solid, Java dashed, the padata
     * contenders thick; white background, light grid.
     */
    private static CategoryPlot plot(DefaultCategoryDataset data, ValueAxis y) {
        LineAndShapeRenderer renderer = new LineAndShapeRenderer(true, true);
        for (int i = 0; i < data.getRowCount(); i++) {
            String c = (String) data.getRowKey(i);
            float width = c.contains("padata") ? 3.0f : 1.5f;
            renderer.setSeriesStroke(i, c.startsWith("java-")
                    ? new BasicStroke(width, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND, 1f, new float[] {8f, 5f}, 0f)
                    : new BasicStroke(width));
        }
        CategoryPlot plot = new CategoryPlot(data, new CategoryAxis("work per job w (bytes)"), y, renderer);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        return plot;
    }

    private static void save(CategoryPlot plot, String heading, Path png) throws IOException {
        JFreeChart chart = new JFreeChart(heading, JFreeChart.DEFAULT_TITLE_FONT, plot, true);
        chart.setBackgroundPaint(Color.WHITE);
        ChartUtils.saveChartAsPNG(png.toFile(), chart, 1000, 650);
    }
}
