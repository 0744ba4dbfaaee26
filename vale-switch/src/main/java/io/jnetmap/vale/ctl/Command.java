package io.jnetmap.vale.ctl;

/**
 * A request another process leaves in a switch's {@link ControlMailbox} (netmap's {@code NETMAP_BDG_*}
 * commands). Each has a fixed {@link #code()}, the u32 in the file's {@code CTL_CMD} word
 * ({@link SwitchFileLayout}); the argument is a port name as vale-ctl takes it.
 */
public enum Command {
    /** {@code vale-ctl -a valeS:IF} (or {@code valeS:NAME=SPEC}): attach a port (netmap's NETMAP_BDG_ATTACH). */
    ATTACH(1),
    /** {@code vale-ctl -h valeS:IF}: attach the interface and its host-stack rings. */
    ATTACH_HOST(2),
    /** {@code vale-ctl -d valeS:P}: detach an attached port, or remove a persistent VALE port (NETMAP_BDG_DETACH). */
    DETACH(3),
    /** {@code vale-ctl -n valeS:P}: create a persistent VALE port (NETMAP_BDG_NEWIF). */
    NEW_PORT(4),
    /** {@code vale-ctl -r valeS:P}: remove a persistent VALE port (NETMAP_BDG_DELIF). */
    REMOVE_PORT(5),
    /**
     * {@code valeS:P=PIPE}, sent by a {@link RemotePort} being opened: join the requester's pipe end
     * PIPE to the switch as port P, or bind it to P if P is a persistent VALE port; undone when the
     * requesting process dies.
     */
    ATTACH_REMOTE(6),
    /** {@code valeS:P=PIPE}, sent by a {@link RemotePort} closing: undo its {@link #ATTACH_REMOTE}. */
    DETACH_REMOTE(7),
    /**
     * {@code valeS:P/FLAGS=PIPE}, sent by a process opening copy monitor {@code valeS:P/r}, {@code /t}
     * or {@code /rt} of a port of a switch it does not host: the host opens the monitor and relays its
     * copies into the requester's pipe end PIPE, dropping what the pipe has no room for; undone when the
     * requesting process dies.
     */
    ATTACH_MONITOR(8),
    /** {@code valeS:P/FLAGS=PIPE}, sent by a remote monitor closing: undo its {@link #ATTACH_MONITOR}. */
    DETACH_MONITOR(9);

    private static final Command[] BY_CODE = new Command[10];

    static {
        for (Command c : values()) {
            BY_CODE[c.code] = c;
        }
    }

    private final int code;

    Command(int code) {
        this.code = code;
    }

    /** The command's number in the mailbox. */
    public int code() {
        return code;
    }

    /** The command numbered {@code code}; throws saying what was expected if there is none. */
    public static Command of(int code) {
        if (code < 0 || code >= BY_CODE.length || BY_CODE[code] == null) {
            throw new IllegalArgumentException("command " + code + " (expected: 1.." + (BY_CODE.length - 1) + ")");
        }
        return BY_CODE[code];
    }
}
