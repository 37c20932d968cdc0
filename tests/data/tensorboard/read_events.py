#!/usr/bin/python3
"""An independent reader of TensorBoard event files, written from the published formats:
TFRecord framing (uint64 little-endian length, masked CRC-32C of those 8 bytes, the payload,
masked CRC-32C of the payload) and the Event / Summary / SessionLog protocol buffers of
tensorflow/core/util/event.proto and summary.proto, decoded with a minimal wire-format parser.

Usage: read_events.py RUN_FOLDER [METRICS_JSONL]
Prints the number of records and scalar events. With METRICS_JSONL, checks that every finite
metric of every line is in the events at the same step (float32 precision) and the other way
round, and exits 1 on any difference. Every CRC is checked; a bad one exits 1.
"""
import glob
import json
import math
import struct
import sys


def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def masked(data):
    c = crc32c(data)
    return ((((c >> 15) | (c << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def records(path):
    with open(path, "rb") as f:
        data = f.read()
    i = 0
    while i < len(data):
        head = data[i:i + 8]
        (length,) = struct.unpack("<Q", head)
        (crc_len,) = struct.unpack("<I", data[i + 8:i + 12])
        if crc_len != masked(head):
            sys.exit("%s: bad length CRC at byte %d" % (path, i))
        payload = data[i + 12:i + 12 + length]
        (crc_data,) = struct.unpack("<I", data[i + 12 + length:i + 16 + length])
        if crc_data != masked(payload):
            sys.exit("%s: bad payload CRC at byte %d" % (path, i))
        yield payload
        i += 16 + length


def fields(buf):
    """(field number, wire type, value) of a protocol buffer message."""
    i = 0
    while i < len(buf):
        k, i = varint(buf, i)
        field, wire = k >> 3, k & 7
        if wire == 0:
            v, i = varint(buf, i)
        elif wire == 1:
            v = buf[i:i + 8]
            i += 8
        elif wire == 2:
            n, i = varint(buf, i)
            v = buf[i:i + n]
            i += n
        elif wire == 5:
            v = buf[i:i + 4]
            i += 4
        else:
            sys.exit("unexpected wire type %d" % wire)
        yield field, wire, v


def varint(buf, i):
    shift = value = 0
    while True:
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, i


def main():
    run = sys.argv[1]
    scalars = {}  # step -> {tag: value}
    count = starts = 0
    version = None
    for path in sorted(glob.glob(run + "/events.out.tfevents.*")):
        for payload in records(path):
            count += 1
            step, summary, session = 0, None, None
            for field, wire, v in fields(payload):
                if field == 2:
                    step = v
                elif field == 3:
                    version = v.decode()
                elif field == 5:
                    summary = v
                elif field == 6:
                    session = v
            if session is not None:
                starts += 1
                for s in list(scalars):  # TensorBoard's purge of orphaned data on a restart
                    if s > step:
                        del scalars[s]
            if summary is not None:
                for f, _, value in fields(summary):
                    if f != 1:
                        continue
                    tag, simple = None, None
                    for g, _, x in fields(value):
                        if g == 1:
                            tag = x.decode()
                        elif g == 2:
                            (simple,) = struct.unpack("<f", x)
                    scalars.setdefault(step, {})[tag] = simple
    print("%d records, file_version %s, %d session starts, %d steps with scalars"
          % (count, version, starts, len(scalars)))
    if len(sys.argv) < 3:
        return
    expected = {}
    for line in open(sys.argv[2]):
        if not line.strip():
            continue
        j = json.loads(line)
        step = j.pop("step")
        j.pop("time", None)
        for k, v in j.items():
            if isinstance(v, (int, float)) and math.isfinite(v):
                expected.setdefault(step, {})[k] = v
    bad = 0
    for step in set(expected) | set(scalars):
        e, g = expected.get(step, {}), scalars.get(step, {})
        for tag in set(e) | set(g):
            if tag not in e or tag not in g or abs(struct.unpack("<f", struct.pack("<f", e[tag]))[0] - g[tag]) > 0:
                bad += 1
                if bad <= 5:
                    print("step %s %s: metrics.jsonl %s, events %s" % (step, tag, e.get(tag), g.get(tag)))
    print("%d differences" % bad)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
