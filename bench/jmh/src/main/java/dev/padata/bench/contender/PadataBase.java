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
 * serial() hands back (the way NativeJob's Javadoc tells users to learn of completions): one
 * more than the in-flight limit per lane, so that the waiting for room is the library's alone.
 * The core counts a job in flight until its serial() has returned, and a lane's serial() calls
 * run in order on its CPU, so a lane's jobs in flight are its newest ones, fewer than the
 * limit when the core admits the next: the lane's job {@code limit + 1} places earlier, whose
 * ring slot the next job of the lane reuses ({@code lanes * (limit + 1)} slots, job {@code i}
 * in slot {@code i % poolSize}), is done. Across lanes there is no such order (one lane's
 * worker may lag the other's by up to the limit), which is why one slot more than the limit
 * is not enough. (The ring once held fewer jobs than the limit and the contender slept on the
 * job half a ring ahead with a futex of the benchmark's own: back-pressure that users do not
 * get, and the library's wait never ran.)
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
            poolSize = lanes.length * (limit + 1);
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
