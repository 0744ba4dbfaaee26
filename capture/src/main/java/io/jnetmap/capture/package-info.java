/**
 * Replacing libpcap: pcap-filter(7) expressions compiled to classic BPF ({@link io.jnetmap.capture.FilterCompiler},
 * {@link io.jnetmap.capture.Bpf}), run by the reference interpreter or as JVM bytecode
 * ({@link io.jnetmap.capture.PacketFilter}) or in the kernel ({@code NicPort.setSocketFilter}); pcap and pcapng
 * files ({@link io.jnetmap.capture.PacketReader}, {@link io.jnetmap.capture.PacketWriter}); tcpdump-style lines
 * ({@link io.jnetmap.capture.PacketPrinter}); and the libpcap-like handle ({@link io.jnetmap.capture.Pcap}).
 *
 * <p>The compiler follows libpcap 1.10 (grammar, code shapes, the offsets vlan and mpls shift) and is checked
 * against tcpdump itself packet by packet. Its optimizer works on self-contained test blocks (see
 * {@code Blocks}): facts along paths decide tests, recomputed loads are skipped, identical blocks shared.
 * Filters, readers and writers allocate nothing per packet; none is thread-safe (one per thread).
 */
package io.jnetmap.capture;
