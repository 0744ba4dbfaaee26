/** jnetmap capture: pcap-filter expressions compiled to classic BPF and run in the kernel or the JVM; pcap and pcapng files. */
module io.jnetmap.capture {
    requires transitive io.jnetmap.core;

    exports io.jnetmap.capture;
}
