/* SPDX-License-Identifier: MIT */
package dev.padata.flink;

import dev.padata.flink.examples.OrderedMapExample;
import dev.padata.flink.examples.Work;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The README's example runs and answers in order. */
class ExampleTest {
    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = Flink.miniCluster();

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
