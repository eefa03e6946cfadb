/* SPDX-License-Identifier: MIT */
package dev.padata;

import org.junit.jupiter.api.Test;

import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Every {@code ```java} block of the repository's README.md is a complete compilation unit, and
 * they all compile against this build's classes: a sample that drifts from the API fails the
 * build here, quoted with the compiler's message. The blocks are read from the README itself, so
 * there is no second copy to keep in step.
 */
class ReadmeSamplesTest {
    private static final Pattern BLOCK = Pattern.compile("(?ms)^```java\\n(.*?)^```\\s*$");
    private static final Pattern CLASS = Pattern.compile("(?m)^public (?:final )?(?:class|record|interface) (\\w+)");

    static Path readme() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path p = dir.resolve("README.md");
            if (Files.isRegularFile(p) && Files.isDirectory(dir.resolve("java")))
                return p;
        }
        return fail("README.md of the repository not found above " + Path.of("").toAbsolutePath());
    }

    static List<String> javaBlocks(String markdown) {
        List<String> blocks = new ArrayList<>();
        Matcher m = BLOCK.matcher(markdown);
        while (m.find())
            blocks.add(m.group(1));
        return blocks;
    }

    private static final class Source extends SimpleJavaFileObject {
        private final String code;

        Source(String className, String code) {
            super(URI.create("string:///" + className + ".java"), Kind.SOURCE);
            this.code = code;
        }

        @Override
        public CharSequence getCharContent(boolean ignoreEncodingErrors) {
            return code;
        }
    }

    @Test
    void everyJavaBlockOfTheReadmeCompilesAgainstTheLibrary() throws IOException {
        List<String> blocks = javaBlocks(Files.readString(readme()));
        assertTrue(blocks.size() >= 5, "expected the README's Java samples, found " + blocks.size());
        List<JavaFileObject> sources = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (String b : blocks) {
            Matcher m = CLASS.matcher(b);
            assertTrue(m.find(), "a README java block is not a compilation unit with a public class:\n" + b);
            assertTrue(names.add(m.group(1)), "two README samples are named " + m.group(1));
            sources.add(new Source(m.group(1), b));
        }
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        assertNotNull(javac, "no system Java compiler (run the tests on a JDK)");
        Path out = Files.createTempDirectory("readme-samples");
        DiagnosticCollector<JavaFileObject> diags = new DiagnosticCollector<>();
        try (StandardJavaFileManager fm = javac.getStandardFileManager(diags, null, null)) {
            List<String> options = List.of("-proc:none", "-Xlint:all", "-Werror",
                    "-classpath", System.getProperty("java.class.path"), "-d", out.toString());
            boolean ok = javac.getTask(null, fm, diags, options, null, sources).call();
            StringBuilder report = new StringBuilder();
            for (Diagnostic<? extends JavaFileObject> d : diags.getDiagnostics())
                report.append(d.getSource() == null ? "" : d.getSource().getName()).append(':')
                        .append(d.getLineNumber()).append(": ").append(d.getMessage(null)).append('\n');
            assertTrue(ok, "README samples do not compile:\n" + report);
            assertFalse(report.toString().contains("warning"), report.toString());
        }
    }

    @Test
    void theOneLineGathererSampleComesFirstInTheJavaSection() throws IOException {
        String md = Files.readString(readme());
        String java = md.substring(md.indexOf("## Java"));
        List<String> blocks = javaBlocks(java);
        assertTrue(blocks.get(0).contains("OrderedGatherers.mapOrdered"), blocks.get(0));
        assertTrue(blocks.get(1).contains("OrderedPipeline"), blocks.get(1));
        assertTrue(blocks.stream().anyMatch(b -> b.contains("OrderedProcessor")));
    }
}
