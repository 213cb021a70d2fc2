#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Write the seed corpus of every fuzz target into tests/fuzz/corpus/.

The seeds are well-formed inputs in each target's own encoding (see the
comment at the top of each fuzz_*.c): a few steps of normal paging per ring
generation, every public struct at its usual sizes, a store index with each
kind of record, a simulator session through every op. libFuzzer mutates
from there; the files are small and committed, this script says how they
were made:  python3 tests/fuzz/make-corpus.py
"""
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus")


def put(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---------------------------------------------------------------- ring
PAUSED, FOREIGN, DROP, EVFAIL, DUMMY = 1, 2, 4, 8, 16


def ring_seed(gen, age2=False, mc=False, vcpus=2, size_sel=2):
    b = bytearray()
    b0 = gen | 0x10 | (0x20 if age2 else 0) | (0x40 if mc else 0) | 0x80
    b += bytes([b0, (vcpus - 1) | (size_sel << 3)])
    b += bytes([0xff, 0] * 8)               # no refusals

    def pick(n, start):
        return struct.pack("<BH", n - 1, start)

    def req(gfn, fl, vcpu=0, p2mt=10):
        return bytes([0]) + bytes([0x00, fl]) + struct.pack("<H", gfn) + \
            bytes([vcpu, p2mt])

    b += bytes([8]) + pick(8, 0)            # nominate 0..7
    b += bytes([9 | 0x10]) + pick(8, 0)     # map, read, unmap
    b += bytes([10]) + pick(8, 0)           # evict
    b += req(1, PAUSED)                     # a page-in request
    b += req(1, PAUSED, vcpu=1)             # coalesced
    b += req(2, FOREIGN)                    # foreign
    b += bytes([6])                         # dispatch
    b += bytes([11 | 0x10]) + pick(2, 1)    # load 1, 2 + resume
    b += req(3, DROP)                       # guest released 3
    b += bytes([8]) + pick(2, 10)           # nominate 10, 11
    b += req(10, PAUSED | EVFAIL, p2mt=9)   # touched while nominated
    b += bytes([6 | 0x10])                  # dispatch, ring rewritten once
    b += bytes([13]) + pick(1, 11)          # unnominate 11
    b += bytes([6])
    return bytes(b)


GENS = ["me42", "me45", "v1", "v2", "v3", "v4", "v5", "v6", "v7"]
for i, g in enumerate(GENS):
    put("ring", "paging-%s" % g, ring_seed(i))
    put("ring", "paging-%s-age2-mc" % g, ring_seed(i, age2=True, mc=True))
# a ring that lies: producer far ahead, a header word rewritten
put("ring", "index-jump", ring_seed(8) + bytes([4 | 0x10]) +
    struct.pack("<I", 0x80000000) + bytes([6]))
put("ring", "index-behind", ring_seed(3) + bytes([4]) + bytes([0xf0]) +
    bytes([6]))
put("ring", "header-words", ring_seed(0) + bytes([5, 2]) +
    struct.pack("<I", 77) + bytes([6]))
# a request with a foreign version word, an unknown flag, a gfn past the end
bad = bytearray(ring_seed(6))
bad += bytes([0, 0x00, 0x80 | 0x20 | PAUSED]) + struct.pack("<H", 4) + \
    struct.pack("<I", 99) + struct.pack("<I", 0x100) + \
    struct.pack("<I", 0x40) + bytes([0, 10]) + bytes([6])
put("ring", "foreign-version", bytes(bad))
put("ring", "beyond-guest", ring_seed(7) + bytes([0, 0x45, PAUSED, 0, 10, 6]))
put("ring", "adopt-takeover", ring_seed(8) + bytes([14]) +
    struct.pack("<BH", 3, 20) + bytes([0, 0, PAUSED]) +
    struct.pack("<H", 21) + bytes([0, 9, 6]))

# ---------------------------------------------------------------- opts
# which, sz (u16), then the struct bytes after sz
KNOWN = {  # which: (name, sizeof, known) on x86-64
    0: ("open_opts", 72, 68), 1: ("callbacks", 40, 40), 2: ("info", 72, 72),
    3: ("stats", 112, 112), 4: ("sim_opts", 32, 32),
    5: ("sim_guest_opts", 48, 48), 6: ("sim_workload", 48, 48),
    7: ("sim_report", 112, 112), 8: ("sim_faults", 48, 44),
}
for which, (name, size, known) in KNOWN.items():
    for sz in (8, known, size, size + 8, 4096, 4097):
        body = bytes(max(sz - 8, 0))
        put("opts", "%s-%d" % (name, sz), bytes([which]) +
            struct.pack("<H", sz) + body[:64])
    # a newer caller's struct with a non-zero byte past the known fields
    put("opts", "%s-newer" % name, bytes([which]) +
        struct.pack("<H", size + 8) + bytes(size - 8) + b"\x01")
# xpage_open: opts (72) then callbacks (40) sizes and bytes
opts = struct.pack("<IIQIIQQQQiI", 1, 2, 0, 1, 0, 0, 0, 0, 0, 3, 0)
put("opts", "open", bytes([9]) + struct.pack("<H", 72) + opts[:64] +
    struct.pack("<H", 40) + bytes(32) + bytes([1, 1, 1, 1, 1]) +
    bytes([15, 0, 2, 64]))
put("opts", "open-old-callbacks", bytes([9]) + struct.pack("<H", 56) +
    opts[:48] + struct.pack("<H", 24) + bytes(16) + bytes([1, 1, 1, 0, 0]))
for which in (10, 11):
    for sz in (8, 16, 72, 112, 120):
        put("opts", "get-%d-%d" % (which, sz), bytes([which]) +
            struct.pack("<H", sz))

# ---------------------------------------------------------------- store
def rec(gfn, seq, slot, state, good=True):
    r = struct.pack("<QQII", gfn, seq, slot, state) + \
        struct.pack("<I", 0x31434552)
    crc = zlib.crc32(r) & 0xffffffff
    return r + struct.pack("<I", crc if good else crc ^ 1)


def store_seed(records, data_slots=16, flags=0x1 | 0x4):
    hdr = bytearray(4096)  # sealed by the harness (flags bit 0)
    body = b"".join(records)
    return bytes([flags, data_slots, 0]) + bytes(hdr) + body


INTENT, WRITTEN, FREE = 1, 2, 3
put("store", "written", store_seed([rec(5, 1, 0, WRITTEN),
                                    rec(6, 2, 1, WRITTEN)]))
put("store", "every-state", store_seed([rec(5, 1, 0, WRITTEN),
                                        rec(6, 2, 1, INTENT),
                                        rec(7, 3, 2, FREE),
                                        bytes(32),
                                        rec(8, 4, 4, WRITTEN)]))
put("store", "newer-record-wins", store_seed([rec(9, 1, 0, WRITTEN),
                                              rec(9, 7, 1, WRITTEN),
                                              rec(9, 3, 2, FREE)]))
put("store", "bad-crc-and-bounds", store_seed([rec(1, 1, 0, WRITTEN, False),
                                               rec(1 << 40, 2, 1, WRITTEN),
                                               rec(2, 3, 7, WRITTEN),
                                               rec(3, 4, 3, 9)]))
put("store", "past-the-data", store_seed([rec(4, 1, 20, WRITTEN),
                                          rec(5, 2, 21, INTENT)] +
                                         [bytes(32)] * 18, data_slots=2))
put("store", "another-domain", bytes([0x5, 16, 3]) + bytes(4096) +
    rec(5, 1, 0, WRITTEN))
put("store", "raw-header", bytes([0x4, 16, 0]) + b"XPGSTOR1" + bytes(100))
put("store", "no-data-file", bytes([0x1, 0, 0]) + bytes(4096))

# ---------------------------------------------------------------- simproto
# byte 0: personality index; byte 1: guest size/vCPUs/attach;
# packets: kind u8, op u16, len u16, payload
OP = dict(HELLO=1, ATTACH=2, DOMAIN_INFO=10, XEN_VERSION=11,
          VM_EVENT_VERSION=12, PAGING_AGE=13, GET_PARAM=14,
          POPULATE_PHYSMAP=15, DECREASE_RESERVATION=16, ENABLE=17,
          DISABLE=18, PAUSE=19, UNPAUSE=20, PAGING_OP=21, MULTICALL=22,
          MAP=23, UNMAP=24, CREATE_GUEST=40, DESTROY_GUEST=41, WORKLOAD=42,
          WORKLOAD_STOP=43, FAULTS=44, TOUCH=45, RELEASE=46, REPORT=47,
          PERSONALITIES=48, GFN_STATE=49, VCPU_STATE=50)


def pkt(op, payload=b"", kind=0):
    return bytes([kind]) + struct.pack("<HH", OP[op] if isinstance(op, str)
                                       else op, len(payload)) + payload


def u32(*v):
    return struct.pack("<%dI" % len(v), *v)


def u64(*v):
    return struct.pack("<%dQ" % len(v), *v)


def paging_op(op, gfn, slot=0xffffffff):
    return u32(op, slot) + u64(gfn)


def touch(gfn, vcpu=0, flags=0, domid=1):
    return u32(domid, vcpu, flags, 0) + u64(gfn)


session = b"".join([
    pkt("HELLO", u32(1, 0)), pkt("DOMAIN_INFO"), pkt("XEN_VERSION"),
    pkt("VM_EVENT_VERSION"), pkt("PAGING_AGE"), pkt("GET_PARAM", u32(27)),
    pkt("ENABLE", u32(0)),
    pkt("PAGING_OP", paging_op(0, 3)),
    pkt("MAP", u32(1, 1) + u64(3)), pkt("UNMAP", u32(1, 0) + u64(3)),
    pkt("PAGING_OP", paging_op(1, 3)),
    pkt("TOUCH", touch(3)),
    pkt("PAGING_OP", paging_op(2, 3, 0)),
    pkt("MULTICALL", u32(2, 0) + paging_op(0, 4) + paging_op(1, 4)),
    pkt("RELEASE", touch(5, 0xffffffff)),
    pkt("REPORT", u32(1, 0, 1000, 0)), pkt("GFN_STATE", touch(3)),
    pkt("VCPU_STATE", touch(0)),
    pkt("FAULTS", u32(1, 100) + u64(7) + u32(100, 100, 100, 100, 0, 1)),
    pkt("PAUSE"), pkt("UNPAUSE"), pkt("DISABLE"),
    pkt("POPULATE_PHYSMAP", u64(64)), pkt("DECREASE_RESERVATION", u64(7)),
    pkt("PERSONALITIES"),
])
for i in range(11):
    put("simproto", "session-%d" % i, bytes([i, 2]) + session)
put("simproto", "control-only", bytes([8, 0x42]) + b"".join([
    pkt("CREATE_GUEST", u32(0, 2) + u64(64) + u32(0, 0) + u64(1) +
        b"xen-4.13".ljust(32, b"\0")),
    pkt("WORKLOAD", u32(1, 0, 1, 30, 10, 50, 500, 0) + u64(1)),
    pkt("WORKLOAD_STOP", u32(1)), pkt("DESTROY_GUEST", u32(2)),
    pkt("TOUCH", touch(1, 0, 3)), pkt("DOMAIN_INFO"),
]))
put("simproto", "garbled", bytes([0, 1]) + pkt(10, b"\x01" * 30, kind=1) +
    pkt("HELLO", b"\x00" * 4, kind=2) + bytes([5]) +
    pkt("DOMAIN_INFO", b"", kind=3))

# ---------------------------------------------------------------- reply
# [u16 op][u32 seq][u32 n][u8 nfds] then the reply packet: header
# {u32 magic, u16 op, u16 nfds, u32 seq, i32 status, u32 len, u32 pad}
# and payload.
OPS = {"HELLO": 1, "ATTACH": 2, "DOMAIN_INFO": 10, "XEN_VERSION": 11,
       "GET_PARAM": 14, "ENABLE": 17, "DISABLE": 18, "PAGING_OP": 21,
       "MULTICALL": 22, "MAP": 23, "REPORT": 47, "PERSONALITIES": 48}


def reply(op, n=0, nfds=0, status=0, payload=b"", seq=7, hdr_op=None,
          hdr_seq=None, hdr_nfds=None):
    o = OPS[op]
    hdr = struct.pack("<IHHIiII", 0x4d535058, o if hdr_op is None else hdr_op,
                      nfds if hdr_nfds is None else hdr_nfds,
                      seq if hdr_seq is None else hdr_seq, status,
                      len(payload), 0)
    return struct.pack("<HIIB", o, seq, n, nfds) + hdr + payload


def results(*rc):
    return struct.pack("<I", len(rc)) + struct.pack("<%di" % len(rc), *rc)


put("reply", "hello", reply("HELLO", payload=struct.pack("<II", 1, 0)))
put("reply", "attach", reply("ATTACH", nfds=2, payload=b"\x01" * 88))
put("reply", "multicall", reply("MULTICALL", n=3,
                                payload=results(0, -16, 0)))
put("reply", "map-short", reply("MAP", n=2, payload=results(0)))
put("reply", "failure", reply("PAGING_OP", status=-16))
put("reply", "failure-payload", reply("DISABLE", status=-5,
                                      payload=b"\0" * 8))
put("reply", "text", reply("PERSONALITIES", payload=b"xen-4.17\nxen-4.2\n"))
put("reply", "wrong-seq", reply("XEN_VERSION", payload=b"\0" * 8,
                                hdr_seq=8))
put("reply", "fd-missing", reply("ENABLE", nfds=1, hdr_nfds=2,
                                 payload=b"\0" * 8))
# An empty packet carrying a descriptor (it leaked in simp_recv).
put("reply", "empty-with-fd", struct.pack("<HIIB", 21, 7, 0, 1))
