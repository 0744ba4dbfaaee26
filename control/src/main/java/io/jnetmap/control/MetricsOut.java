package io.jnetmap.control;

import java.nio.charset.StandardCharsets;

/**
 * Prometheus' text exposition format (0.0.4), or OpenMetrics 1.0 text, written straight into a
 * reusable byte array. A family's HELP and TYPE lines and its samples' name are encoded once
 * ({@link Family}), label names with their {@code ="} too ({@link #label(String)}); a scrape writes
 * label values (escaped) and numbers. The two formats differ only where the old {@code StringBuilder}
 * writer differed: a counter's HELP and TYPE lines name {@code NAME_total} in 0.0.4 and {@code NAME} in
 * OpenMetrics, and OpenMetrics ends with {@code # EOF}. Not thread-safe: one per event loop.
 *
 * <pre>{@code
 * o.reset(false).family(F);                       // # HELP ... / # TYPE ...
 * o.begin(F).label(SWITCH, "vale0").label(PORT, "a").end(42);   // F_total{switch="vale0",port="a"} 42
 * }</pre>
 */
final class MetricsOut extends ByteOut {
    /** A metric family: its name, type and help, with the lines of both formats encoded once. */
    static final class Family {
        final String name;
        final boolean counter;
        private final byte[] head;
        private final byte[] headOpenMetrics;
        /** The samples' name and their opening brace ({@code NAME_total} for a counter, {@code NAME} for a gauge). */
        private final byte[] sampleStart;

        /** {@code type}: counter or gauge; {@code help} holds no backslash, quote or newline (so needs no escape). */
        Family(String name, String type, String help) {
            if (!type.equals("counter") && !type.equals("gauge")) {
                throw new IllegalArgumentException("type=" + type + " (expected: counter or gauge)");
            }
            if (help.indexOf('\\') >= 0 || help.indexOf('"') >= 0 || help.indexOf('\n') >= 0) {
                throw new IllegalArgumentException("help of " + name + " holds a character to escape (expected: none)");
            }
            this.name = name;
            this.counter = type.equals("counter");
            String text = counter ? name + "_total" : name;
            head = lines(text, type, help);
            headOpenMetrics = lines(name, type, help);
            sampleStart = (text + "{").getBytes(StandardCharsets.UTF_8);
        }

        private static byte[] lines(String fam, String type, String help) {
            return ("# HELP " + fam + " " + help + "\n# TYPE " + fam + " " + type + "\n").getBytes(StandardCharsets.UTF_8);
        }
    }

    private boolean openMetrics;
    /** The sample being written has a label already: the next one needs a comma. */
    private boolean labelled;

    MetricsOut(int capacity) {
        super(capacity);
    }

    /** Empties the writer for a new page in 0.0.4 text or OpenMetrics ({@code openMetrics}). */
    MetricsOut reset(boolean openMetrics) {
        clear();
        this.openMetrics = openMetrics;
        return this;
    }

    /** {@code name="} encoded, for {@link #label(byte[], String)}. */
    static byte[] label(String name) {
        return (name + "=\"").getBytes(StandardCharsets.UTF_8);
    }

    /** The HELP and TYPE lines of {@code f}. */
    MetricsOut family(Family f) {
        raw(openMetrics ? f.headOpenMetrics : f.head);
        return this;
    }

    /** Begins a sample of {@code f}: its name and the labels' brace. */
    MetricsOut begin(Family f) {
        raw(f.sampleStart);
        labelled = false;
        return this;
    }

    /**
     * Begins a sample of {@code f} with labels written before: bytes {@code [from, to)} of {@code labels},
     * a writer that holds them as {@link #labelsOnly} and {@link #label(byte[], String)} wrote them.
     */
    MetricsOut begin(Family f, MetricsOut labels, int from, int to) {
        raw(f.sampleStart);
        ensure(to - from);
        System.arraycopy(labels.b, from, b, n, to - from);
        n += to - from;
        labelled = to > from;
        return this;
    }

    /** Begins a list of labels alone (no sample name), to be copied into samples by {@link #begin(Family, MetricsOut, int, int)}. */
    MetricsOut labelsOnly() {
        labelled = false;
        return this;
    }

    /**
     * A label of the sample begun: {@code name} from {@link #label(String)}, {@code value} escaped as
     * both formats want it in a label value (backslash, double quote and line feed behind a backslash,
     * the line feed as {@code \n}), the rest in UTF-8.
     */
    MetricsOut label(byte[] name, String value) {
        if (labelled) {
            put((byte) ',');
        }
        labelled = true;
        raw(name);
        int len = value.length();
        ensure(len * 3 + 1); // at most 3 bytes a char (a BMP char in UTF-8; an escape is 2, a surrogate pair 4 for 2)
        byte[] a = b;
        for (int i = 0; i < len; i++) {
            char c = value.charAt(i);
            if (c < 0x80 && c != '\\' && c != '"' && c != '\n') {
                a[n++] = (byte) c;
            } else if (c == '\\' || c == '"') {
                a[n++] = '\\';
                a[n++] = (byte) c;
            } else if (c == '\n') {
                a[n++] = '\\';
                a[n++] = 'n';
            } else if (Character.isSurrogate(c)) {
                i = surrogate(value, i);
            } else {
                utf8(c);
            }
        }
        put((byte) '"');
        return this;
    }

    /** Ends the sample begun with its value. */
    MetricsOut end(long value) {
        ensure(2);
        b[n++] = '}';
        b[n++] = ' ';
        decimal(value);
        put((byte) '\n');
        return this;
    }

    /** The end of the page: {@code # EOF} in OpenMetrics, nothing in 0.0.4. */
    MetricsOut finish() {
        if (openMetrics) {
            ascii("# EOF\n");
        }
        return this;
    }
}
