#!/usr/bin/env python3
"""make-seeds.py: writes the committed seed corpora of the fuzz harnesses (fuzz/corpus/*), never
run in CI. Valid files of every kind, small enough for fast fuzzing:

  bitstream  nano streams: one pixel, gray, tiled (2, 3 and 4 tiles), 64x64 exactly, every integer
             quality and a fractional one; the hybrid-t conformance streams (parsed, not decoded:
             another model's fingerprint); a header with empty payloads
  model      small .s2cq files: every metadata and element type, rank 0 and 8, empty tensors,
             alignment 1 and 4096, and the nano model's metadata with its tensor table cut down
  modelgraph edit scripts for fuzz/harness/modelgraph.swift (the empty script runs fuzz/pico.s2cq as is)
  safetensors F32 / F16 / BF16, metadata, rank 0 and 4, empty tensors, a cut of the nano weights
  png        every colour type and bit depth, palettes with and without tRNS, opaque and
             transparent alpha, interlaced, colour-space chunks, split IDATs, 1x1

Usage: fuzz/make-seeds.py S2C_INT   (the s2c-int executable, e.g. .build/debug/s2c-int)
"""
import io, json, os, shutil, struct, subprocess, sys, tempfile, zlib

from PIL import Image

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
out = os.path.join(root, "fuzz", "corpus")
fixture = os.path.join(root, "Tests/CalibrateTests/Fixtures/kodim23-crop-70x50.png")
nano = os.path.join(root, "Tests/Conformance/nano.s2cq")


