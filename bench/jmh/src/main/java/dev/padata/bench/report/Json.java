/* SPDX-License-Identifier: MIT */
package dev.padata.bench.report;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small JSON reader for the harness's own inputs (JMH's {@code -rf json} output and the
 * C benches' JSON lines): objects become {@code Map<String, Object>} in document order, arrays
 * {@code List<Object>}, numbers {@code Double}, plus {@code String}, {@code Boolean} and
 * {@code null}. JMH writes {@code NaN} as a bare word or a string; both read as
 * {@link Double#NaN}.
 */
final class Json {
    private final String s;
    private int i;

    private Json(String s) {
        this.s = s;
    }

    /** Parses one JSON value; throws IllegalArgumentException naming the offset on bad input. */
    static Object parse(String text) {
        Json p = new Json(text);
        Object v = p.value();
        p.ws();
        if (p.i != p.s.length()) {
            throw p.error("trailing characters");
        }
        return v;
    }

    /** {@code parse(text)} as an object. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> parseObject(String text) {
        Object v = parse(text);
        if (!(v instanceof Map)) {
            throw new IllegalArgumentException("expected a JSON object: " + abbreviate(text));
        }
        return (Map<String, Object>) v;
    }

    /** A number member (NaN when absent or not a number). */
    static double num(Map<String, Object> o, String key) {
        Object v = o == null ? null : o.get(key);
        if (v instanceof Double d) {
            return d;
        }
        if (v instanceof String str) {
            try {
                return Double.parseDouble(str);
            } catch (NumberFormatException e) {
                return Double.NaN;
            }
        }
        return Double.NaN;
    }

    /**
     * The note for the cache-line round trip between the two CPUs before and after a
     * measurement ({@code line_rt_ns_before}, {@code line_rt_ns_after}, from bench_line_rt() in
     * bench/c/bench_util.c), or null when the line has neither. On a VM the host may run the two
     * CPUs close together or far apart and move them, and every ordered pipeline moves with it.
     */
    static String lineNote(Map<String, Object> o) {
        double before = num(o, "line_rt_ns_before"), after = num(o, "line_rt_ns_after");
        if (!(before > 0) && !(after > 0)) {
            return null;
        }
        return "line round trip " + ns(before) + " / " + ns(after) + " ns before / after";
    }

    /** The faster of the two round trips, or NaN unless both are there (and positive). */
    static double lineRtMin(Map<String, Object> o) {
        double before = num(o, "line_rt_ns_before"), after = num(o, "line_rt_ns_after");
        return before > 0 && after > 0 ? Math.min(before, after) : Double.NaN;
    }

    /** The slower of the two round trips, or NaN unless both are there (and positive). */
    static double lineRtMax(Map<String, Object> o) {
        double before = num(o, "line_rt_ns_before"), after = num(o, "line_rt_ns_after");
        return before > 0 && after > 0 ? Math.max(before, after) : Double.NaN;
    }

    private static String ns(double v) {
        return v > 0 ? String.format(java.util.Locale.ROOT, "%.0f", v) : "?";
    }

    /** A string member, or null. */
    static String str(Map<String, Object> o, String key) {
        Object v = o == null ? null : o.get(key);
        return v == null ? null : v instanceof Double d && d == Math.rint(d) ? Long.toString(d.longValue()) : v.toString();
    }

    /** An object member, or null. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> obj(Map<String, Object> o, String key) {
        Object v = o == null ? null : o.get(key);
        return v instanceof Map ? (Map<String, Object>) v : null;
    }

    private static String abbreviate(String t) {
        return t.length() > 80 ? t.substring(0, 77) + "..." : t;
    }

    private IllegalArgumentException error(String what) {
        return new IllegalArgumentException("bad JSON at offset " + i + ": " + what);
    }

    private void ws() {
        while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
            i++;
        }
    }

    private Object value() {
        ws();
        if (i >= s.length()) {
            throw error("unexpected end");
        }
        char c = s.charAt(i);
        switch (c) {
            case '{':
                return object();
            case '[':
                return array();
            case '"':
                return string();
            default:
                return word();
        }
    }

    private Map<String, Object> object() {
        Map<String, Object> m = new LinkedHashMap<>();
        i++; // {
        ws();
        if (peek() == '}') {
            i++;
            return m;
        }
        while (true) {
            ws();
            if (peek() != '"') {
                throw error("expected a member name");
            }
            String k = string();
            ws();
            expect(':');
            m.put(k, value());
            ws();
            char c = next();
            if (c == '}') {
                return m;
            }
            if (c != ',') {
                throw error("expected ',' or '}'");
            }
        }
    }

    private List<Object> array() {
        List<Object> a = new ArrayList<>();
        i++; // [
        ws();
        if (peek() == ']') {
            i++;
            return a;
        }
        while (true) {
            a.add(value());
            ws();
            char c = next();
            if (c == ']') {
                return a;
            }
            if (c != ',') {
                throw error("expected ',' or ']'");
            }
        }
    }

    private String string() {
        StringBuilder b = new StringBuilder();
        i++; // "
        while (true) {
            char c = next();
            if (c == '"') {
                return b.toString();
            }
            if (c != '\\') {
                b.append(c);
                continue;
            }
            char e = next();
            switch (e) {
                case 'n' -> b.append('\n');
                case 't' -> b.append('\t');
                case 'r' -> b.append('\r');
                case 'b' -> b.append('\b');
                case 'f' -> b.append('\f');
                case 'u' -> {
                    if (i + 4 > s.length()) {
                        throw error("short \\u escape");
                    }
                    b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                    i += 4;
                }
                default -> b.append(e);
            }
        }
    }

    private Object word() {
        int start = i;
        while (i < s.length() && "{}[],:\" \t\r\n".indexOf(s.charAt(i)) < 0) {
            i++;
        }
        String w = s.substring(start, i);
        switch (w) {
            case "true":
                return Boolean.TRUE;
            case "false":
                return Boolean.FALSE;
            case "null":
                return null;
            default:
                try {
                    return Double.parseDouble(w);
                } catch (NumberFormatException e) {
                    i = start;
                    throw error("unexpected '" + abbreviate(w) + "'");
                }
        }
    }

    private char peek() {
        if (i >= s.length()) {
            throw error("unexpected end");
        }
        return s.charAt(i);
    }

    private char next() {
        char c = peek();
        i++;
        return c;
    }

    private void expect(char c) {
        if (next() != c) {
            i--;
            throw error("expected '" + c + "'");
        }
    }
}
