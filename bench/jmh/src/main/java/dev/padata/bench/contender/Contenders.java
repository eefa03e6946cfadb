/* SPDX-License-Identifier: MIT */
package dev.padata.bench.contender;

import java.util.List;
import java.util.function.Function;

/** The Java contenders by report name. */
public final class Contenders {
    private Contenders() {
    }

    private record Entry(String name, String description, Function<Contender.Config, Contender> factory) {
    }

    private static final List<Entry> ALL = List.of(
            new Entry("java-single", "single-threaded Java loop", JavaSingle::new),
            new Entry("java-padata-lambda", "padata Java API, parallel()/serial() as Java code (upcalls)", PadataLambdas::new),
            new Entry("java-padata-native", "padata Java API, native parallel()/serial() from libpadata_bench_cb.so (no upcall)", PadataNativeCallbacks::new),
            new Entry("java-padata-idiomatic", "padata idiomatic Java layer", PadataIdiomatic::new),
            new Entry("java-padata-batch", "padata idiomatic Java layer, submitAll of 256 values at a time", PadataIdiomatic::batch),
            new Entry("java-padata-gatherer", "stream.gather(OrderedGatherers.mapOrdered(work)), the one-liner", PadataGatherer::new),
            new Entry("java-pool", "fixed thread pool + futures consumed in order", ThreadPoolFutures::new),
            new Entry("java-stream", "Stream.parallel() + forEachOrdered", ParallelStream::new),
            new Entry("java-mapconcurrent", "Gatherers.mapConcurrent (virtual threads)", MapConcurrent::new),
            new Entry("java-disruptor", "LMAX Disruptor 4, sharded work handlers + serial handler", DisruptorPipeline::new));

    /** Every contender name, in report order. */
    public static List<String> names() {
        return ALL.stream().map(Entry::name).toList();
    }

    /** A one-line description of {@code name}. */
    public static String describe(String name) {
        return find(name).description();
    }

    /** Opens contender {@code name}; throws IllegalArgumentException for an unknown name. */
    public static Contender create(String name, Contender.Config config) {
        return find(name).factory().apply(config);
    }

    private static Entry find(String name) {
        for (Entry e : ALL) {
            if (e.name().equals(name)) {
                return e;
            }
        }
        throw new IllegalArgumentException("unknown contender '" + name + "'; known: " + names());
    }
}
