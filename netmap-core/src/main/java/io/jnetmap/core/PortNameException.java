package io.jnetmap.core;

/**
 * A port name does not follow the syntax (DESIGN.md section 4). Says what was expected and at which
 * character parsing stopped:
 * {@code bad port name "netmap:eth0-x": at 12: expected a ring number after '-'}.
 */
public final class PortNameException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final String name;
    private final int position;
    private final String expected;

    public PortNameException(String name, int position, String expected) {
        super("bad port name \"" + name + "\": at " + position + ": expected " + expected
                + (name != null && position <= name.length() ? "\n  " + name + "\n  " + " ".repeat(position) + "^" : ""));
        this.name = name;
        this.position = position;
        this.expected = expected;
    }

    /** The name as given. */
    public String name() {
        return name;
    }

    /** 0-based index of the character where parsing stopped ({@code name.length()} = at the end). */
    public int position() {
        return position;
    }

    /** What the parser expected there. */
    public String expected() {
        return expected;
    }
}
