/* SPDX-License-Identifier: MIT */
package dev.padata;

import java.io.Serial;

/**
 * libpadata answered {@code -EBUSY}: the job was not queued (the caller still owns it) because
 * the instance's in-flight limit is reached or a cpumask change is in progress; or a CPU could
 * not be taken down because it is the last active one. Retrying later is the remedy;
 * {@link OrderedPipeline} does it for you.
 *
 * <p>It is an expected, retryable answer that callers may see millions of times in a
 * back-pressure loop, so it records no stack trace, and the binding's own busy answers build
 * their message only when {@link #getMessage()} is called (it names the call and the value).
 */
public class PadataBusyException extends RuntimeException {
    @Serial
    private static final long serialVersionUID = 1L;

    private static final byte GIVEN = 0;
    private static final byte SLOTS_EXHAUSTED = 1;
    private static final byte REFUSED = 2;

    /** How the message is made: given, or built lazily from the two values below. */
    private final byte kind;
    /** The {@code cbCpu} of the refused submission (lazy messages only). */
    private final int cbCpu;
    /** The in-flight limit at the refusal (lazy messages only). */
    private final int limit;

    /**
     * With a message saying what was busy and with which value.
     *
     * @param message what was busy, and with which value
     */
    public PadataBusyException(String message) {
        super(message, null, false, false);
        this.kind = GIVEN;
        this.cbCpu = 0;
        this.limit = 0;
    }

    private PadataBusyException(byte kind, int cbCpu, int limit) {
        super(null, null, false, false);
        this.kind = kind;
        this.cbCpu = cbCpu;
        this.limit = limit;
    }

    /** doParallel found none of the {@code capacity} job slots free. Allocates one small object. */
    static PadataBusyException slotsExhausted(int cbCpu, int capacity) {
        return new PadataBusyException(SLOTS_EXHAUSTED, cbCpu, capacity);
    }

    /** libpadata answered -EBUSY to doParallel. Allocates one small object. */
    static PadataBusyException refused(int cbCpu, int limit) {
        return new PadataBusyException(REFUSED, cbCpu, limit);
    }

    @Override
    public String getMessage() {
        return switch (kind) {
            case SLOTS_EXHAUSTED -> "doParallel(cb_cpu " + cbCpu + "): all " + limit
                    + " job slots of this instance are in flight (its in-flight limit)";
            case REFUSED -> "doParallel(cb_cpu " + cbCpu + ") refused (-EBUSY): the in-flight limit of " + limit
                    + " jobs is reached or a cpumask change is in progress; the job was not queued, retry later";
            default -> super.getMessage();
        };
    }
}