def fresh(name):
    d = os.path.join(out, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


def write(d, name, data):
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# MARK: - bitstreams

def crc(b):
    return zlib.crc32(b) & 0xFFFFFFFF


def bitstreams(s2c_int):
    d = fresh("bitstream")
    src = Image.open(fixture).convert("RGB")
    tmp = tempfile.mkdtemp()
    try:
        def enc(name, im, quality, tile=None):
            p = os.path.join(tmp, name + ".png")
            im.save(p)
            args = [s2c_int, "encode", p, "-o", os.path.join(d, name + ".s2c"), "--model", nano, "--quality", str(quality)]
            if tile:
                args += ["--tile", str(tile)]
            subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        big = src.resize((128, 128))
        enc("one-pixel-q3", src.crop((0, 0, 1, 1)), 3)
        enc("one-pixel-gray-q7", src.convert("L").crop((0, 0, 1, 1)), 7)
        enc("gray-33x17-q6", src.convert("L").crop((0, 0, 33, 17)), 6)
        enc("exact-64x64-q2", big.crop((0, 0, 64, 64)), 2)
        enc("tiles-65x1-q4", big.crop((0, 0, 65, 1)), 4, 64)
        enc("tiles-gray-1x65-q5", big.convert("L").crop((0, 0, 1, 65)), 5, 64)
        enc("tiles-gray-129x2-q1", big.convert("L").crop((0, 0, 129, 2)), 1, 64)
        enc("tiles-128x128-q3", big, 3, 64)
        for q in ["1", "2", "3", "4", "5", "6", "7", "2.125"]:
            enc(f"kodim23-70x50-q{q}", src, q)
    finally:
        shutil.rmtree(tmp)
    for f in sorted(os.listdir(os.path.join(root, "Tests/Conformance/hybrid-t"))):
        if f.endswith(".s2c"):
            shutil.copy(os.path.join(root, "Tests/Conformance/hybrid-t", f), os.path.join(d, "hybrid-t-" + f))
    # Header-only streams (empty z and y): version 1 and a 2-tile version 2.
    fp = struct.unpack_from("<Q", open(nano, "rb").read()[-8:])[0]
    h = b"\x89S2C" + bytes([1, 0]) + struct.pack("<HQHHII", 768, fp, 1, 1, 0, 0)
    write(d, "empty-payload-v1.s2c", h + struct.pack("<I", crc(h)) + struct.pack("<I", crc(b"")))
    h = b"\x89S2C" + bytes([2, 1]) + struct.pack("<HQHHIIHH", 768, fp, 65, 1, 0, 0, 64, 64)
    table = struct.pack("<IIII", 0, 0, 0, 0)
    write(d, "empty-payload-v2.s2c", h + struct.pack("<I", crc(h)) + table + struct.pack("<I", crc(table)) + struct.pack("<I", crc(b"")))


# MARK: - .s2cq models

def fnv(b):
    h = 0xCBF29CE484222325
    for x in b:
        h = ((h ^ x) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def s2cq(meta, tensors, alignment=64):
    """meta: [(key, tag, value)]; tensors: [(name, type, shape, raw bytes)] (docs/model-format.md)."""
    m = b""
    for k, tag, v in meta:
        kb = k.encode()
        m += struct.pack("<H", len(kb)) + kb + bytes([tag])
        if tag == 0: m += struct.pack("<I", v)
        elif tag == 1: m += struct.pack("<i", v)
        elif tag == 2: m += struct.pack("<Q", v)
        elif tag == 3: m += struct.pack("<q", v)
        elif tag == 4: m += struct.pack("<I", len(v.encode())) + v.encode()
        elif tag == 5: m += struct.pack("<I", len(v)) + struct.pack(f"<{len(v)}i", *v)
    table, data = b"", b""
    for name, typ, shape, raw in tensors:
        data += b"\0" * ((-len(data)) % alignment)
        nb = name.encode()
        table += struct.pack("<H", len(nb)) + nb + bytes([typ, len(shape)]) + struct.pack(f"<{len(shape)}I", *shape)
        table += struct.pack("<QQ", len(data), len(raw))
        data += raw
    head_len = 36 + len(m) + len(table)
    data_off = head_len + (-head_len) % alignment
    head = b"S2CQ" + struct.pack("<IIIIQQ", 1, alignment, len(meta), len(tensors), data_off, len(data))
    body = head + m + table + b"\0" * (data_off - head_len) + data
    return body + struct.pack("<Q", fnv(body))


def models():
    d = fresh("model")
    size = [1, 2, 4, 1, 2, 4, 8]
    allmeta = [("model", 4, "fuzz"), ("u32", 0, 7), ("i32", 1, -7), ("u64", 2, 1 << 40), ("i64", 3, -(1 << 40)),
               ("arr", 5, [2, 2, 4, 8, 16]), ("empty", 5, []), ("", 4, "")]
    tensors = [(f"t{t}", t, [2, 3], bytes(range(6 * size[t]))) for t in range(7)]
    write(d, "every-type.s2cq", s2cq(allmeta, tensors))
    write(d, "rank0-rank8-empty.s2cq", s2cq([("model", 4, "x")], [
        ("scalar", 2, [], b"\1\0\0\0"), ("rank8", 0, [1] * 8, b"\x7f"), ("empty", 1, [0, 5], b""), ("w", 0, [4], b"\x80\xff\0\1")]))
    write(d, "align1.s2cq", s2cq([("a", 0, 1)], [("x", 1, [3], b"\1\0\2\0\3\0")], alignment=1))
    write(d, "align4096.s2cq", s2cq([], [("x", 2, [1], b"\1\0\0\0")], alignment=4096))
    write(d, "empty.s2cq", s2cq([], []))
    # The nano model's metadata and full tensor table (names, types, shapes), each tensor's data
    # cut to at most 4 elements: the parser sees a realistic 908-entry table; IntCodec refuses it.
    b = open(nano, "rb").read()
    _, _, nm, nt, _, _ = struct.unpack_from("<IIIIQQ", b, 4)
    p, meta = 36, []
    for _ in range(nm):
        kl, = struct.unpack_from("<H", b, p); p += 2
        k = b[p:p + kl].decode(); p += kl
        tag = b[p]; p += 1
        if tag in (0, 1): v = struct.unpack_from("<I" if tag == 0 else "<i", b, p)[0]; p += 4
        elif tag in (2, 3): v = struct.unpack_from("<Q" if tag == 2 else "<q", b, p)[0]; p += 8
        elif tag == 4: n, = struct.unpack_from("<I", b, p); p += 4; v = b[p:p + n].decode(); p += n
        else: n, = struct.unpack_from("<I", b, p); p += 4; v = list(struct.unpack_from(f"<{n}i", b, p)); p += 4 * n
        meta.append((k, tag, v))
    cut = []
    for _ in range(nt):
        kl, = struct.unpack_from("<H", b, p); p += 2
        name = b[p:p + kl].decode(); p += kl
        typ, rank = b[p], b[p + 1]; p += 2
        shape = list(struct.unpack_from(f"<{rank}I", b, p)); p += 4 * rank + 16
        n = min(4, 1 if not shape else shape[-1])
        cut.append((name, typ, [n], bytes(n * size[typ])))
    write(d, "nano-table-cut.s2cq", s2cq(meta, cut))


def modelgraph():
    d = fresh("modelgraph")
    rec = lambda op, t, e, v: struct.pack("<BBHII", op, 0, t, e, v)
    write(d, "empty", b"")
    write(d, "run-1x1", bytes([100, 0, 2, 1]))
    write(d, "run-tiles-reference", bytes([10, 2, 3, 7]))
    write(d, "run-gray-8x8", bytes([200, 1, 2, 9]))
    write(d, "edit-meta", bytes([50, 0, 2, 0]) + rec(0, 0, 0, 16) + rec(1, 2, 1, 0))
    write(d, "edit-tensor", bytes([50, 3, 2, 0]) + rec(2, 5, 0, 0x7FFF) + rec(3, 9, 0, 3) + rec(5, 1, 2, 0))
    write(d, "edit-fill", bytes([50, 0, 2, 0]) + rec(7, 40, 0, 0xFFFFFFFF) + rec(4, 41, 0, 1) + rec(6, 42, 0, 0))


# MARK: - safetensors

def safetensors_file(header, data):
    h = json.dumps(header).encode()
    return struct.pack("<Q", len(h)) + h + data


def safetensors():
    d = fresh("safetensors")
    f32 = struct.pack("<4f", 1.0, -2.5, float("inf"), 0.0)
    f16 = struct.pack("<4H", 0x3C00, 0x8001, 0x7C00, 0x7E00)   # 1, -subnormal, inf, nan
    bf16 = struct.pack("<4H", 0x3F80, 0xC020, 0x7F80, 0x0001)
    write(d, "dtypes.safetensors", safetensors_file({
        "__metadata__": {"format": "pt", "step": "3403"},
        "a": {"dtype": "F32", "shape": [1, 1, 2, 2], "data_offsets": [0, 16]},
        "b": {"dtype": "F16", "shape": [1, 2, 2], "data_offsets": [16, 24]},
        "c": {"dtype": "BF16", "shape": [4], "data_offsets": [24, 32]},
        "scalar": {"dtype": "F32", "shape": [], "data_offsets": [32, 36]},
        "empty": {"dtype": "F32", "shape": [0, 3], "data_offsets": [36, 36]},
    }, f32 + f16 + bf16 + struct.pack("<f", 3.0)))
    write(d, "empty.safetensors", safetensors_file({}, b""))
    write(d, "metadata-only.safetensors", safetensors_file({"__metadata__": {}}, b""))
    # The first few tensors of the nano weights, offsets renumbered.
    b = open(os.path.join(root, "Tests/CalibrateTests/Fixtures/nano-weights.safetensors"), "rb").read()
    n, = struct.unpack_from("<Q", b, 0)
    hdr = json.loads(b[8:8 + n])
    meta = hdr.pop("__metadata__", None)
    keep, data = {}, b""
    for name in sorted(hdr)[:6]:
        e = hdr[name]
        lo, hi = e["data_offsets"]
        keep[name] = {"dtype": e["dtype"], "shape": e["shape"], "data_offsets": [len(data), len(data) + hi - lo]}
        data += b[8 + n + lo:8 + n + hi]
    if meta is not None:
        keep["__metadata__"] = meta
    write(d, "nano-cut.safetensors", safetensors_file(keep, data))


# MARK: - PNG

def chunk(t, data):
    return struct.pack(">I", len(data)) + t + data + struct.pack(">I", crc(t + data))


def png(w, h, depth, ctype, rows, extra=b"", interlace=0, split=False, before=b""):
    """rows: the filtered scanlines (filter byte + packed samples) as bytes, already in pass order."""
    z = zlib.compress(rows, 9)
    ihdr = chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, interlace))
    idat = chunk(b"IDAT", z) if not split else b"".join(chunk(b"IDAT", z[i:i + 7]) for i in range(0, len(z), 7))
    return b"\x89PNG\r\n\x1a\n" + ihdr + before + extra + idat + chunk(b"IEND", b"")


