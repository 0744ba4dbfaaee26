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
 * {@code tail} (release in the sync's epilogue, acquire by the user). A forwarder reads its switch once
 * per batch ({@link io.jnetmap.vale.SwitchView}: ports, lookup module, clock, counters), published
 * with a volatile store on every configuration change; each forwarder's sequence number is odd while
 * it runs a batch (volatile store before it reads the view), so a leaving port waits for every batch
 * that may have seen it before its memory is released. Lookup modules read their tables through a
 * volatile reference, rebuilt and republished by the control plane, or update them word by word.
 * Internal accessors name their memory order as JCTools does (and netmap-core): {@code lv} (volatile
 * load), {@code la} (load with acquire), {@code lp} (plain load), {@code so} (ordered store: release),
 * {@code sv} (volatile store), {@code cas}. Words written by different threads sit 128 bytes apart (padding superclasses:
 * {@code io.jnetmap.core.spi.SpinLock}, {@link io.jnetmap.vale.DstRing}).
 *
 * <p><b>Packages.</b> This one holds the switch, its API and its datapath. The lookup modules it
 * ships are in {@code io.jnetmap.vale.lookup} and use only the public {@link io.jnetmap.vale.LookupModule}
 * and {@link io.jnetmap.vale.Packet}; the default one of switches made on demand is found as a
 * {@link java.util.ServiceLoader} service, so this package never imports them. What other processes
 * use (the counters file layout, the vale-ctl client, the mailbox, remote ports) is in
 * {@code io.jnetmap.vale.ctl}, which imports nothing from here.
 *
 * <p><b>Lookup modules</b> ({@link io.jnetmap.vale.LookupModule}): the learning bridge (default; entries
 * age out), a static IPv4 router with a DxR table, and a flow cache in front of either.
 *
 * <p><b>Counters and control</b> live in a file per switch ({@code io.jnetmap.vale.ctl.SwitchFileLayout},
 * {@code <dir>/.vale/<switch>.<pid>.stats}), readable by any process ({@code ValeCtl.list()}), with a
 * mailbox through which another process asks the hosting one to attach, detach, create or remove ports
 * ({@code ValeCtl.remote}, run by {@link io.jnetmap.vale.SwitchAdmin}). The switch itself, its port
 * table and its lookup state live in the hosting process; other processes reach its ports through
 * pipes the host attaches ({@code io.jnetmap.vale.ctl.RemotePort}).
 */
package io.jnetmap.vale;
