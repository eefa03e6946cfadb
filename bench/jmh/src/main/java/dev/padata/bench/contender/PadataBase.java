/* SPDX-License-Identifier: MIT */
package dev.padata.bench.contender;

import dev.padata.CpuMaskType;
import dev.padata.Padata;
import dev.padata.PadataBusyException;
import dev.padata.Workqueue;

/**
 * What the padata contenders share: a workqueue, one instance on every possible CPU, the
 * usable serial CPUs as lanes (job {@code i} goes to lane {@code i % lanes}), and the in-flight
 * limit ({@code -Dbench.padata.inflight}, default {@link Padata#DEFAULT_MAX_INFLIGHT}).
 *
 * <p>Each contender keeps a ring of {@link #poolSize} reusable jobs, fewer than the in-flight
 * limit: a slot is reused only after its previous job's serial() began. The core counts a job in
 * flight until its serial() has returned, a moment after the slot is free again,
 * so the ring leaves 64 jobs per lane (at most half the limit) unused, and {@code -EBUSY} (a
 * {@link PadataBusyException}) does not happen in a steady run; when
 * it does, the submitter yields and retries, and {@link #busyRetries()} counts it. When the ring is full the submitter sleeps until half of it has drained, as the C
 * contender does (see bench/c/padata_bench.c).
 */
abstract class PadataBase extends Contender {
    protected final Workqueue wq;
    protected final Padata padata;
    protected final int[] lanes;
    protected final int poolSize;
    /** Busy retries of the last batch. */
    protected long busyRetries;

    PadataBase(Config config, String wqName) {
        super(config);
        int limit = Integer.getInteger("bench.padata.inflight", Padata.DEFAULT_MAX_INFLIGHT);
        Workqueue q = Workqueue.create(wqName);
        Padata p = null;
        try {
            p = Padata.allocPossible(q);
            p.setMaxInflight(limit);
            lanes = p.cpumask(CpuMaskType.SERIAL).toArray();
            if (limit < 2) {
                throw new IllegalArgumentException("bench.padata.inflight must be at least 2, not " + limit);
            }
            poolSize = limit - Math.min(64 * lanes.length, limit / 2);
        } catch (RuntimeException e) {
            if (p != null) {
                p.close();
            }
            q.close();
            throw e;
        }
        wq = q;
        padata = p;
    }

    @Override
    public long busyRetries() {
        return busyRetries;
    }

    /** Yields after a refused submission; counts it. */
    protected final void busy(PadataBusyException e) {
        busyRetries++;
        Thread.yield();
    }

    @Override
    public void close() {
        padata.close();
        wq.close();
    }
}
