package io.jnetmap.vhost;

/**
 * Constants of the vhost-user protocol (QEMU's docs/interop/vhost-user.rst) and of virtio-net that
 * this back-end uses: request codes, header flags, feature bits.
 */
final class VhostUser {
    private VhostUser() {
    }

    // requests (front-end to back-end)
    static final int GET_FEATURES = 1;
    static final int SET_FEATURES = 2;
    static final int SET_OWNER = 3;
    static final int RESET_OWNER = 4;
    static final int SET_MEM_TABLE = 5;
    static final int SET_LOG_BASE = 6;
    static final int SET_LOG_FD = 7;
    static final int SET_VRING_NUM = 8;
    static final int SET_VRING_ADDR = 9;
    static final int SET_VRING_BASE = 10;
    static final int GET_VRING_BASE = 11;
    static final int SET_VRING_KICK = 12;
    static final int SET_VRING_CALL = 13;
    static final int SET_VRING_ERR = 14;
    static final int GET_PROTOCOL_FEATURES = 15;
    static final int SET_PROTOCOL_FEATURES = 16;
    static final int GET_QUEUE_NUM = 17;
    static final int SET_VRING_ENABLE = 18;
    static final int SEND_RARP = 19;
    static final int NET_SET_MTU = 20;
    static final int GET_MAX_MEM_SLOTS = 36;

    // header flags
    static final int VERSION = 0x1;
    static final int REPLY = 0x4;
    static final int NEED_REPLY = 0x8;

    /** SET_VRING_KICK/CALL/ERR payload: bits 0-7 the ring, bit 8 "no descriptor" (polling). */
    static final long VRING_IDX_MASK = 0xff;
    static final long VRING_NOFD = 0x100;

    // virtio feature bits
    static final long F_NET_MTU = 1L << 3;
    static final long F_NET_MRG_RXBUF = 1L << 15;
    static final long F_ANY_LAYOUT = 1L << 27;
    static final long F_RING_EVENT_IDX = 1L << 29;
    static final long F_PROTOCOL_FEATURES = 1L << 30;
    static final long F_VERSION_1 = 1L << 32;

    /** What this back-end offers in GET_FEATURES. */
    static final long FEATURES = F_NET_MTU | F_NET_MRG_RXBUF | F_ANY_LAYOUT | F_RING_EVENT_IDX | F_PROTOCOL_FEATURES
            | F_VERSION_1;

    // protocol feature bits
    static final long PF_REPLY_ACK = 1L << 3;
    static final long PF_NET_MTU = 1L << 4;

    static final long PROTOCOL_FEATURES = PF_REPLY_ACK | PF_NET_MTU;

    /** Receive queue (the device writes, the guest receives) and transmit queue of queue pair 0. */
    static final int RX_QUEUE = 0;
    static final int TX_QUEUE = 1;

    static String name(int request) {
        return switch (request) {
            case GET_FEATURES -> "GET_FEATURES";
            case SET_FEATURES -> "SET_FEATURES";
            case SET_OWNER -> "SET_OWNER";
            case RESET_OWNER -> "RESET_OWNER";
            case SET_MEM_TABLE -> "SET_MEM_TABLE";
            case SET_LOG_BASE -> "SET_LOG_BASE";
            case SET_LOG_FD -> "SET_LOG_FD";
            case SET_VRING_NUM -> "SET_VRING_NUM";
            case SET_VRING_ADDR -> "SET_VRING_ADDR";
            case SET_VRING_BASE -> "SET_VRING_BASE";
            case GET_VRING_BASE -> "GET_VRING_BASE";
            case SET_VRING_KICK -> "SET_VRING_KICK";
            case SET_VRING_CALL -> "SET_VRING_CALL";
            case SET_VRING_ERR -> "SET_VRING_ERR";
            case GET_PROTOCOL_FEATURES -> "GET_PROTOCOL_FEATURES";
            case SET_PROTOCOL_FEATURES -> "SET_PROTOCOL_FEATURES";
            case GET_QUEUE_NUM -> "GET_QUEUE_NUM";
            case SET_VRING_ENABLE -> "SET_VRING_ENABLE";
            case SEND_RARP -> "SEND_RARP";
            case NET_SET_MTU -> "NET_SET_MTU";
            case GET_MAX_MEM_SLOTS -> "GET_MAX_MEM_SLOTS";
            default -> "request " + request;
        };
    }
}
