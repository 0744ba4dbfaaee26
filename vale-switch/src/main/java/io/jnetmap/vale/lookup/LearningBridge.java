package io.jnetmap.vale.lookup;

import io.jnetmap.core.Slot;
import io.jnetmap.vale.LookupModule;
import io.jnetmap.vale.Packet;
import io.jnetmap.vale.ValeSwitch;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;

/**
 * The default lookup: an Ethernet learning bridge. Source addresses are learned (unless the slot has
 * {@link Slot#NS_NO_LEARN}, or the address is a group address); group (broadcast, multicast) and
 * unknown unicast destinations flood to every other port. Unlike VALE, entries age out: an address not
 * seen for {@link #age()} is forgotten.
 *
 * <p>The table is a 4-way set-associative hash of MAC addresses, each entry one {@code long} (address,
 * port, valid bit) written atomically, plus the time it was last seen, a bucket in one cache line. Forwarding threads learn
 * concurrently without a lock: a race can at worst lose a refresh or an entry (the packet floods, the
 * next one learns again), never produce an address/port pair nobody wrote. A refresh of a known entry
 * is written at most once per second, so busy senders do not fight over the table's cache lines, and
 * a port whose packets keep coming from the address it learned last skips the table altogether for
 * that second (VALE's {@code last_smac} filter; an address that moves back within that second is
 * relearned when the second is over). Likewise a sender's packets to the destination of its previous
 * packet reuse that answer while the table's version is unchanged (within a second).
 */
