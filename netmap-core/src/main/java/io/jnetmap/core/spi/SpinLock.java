package io.jnetmap.core.spi;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A lock for a critical section of a handful of loads and stores between threads of one JVM (a
 * destination ring's lease, a TX ring's pending range): a CAS to take it, a release store to give it
 * back, and while it is held, {@link #pause spin then yield} (the holder may have been preempted on a
 * machine with few cores). Not reentrant, not fair, never parks: for anything longer, use
 * {@link java.util.concurrent.locks.ReentrantLock}.
 *
 * <p>The lock word has a cache line pair of its own (JCTools-style padding superclasses, 128 bytes on
 * each side), so waiters spinning on it do not slow down the fields next to it. A class whose own
 * fields the lock guards may extend this class instead of holding one (one indirection less); its
 * fields then start past the padding.
 */
public class SpinLock extends SpinLockWord {
    byte p200, p201, p202, p203, p204, p205, p206, p207, p208, p209, p210, p211, p212, p213, p214, p215;
    byte p216, p217, p218, p219, p220, p221, p222, p223, p224, p225, p226, p227, p228, p229, p230, p231;
    byte p232, p233, p234, p235, p236, p237, p238, p239, p240, p241, p242, p243, p244, p245, p246, p247;
    byte p248, p249, p250, p251, p252, p253, p254, p255, p256, p257, p258, p259, p260, p261, p262, p263;
    byte p264, p265, p266, p267, p268, p269, p270, p271, p272, p273, p274, p275, p276, p277, p278, p279;
    byte p280, p281, p282, p283, p284, p285, p286, p287, p288, p289, p290, p291, p292, p293, p294, p295;
    byte p296, p297, p298, p299, p300, p301, p302, p303, p304, p305, p306, p307, p308, p309, p310, p311;
    byte p312, p313, p314, p315, p316, p317, p318, p319, p320, p321, p322, p323, p324, p325, p326, p327;

    private static final VarHandle LOCK;

    static {
        try {
            LOCK = MethodHandles.lookup().findVarHandle(SpinLockWord.class, "lockWord", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    public SpinLock() {
    }

    /** Takes the lock if it is free; never waits. */
    public final boolean tryLock() {
        return LOCK.compareAndSet(this, 0, 1);
    }

    /** Takes the lock, spinning (then yielding) while another thread holds it. */
    public final void lock() {
        if (!LOCK.compareAndSet(this, 0, 1)) {
            lockSlow();
        }
    }

    private void lockSlow() {
        int round = 0;
        do {
            pause(round++);
        } while ((int) LOCK.getOpaque(this) != 0 || !LOCK.compareAndSet(this, 0, 1));
    }

    /**
     * Gives the lock back. A release store: what the holder wrote is visible to the next holder, but a
     * load the holder makes after this may still be ordered before it; a holder that must publish the
     * unlock before a later load (one side of a Dekker pair) follows with {@link VarHandle#fullFence()}.
     */
    public final void unlock() {
        // ordered store -> everything written under the lock is visible to the next holder
        LOCK.setRelease(this, 0);
    }

    /** True while some thread holds the lock (a plain snapshot, for assertions and statistics). */
    public final boolean isLocked() {
        return (int) LOCK.getOpaque(this) != 0;
    }

    /**
     * One round of waiting for a thread that holds something for a handful of instructions: spin for
     * the first 100 rounds, then yield (the holder may have been preempted, on a machine with few cores).
     */
    public static void pause(int round) {
        if (round < 100) {
            Thread.onSpinWait();
        } else {
            Thread.yield();
        }
    }
}

/** 128 bytes before the lock word (JCTools' padding superclass: the JVM lays out a superclass's fields first). */
abstract class SpinLockPad {
    byte p000, p001, p002, p003, p004, p005, p006, p007, p008, p009, p010, p011, p012, p013, p014, p015;
    byte p016, p017, p018, p019, p020, p021, p022, p023, p024, p025, p026, p027, p028, p029, p030, p031;
    byte p032, p033, p034, p035, p036, p037, p038, p039, p040, p041, p042, p043, p044, p045, p046, p047;
    byte p048, p049, p050, p051, p052, p053, p054, p055, p056, p057, p058, p059, p060, p061, p062, p063;
    byte p064, p065, p066, p067, p068, p069, p070, p071, p072, p073, p074, p075, p076, p077, p078, p079;
    byte p080, p081, p082, p083, p084, p085, p086, p087, p088, p089, p090, p091, p092, p093, p094, p095;
    byte p096, p097, p098, p099, p100, p101, p102, p103, p104, p105, p106, p107, p108, p109, p110, p111;
    byte p112, p113, p114, p115, p116, p117, p118, p119, p120, p121, p122, p123, p124, p125, p126, p127;
}

/** The lock word: 0 free, 1 held. */
abstract class SpinLockWord extends SpinLockPad {
    @SuppressWarnings("unused") // accessed through SpinLock.LOCK
    volatile int lockWord;
}
