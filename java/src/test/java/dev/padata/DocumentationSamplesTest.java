/* SPDX-License-Identifier: MIT */
package dev.padata;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.spi.ToolProvider;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Every Java code sample of the Javadoc and of the README compiles against the API as built.
 *
 * <p>The samples stay where readers see them (one place): this test extracts the
 * {@code <pre>{@code ...}</pre>} and inline {@code {@snippet : ...}} blocks of the main sources
 * and the {@code ```java} blocks of README.md, and compiles each with javac (through
 * {@link ToolProvider}, which needs no extra module read in the patched test module) against
 * target/classes. A block marked as another language ({@code <pre class="language-c">},
 * {@code {@snippet lang="c" :}}) is skipped. A sample that declares a top-level class is
 * compiled as it stands; any other is a method body, with the imports below and
 * {@code throws Throwable}, so a sample must declare the values it uses but need not handle
 * checked exceptions at its top level (inside lambdas it must, as real code would).
 */
class DocumentationSamplesTest {
    private static final String IMPORTS = """
            import dev.padata.*;
            import java.io.*;
            import java.lang.foreign.*;
            import java.nio.file.*;
            import java.time.*;
            import java.util.*;
            import java.util.concurrent.*;
            import java.util.function.*;
            """;

    private record Sample(String where, String code) {
    }

    private static Path basedir() {
        String b = System.getProperty("basedir");
        return Path.of(b != null ? b : System.getProperty("user.dir"));
    }

    /** From the index of an opening brace, the index of its matching closing brace. */
    private static int matchingBrace(String s, int open) {
        int depth = 0;
        for (int i = open; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '{')
                depth++;
            else if (c == '}' && --depth == 0)
                return i;
        }
        throw new IllegalStateException("unbalanced braces from offset " + open);
    }

    /** Javadoc text of a block: drops each line's leading whitespace and one "* ". */
    private static String uncomment(String block) {
        StringBuilder out = new StringBuilder();
        for (String line : block.split("\n", -1))
            out.append(line.replaceFirst("^\\s*\\* ?", "")).append('\n');
        return out.toString();
    }

    private static final Pattern PRE_CODE = Pattern.compile("<pre(\\s[^>]*)?>\\{@code");
    private static final Pattern SNIPPET = Pattern.compile("\\{@snippet([^:}]*):");

    static List<Sample> javadocSamples() throws IOException {
        List<Sample> samples = new ArrayList<>();
        Path root = basedir().resolve("src/main/java");
        List<Path> files;
        try (Stream<Path> s = Files.walk(root)) {
            files = s.filter(p -> p.toString().endsWith(".java")).sorted().toList();
        }
        for (Path f : files) {
            String src = Files.readString(f);
            String name = root.relativize(f).toString();
            Matcher m = PRE_CODE.matcher(src);
            while (m.find()) {
                String attrs = m.group(1) == null ? "" : m.group(1);
                int open = m.end() - "{@code".length() - 1;
                int close = matchingBrace(src, open);
                if (attrs.contains("language-") && !attrs.contains("language-java"))
                    continue;
                samples.add(new Sample(name + " line " + lineOf(src, m.start()), uncomment(src.substring(m.end(), close))));
            }
            m = SNIPPET.matcher(src);
            while (m.find()) {
                String attrs = m.group(1);
                int open = m.start();
                int close = matchingBrace(src, open);
                if (attrs.contains("lang=") && !attrs.matches("(?s).*lang=\"?java\"?.*"))
                    continue;
                samples.add(new Sample(name + " line " + lineOf(src, m.start()), uncomment(src.substring(m.end(), close))));
            }
        }
        return samples;
    }

    static List<Sample> readmeSamples() throws IOException {
        List<Sample> samples = new ArrayList<>();
        Path readme = basedir().resolve("../README.md").normalize();
        List<String> lines = Files.readAllLines(readme);
        boolean flink = false; // that section's samples need Flink: integrations/flink checks them
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).startsWith("## "))
                flink = lines.get(i).startsWith("## Flink");
            if (flink || !lines.get(i).strip().equals("```java"))
                continue;
            int start = i + 1;
            StringBuilder code = new StringBuilder();
            for (i = start; i < lines.size() && !lines.get(i).strip().equals("```"); i++)
                code.append(lines.get(i)).append('\n');
            samples.add(new Sample("README.md line " + start, code.toString()));
        }
        return samples;
    }

    private static int lineOf(String s, int offset) {
        int line = 1;
        for (int i = 0; i < offset; i++)
            if (s.charAt(i) == '\n')
                line++;
        return line;
    }

    private static final Pattern TOP_LEVEL_TYPE =
            Pattern.compile("(?m)^(?:public\\s+|final\\s+|abstract\\s+)*(?:class|record|interface|enum)\\s+(\\w+)");

    /** Writes the compilation unit a sample becomes: itself when it declares a top-level type, else a method body. */
    private static Path writeUnit(Sample s, Path dir, int index) throws IOException {
        Matcher m = TOP_LEVEL_TYPE.matcher(s.code());
        String className;
        String text;
        if (m.find()) {
            className = m.group(1);
            text = s.code();
        } else {
            className = "Sample" + index;
            text = IMPORTS + "\nfinal class " + className + " {\n    static void sample() throws Throwable {\n"
                    + s.code() + "    }\n}\n";
        }
        return Files.writeString(dir.resolve(className + ".java"), text);
    }

    private static void compileEach(List<Sample> samples) throws IOException {
        ToolProvider javac = ToolProvider.findFirst("javac").orElseThrow(() -> new AssertionError("no javac in this JDK"));
        Path classes = Path.of(System.getProperty("padata.test.classes", "target/classes"));
        Path out = Files.createTempDirectory("padata-samples");
        List<String> failures = new ArrayList<>();
        try {
            for (int i = 0; i < samples.size(); i++) {
                Sample s = samples.get(i);
                Path dir = Files.createDirectories(out.resolve("s" + i));
                Path unit = writeUnit(s, dir, i);
                StringWriter diagnostics = new StringWriter();
                PrintWriter w = new PrintWriter(diagnostics);
                int rc = javac.run(w, w, "-classpath", classes.toString(), "-d", dir.resolve("classes").toString(),
                        "-proc:none", "-encoding", "UTF-8", unit.toString());
                w.flush();
                if (rc != 0)
                    failures.add(s.where() + " does not compile:\n" + diagnostics + "--- sample ---\n" + s.code());
            }
        } finally {
            try (Stream<Path> s = Files.walk(out)) {
                s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> {
                    try {
                        Files.delete(p);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
            }
        }
        if (!failures.isEmpty())
            fail(String.join("\n\n", failures));
    }

    @Test
    void everyJavadocCodeSampleCompiles() throws IOException {
        List<Sample> samples = javadocSamples();
        // Padata, NativeJob, OrderedPipeline and CpuMask have one each: finding none means the
        // extraction broke, not that there is nothing to check.
        assertTrue(samples.size() >= 4, "found only " + samples.size() + " Javadoc samples: " + samples);
        compileEach(samples);
    }

    @Test
    void everyJavaSampleOfTheReadmeCompiles() throws IOException {
        List<Sample> samples = readmeSamples();
        assertTrue(samples.size() >= 5, "expected the README's Java samples, found " + samples.size());
        compileEach(samples);
    }

    /** The README's Java section starts from the common case: the one-line gatherer, then the pipeline. */
    @Test
    void theReadmesJavaSectionStartsFromTheOneLineGatherer() throws IOException {
        List<String> lines = Files.readAllLines(basedir().resolve("../README.md").normalize());
        int javaSection = lines.indexOf(lines.stream().filter(l -> l.startsWith("## Java")).findFirst()
                .orElseThrow(() -> new AssertionError("README.md has no \"## Java\" section")));
        List<String> java = readmeSamples().stream()
                .filter(x -> Integer.parseInt(x.where().substring("README.md line ".length())) > javaSection)
                .map(Sample::code).toList();
        assertTrue(java.get(0).contains("OrderedGatherers.mapOrdered"), java.get(0));
        assertTrue(java.get(1).contains("OrderedPipeline"), java.get(1));
        assertTrue(java.stream().anyMatch(b -> b.contains("OrderedProcessor")), "no Flow sample");
    }
}
