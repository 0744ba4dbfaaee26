package io.jnetmap.capture;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.TextStyle;
import java.util.List;
import java.util.Locale;

/**
 * A {@link PacketWriter} that moves to a new file as tcpdump's {@code -C}, {@code -G} and {@code -W} do, with
 * tcpdump's file names:
 * <ul>
 *   <li>{@code -C size}: before a packet is written, if the current file is larger than {@code size} bytes,
 *   it is closed and the next one opened: {@code NAME}, {@code NAME1}, {@code NAME2}, … With {@code -W N} the
 *   count wraps at N and the names carry enough leading zeros for N-1 ({@code NAME0} … {@code NAME9} for
 *   {@code -W 10}), overwriting the oldest: a ring of files.</li>
 *   <li>{@code -G secs}: the name is a strftime(3) pattern, expanded when the file is opened; before a packet,
 *   if {@code secs} or more have passed since then, a new file is opened. With {@code -W N} capture ends
 *   (the packet is refused: {@link #write} returns false) when the N-th rotation is due. With {@code -C}
 *   too, the count restarts at 0 on every time rotation.</li>
 * </ul>
 * Nothing is allocated per packet except when a file changes.
 */
public final class RotatingWriter implements AutoCloseable {
    private final String pattern;
    private final PacketWriter.Format format;
    private final int snaplen;
    private final List<String> names;
    private final List<String> descriptions;
    private final long fileSize;
    private final long seconds;
    private final int fileCount;
    private final int chars;
    private PacketWriter current;
    private String currentName;
    private long openedAt;
    private int sizeCount;
    private int timeCount;
    private int files;

    /**
     * @param pattern   the {@code -w} name (a strftime pattern when {@code seconds > 0})
     * @param fileSize  {@code -C} in bytes (0: off)
     * @param seconds   {@code -G} (0: off)
     * @param fileCount {@code -W} (0: off)
     */
    public RotatingWriter(String pattern, PacketWriter.Format format, int snaplen, List<String> names, List<String> descriptions,
            long fileSize, long seconds, int fileCount) throws IOException {
        if (fileSize < 0) throw new IllegalArgumentException("file size " + fileSize + " (expected: >= 0)");
        if (seconds < 0) throw new IllegalArgumentException("rotate seconds " + seconds + " (expected: >= 0)");
        if (fileCount < 0) throw new IllegalArgumentException("file count " + fileCount + " (expected: >= 0)");
        this.pattern = pattern;
        this.format = format;
        this.snaplen = snaplen;
        this.names = names;
        this.descriptions = descriptions;
        this.fileSize = fileSize;
        this.seconds = seconds;
        this.fileCount = fileCount;
        this.chars = digits(fileCount);
        this.openedAt = nowSeconds();
        open(fileName(pattern, 0, fileSize > 0 ? chars : 0, seconds > 0 ? time(openedAt) : null));
    }

    /** tcpdump's {@code getWflagChars}: the digits of {@code n - 1} (0 for {@code n <= 1}). */
    public static int digits(int n) {
        int c = 0;
        for (int x = n - 1; x > 0; x /= 10) c++;
        return c;
    }

    /** tcpdump's {@code -C} argument: millions of bytes, or KiB/MiB/GiB with a k/m/g suffix. */
    public static long parseFileSize(String s) {
        if (s == null || s.isEmpty()) throw new IllegalArgumentException("-C '' (expected: a file size in millions of bytes)");
        char last = Character.toLowerCase(s.charAt(s.length() - 1));
        long unit = switch (last) {
            case 'k' -> 1L << 10;
            case 'm' -> 1L << 20;
            case 'g' -> 1L << 30;
            default -> 1_000_000L;
        };
        String digits = Character.isDigit(last) ? s : s.substring(0, s.length() - 1);
        long n;
        try {
            n = Long.parseLong(digits);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("-C " + s + " (expected: a positive number of millions of bytes, or with a k, m or g suffix)");
        }
        if (n <= 0 || n > Long.MAX_VALUE / unit) {
            throw new IllegalArgumentException("-C " + s + " (expected: a positive number of millions of bytes, or with a k, m or g suffix)");
        }
        return n * unit;
    }

    /** tcpdump's {@code MakeFilename}: strftime of the pattern if {@code time} is given, then the count with {@code chars} digits. */
    public static String fileName(String pattern, int count, int chars, ZonedDateTime time) {
        String base = time == null ? pattern : strftime(pattern, time);
        if (count == 0 && chars == 0) return base;
        return base + (chars == 0 ? Integer.toString(count) : String.format(Locale.ROOT, "%0" + chars + "d", count));
    }