def packed_rows(w, h, depth, channels, value):
    """Scanlines (filter 0) of an image whose samples are value(x, y, c) in 0 ... 2^depth - 1."""
    out = b""
    for y in range(h):
        bits, nbits, line = 0, 0, bytearray()
        for x in range(w):
            for c in range(channels):
                v = value(x, y, c)
                if depth == 16:
                    line += struct.pack(">H", v)
                    continue
                bits = (bits << depth) | v
                nbits += depth
                while nbits >= 8:
                    line.append((bits >> (nbits - 8)) & 0xFF)
                    nbits -= 8
        if nbits:
            line.append((bits << (8 - nbits)) & 0xFF)
        out += b"\0" + bytes(line)
    return out


def pngs():
    d = fresh("png")
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
    for ctype, depths in [(0, [1, 2, 4, 8, 16]), (2, [8, 16]), (3, [1, 2, 4, 8]), (4, [8, 16]), (6, [8, 16])]:
        for depth in depths:
            top = (1 << depth) - 1
            opaque = lambda x, y, c, ch=channels[ctype], top=top: top if (ctype in (4, 6) and c == ch - 1) else (x * 7 + y * 3 + c) % (top + 1)
            extra = b""
            if ctype == 3:
                n = min(1 << depth, 256)
                extra = chunk(b"PLTE", bytes((i * 37 + k * 91) % 256 for i in range(n) for k in range(3)))
            write(d, f"ct{ctype}-d{depth}-5x3.png", png(5, 3, depth, ctype, packed_rows(5, 3, depth, channels[ctype], opaque), extra))
    # Palette + tRNS: opaque (all 255) and transparent.
    plte = chunk(b"PLTE", bytes(range(12)))
    rows = packed_rows(4, 2, 8, 1, lambda x, y, c: (x + y) % 4)
    write(d, "palette-trns-opaque.png", png(4, 2, 8, 3, rows, plte + chunk(b"tRNS", b"\xff\xff\xff\xff")))
    write(d, "palette-trns-transparent.png", png(4, 2, 8, 3, rows, plte + chunk(b"tRNS", b"\xff\x00")))
    # tRNS on gray and RGB (a colour key that occurs / does not occur).
    write(d, "gray-trns.png", png(3, 3, 8, 0, packed_rows(3, 3, 8, 1, lambda x, y, c: x * 40), chunk(b"tRNS", b"\0\x28")))
    write(d, "rgb-trns-absent.png", png(3, 3, 8, 2, packed_rows(3, 3, 8, 3, lambda x, y, c: 10), chunk(b"tRNS", b"\0\1\0\2\0\3")))
    write(d, "rgba-transparent.png", png(2, 2, 8, 6, packed_rows(2, 2, 8, 4, lambda x, y, c: 0 if c == 3 and x else 200)))
    # Colour-space chunks (dropped before libpng), text, split IDATs, interlace, 1x1.
    cs = chunk(b"gAMA", struct.pack(">I", 100000)) + chunk(b"cHRM", bytes(32)) + chunk(b"sRGB", b"\0")
    cs += chunk(b"iCCP", b"icc\0\0" + zlib.compress(b"not a real profile"))
    write(d, "colour-space.png", png(3, 2, 8, 2, packed_rows(3, 2, 8, 3, lambda x, y, c: 128), cs))
    write(d, "text-and-split-idat.png", png(6, 4, 8, 2, packed_rows(6, 4, 8, 3, lambda x, y, c: x * y * 9 % 256),
                                             chunk(b"tEXt", b"Comment\0fuzz") + chunk(b"pHYs", bytes(9)), split=True))
    write(d, "one-pixel.png", png(1, 1, 8, 2, b"\0\x10\x20\x30"))
    src = Image.open(fixture).convert("RGB").crop((0, 0, 9, 7))
    for mode, name in [("RGB", "rgb"), ("L", "gray"), ("P", "palette")]:
        buf = io.BytesIO()
        src.convert(mode).save(buf, "PNG", interlace=1) if mode != "P" else src.quantize(16).save(buf, "PNG", interlace=1)
        write(d, f"interlaced-{name}-9x7.png", buf.getvalue())
    buf = io.BytesIO()
    src.save(buf, "PNG", optimize=True)
    write(d, "pil-rgb-9x7.png", buf.getvalue())


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    bitstreams(os.path.abspath(sys.argv[1]))
    models()
    modelgraph()
    safetensors()
    pngs()
    for k in sorted(os.listdir(out)):
        files = os.listdir(os.path.join(out, k))
        print(f"make-seeds: fuzz/corpus/{k}: {len(files)} files, "
              f"{sum(os.path.getsize(os.path.join(out, k, f)) for f in files)} bytes")