public final class LearningBridge implements LookupModule {
    /** Linux's bridge ageing time. */
    public static final Duration DEFAULT_AGE = Duration.ofSeconds(300);
    public static final int DEFAULT_ENTRIES = 4096;
    private static final int WAYS = 4;
    private static final long REFRESH_NANOS = 1_000_000_000L;
    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);
    private static final VarHandle VERSION;

    /**
     * Entry w at [2w, 2w+1]: {@code mac << 16 | port << 8 | 1} (0 = empty), and the {@link Packet#now()}
     * when it was last learned or refreshed. A bucket's four entries are 64 consecutive bytes.
     */
    private final long[] table;
    private final int bucketMask;
    private final int bucketShift;
    private final long ageNanos;
    /** Per source port, one 64-byte line each: the address learned last and when. */
    private final long[] lastSource = new long[ValeSwitch.MAX_PORTS * 8];
    @SuppressWarnings("unused") // accessed through VERSION
    private volatile long version;

    static {
        try {
            VERSION = MethodHandles.lookup().findVarHandle(LearningBridge.class, "version", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    public LearningBridge() {
        this(DEFAULT_ENTRIES, DEFAULT_AGE);
    }

    /**
     * @param entries table size, a power of two >= 4 (addresses beyond it evict the least recently seen)
     * @param age     how long an address stays known without traffic from it
     */
    public LearningBridge(int entries, Duration age) {
        if (entries < WAYS || Integer.bitCount(entries) != 1) {
            throw new IllegalArgumentException("entries=" + entries + " (expected: a power of two >= " + WAYS + ")");
        }
        if (age.isNegative() || age.isZero()) {
            throw new IllegalArgumentException("age=" + age + " (expected: > 0)");
        }
        this.table = new long[2 * entries];
        int buckets = entries / WAYS;
        this.bucketMask = buckets - 1;
        this.bucketShift = 64 - Integer.numberOfTrailingZeros(Math.max(buckets, 2));
        this.ageNanos = age.toNanos();
    }

    public Duration age() {
        return Duration.ofNanos(ageNanos);
    }

    @Override
    public String name() {
        return "learning-bridge";
    }

    @Override
    public int lookup(Packet p) {
        if (p.length() < 14) {
            return NO_PORT;
        }
        long dst = p.dstMac();
        long src = p.srcMac();
        long now = p.now();
        if ((p.flags() & Slot.NS_NO_LEARN) == 0 && !Packet.isGroup(src)) {
            int srcPort = p.srcPort();
            int l = srcPort << 3;
            long[] last = lastSource;
            if (last[l] != (src | 1L << 63) || now - last[l + 1] > REFRESH_NANOS) {
                learn(src, srcPort, now);
                last[l] = src | 1L << 63;
                last[l + 1] = now;
            }
        }
        if (Packet.isGroup(dst)) {
            return BROADCAST;
        }
        long v = version();
        if (dst == p.memoKey() && p.memoOwner() == this && v == p.memoVersion() && now - p.memoTime() < REFRESH_NANOS) {
            return p.memoValue(); // the sender's previous destination again, and the table has not changed since
        }
        int port = find(dst, now);
        int d = port < 0 ? BROADCAST : port;
        p.setMemo(this, dst, v, now, d);
        return d;
    }

    private int bucket(long mac) {
        return (int) ((mac * 0x9E3779B97F4A7C15L) >>> bucketShift) & bucketMask;
    }

    /** Records that {@code mac} was seen on {@code port} at {@code now}. */
    void learn(long mac, int port, long now) {
        long[] t = table;
        int b = bucket(mac) * (2 * WAYS);
        long key = mac << 16 | (long) port << 8 | 1;
        int victim = b;
        long victimScore = Long.MAX_VALUE;
        for (int w = b; w < b + 2 * WAYS; w += 2) {
            long k = (long) LONGS.getAcquire(t, w);
            if (k != 0 && (k >>> 16) == mac) {
                if (k == key) {
                    if (now - t[w + 1] > REFRESH_NANOS) {
                        t[w + 1] = now;
                    }
                } else {
                    t[w + 1] = now;
                    LONGS.setRelease(t, w, key); // moved to another port
                    bump();
                }
                return;
            }
            // replace an empty entry, else an aged one, else the least recently seen
            long score = k == 0 ? Long.MIN_VALUE : now - t[w + 1] > ageNanos ? Long.MIN_VALUE + 1 : t[w + 1];
            if (score < victimScore) {
                victim = w;
                victimScore = score;
            }
        }
        t[victim + 1] = now;
        // ordered store -> whoever sees the key sees its time
        LONGS.setRelease(t, victim, key);
        bump();
    }

    /** The port {@code mac} was last seen on, or -1 if unknown or aged out. */
    int find(long mac, long now) {
        long[] t = table;
        int b = bucket(mac) * (2 * WAYS);
        for (int w = b; w < b + 2 * WAYS; w += 2) {
            long k = (long) LONGS.getAcquire(t, w);
            if (k != 0 && (k >>> 16) == mac) {
                if (now - t[w + 1] > ageNanos) {
                    if (LONGS.compareAndSet(t, w, k, 0L)) {
                        bump(); // forgotten: its traffic floods again
                    }
                    return -1;
                }
                return (int) (k >>> 8) & 0xff;
            }
        }
        return -1;
    }

    /** The port {@code mac} is known on at time {@code now} ({@link System#nanoTime()} scale), or -1. */
    public int portOf(long mac, long now) {
        return find(mac, now);
    }

    /** Entries currently in the table (aged ones included until a lookup notices them). */
    public int size() {
        int n = 0;
        for (int i = 0; i < table.length; i += 2) {
            if ((long) LONGS.getAcquire(table, i) != 0) {
                n++;
            }
        }
        return n;
    }

    /** One learned address, as {@link #forEach} reports it. */
    public interface EntryVisitor {
        /** {@code mac} was last seen on port index {@code port}, {@code idleNanos} before {@code now}. */
        void entry(long mac, int port, long idleNanos);
    }

    /** Reports every entry not yet aged out at time {@code now} ({@link System#nanoTime()} scale). */
    public void forEach(long now, EntryVisitor v) {
        long[] t = table;
        for (int i = 0; i < t.length; i += 2) {
            long k = (long) LONGS.getAcquire(t, i);
            long idle = now - t[i + 1];
            if (k != 0 && idle <= ageNanos) {
                v.entry(k >>> 16, (int) (k >>> 8) & 0xff, Math.max(0, idle));
            }
        }
    }

    /** Forgets every address (their traffic floods until learned again). */
    public void flush() {
        for (int i = 0; i < lastSource.length; i += 8) {
            lastSource[i] = 0; // the senders' memo of what they taught last: learn again at once
        }
        long[] t = table;
        for (int i = 0; i < t.length; i += 2) {
            long k = (long) LONGS.getAcquire(t, i);
            if (k != 0 && LONGS.compareAndSet(t, i, k, 0L)) {
                bump();
            }
        }
    }

    @Override
    public void portDetached(int port) {
        lastSource[port << 3] = 0;
        for (int i = 0; i < table.length; i += 2) {
            long k = (long) LONGS.getAcquire(table, i);
            if (k != 0 && ((k >>> 8) & 0xff) == port && LONGS.compareAndSet(table, i, k, 0L)) {
                bump();
            }
        }
    }

    @Override
    public long version() {
        return (long) VERSION.getAcquire(this);
    }

    private void bump() {
        VERSION.getAndAdd(this, 1L);
    }
}
