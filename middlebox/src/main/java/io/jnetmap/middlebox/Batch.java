package io.jnetmap.middlebox;

import io.jnetmap.core.Ring;
import java.lang.foreign.MemorySegment;

/**
 * One batch of packets received on one RX ring of one input, handed to a {@link BatchProcessor}.
 * Packet {@code k} ({@code 0 <= k < size()}) is {@code len(k)} bytes at {@code offset(k)} of
 * {@link #memory()}. Each packet has one decision, output 0 unless the processor says otherwise:
 * {@link #forward(int, int)} to an output (by buffer swap when the output shares the input's region,
 * else by copy), or {@link #drop(int)}; {@link #copy(int, int)} additionally sends a copy to another output.
 * Output indices count the outputs given with the input ({@link Middlebox.Builder#input}). Reused for
 * every batch: nothing allocates.
 */
public final class Batch {
    /** The decision of a packet that goes nowhere. */
    public static final int DROP = -1;

    private Ring ring;
    private int first;
    private int size;
    private int numSlots;
    private final int outputs;
    private final int input;
    final int[] decision;
    final int[] copyPkt;
    final int[] copyOut;
    int copies;

    Batch(int input, int outputs, int maxBatch, int maxCopies) {
        this.input = input;
        this.outputs = outputs;
        this.decision = new int[maxBatch];
        this.copyPkt = new int[maxCopies];
        this.copyOut = new int[maxCopies];
    }

    void reset(Ring r, int first, int size) {
        this.ring = r;
        this.first = first;
        this.size = size;
        this.numSlots = r.numSlots();
        this.copies = 0;
        java.util.Arrays.fill(decision, 0, size, 0);
    }

    /** Number of packets in this batch. */
    public int size() {
        return size;
    }

    /** Which input (in the order given to the builder) the batch came from. */
    public int input() {
        return input;
    }

    /** Which RX ring of the input. */
    public int ring() {
        return ring.ringId();
    }

    /** Number of outputs of this input. */
    public int outputs() {
        return outputs;
    }

    /** The region the packets are in (read and write them at {@link #offset(int)}). */
    public MemorySegment memory() {
        return ring.memory();
    }

    /** Slot of packet {@code k} in its RX ring. */
    public int slot(int k) {
        int s = first + checkPacket(k);
        return s >= numSlots ? s - numSlots : s;
    }

    /** Offset of packet {@code k}'s first byte in {@link #memory()}. */
    public long offset(int k) {
        return ring.bufOffset(slot(k));
    }

    public int len(int k) {
        return ring.len(slot(k));
    }

    /** Changes packet {@code k}'s length (0 .. buffer size), after rewriting it in place. */
    public void setLen(int k, int len) {
        ring.setLen(slot(k), len);
    }

    /** Packet {@code k} goes to {@code output}. */
    public void forward(int k, int output) {
        checkPacket(k);
        decision[k] = checkOutput(output);
    }

    /** Packet {@code k} goes nowhere (counted as dropped by the processor). */
    public void drop(int k) {
        checkPacket(k);
        decision[k] = DROP;
    }

    /** The decision for packet {@code k} so far: an output, or {@link #DROP}. */
    public int decision(int k) {
        return decision[checkPacket(k)];
    }

    /**
     * A copy of packet {@code k} (as it is after this call returns) goes to {@code output} as well, before
     * the packet itself. Calls must come in increasing order of {@code k}; at most 4 copies per packet
     * on average per batch.
     */
    public void copy(int k, int output) {
        checkPacket(k);
        checkOutput(output);
        if (copies > 0 && copyPkt[copies - 1] > k) {
            throw new IllegalStateException("copy(" + k + ", ...) after copy(" + copyPkt[copies - 1] + ", ...) (expected: increasing packets)");
        }
        if (copies == copyPkt.length) {
            throw new IllegalStateException("more than " + copyPkt.length + " copies in one batch");
        }
        copyPkt[copies] = k;
        copyOut[copies] = output;
        copies++;
    }

    private int checkPacket(int k) {
        if (k < 0 || k >= size) {
            throw new IndexOutOfBoundsException("packet " + k + " (expected: 0.." + (size - 1) + ")");
        }
        return k;
    }

    private int checkOutput(int o) {
        if (o < 0 || o >= outputs) {
            throw new IndexOutOfBoundsException("output " + o + " (expected: 0.." + (outputs - 1) + ")");
        }
        return o;
    }
}
