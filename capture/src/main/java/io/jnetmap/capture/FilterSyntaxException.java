package io.jnetmap.capture;

/** A filter expression that does not parse or does not mean anything on Ethernet; {@link #column()} is 1-based. */
public final class FilterSyntaxException extends IllegalArgumentException {
    private final int column;
    private final String expression;

    public FilterSyntaxException(String expression, int column, String message) {
        super(message + " (at column " + column + ")\n  " + expression + "\n  " + " ".repeat(Math.max(0, column - 1)) + "^");
        this.column = column;
        this.expression = expression;
    }

    public int column() {
        return column;
    }

    public String expression() {
        return expression;
    }

    /** The message on one line, without the pointer. */
    public String shortMessage() {
        String m = getMessage();
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}
