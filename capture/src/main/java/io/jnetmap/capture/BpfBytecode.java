package io.jnetmap.capture;

/** Placeholder replaced below. */
final class BpfBytecode {
    private BpfBytecode() {
    }

    static PacketFilter compile(Bpf program) {
        return new BpfInterpreter(program);
    }
}
