/* SPDX-License-Identifier: MIT */
package dev.padata;

import org.reactivestreams.tck.TestEnvironment;
import org.reactivestreams.tck.flow.IdentityFlowProcessorVerification;
import org.testng.annotations.AfterClass;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;

/**
 * The Reactive Streams TCK ({@code reactive-streams-tck-flow} 1.0.4, TestNG, run by the JUnit
 * Platform's TestNG engine beside the JUnit 5 tests) against {@link OrderedProcessor} with the
 * identity function.
 *
 * <p>Every required rule runs and passes. The optional and multi-subscriber tests that the TCK
 * skips here, and why:
 * <ul>
 * <li>{@code optional_spec111_*} (multicast), {@code required_spec104_mustCallOnErrorOnAllItsSubscribers...}
 *     and {@code required_mustRequestFromUpstreamForElementsThatHaveBeenRequestedLongAgo}: they
 *     need two subscribers at once, and the processor is unicast ({@link #maxSupportedSubscribers}
 *     is 1; a second subscriber gets {@code onError(IllegalStateException)}, rule 1.9). The TCK
 *     itself reports them as skipped for that reason.</li>
 * <li>{@code untested_*}: the TCK has no test for those rules (they always skip).</li>
 * </ul>
 * The optional rules that do run pass: {@code optional_spec104_mustSignalOnErrorWhenFails}
 * (through {@link #createFailedFlowPublisher}), {@code optional_spec105_emptyStreamMustTerminateBySignallingOnComplete},
 * {@code optional_spec309_requestNegativeNumberMaySignalIllegalArgumentExceptionWithSpecificMessage}.
 *
 * <p>Timeouts are wider than the TCK's 100 ms default: the machine running the suite is shared.
 */
public class OrderedProcessorTckTest extends IdentityFlowProcessorVerification<Integer> {
    private static final long TIMEOUT_MS = 2_000;
    private static final long NO_SIGNAL_MS = 200;
    private static final long GC_TIMEOUT_MS = 5_000;

    private final ExecutorService executor = Executors.newFixedThreadPool(2);

    public OrderedProcessorTckTest() {
        super(new TestEnvironment(TIMEOUT_MS, NO_SIGNAL_MS), GC_TIMEOUT_MS);
    }

    @Override
    protected Flow.Processor<Integer, Integer> createIdentityFlowProcessor(int bufferSize) {
        return OrderedProcessor.<Integer, Integer>builder(x -> x).capacity(bufferSize).name("tck").build();
    }

    /** A processor whose upstream failed at once: a subscriber gets onSubscribe, then onError. */
    @Override
    protected Flow.Publisher<Integer> createFailedFlowPublisher() {
        OrderedProcessor<Integer, Integer> p = OrderedProcessor.<Integer, Integer>builder(x -> x).name("tck-failed").build();
        p.onSubscribe(new Flow.Subscription() {
            @Override
            public void request(long n) {
            }

            @Override
            public void cancel() {
            }
        });
        p.onError(new RuntimeException("the upstream failed (TCK createFailedFlowPublisher)"));
        return p;
    }

    @Override
    public ExecutorService publisherExecutorService() {
        return executor;
    }

    @Override
    public Integer createElement(int element) {
        return element;
    }

    @Override
    public long maxSupportedSubscribers() {
        return 1;
    }

    @AfterClass
    public void shutDownExecutor() {
        executor.shutdownNow();
    }
}
