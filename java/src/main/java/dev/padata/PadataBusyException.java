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
 * back-pressure loop, so it records no stack trace (the message names the call and the value).
 */
public class PadataBusyException extends RuntimeException {
    @Serial
    private static final long serialVersionUID = 1L;

    /**
     * With a message saying what was busy and with which value.
     *
     * @param message what was busy, and with which value
     */
    public PadataBusyException(String message) {
        super(message, null, false, false);
    }
}
