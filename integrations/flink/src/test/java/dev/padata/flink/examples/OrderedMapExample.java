/* SPDX-License-Identifier: MIT */
package dev.padata.flink.examples;

import dev.padata.flink.PadataStreams;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import java.util.List;

/**
 * A runnable example: a CPU-bound map over a stream, spread over this machine's CPUs by padata
 * inside each Flink subtask, results in input order.
 *
 * <pre>
 * JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64 mvn -q -pl integrations/flink -am install -DskipTests
 * JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64 MAVEN_OPTS=--enable-native-access=ALL-UNNAMED \
 *     mvn -q -pl integrations/flink exec:java -Dexec.classpathScope=test \
 *     -Dexec.mainClass=dev.padata.flink.examples.OrderedMapExample
 * </pre>
 */
public final class OrderedMapExample {
    private OrderedMapExample() {
    }

    /** The job: hash every number with {@code w} units of work, in order, 256 in flight per subtask. */
    public static DataStream<Long> build(StreamExecutionEnvironment env, long n, int w) {
        DataStream<Long> numbers = env.fromSequence(0, n - 1);
        DataStream<Long> hashed = PadataStreams.orderedMap(numbers, new Work(w), Types.LONG, 256); // 256 in flight per subtask
        return hashed;
    }

    public static void main(String[] args) throws Exception {
        long n = args.length > 0 ? Long.parseLong(args[0]) : 100_000;
        int w = args.length > 1 ? Integer.parseInt(args[1]) : 20_000;
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1);
        long t0 = System.nanoTime();
        List<Long> digests = build(env, n, w).executeAndCollect("padata orderedMap example", (int) n);
        long ns = System.nanoTime() - t0;
        for (int i = 0; i < digests.size(); i++)
            if (digests.get(i) != Work.work(i, w))
                throw new AssertionError("element " + i + " out of order or wrong");
        System.out.printf("%d elements of w=%d in order in %.2f s (%.1f us per element)%n",
                digests.size(), w, ns / 1e9, ns / 1e3 / n);
    }
}
