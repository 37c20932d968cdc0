#!/usr/bin/python3
"""Writes a TensorBoard event file as other tools write them, from the published formats
(TFRecord framing; tensorflow/core/util/event.proto, summary.proto, tensor.proto), independently of
PrefLab's writer: the fixture for reading other tools' log dirs.

Usage: write_events.py OUT_FILE
Records: the file_version event; steps 1-3 of "train/loss", "train/learning_rate" and
"train/rewards/accuracies" as simple_value (torch.utils.tensorboard's add_scalar, which the Hugging
Face Trainer's TensorBoardCallback calls with "train/" prefixed); "eval/loss" at step 3 as a
TensorFlow 2 scalar (a DT_FLOAT tensor in tensor_content, plugin "scalars"); a text summary at
step 0, which readers of scalars skip.
"""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from read_events import masked  # the framing's CRC, beside the reader in this folder


def varint(v):
    out = b""
    while v >= 0x80:
        out += bytes([(v & 0x7F) | 0x80])
        v >>= 7
    return out + bytes([v])


def key(field, wire):
    return varint(field << 3 | wire)


def ld(field, payload):  # length-delimited
    return key(field, 2) + varint(len(payload)) + payload


def event(wall, step, summary=None, version=None):
    e = key(1, 1) + struct.pack("<d", wall)
    if step:
        e += key(2, 0) + varint(step)
    if version is not None:
        e += ld(3, version.encode())
    if summary is not None:
        e += ld(5, summary)
    return e


def simple(tag, value):
    return ld(1, ld(1, tag.encode()) + key(2, 5) + struct.pack("<f", value))


def tf2_scalar(tag, value):
    metadata = ld(1, ld(1, b"scalars"))
    tensor = key(1, 0) + varint(1) + ld(2, b"") + ld(4, struct.pack("<f", value))
    return ld(1, ld(1, tag.encode()) + ld(9, metadata) + ld(8, tensor))


def text(tag, s):
    metadata = ld(1, ld(1, b"text"))
    tensor = key(1, 0) + varint(7) + ld(2, ld(2, key(1, 0) + varint(1))) + ld(8, s.encode())
    return ld(1, ld(1, tag.encode()) + ld(9, metadata) + ld(8, tensor))


def record(payload):
    head = struct.pack("<Q", len(payload))
    return head + struct.pack("<I", masked(head)) + payload + struct.pack("<I", masked(payload))


def main():
    wall = 1764806400.0
    records = [event(wall, 0, version="brain.Event:2"), event(wall, 0, summary=text("args/text_summary", "{}"))]
    for step, (loss, lr, acc) in enumerate([(0.6931, 5e-7, 0.0), (0.6812, 1e-6, 0.75), (0.6604, 1.5e-6, 1.0)], 1):
        for tag, v in (("train/loss", loss), ("train/learning_rate", lr), ("train/rewards/accuracies", acc)):
            records.append(event(wall + step, step, summary=simple(tag, v)))
    records.append(event(wall + 3.5, 3, summary=tf2_scalar("eval/loss", 0.6612)))
    with open(sys.argv[1], "wb") as f:
        for r in records:
            f.write(record(r))


if __name__ == "__main__":
    main()
