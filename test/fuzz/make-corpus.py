#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_chanserv (test/fuzz/corpus/chanserv).

The input is a program (see fuzz_chanserv.c): first, for each of the 4
simulated silos, its quotas (a byte, odd: 5 more bytes of limits) and its
name rights (a byte); then steps of [kind, silo] and, for requests,
[op, badge, words, value, carried, extra]. The seeds are short scripted
scenarios (a full channel with a blocked send carrying a handle, handle
cycles, deaths with waiting operations, names, returns, unclaimed handles,
running out of pages) plus seeded random programs biased to common ops.
"""
import os
import random
import sys

SEND, RECV, TSEND, TRECV, CREATE, CLOSE, CLONE, CSYNC = range(8)
DESTROY, PUBLISH, LOOKUP, INFO, RECEIVER, SENDER = 0x80 | 12, 0x80 | 13, 0x80 | 14, 0x80 | 9, 0x80 | 10, 0x80 | 11
KILL, RETURN, UNCLAIMED, BUDGET, CLEAR = 28, 29, 30, 31, 27


def head(quotas=None):
    b = bytearray()
    for k in range(4):
        q = quotas[k] if quotas else None
        if q:
            b += bytes([1] + list(q))
        else:
            b += bytes([0])
        b += bytes([3])              # ns=publish,lookup
    return b


def req(k, op, held=0, val=1, carry=None, wsel=0, extra=0):
    bsel = held << 3                  # a held badge, by index
    csel = 1 if carry is None else (carry << 5)   # (csel & 3) == 0: carries held[carry]
    return bytes([0, k, op, bsel, wsel, val, csel, extra])


def step(kind, k, *more):
    return bytes([kind, k] + list(more))


def scripted():
    seeds = {}
    # a full channel, a blocked send carrying a handle, then a receive
    p = head() + req(0, CREATE, val=1) + req(0, CREATE, val=4)
    p += req(0, SEND, held=0) + req(0, SEND, held=0, carry=3) + req(0, RECV, held=1) + req(0, RECV, held=1)
    seeds["blocked-send-carries"] = p
    # a cycle: each channel's receiver in the other's queue, then closes
    p = head() + req(1, CREATE, val=2) + req(1, CREATE, val=2)
    p += req(1, SEND, held=0, carry=3) + req(1, SEND, held=1, carry=1) + req(1, CLOSE, held=0) + req(1, CLOSE, held=0)
    seeds["cycle"] = p
    # waiting operations, then deaths
    p = head() + req(2, CREATE, val=1) + req(2, RECV, held=1) + req(2, CSYNC, val=1)
    p += req(2, SEND, held=2) + req(2, SEND, held=2) + step(KILL, 2, 0, 3) + step(KILL, 0, 0, 3)
    seeds["deaths"] = p
    # names: publish, lookup from another silo, destroy
    p = head() + req(0, CSYNC, val=2) + req(0, PUBLISH, held=0, wsel=1, val=0)
    p += req(1, LOOKUP, wsel=1, val=0) + req(1, SEND, held=0) + req(0, RECV, held=0) + req(0, DESTROY, held=0)
    seeds["names"] = p
    # a delivery whose receiver died, with a handle riding along
    p = head() + req(3, CREATE, val=4) + req(3, CREATE, val=4) + req(3, SEND, held=0, carry=2)
    p += req(3, RECV, held=1) + step(RETURN, 0) + req(0, CREATE, val=1)
    seeds["return"] = p
    # a minted handle nobody took
    p = head() + req(0, CREATE, val=2) + step(UNCLAIMED, 0) + req(0, CLONE, held=0) + step(UNCLAIMED, 0)
    seeds["unclaimed"] = p
    # quotas and running out of pages
    p = head([(3, 1, 1, 1, 1), None, (1, 0, 0, 0, 0), None]) + req(0, CREATE, val=1) + req(0, CREATE, val=1)
    p += step(BUDGET, 0, 1, 0) + req(1, CREATE, val=6) + req(1, CREATE, val=6) + req(1, CREATE, val=6)
    p += step(BUDGET, 0, 0, 0) + req(1, CREATE, val=6)
    seeds["quotas-memory"] = p
    return seeds


def randomized(seed, steps):
    r = random.Random(seed)
    p = head([(r.randrange(256),) * 5 if r.random() < 0.3 else None for _ in range(4)])
    for _ in range(steps):
        x = r.random()
        k = r.randrange(4)
        if x < 0.85:
            op = r.choice([SEND, SEND, RECV, RECV, TSEND, TRECV, CREATE, CLOSE, CLONE, CSYNC,
                           DESTROY, PUBLISH, LOOKUP, INFO, RECEIVER, SENDER, 0x8f, 0x80])
            p += bytes([r.randrange(27), k, op, r.randrange(256) & 0xfc | r.choice([0, 1, 2, 5, 6, 7]),
                        r.randrange(256), r.randrange(256), r.randrange(256), r.randrange(256)])
        elif x < 0.9:
            p += step(KILL, k, 0, 3)
        elif x < 0.94:
            p += step(RETURN, k)
        elif x < 0.97:
            p += step(UNCLAIMED, k)
        else:
            p += step(BUDGET, k, r.randrange(2), r.randrange(8))
    return p


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus", "chanserv")
    os.makedirs(out, exist_ok=True)
    seeds = scripted()
    for i in range(8):
        seeds["random-%d" % i] = randomized(i, 60 + 40 * i)
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
