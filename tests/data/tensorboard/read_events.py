#!/usr/bin/python3
"""An independent reader of TensorBoard event files, written from the published formats:
TFRecord framing (uint64 little-endian length, masked CRC-32C of those 8 bytes, the payload,
masked CRC-32C of the payload) and the Event / Summary / SessionLog protocol buffers of
tensorflow/core/util/event.proto and summary.proto, decoded with a minimal wire-format parser.

Usage: read_events.py RUN_FOLDER [METRICS_JSONL] [--config CONFIG_YAML] [--images N]
Prints the number of records, scalar events, images and texts. With METRICS_JSONL, checks that
every finite metric of every line is in the events at the same step (float32 precision) and the
other way round. With --config, checks that the text tagged "config" (Markdown: the YAML indented
as a code block) is that file. With --images N, checks that at least N images were logged, each a
PNG whose header gives the height and width the Image message states. Every CRC is checked; any
failed check exits 1.
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


def check_png(step, tag, image):
    """The PNG's own IHDR size against the Image message's height (1) and width (2)."""
    png = image.get(4, b"")
    if png[:8] != b"\x89PNG\r\n\x1a\n" or png[12:16] != b"IHDR":
        return "step %s %s: not a PNG" % (step, tag)
    width, height = struct.unpack(">II", png[16:24])
    if (height, width) != (image.get(1), image.get(2)) or image.get(3) not in (1, 3, 4):
        return "step %s %s: PNG %dx%d, message %sx%s colorspace %s" % (
            step, tag, width, height, image.get(2), image.get(1), image.get(3))
    return None


def main():
    args = sys.argv[1:]
    config = images_wanted = None
    if "--config" in args:
        i = args.index("--config")
        config = args[i + 1]
        del args[i:i + 2]
    if "--images" in args:
        i = args.index("--images")
        images_wanted = int(args[i + 1])
        del args[i:i + 2]
    run = args[0]
    images, texts = [], {}
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
                    tag, simple, image, tensor, plugin = None, None, None, None, None
                    for g, _, x in fields(value):
                        if g == 1:
                            tag = x.decode()
                        elif g == 2:
                            (simple,) = struct.unpack("<f", x)
                        elif g == 4:
                            image = {h: y for h, _, y in fields(x)}
                        elif g == 8:
                            tensor = list(fields(x))
                        elif g == 9:  # SummaryMetadata { PluginData plugin_data = 1 { plugin_name = 1 } }
                            for h, _, y in fields(x):
                                if h == 1:
                                    plugin = dict((k, z) for k, _, z in fields(y)).get(1, b"").decode()
                    if image is not None:
                        images.append((step, tag, image))
                    elif tensor is not None and plugin != "text":
                        pass  # another plugin's tensor (TensorFlow 2 scalars): not PrefLab's
                    elif tensor is not None:
                        dtype = [y for h, _, y in tensor if h == 1]
                        strings = [y.decode() for h, _, y in tensor if h == 8]
                        if plugin != "text" or dtype != [7] or len(strings) != 1:
                            sys.exit("%s: tag %s is not a text summary (plugin %r, dtype %r)" % (path, tag, plugin, dtype))
                        texts[tag] = strings[0]
                    else:
                        scalars.setdefault(step, {})[tag] = simple
    print("%d records, file_version %s, %d session starts, %d steps with scalars, %d images, texts %s"
          % (count, version, starts, len(scalars), len(images), sorted(texts)))
    bad = 0
    if config is not None:
        want = "".join("    " + line + "\n" for line in open(config).read().split("\n")[:-1])
        if texts.get("config") != want:
            print("the config text differs from %s" % config)
            bad += 1
    if images_wanted is not None:
        problems = [p for p in (check_png(*i) for i in images) if p]
        for p in problems[:5]:
            print(p)
        if len(images) < images_wanted or problems:
            print("%d images (at least %d wanted), %d bad" % (len(images), images_wanted, len(problems)))
            bad += 1
    if len(args) < 2:
        sys.exit(1 if bad else 0)
    expected = {}
    for line in open(args[1]):
        if not line.strip():
            continue
        j = json.loads(line)
        step = j.pop("step")
        j.pop("time", None)
        for k, v in j.items():
            if isinstance(v, (int, float)) and math.isfinite(v):
                expected.setdefault(step, {})[k] = v
    for step in set(expected) | set(scalars):
        e, g = expected.get(step, {}), scalars.get(step, {})
        g = {t: v for t, v in g.items() if v is not None}
        for tag in set(e) | set(g):
            if tag not in e or tag not in g or abs(struct.unpack("<f", struct.pack("<f", e[tag]))[0] - g[tag]) > 0:
                bad += 1
                if bad <= 5:
                    print("step %s %s: metrics.jsonl %s, events %s" % (step, tag, e.get(tag), g.get(tag)))
    print("%d differences" % bad)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
