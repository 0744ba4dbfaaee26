/**
 * A VALE-style software switch (netmap's vale(4), with mSwitch's modular lookup).
 *
 * <p><b>Ports.</b> {@code Netmap.open("vale0:a")} creates switch {@code vale0} (if needed) and port
 * {@code a} in it; the port's rings live in its own private region, so packets are copied between
 * ports (isolation). A port opened with {@code @share=vale0:a} lives in a's region, and packets
 * between the two move by buffer-index swap. Any other {@link io.jnetmap.core.Port} (NIC, host
 * stack, pipe end) joins with {@link io.jnetmap.vale.ValeSwitch#attach}, driven by a polling thread.
 * Up to 254 ports per switch; every open of a name binds the same port (one thread per ring).
 *
 * <p><b>Forwarding</b> ({@link io.jnetmap.vale.Forwarder}) runs in the sender's thread, inside its
 * txsync: a batch of up to 1024 packets is looked up first, then delivered per destination ring under
 * a lease ({@link io.jnetmap.vale.DstRing}): a short lock to reserve slots, the copy without it, a
 * short lock to complete; completed leases are published in order, so several senders fill one
 * destination at once. A full destination drops (counted per cause), unless the sender is
 * back-pressured ({@code @backpressure=on}): then its packets stay in its TX ring ({@code tail} stops
 * before them) until the destination makes room, when the receiver's rxsync forwards them.
 *
 * <p><b>Memory order.</b> Slots a sender fills under its lease become visible to the receiver through
 * the destination's lock (release at completion, acquire in the receiver's rxsync) and then the ring's
 * {@code tail} (release in the sync's epilogue, acquire by the user). The published port table is
 * replaced with a volatile store; each forwarder's sequence number is odd while it runs a batch
 * (volatile store before it reads the table), so a leaving port waits for every batch that may have
 * seen it before its memory is released. Lookup modules read their tables through a volatile
 * reference, rebuilt and republished by the control plane ({@link io.jnetmap.vale.L3Router}) or
 * updated word by word ({@link io.jnetmap.vale.LearningBridge}).
 *
 * <p><b>Lookup modules</b> ({@link io.jnetmap.vale.Lookup}): the learning bridge (default; entries
 * age out), a static IPv4 router with a DxR table ({@link io.jnetmap.vale.L3Router}), and a flow
 * cache in front of either ({@link io.jnetmap.vale.FlowCache}).
 *
 * <p><b>Counters and control</b> live in a file per switch ({@link io.jnetmap.vale.StatsLayout},
 * {@code <dir>/.vale/<switch>.<pid>.stats}), readable by any process ({@link io.jnetmap.vale.ValeCtl#list()}),
 * with a mailbox through which another process asks the hosting one to attach, detach, create or
 * remove ports ({@link io.jnetmap.vale.ValeCtl#remote}). The switch itself, its port table and its
 * lookup state live in the hosting process: ports of one switch are opened from one process.
 */
package io.jnetmap.vale;
