/* SPDX-License-Identifier: MIT */
package padatatest;

import dev.padata.NativeJob;
import dev.padata.Padata;
import dev.padata.Workqueue;

import java.lang.foreign.Arena;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;

/**
 * An application outside module dev.padata (forked by dev.padata.NativeAccessTest), in the
 * unnamed module. It needs no restricted method of its own to get a function pointer:
 * {@code defaultLookup().find("abort")} is not restricted. Handing that pointer to libpadata
 * must need native access for this module, not just for dev.padata.
 *
 * <p>It lives outside package dev.padata because the forked JVM puts dev.padata on the module
 * path: a class-path class in that package would be hidden by the module's own package.
 */
public final class NativeAccessApp {
    private NativeAccessApp() {
    }

    public static void main(String[] args) {
        MemorySegment abort = Linker.nativeLinker().defaultLookup().find("abort").orElseThrow();
        System.out.println("caller module native access: " + NativeAccessApp.class.getModule().isNativeAccessEnabled());
        try (Arena arena = Arena.ofShared();
             Workqueue wq = Workqueue.create("access");
             Padata padata = Padata.allocPossible(wq)) {
            NativeJob job = NativeJob.allocate(arena, abort, abort, 0);
            System.out.println("allocated");
            if (args.length > 0 && args[0].equals("submit")) {
                padata.start();
                padata.doParallel(job, 0); // abort() on a worker: the JVM dies here
                padata.stop();
                System.out.println("submitted");
            }
        } catch (IllegalCallerException e) {
            System.out.println("refused: " + e.getMessage());
        }
    }
}
