package io.jnetmap.examples;

import io.jnetmap.core.NetmapException;
import io.jnetmap.sys.SyscallException;

import java.io.IOException;
import java.io.UncheckedIOException;

/** What a tool prints of a failure ({@code tool: MESSAGE}), shared by {@link Cli} and the tools that parse their own line. */
final class ToolFailure {
    private ToolFailure() {
    }

    /** The message of an expected failure (bad port, system call, argument, file), else the exception itself. */
    static String message(Exception e) {
        boolean expected = e instanceof NetmapException || e instanceof SyscallException || e instanceof IllegalArgumentException
                || e instanceof IOException || e instanceof UncheckedIOException;
        return expected && e.getMessage() != null ? e.getMessage() : e.toString();
    }
}
