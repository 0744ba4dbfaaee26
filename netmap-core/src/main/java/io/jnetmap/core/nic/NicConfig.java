package io.jnetmap.core.nic;

import java.util.Locale;

/**
 * Tunables of NIC and host-stack ports, all in one place with their defaults. Ring geometry comes from
 * the port name ({@code @conf:slots=...}); these are the kernel-side sizes, read once from system
 * properties (or the environment variable in parentheses).
 *
 * @param xdpMode      {@code jnetmap.xdp.mode} ({@code JNETMAP_XDP_MODE}): {@code skb} (generic XDP),
 *                     {@code drv} (native), {@code auto} (default: native first; on veth always native,
 *                     because generic XDP drops the peer's 64 KiB GSO frames while native XDP makes the
 *                     kernel segment them in the peer)
 * @param xdpFill      {@code jnetmap.xdp.fill} ({@code JNETMAP_XDP_FILL}): spare buffers per AF_XDP RX queue,
 *                     the depth of its fill and RX rings (a power of two, default 8192): a burst this
 *                     long waits in the kernel instead of being dropped while the ring's user is busy
 * @param packetBlocks {@code jnetmap.packet.blocks} ({@code JNETMAP_PACKET_BLOCKS}): blocks of the TPACKET_V3
 *                     RX ring (default 128, 32 MiB: about 200 ms of 60-byte frames at 1 Mpps)
 * @param packetBlockSize bytes per block (256 KiB)
 * @param packetRetireMs  {@code jnetmap.packet.retire_ms} ({@code JNETMAP_PACKET_RETIRE_MS}): how long the kernel
 *                     keeps a partly filled block before handing it over (default 2 ms: a forwarding port's
 *                     latency). A block is handed over with what it holds, so at a low rate a short timeout fills
 *                     the ring with nearly empty blocks and wakes the reader often; libpcap uses its read timeout
 *                     (1000 ms in tcpdump). With 100 ms a capturer of a whole veth's traffic dropped a tenth of it
 *                     (not understood yet; 2 ms drops none or a few thousand at start), so 2 ms stays the default
 *                     for ports that forward
 * @param captureRetireMs {@code jnetmap.capture.retire_ms} ({@code JNETMAP_CAPTURE_RETIRE_MS}): the same timeout for a
 *                     passive capture ({@link NicPort#setPassiveCapture()}), which rebuilds its ring with it: default
 *                     1000 ms, tcpdump's read timeout, which libpcap gives the kernel as the block timeout. A capturer
 *                     then wakes when a block is full or a second after its first frame, not every 2 ms
 * @param captureBlockSize {@code jnetmap.capture.block_kib} ({@code JNETMAP_CAPTURE_BLOCK_KIB}, in KiB): block size of a
 *                     passive capture's ring, the same total size in fewer or more blocks: default 1 MiB (libpcap's
 *                     is 256 KiB; 1 MiB cost less CPU per packet in a quiet A/B run); larger blocks wake the capturer less often (a power of two,
 *                     4 KiB to 4 MiB)
 */
public record NicConfig(String xdpMode, int xdpFill, int packetBlocks, int packetBlockSize, int packetRetireMs,
                        int captureRetireMs, int captureBlockSize) {
    public NicConfig {
        if (!xdpMode.equals("auto") && !xdpMode.equals("skb") && !xdpMode.equals("drv")) {
            throw new IllegalArgumentException("jnetmap.xdp.mode=" + xdpMode + " (expected: auto, skb or drv)");
        }
        if (xdpFill < 64 || xdpFill > 1 << 20 || Integer.bitCount(xdpFill) != 1) {
            throw new IllegalArgumentException("jnetmap.xdp.fill=" + xdpFill + " (expected: a power of two in 64..1048576)");
        }
        if (packetBlocks < 2 || packetBlocks > 4096) {
            throw new IllegalArgumentException("jnetmap.packet.blocks=" + packetBlocks + " (expected: 2..4096)");
        }
        if (packetRetireMs < 1 || packetRetireMs > 10_000) {
            throw new IllegalArgumentException("jnetmap.packet.retire_ms=" + packetRetireMs + " (expected: 1..10000)");
        }
        if (captureRetireMs < 1 || captureRetireMs > 10_000) {
            throw new IllegalArgumentException("jnetmap.capture.retire_ms=" + captureRetireMs + " (expected: 1..10000)");
        }
        if (captureBlockSize < 4096 || captureBlockSize > 4 << 20 || Integer.bitCount(captureBlockSize) != 1) {
            throw new IllegalArgumentException("jnetmap.capture.block_kib=" + (captureBlockSize >> 10) + " (expected: a power of two in 4..4096)");
        }
    }

    /** The defaults, overridden by system properties and environment variables. */
    public static NicConfig current() {
        return new NicConfig(
                setting("jnetmap.xdp.mode", "JNETMAP_XDP_MODE", "auto").toLowerCase(Locale.ROOT),
                Integer.parseInt(setting("jnetmap.xdp.fill", "JNETMAP_XDP_FILL", "8192")),
                Integer.parseInt(setting("jnetmap.packet.blocks", "JNETMAP_PACKET_BLOCKS", "128")),
                256 * 1024,
                Integer.parseInt(setting("jnetmap.packet.retire_ms", "JNETMAP_PACKET_RETIRE_MS", "2")),
                Integer.parseInt(setting("jnetmap.capture.retire_ms", "JNETMAP_CAPTURE_RETIRE_MS", "1000")),
                Integer.parseInt(setting("jnetmap.capture.block_kib", "JNETMAP_CAPTURE_BLOCK_KIB", "1024")) << 10);
    }

    private static String setting(String property, String env, String dflt) {
        String v = System.getProperty(property);
        if (v == null || v.isEmpty()) {
            v = System.getenv(env);
        }
        return v == null || v.isEmpty() ? dflt : v.trim();
    }
}