    /** strftime(3) for the conversions file names use; an unknown one is refused. */
    public static String strftime(String pattern, ZonedDateTime t) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < pattern.length(); i++) {
            char c = pattern.charAt(i);
            if (c != '%') {
                b.append(c);
                continue;
            }
            if (++i == pattern.length()) throw new IllegalArgumentException("-w " + pattern + ": '%' at the end (expected: a strftime conversion)");
            char k = pattern.charAt(i);
            switch (k) {
                case 'Y' -> b.append(t.getYear());
                case 'y' -> two(b, t.getYear() % 100);
                case 'C' -> two(b, t.getYear() / 100);
                case 'm' -> two(b, t.getMonthValue());
                case 'd' -> two(b, t.getDayOfMonth());
                case 'e' -> b.append(t.getDayOfMonth() < 10 ? " " : "").append(t.getDayOfMonth());
                case 'H' -> two(b, t.getHour());
                case 'I' -> two(b, (t.getHour() + 11) % 12 + 1);
                case 'M' -> two(b, t.getMinute());
                case 'S' -> two(b, t.getSecond());
                case 'p' -> b.append(t.getHour() < 12 ? "AM" : "PM");
                case 'j' -> b.append(String.format(Locale.ROOT, "%03d", t.getDayOfYear()));
                case 's' -> b.append(t.toEpochSecond());
                case 'u' -> b.append(t.getDayOfWeek().getValue());
                case 'w' -> b.append(t.getDayOfWeek().getValue() % 7);
                case 'a' -> b.append(t.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.ROOT));
                case 'A' -> b.append(t.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.ROOT));
                case 'b', 'h' -> b.append(t.getMonth().getDisplayName(TextStyle.SHORT, Locale.ROOT));
                case 'B' -> b.append(t.getMonth().getDisplayName(TextStyle.FULL, Locale.ROOT));
                case 'F' -> b.append(strftime("%Y-%m-%d", t));
                case 'T' -> b.append(strftime("%H:%M:%S", t));
                case 'R' -> b.append(strftime("%H:%M", t));
                case 'D' -> b.append(strftime("%m/%d/%y", t));
                case 'z' -> b.append(t.getOffset().getId().equals("Z") ? "+0000" : t.getOffset().getId().replace(":", ""));
                case 'Z' -> b.append(t.getZone().getDisplayName(TextStyle.SHORT, Locale.ROOT));
                case '%' -> b.append('%');
                default -> throw new IllegalArgumentException("-w " + pattern + ": %" + k
                        + " (expected: a strftime conversion among %Y %y %C %m %d %e %H %I %M %S %p %j %s %u %w %a %A %b %B %F %T %R %D %z %Z %%)");
            }
        }
        return b.toString();
    }

    private static void two(StringBuilder b, int v) {
        if (v < 10) b.append('0');
        b.append(v);
    }

    private static ZonedDateTime time(long epochSeconds) {
        return ZonedDateTime.ofInstant(Instant.ofEpochSecond(epochSeconds), ZoneId.systemDefault());
    }

    private static long nowSeconds() {
        return System.currentTimeMillis() / 1000;
    }

    private void open(String name) throws IOException {
        current = new PacketWriter(FileChannel.open(Path.of(name), StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING), format, snaplen, names, descriptions);
        current.flush();
        currentName = name;
        files++;
    }

    /**
     * Writes one packet to the current file, first moving to the next one if {@code -G} or {@code -C} says
     * so. Returns false, writing nothing, when {@code -G} with {@code -W} has made its last file: capture ends.
     */
    public boolean write(int iface, MemorySegment packet, long off, int caplen, int wirelen, long tsNanos) throws IOException {
        if (seconds > 0) {
            long now = nowSeconds();
            if (now - openedAt >= seconds) {
                openedAt = now;
                timeCount++;
                if (fileCount > 0 && timeCount >= fileCount) {
                    return false;
                }
                current.close();
                sizeCount = 0;
                open(fileName(pattern, 0, fileSize > 0 ? chars : 0, time(now)));
            }
        }
        if (fileSize > 0 && current.size() > fileSize) {
            current.close();
            sizeCount++;
            if (fileCount > 0 && sizeCount >= fileCount) sizeCount = 0;
            open(fileName(pattern, sizeCount, chars, seconds > 0 ? time(openedAt) : null));
        }
        current.write(iface, packet, off, caplen, wirelen, tsNanos);
        return true;
    }

    /** The file being written. */
    public PacketWriter current() {
        return current;
    }

    /** Its name. */
    public String currentName() {
        return currentName;
    }

    /** Files opened so far (reopened names counted again). */
    public int filesOpened() {
        return files;
    }

    public void flush() throws IOException {
        current.flush();
    }

    @Override
    public void close() throws IOException {
        current.close();
    }
}
