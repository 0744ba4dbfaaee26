package io.jnetmap.capture;

import java.io.IOException;

/** A pcap or pcapng file that is truncated or corrupt at {@link #offset()} (bytes from the start of the file). */
public final class CaptureFileException extends IOException {
    private final long offset;

    public CaptureFileException(long offset, String message) {
        super(message + " at byte offset " + offset);
        this.offset = offset;
    }

    public long offset() {
        return offset;
    }
}
