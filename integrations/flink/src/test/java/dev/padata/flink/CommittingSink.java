/* SPDX-License-Identifier: MIT */
package dev.padata.flink;

import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple3;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A two-phase test sink (exactly-once, like a transactional file or Kafka sink): values received
 * between two checkpoints form a transaction, pre-committed into state at the checkpoint and
 * committed when that checkpoint completes; a restore commits the pre-committed transactions of
 * the restored checkpoint, idempotently (a transaction id is committed once).
 *
 * <p>The committed values and the checkpoint progress are static: the MiniCluster runs in this JVM.
 */
final class CommittingSink extends AbstractStreamOperator<Void> implements OneInputStreamOperator<Long, Void> {
    private static final long serialVersionUID = 1L;

    static final List<Long> COMMITTED = new CopyOnWriteArrayList<>();
    private static final Set<String> COMMITTED_TRANSACTIONS = ConcurrentHashMap.newKeySet();
    /** The highest checkpoint id reported complete to any subtask. */
    static final AtomicLong LAST_COMPLETED = new AtomicLong();
    /** Per subtask: the id of the last checkpoint it took a snapshot for (after the operators before it in the chain). */
    static final AtomicLongArray LAST_SNAPSHOT = new AtomicLongArray(8);

    static void reset() {
        COMMITTED.clear();
        COMMITTED_TRANSACTIONS.clear();
        LAST_COMPLETED.set(0);
        for (int i = 0; i < LAST_SNAPSHOT.length(); i++)
            LAST_SNAPSHOT.set(i, 0);
    }

    private transient List<Long> open;
    /** checkpoint id -> pre-committed values of this subtask. */
    private transient TreeMap<Long, List<Long>> prepared;
    /** (subtask that prepared it, checkpoint id, value). */
    private transient ListState<Tuple3<Integer, Long, Long>> state;
    private transient int subtask;

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        subtask = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
        open = new ArrayList<>();
        prepared = new TreeMap<>();
        state = context.getOperatorStateStore().getListState(new ListStateDescriptor<>("prepared",
                Types.TUPLE(Types.INT, Types.LONG, Types.LONG)));
        if (context.isRestored()) {
            // Everything in the restored state was pre-committed for a completed checkpoint.
            Map<String, List<Long>> byTransaction = new TreeMap<>();
            for (Tuple3<Integer, Long, Long> t : state.get())
                byTransaction.computeIfAbsent(t.f0 + ":" + t.f1, k -> new ArrayList<>()).add(t.f2);
            byTransaction.forEach(CommittingSink::commit);
            state.clear();
        }
    }

    private static void commit(String transaction, List<Long> values) {
        if (COMMITTED_TRANSACTIONS.add(transaction))
            COMMITTED.addAll(values);
    }

    @Override
    public void processElement(StreamRecord<Long> element) {
        open.add(element.getValue());
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        prepared.put(context.getCheckpointId(), open);
        open = new ArrayList<>();
        List<Tuple3<Integer, Long, Long>> all = new ArrayList<>();
        prepared.forEach((id, values) -> values.forEach(v -> all.add(Tuple3.of(subtask, id, v))));
        state.update(all);
        LAST_SNAPSHOT.set(subtask, context.getCheckpointId());
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) throws Exception {
        super.notifyCheckpointComplete(checkpointId);
        for (Iterator<Map.Entry<Long, List<Long>>> it = prepared.headMap(checkpointId, true).entrySet().iterator(); it.hasNext();) {
            Map.Entry<Long, List<Long>> e = it.next();
            commit(subtask + ":" + e.getKey(), e.getValue());
            it.remove();
        }
        LAST_COMPLETED.accumulateAndGet(checkpointId, Math::max);
    }
}
