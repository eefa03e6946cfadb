/* SPDX-License-Identifier: MIT */
package dev.padata.flink;

import dev.padata.flink.examples.OrderedMapExample;
import dev.padata.flink.examples.Work;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The README's example runs and answers in order. */
class ExampleTest {
    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = Flink.miniCluster();

    /** Every line of the README's Flink sample is a line of the example, which compiles and runs here. */
    @Test
    void theReadmeSampleIsTheExamplesCode() throws Exception {
        Path module = Path.of(System.getProperty("basedir", System.getProperty("user.dir")));
        List<String> readme = Files.readAllLines(module.resolve("../../README.md").normalize());
        Set<String> example = Files.readAllLines(module.resolve(
                "src/test/java/dev/padata/flink/examples/OrderedMapExample.java")).stream()
                .map(String::strip).collect(Collectors.toSet());
        boolean inFlink = false, inJava = false;
        int checked = 0;
        for (String line : readme) {
            if (line.startsWith("## "))
                inFlink = line.startsWith("## Flink");
            else if (inFlink && line.strip().equals("```java"))
                inJava = true;
            else if (inJava && line.strip().equals("```"))
                inJava = false;
            else if (inJava && !line.isBlank()) {
                assertTrue(example.contains(line.strip()), "README line not in OrderedMapExample: " + line);
                checked++;
            }
        }
        assertTrue(checked >= 2, "found no Java sample in the README's Flink section");
    }

    @Test
    void exampleJobHashesInOrder() throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(1);
        List<Long> got = OrderedMapExample.build(env, 5_000, 1_000).executeAndCollect("example", 10_000);
        assertEquals(5_000, got.size());
        for (int i = 0; i < got.size(); i++)
            assertEquals(Work.work(i, 1_000), got.get(i), "element " + i);
    }
}
