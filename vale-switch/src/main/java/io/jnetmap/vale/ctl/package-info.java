/**
 * A switch as other processes see it, without depending on the switch itself: the layout of its
 * counters file ({@link io.jnetmap.vale.ctl.SwitchFileLayout}), the reader and client of
 * {@code vale-ctl} ({@link io.jnetmap.vale.ctl.ValeCtl}), the mailbox protocol through which a client
 * asks the hosting process to act ({@link io.jnetmap.vale.ctl.ControlMailbox},
 * {@link io.jnetmap.vale.ctl.Command}), and the port another process gets when it opens a port of a
 * switch hosted elsewhere ({@link io.jnetmap.vale.ctl.RemotePort}). The host's side of the mailbox is
 * {@code io.jnetmap.vale.SwitchAdmin}.
 *
 * <p>Memory order of the file's words, named as in netmap-core and the switch's package: accessors
 * are {@code la} (load with acquire), {@code lv} (volatile load), {@code so} (store with release),
 * {@code sv} (volatile store), {@code lp} (plain load), {@code cas}.
 */
package io.jnetmap.vale.ctl;
