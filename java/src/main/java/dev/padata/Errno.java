/* SPDX-License-Identifier: MIT */
package dev.padata;

/** The Linux errno values libpadata returns (negated), for mapping to exceptions. */
final class Errno {
    private Errno() {
    }

    static final int ENOENT = 2;
    static final int EAGAIN = 11;
    static final int ENOMEM = 12;
    static final int EBUSY = 16;
    static final int EEXIST = 17;
    static final int EINVAL = 22;
    static final int ERANGE = 34;
    static final int EDEADLK = 35;
    static final int ETIMEDOUT = 110;

    static String name(int errno) {
        return switch (Math.abs(errno)) {
            case ENOENT -> "ENOENT";
            case EAGAIN -> "EAGAIN";
            case ENOMEM -> "ENOMEM";
            case EBUSY -> "EBUSY";
            case EEXIST -> "EEXIST";
            case EINVAL -> "EINVAL";
            case ERANGE -> "ERANGE";
            case EDEADLK -> "EDEADLK";
            case ETIMEDOUT -> "ETIMEDOUT";
            default -> "errno " + Math.abs(errno);
        };
    }

    /** An error code libpadata does not document for the call. */
    static IllegalStateException unexpected(String call, int rc) {
        return new IllegalStateException(call + " failed with an undocumented error: -" + name(rc) + " (" + rc + ")");
    }
}
