package io.jnetmap.vale.ctl;

import io.jnetmap.core.ShmDirectory;

import java.nio.file.Path;

/**
 * Binary layout of a switch's counters file, {@code <dir>/.vale/<switch>.<pid>.stats}: what another
 * process ({@code vale-ctl}) maps read-only to list the switch's ports and counters while traffic
 * flows, as AeronStat reads Aeron's CnC file, plus a control mailbox through which it may ask the
 * hosting process to attach, detach, create or destroy ports. Host byte order; every u64 counter is
 * 8-byte aligned and updated atomically, so a reader never sees a torn value.
 *
 * <pre>
 *     0 MAGIC u64 "JNMVALE1"        8 VERSION u32        12 PID u32 (hosting process)
 *    16 MAX_PORTS u32              20 PORT_SIZE u32      24 PORTS_OFS u32   28 STATE u32 (1 live, 2 closed)
 *    32 START_MS u64 (epoch ms)    40 HEARTBEAT_MS u64 (host) refreshed about every 100 ms
 *    48 SWITCH[32] UTF-8           80 LOOKUP[48] UTF-8 (module name)
 *   256 control mailbox (one request at a time):
 *       256 CTL_OWNER u64   pid of the client holding the mailbox, 0 = free (CAS; stolen from the dead)
 *       264 CTL_SEQ u64     (client) bumped with release after CMD and ARG are written
 *       272 CTL_DONE u64    (host) set to CTL_SEQ with release after STATUS and REPLY are written
 *       280 CTL_CMD u32     {@link Command#code()}         284 CTL_STATUS i32 (0 ok, else failed)
 *       288 CTL_ARG[224]    UTF-8, NUL padded
 *       512 CTL_REPLY[512]  UTF-8, NUL padded
 *  1024 PORT[MAX_PORTS], PORT_SIZE = 512 each, at PORTS_OFS:
 *         0 STATE u32 (0 free, 1 in use; release after the record is written)   4 KIND u32 (KIND_*)
 *         8 FLAGS u32 (FLAG_*)      12 RINGS u32     16 NAME[64]    80 BACKEND[48]
 *       128 sender counters, u64 each ({@link #TX_PACKETS} ...), written by the port's senders
 *       256 receiver counters, u64 each ({@link #RX_PACKETS} ...), written by whoever delivers to it
 * </pre>
 *
 * Sender and receiver counters sit on different 128-byte lines: they are written by different threads.
 */
public final class SwitchFileLayout {
    /** "JNMVALE1" as a little-endian u64. */
    public static final long MAGIC = 0x31454c41564d4e4aL;
    public static final int VERSION = 1;

    public static final long MAGIC_OFFSET = 0;
    public static final long VERSION_OFFSET = 8;
    public static final long PID_OFFSET = 12;
    public static final long MAX_PORTS_OFFSET = 16;
    public static final long PORT_SIZE_OFFSET = 20;
    public static final long PORTS_OFS_OFFSET = 24;
    public static final long STATE_OFFSET = 28;
    public static final long START_MS_OFFSET = 32;
    public static final long HEARTBEAT_MS_OFFSET = 40;
    public static final long SWITCH_OFFSET = 48;
    public static final int SWITCH_LENGTH = 32;
    public static final long LOOKUP_OFFSET = 80;
    public static final int LOOKUP_LENGTH = 48;

    public static final long CTL_OWNER_OFFSET = 256;
    public static final long CTL_SEQ_OFFSET = 264;
    public static final long CTL_DONE_OFFSET = 272;
    public static final long CTL_CMD_OFFSET = 280;
    public static final long CTL_STATUS_OFFSET = 284;
    public static final long CTL_ARG_OFFSET = 288;
    public static final int CTL_ARG_LENGTH = 224;
    public static final long CTL_REPLY_OFFSET = 512;
    public static final int CTL_REPLY_LENGTH = 512;

