#!/usr/bin/env python3
"""synwatch: which interface each new TCP connection left through (a rig fixture).

  synwatch.py IFACE...     (in the namespace of the interfaces, e.g. the cluster's router)

Prints one line "IFACE SOURCE" for every TCP SYN (without ACK) the host transmits on IFACE,
until SIGTERM or SIGINT. The cluster tests run it on the router's links to the two limpet
nodes: the line says which node a client's connection crossed (XDP on the node itself would
hide the packets from a capture there).
"""
import select
import signal
import socket
import struct
import sys

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: synwatch.py IFACE...")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    socks = {}
    for name in sys.argv[1:]:
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        s.bind((name, 0))
        socks[s] = name
    print("ready", flush=True)
    while True:
        for s in select.select(list(socks), [], [])[0]:
            frame, addr = s.recvfrom(256)
            if addr[2] != PACKET_OUTGOING or len(frame) < 14 + 20 + 14:
                continue
            if struct.unpack("!H", frame[12:14])[0] != 0x0800 or frame[23] != 6:
                continue
            tcp = 14 + (frame[14] & 0x0F) * 4
            if len(frame) >= tcp + 14 and frame[tcp + 13] & 0x12 == 0x02:
                print(socks[s], socket.inet_ntoa(frame[26:30]), flush=True)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
