/** Middleboxes: a per-batch packet-processing API over any ports, and lb, tlem, a firewall and a NAT44 on it. */
module io.jnetmap.middlebox {
    requires transitive io.jnetmap.core;

    exports io.jnetmap.middlebox;
}