    public static final long PORTS_OFFSET = 1024;
    public static final int PORT_SIZE = 512;
    public static final long P_STATE_OFFSET = 0;
    public static final long P_KIND_OFFSET = 4;
    public static final long P_FLAGS_OFFSET = 8;
    public static final long P_RINGS_OFFSET = 12;
    public static final long P_NAME_OFFSET = 16;
    public static final int P_NAME_LENGTH = 64;
    public static final long P_BACKEND_OFFSET = 80;
    public static final int P_BACKEND_LENGTH = 48;
    public static final long P_TX_OFFSET = 128;
    public static final long P_RX_OFFSET = 256;

    public static final int STATE_LIVE = 1;
    public static final int STATE_CLOSED = 2;

    /** Port kinds. */
    public static final int KIND_VIRTUAL = 1;
    public static final int KIND_ATTACHED = 2;

    /** Port flags. */
    public static final int FLAG_BACKPRESSURE = 0x1;
    public static final int FLAG_PERSISTENT = 0x2;
    public static final int FLAG_SHARED_REGION = 0x4;

    /** Sender counters (index of the u64 at P_TX_OFFSET). */
    public static final int TX_PACKETS = 0;
    public static final int TX_BYTES = 1;
    /** Copies delivered to destinations (a broadcast packet counts once per port reached). */
    public static final int TX_DELIVERED = 2;
    public static final int DROP_FULL = 3;
    public static final int DROP_LOOKUP = 4;
    public static final int DROP_HAIRPIN = 5;
    public static final int DROP_BAD_SLOT = 6;
    public static final int DROP_TOO_LONG = 7;
    public static final int DROP_TTL = 8;
    public static final int DROP_NO_ROUTE = 9;
    public static final int DROP_NOT_IP = 10;
    /** Syncs that left packets waiting in the sender's ring because a destination was full (back-pressure). */
    public static final int BP_STALLS = 11;
    public static final int TX_COUNTERS = 12;
    /** Names of the sender counters, in index order. */
    public static final String[] TX_NAMES = {"tx.packets", "tx.bytes", "tx.delivered", "drop.full", "drop.lookup",
            "drop.hairpin", "drop.bad_slot", "drop.too_long", "drop.ttl", "drop.no_route", "drop.not_ip", "bp.stalls"};

    /** Receiver counters (index of the u64 at P_RX_OFFSET). */
    public static final int RX_PACKETS = 0;
    public static final int RX_BYTES = 1;
    /** Packets meant for this port that found its ring full. */
    public static final int RX_DROP_FULL = 2;
    /** Slots the port's user handed back with an invalid buffer index (left empty). */
    public static final int RX_BAD_SLOT = 3;
    public static final int RX_COUNTERS = 4;
    public static final String[] RX_NAMES = {"rx.packets", "rx.bytes", "rx.drop.full", "rx.bad_slot"};

    /** Ports per switch (netmap's NM_BDG_MAXPORTS): the file has a record for each. */
    public static final int MAX_PORTS = 254;

    /** Total file size. */
    public static final long FILE_SIZE = PORTS_OFFSET + (long) PORT_SIZE * MAX_PORTS;

    private SwitchFileLayout() {
    }

    /** Directory of the counters files: {@code .vale} under the regions' directory. */
    public static Path directory() {
        return ShmDirectory.path().resolve(".vale");
    }

    /** Offset of port record {@code port}. */
    public static long portOffset(int port) {
        return PORTS_OFFSET + (long) PORT_SIZE * port;
    }

    /** Offset of sender counter {@code c} of port record {@code port}. */
    public static long txOffset(int port, int c) {
        return portOffset(port) + P_TX_OFFSET + 8L * c;
    }

    /** Offset of receiver counter {@code c} of port record {@code port}. */
    public static long rxOffset(int port, int c) {
        return portOffset(port) + P_RX_OFFSET + 8L * c;
    }

    static {
        if (TX_NAMES.length != TX_COUNTERS || RX_NAMES.length != RX_COUNTERS
                || TX_COUNTERS * 8 > P_RX_OFFSET - P_TX_OFFSET || RX_COUNTERS * 8 > PORT_SIZE - P_RX_OFFSET
                || CTL_ARG_OFFSET + CTL_ARG_LENGTH > CTL_REPLY_OFFSET || CTL_REPLY_OFFSET + CTL_REPLY_LENGTH > PORTS_OFFSET) {
            throw new ExceptionInInitializerError("SwitchFileLayout: fields overlap");
        }
    }
}
