/* SPDX-License-Identifier: MIT */
package dev.padata.flink;

import dev.padata.CpuMask;
import dev.padata.OrderedPipeline;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.operators.MailboxExecutor;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractUdfStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.LatencyMarker;
import org.apache.flink.streaming.runtime.streamrecord.StreamElement;
import org.apache.flink.streaming.runtime.streamrecord.StreamElementSerializer;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The operator behind {@link PadataStreams#orderedMap}: one {@link OrderedPipeline} (its own
 * workqueue and padata instance on the task manager's CPUs) per subtask.
 *
 * <p>Threads. Everything that touches Flink - the queue, {@link #output}, state - runs on the
 * task thread, either in a {@code process*} call or in a mail of the operator's mailbox. The
 * padata workers only run the user function ({@link #compute}) and, on the callback worker, in
 * order, mark an entry done and post a mail ({@link #completed}). This is the design of Flink's
 * {@code AsyncWaitOperator}: a bounded queue of stream elements in arrival order, completions
 * handed back through the mailbox, and a full queue waited out with {@link MailboxExecutor#yield}
 * so that the task keeps running mails (our completions) while it holds back its input.
 *
 * <p>Order. Records, watermarks and latency markers enter one FIFO queue; the head leaves only
 * once done (records when their result is in, markers at once). So a watermark never overtakes
 * a record before it, nor a record one before it. Watermark statuses, record attributes and
 * generalized watermark events are forwarded as they come (as the async operator does).
 *
 * <p>Capacity. The queue holds at most {@code capacity} entries, markers included; so at most
 * {@code capacity} records are in flight (submitted and not yet emitted) per subtask.
 *
 * <p>State. A snapshot stores every record in the queue (done or not: none was emitted yet)
 * and every queued watermark, in order, in operator list state; a restored subtask submits them
 * again before its first new input. Results emitted before the snapshot are downstream of the
 * barrier, so nothing is lost or emitted twice relative to the checkpoint.
 */
final class PadataOrderedMapOperator<T, R> extends AbstractUdfStreamOperator<R, MapFunction<T, R>>
        implements OneInputStreamOperator<T, R>, BoundedOneInput {
    private static final long serialVersionUID = 1L;
    private static final String STATE_NAME = "_padata_ordered_map_in_flight_";

    private final int capacity;
    private final transient MailboxExecutor mailbox;

    /** Stream elements in arrival order; task thread only. */
    private transient ArrayDeque<Entry<T, R>> queue;
    private transient OrderedPipeline<Entry<T, R>, Entry<T, R>> pipeline;
    private transient StreamElementSerializer<T> elementSerializer;
    private transient ListState<StreamElement> inFlightState;
    private transient List<StreamElement> recovered;
    private transient boolean copyInputs;
    private transient ClassLoader userClassLoader;
    /** A drain mail is queued and has not started; set by the callback worker, cleared by the mail. */
    private final transient AtomicBoolean drainPosted = new AtomicBoolean();

    /** One queued stream element; for a record also its outcome. */
    static final class Entry<T, R> {
        final StreamElement element;
        R result;          // written by a padata worker before done is set
        Throwable failure; // likewise
        /**
         * Written once by the padata callback worker after result/failure; read by the task thread
         * before it reads them. Volatile: the write pairs with the read in {@link #drain}.
         */
        volatile boolean done;

        Entry(StreamElement element, boolean done) {
            this.element = element;
            this.done = done;
        }
    }

    PadataOrderedMapOperator(StreamOperatorParameters<R> parameters, MapFunction<T, R> fn, int capacity) {
        // The function-only constructor plus setup(), as AsyncWaitOperator does: the constructor
        // taking the parameters skips setup(), so a RichMapFunction would get no runtime context.
        super(fn);
        this.processingTimeService = parameters.getProcessingTimeService();
        setup(parameters.getContainingTask(), parameters.getStreamConfig(), parameters.getOutput());
        this.capacity = capacity;
        this.mailbox = parameters.getMailboxExecutor();
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        TypeSerializer<T> in = getOperatorConfig().getTypeSerializerIn(0, getUserCodeClassloader());
        elementSerializer = new StreamElementSerializer<>(in);
        inFlightState = context.getOperatorStateStore()
                .getListState(new ListStateDescriptor<>(STATE_NAME, elementSerializer));
        if (context.isRestored()) {
            recovered = new ArrayList<>();
            for (StreamElement e : inFlightState.get())
                recovered.add(e);
        }
    }

    @Override
    public void open() throws Exception {
        super.open();
        queue = new ArrayDeque<>(Math.min(capacity, 1024));
        copyInputs = getExecutionConfig().isObjectReuseEnabled();
        userClassLoader = getUserCodeClassloader();
        int subtask = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
        // Spread the subtasks' ordered callbacks over the CPUs instead of all on the first one.
        int[] active = CpuMask.active().toArray();
        pipeline = OrderedPipeline.<Entry<T, R>, Entry<T, R>>builder(this::compute)
                .consumer(this::completed)
                .onError((entry, e) -> LOG.warn("padata orderedMap: completion hand-off failed", e))
                .capacity(capacity)
                .callbackCpu(active[subtask % active.length])
                .name("flink" + subtask)
                .build();
        if (recovered != null) {
            List<StreamElement> again = recovered;
            recovered = null;
            LOG.debug("padata orderedMap subtask {}: submitting {} restored in-flight elements", subtask, again.size());
            for (StreamElement e : again) {
                if (e.isRecord())
                    processElement(e.asRecord());
                else if (e.isWatermark())
                    processWatermark(e.asWatermark());
            }
        }
    }

    /** On a padata worker: runs the user function; never throws, the failure travels in order. */
    private Entry<T, R> compute(Entry<T, R> entry) {
        Thread me = Thread.currentThread();
        if (me.getContextClassLoader() != userClassLoader)
            me.setContextClassLoader(userClassLoader);
        try {
            StreamRecord<T> record = entry.element.asRecord();
            entry.result = userFunction.map(record.getValue());
        } catch (Throwable t) {
            entry.failure = t;
        }
        return entry;
    }

    /** On the padata callback worker, in submission order: hands the entry back to the task thread. */
    private void completed(Entry<T, R> entry) {
        entry.done = true;
        // One mail drains every done head; post one only if none is waiting to start. The flag
        // and done are sequentially consistent (volatile/atomic): a drain that cleared the flag
        // before our compareAndSet failed sees our done.
        if (drainPosted.compareAndSet(false, true)) {
            try {
                mailbox.execute(this::drain, "padata orderedMap results");
            } catch (RejectedExecutionException closing) {
                // The task is shutting down; what was in flight is in the last checkpoint.
            } catch (RuntimeException e) {
                LOG.warn("padata orderedMap: cannot hand results to the task thread", e);
            }
        }
    }

    @Override
    public void processElement(StreamRecord<T> record) throws Exception {
        waitForRoom();
        T value = copyInputs ? elementSerializer.getContainedTypeSerializer().copy(record.getValue()) : record.getValue();
        Entry<T, R> entry = new Entry<>(record.copy(value), false);
        queue.add(entry);
        pipeline.submit(entry);
    }

    @Override
    public void processWatermark(Watermark mark) throws Exception {
        waitForRoom();
        if (queue.isEmpty())
            super.processWatermark(mark);
        else
            queue.add(new Entry<>(mark, true));
    }

    @Override
    public void processLatencyMarker(LatencyMarker marker) throws Exception {
        waitForRoom();
        if (queue.isEmpty())
            super.processLatencyMarker(marker);
        else
            queue.add(new Entry<>(marker, true));
    }

    /** Back-pressure: runs mails (our completions among them) until the queue has room. */
    private void waitForRoom() throws Exception {
        while (queue.size() >= capacity)
            mailbox.yield();
    }

    /** On the task thread (a mail, or inside yield): emits every done entry at the head, in order. */
    private void drain() throws Exception {
        // Pairs with the compareAndSet in completed(): cleared before the done flags are read.
        drainPosted.set(false);
        if (pipeline == null)
            return; // a mail left over after close() (cancellation): nothing may be emitted now
        Entry<T, R> head;
        while ((head = queue.peek()) != null && head.done) {
            queue.poll();
            StreamElement e = head.element;
            if (e.isRecord()) {
                if (head.failure != null)
                    throw new Exception("the function of padata orderedMap (" + userFunction.getClass().getName()
                            + ") threw on an element", head.failure);
                output.collect(e.<T>asRecord().replace(head.result));
            } else if (e.isWatermark()) {
                super.processWatermark(e.asWatermark());
            } else {
                super.processLatencyMarker(e.asLatencyMarker());
            }
        }
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        List<StreamElement> inFlight = new ArrayList<>(queue.size());
        for (Entry<T, R> e : queue)
            if (!e.element.isLatencyMarker())
                inFlight.add(e.element);
        inFlightState.update(inFlight);
    }

    @Override
    public void endInput() throws Exception {
        waitUntilEmpty();
    }

    @Override
    public void finish() throws Exception {
        waitUntilEmpty();
        super.finish();
    }

    private void waitUntilEmpty() throws Exception {
        while (!queue.isEmpty())
            mailbox.yield();
    }

    @Override
    public void close() throws Exception {
        try {
            if (pipeline != null)
                pipeline.close(); // waits for the function calls in flight; their mails are never run
        } finally {
            pipeline = null;
            super.close();
        }
    }
}
