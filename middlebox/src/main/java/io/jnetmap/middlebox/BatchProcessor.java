package io.jnetmap.middlebox;

/**
 * What a middlebox does with packets: called once per batch of packets received on one RX ring of one
 * input, it decides for each packet ({@link Batch#forward}, {@link Batch#drop}, {@link Batch#copy}).
 * Packets nobody decided about go to output 0. It may read and rewrite the packets' bytes in place
 * ({@link Batch#memory()} at {@link Batch#offset(int)}); it must not keep them past the call.
 *
 * <p>With {@link Middlebox.Threads#PER_RING} several threads call the processor of one input at once
 * (one per RX ring): state it shares must then be thread-safe. Hot paths should allocate nothing.
 */
@FunctionalInterface
public interface BatchProcessor {
    void process(Batch batch);
}
