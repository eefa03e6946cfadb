/* SPDX-License-Identifier: MIT */
package dev.padata;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;

import java.util.ArrayList;
import java.util.List;

/**
 * The JDK Flight Recorder events padata emits (docs/contract.md section 9), so that
 * {@code jcmd <pid> JFR.start} shows what padata did. Every event is in the category
 * "padata"; an event that no recording enables costs one {@code isEnabled()} check.
 *
 * <ul>
 *   <li>{@code dev.padata.CpumaskChange}: a change of an instance's usable cpumasks, by
 *       {@link Padata#setCpumasks}, {@link Padata#setCpumask}, {@link Padata#addCpu},
 *       {@link Padata#removeCpu} or simulated hotplug ({@link Cpus#down}, {@link Cpus#up}): the
 *       old and new usable masks, what triggered it and how long the call took, which is the
 *       drain of the jobs accepted before it (the event's duration).</li>
 * </ul>
 */
final class FlightRecorderEvents {
    private FlightRecorderEvents() {
    }

    @Name("dev.padata.CpumaskChange")
    @Label("padata Cpumask Change")
    @Category("padata")
    @Description("The usable parallel or serial cpumask of a padata instance changed (or a change was tried);"
            + " the duration is the drain of the jobs accepted before the change.")
    @StackTrace(false)
    static final class CpumaskChange extends Event {
        @Label("Instance")
        @Description("The instance: its workqueue's name and an identity number")
        String instance;

        @Label("Trigger")
        @Description("The call that changed the masks, with its arguments")
        String trigger;

        @Label("Old Parallel Mask")
        @Description("The usable parallel mask before, in cpulist form")
        String oldParallel;

        @Label("New Parallel Mask")
        @Description("The usable parallel mask after, in cpulist form")
        String newParallel;

        @Label("Old Serial Mask")
        @Description("The usable serial (callback) mask before, in cpulist form")
        String oldSerial;

        @Label("New Serial Mask")
        @Description("The usable serial (callback) mask after, in cpulist form")
        String newSerial;

        @Label("Drain")
        @Description("How long the change waited for the jobs accepted before it, with the mask switch")
        @Timespan(Timespan.NANOSECONDS)
        long drain;

        @Label("Result")
        @Description("0, or the negative errno libpadata answered")
        int result;
    }

    /** An instance's usable masks while a change runs; null fields when it was closed meanwhile. */
    private record Masks(Padata padata, String parallel, String serial) {
    }

    /** A change being timed; {@link #end} commits it. Null when no recording wants the event. */
    static final class Change {
        private final CpumaskChange event = new CpumaskChange();
        private final List<Masks> before;
        private final long t0 = System.nanoTime();

        private Change(String trigger, List<Masks> before) {
            this.before = before;
            event.trigger = trigger;
            event.begin();
        }

        /**
         * Commits one event per instance of the change (for a hotplug, each live instance whose
         * masks changed; for a call on an instance, that instance, also when the call failed).
         *
         * @param rc what the change returned: 0 or a negative errno
         */
        void end(int rc) {
            long drain = System.nanoTime() - t0;
            event.end();
            boolean single = before.size() == 1;
            for (Masks m : before) {
                Masks after = masks(m.padata());
                if (!single && (after.parallel() == null || (after.parallel().equals(m.parallel()) && after.serial().equals(m.serial()))))
                    continue; // hotplug: only the instances it changed
                CpumaskChange e = single ? event : copy(event);
                e.instance = name(m.padata());
                e.oldParallel = m.parallel();
                e.oldSerial = m.serial();
                e.newParallel = after.parallel();
                e.newSerial = after.serial();
                e.drain = drain;
                e.result = rc;
                e.commit();
            }
        }

        private static CpumaskChange copy(CpumaskChange ev) {
            CpumaskChange e = new CpumaskChange();
            e.trigger = ev.trigger;
            return e; // duration: the commit ends it; the drain field carries the timing
        }
    }

    /**
     * Starts timing a change of {@code p}'s masks by {@code trigger}; call inside the instance's
     * gate. Returns null (nothing to do) when no recording enables the event.
     */
    static Change beginChange(Padata p, String trigger) {
        if (!CPUMASK_CHANGE.isEnabled())
            return null;
        return new Change(trigger, List.of(masks(p)));
    }

    /** Starts timing a simulated hotplug; it reports every live instance whose masks it changes. */
    static Change beginHotplug(String trigger) {
        if (!CPUMASK_CHANGE.isEnabled())
            return null;
        List<Masks> all = new ArrayList<>();
        for (Padata p : Lifecycle.liveInstances())
            all.add(masks(p));
        return new Change(trigger, all);
    }

    /** A reusable instance for isEnabled(): true when a recording enables CpumaskChange. */
    private static final CpumaskChange CPUMASK_CHANGE = new CpumaskChange();

    private static Masks masks(Padata p) {
        CpuMask[] m = p.usableMasksOrNull();
        return m == null ? new Masks(p, null, null) : new Masks(p, m[0].toString(), m[1].toString());
    }

    static String name(Padata p) {
        return p.workqueue().name() + "#" + Integer.toHexString(System.identityHashCode(p));
    }
}
