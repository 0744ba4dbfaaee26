/**
 * The lookup modules the switch ships ({@link io.jnetmap.vale.LookupModule}): the learning bridge
 * (the default of switches made on demand), a static IPv4 router with a DxR table, and a flow cache
 * in front of either. They use only the public packet API ({@link io.jnetmap.vale.Packet}), as a
 * module written by anyone else would.
 */
package io.jnetmap.vale.lookup;
