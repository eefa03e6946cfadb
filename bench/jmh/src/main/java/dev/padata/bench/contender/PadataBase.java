/* SPDX-License-Identifier: MIT */
package dev.padata.bench.contender;

import dev.padata.CpuMaskType;
import dev.padata.Padata;
import dev.padata.Workqueue;

/**
 * What the padata contenders share: a workqueue, one instance on every possible CPU, the
 * usable serial CPUs as lanes (job {@code i} goes to lane {@code i % lanes}), and the in-flight
 * limit ({@code -Dbench.padata.inflight}, default {@link Padata#DEFAULT_MAX_INFLIGHT}).
 *
 * <p>Submissions use {@code doParallel(job, cbCpu, maxWait)}, which parks the submitter while
 * the instance is full: no contender retries on {@link dev.padata.PadataBusyException}.
 * {@link #poolSize} sizes the native contender's ring of {@code NativeJob}s, which its C
 * serial() hands back (the way NativeJob's Javadoc tells users to learn of completions).
 */
abstract class PadataBase extends Contender {
    protected final Workqueue wq;
    protected final Padata padata;
    protected final int[] lanes;
    protected final int poolSize;

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
    public void close() {
        padata.close();
        wq.close();
    }
}
