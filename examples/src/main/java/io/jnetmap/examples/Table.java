package io.jnetmap.examples;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/**
 * A text table for the tools' listings ({@code vale-ctl}, {@code info}): each column is as wide as its
 * widest cell, so a long port or backend name ({@code af_packet/tpacket_v3+sendmmsg}) widens its column
 * instead of pushing the rest of its row out of line. Numbers are right-aligned, text left-aligned; the
 * last column is not padded (no trailing blanks).
 */
final class Table {
    private final String indent;
    private final String[] header;
    private final boolean[] right;
    private final List<String[]> rows = new ArrayList<>();

    /**
     * A table printed {@code indent} from the margin. A header cell that starts with {@code '>'} is a
     * right-aligned column (the {@code '>'} is not printed); a {@code null} header means no header line.
     */
    Table(String indent, String... header) {
        this.indent = indent;
        this.right = new boolean[header.length];
        this.header = new String[header.length];
        boolean any = false;
        for (int c = 0; c < header.length; c++) {
            String h = header[c] == null ? "" : header[c];
            right[c] = h.startsWith(">");
            this.header[c] = right[c] ? h.substring(1) : h;
            any |= !this.header[c].isEmpty();
        }
        if (any) {
            rows.add(this.header);
        }
    }

    /** Adds a row of cells ({@code String.valueOf} each); exactly one cell per column. */
    Table row(Object... cells) {
        if (cells.length != right.length) {
            throw new IllegalArgumentException("row of " + cells.length + " cells (expected: " + right.length + ")");
        }
        String[] r = new String[cells.length];
        for (int c = 0; c < cells.length; c++) {
            r[c] = String.valueOf(cells[c]);
        }
        rows.add(r);
        return this;
    }

    /** Rows added, the header line not counted. */
    int size() {
        return rows.size() - (rows.isEmpty() || rows.get(0) != header ? 0 : 1);
    }

    void print(PrintWriter out) {
        int[] width = new int[right.length];
        for (String[] r : rows) {
            for (int c = 0; c < r.length; c++) {
                width[c] = Math.max(width[c], r[c].length());
            }
        }
        StringBuilder line = new StringBuilder();
        for (String[] r : rows) {
            line.setLength(0);
            line.append(indent);
            for (int c = 0; c < r.length; c++) {
                boolean last = c == r.length - 1;
                int pad = width[c] - r[c].length();
                if (right[c]) {
                    line.repeat(' ', pad).append(r[c]);
                } else {
                    line.append(r[c]);
                    if (!last) {
                        line.repeat(' ', pad);
                    }
                }
                if (!last) {
                    line.append("  ");
                }
            }
            out.println(line.toString().stripTrailing());
        }
    }
}
