/* SPDX-License-Identifier: MIT */
package dev.padata;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.FlightRecorder;
import jdk.jfr.FlightRecorderListener;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.Period;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The JDK Flight Recorder events padata emits (docs/contract.md section 9), so that
 * {@code jcmd <pid> JFR.start} shows what padata did. Every event is in the category
 * "padata"; an event that no recording enables costs one {@code isEnabled()} check. Until the
 * recorder is initialized (a recording started, by {@code -XX:StartFlightRecording},
 * {@code jcmd JFR.start} or the API) padata touches no event class, because the first one
 * initializes JFR's event machinery (a few hundred milliseconds here): a listener registers the
 * periodic hooks of the live instances when the recorder comes up.
 *
 * <ul>
 *   <li>{@code dev.padata.CpumaskChange}: a change of an instance's usable cpumasks, by
 *       {@link Padata#setCpumasks}, {@link Padata#setCpumask}, {@link Padata#addCpu},
 *       {@link Padata#removeCpu} or simulated hotplug ({@link Cpus#down}, {@link Cpus#up}): the
 *       old and new usable masks, what triggered it and how long the call took, which is the
 *       drain of the jobs accepted before it (the event's duration).</li>
 *   <li>{@code dev.padata.Statistics}: periodic (every second by default; a recording's
 *       {@code period} setting changes it), one event per live instance with its
 *       {@link PadataStats}. Each instance registers its own periodic hook
 *       when allocated and removes it when closed.</li>
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

    @Name("dev.padata.Statistics")
    @Label("padata Statistics")
    @Category("padata")
    @Description("The counters of a live padata instance (Padata.stats()), one event per instance and period")
    @Period("1 s")
    @StackTrace(false)
    static final class Statistics extends Event {
        @Label("Instance")
        @Description("The instance: its workqueue's name and an identity number")
        String instance;

        @Label("Accepted")
        @Description("Jobs accepted since allocation")
        long accepted;

        @Label("Completed")
        @Description("Jobs whose serial() has returned")
        long completed;

        @Label("Busy")
        @Description("Submissions refused with -EBUSY")
        long busy;

        @Label("In Flight")
        @Description("Jobs accepted and not yet through serial()")
        long inFlight;

        @Label("Reorder Depth")
        @Description("Jobs done with parallel() and waiting for an earlier job")
        long reorderDepth;

        @Label("Highest Reorder Depth")
        @Description("The highest reorder depth since allocation")
        long reorderDepthMax;

        @Label("In-flight Limit")
        @Description("The in-flight limit beyond which submissions are refused")
        int maxInflight;

        @Label("Waiting Submitters")
        @Description("Threads waiting in the core for room to submit")
        int waitingSubmitters;
    }

    /** The periodic hook of each live instance, removed when it closes. */
    private static final Map<Padata, Runnable> HOOKS = new IdentityHashMap<>(); // guarded by itself
    /** True once the recorder is initialized: from then on the hooks are registered with it. */
    private static boolean recorderUp; // guarded by HOOKS
    /** Read without the lock by the cpumask events; set with recorderUp. */
    private static volatile boolean recorderUpFast;

    static {
        // Invoked at once when the recorder is already initialized, else when it comes up.
        FlightRecorder.addListener(new FlightRecorderListener() {
            @Override
            public void recorderInitialized(FlightRecorder recorder) {
                List<Runnable> hooks;
                synchronized (HOOKS) {
                    recorderUp = true;
                    recorderUpFast = true;
                    hooks = new ArrayList<>(HOOKS.values());
                }
                for (Runnable h : hooks)
                    FlightRecorder.addPeriodicEvent(Statistics.class, h);
            }
        });
    }

    /** Keeps {@code p}'s periodic Statistics hook, registered with the recorder once it is up (at allocation). */
    static void opened(Padata p) {
        Runnable hook = () -> {
            PadataStats st = p.statsOrNull();
            if (st == null)
                return; // closing
            Statistics e = new Statistics();
            e.instance = name(p);
            e.accepted = st.accepted();
            e.completed = st.completed();
            e.busy = st.busy();
            e.inFlight = st.inFlight();
            e.reorderDepth = st.reorderDepth();
            e.reorderDepthMax = st.reorderDepthMax();
            e.maxInflight = st.limit();
            e.waitingSubmitters = st.waitingSubmitters();
            e.commit();
        };
        boolean register;
        synchronized (HOOKS) {
            HOOKS.put(p, hook);
            register = recorderUp;
        }
        if (register)
            FlightRecorder.addPeriodicEvent(Statistics.class, hook);
    }

    /** Removes {@code p}'s hook (when it closes, before it is freed). */
    static void closed(Padata p) {
        Runnable hook;
        boolean registered;
        synchronized (HOOKS) {
            hook = HOOKS.remove(p);
            registered = recorderUp;
        }
        if (hook != null && registered)
            FlightRecorder.removePeriodicEvent(hook);
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
        if (!recorderUpFast || !Enabled.CPUMASK_CHANGE.isEnabled())
            return null;
        return new Change(trigger, List.of(masks(p)));
    }

    /** Starts timing a simulated hotplug; it reports every live instance whose masks it changes. */
    static Change beginHotplug(String trigger) {
        if (!recorderUpFast || !Enabled.CPUMASK_CHANGE.isEnabled())
            return null;
        List<Masks> all = new ArrayList<>();
        for (Padata p : Lifecycle.liveInstances())
            all.add(masks(p));
        return new Change(trigger, all);
    }

    /** Created on first use only, after the recorder is up: the first event object initializes JFR's machinery. */
    private static final class Enabled {
        /** A reusable instance for isEnabled(): true when a recording enables CpumaskChange. */
        static final CpumaskChange CPUMASK_CHANGE = new CpumaskChange();
    }

    private static Masks masks(Padata p) {
        CpuMask[] m = p.usableMasksOrNull();
        return m == null ? new Masks(p, null, null) : new Masks(p, m[0].toString(), m[1].toString());
    }

    static String name(Padata p) {
        return p.workqueue().name() + "#" + Integer.toHexString(System.identityHashCode(p));
    }
}
