// model.swift: libFuzzer harness for the .s2cq model-file parser (Sources/QuantModel/ModelFile.swift)
// and the codec built from it: ModelFile(bytes:), every typed accessor on every tensor (right
// and wrong element types) and metadata key, a write/parse round trip through ModelFileWriter,
// and IntCodec(model:) both full and decode-only.
//
// Each input runs as given and again with its FNV-1a trailer recomputed (when it is long
// enough to have one), so that mutations get past the checksum into the header, metadata and
// tensor table. Seeds are small synthetic models (fuzz/corpus/model); the 4.5 MB nano model is
// fuzzed structurally by modelgraph.swift.
import QuantModel

func accessAll(_ f: ModelFile) {
    for name in f.tensorNames {
        guard let t = f.tensors[name] else { finding("tensor '\(name)' listed but not in the table") }
        guard t.offset >= 0, t.offset + t.byteCount <= f.bytes.count else { finding("tensor '\(name)' outside the file") }
        _ = try? f.int8(name)
        _ = try? f.uint8(name)
        _ = try? f.int16(name)
        _ = try? f.uint16(name)
        _ = try? f.int32(name)
    }
    for key in f.metadata.keys {
        _ = try? f.int(key)
        _ = try? f.string(key)
        _ = try? f.ints(key)
    }
}

/// Writes the parsed contents again and parses them: the same metadata, shapes and bytes.
func roundTrip(_ f: ModelFile) {
    var w = ModelFileWriter()
    w.alignment = 64
    for key in f.metadata.keys.sorted() {
        guard key.utf8.count <= 0xFFFF else { return }
        w.set(key, f.metadata[key]!)
    }
    for name in f.tensorNames {
        let t = f.tensors[name]!
        w.add(name, t.type, shape: t.shape, rawBytes: Array(f.bytes[t.offset..<t.offset + t.byteCount]))
    }
    guard let g = try? ModelFile(bytes: w.serialize()) else { finding("a re-written model does not parse") }
    guard g.metadata == f.metadata, g.tensorNames == f.tensorNames else { finding("round trip changed the table") }
    for name in f.tensorNames {
        let a = f.tensors[name]!, b = g.tensors[name]!
        guard a.type == b.type, a.shape == b.shape,
              f.bytes[a.offset..<a.offset + a.byteCount] == g.bytes[b.offset..<b.offset + b.byteCount] else {
            finding("round trip changed tensor '\(name)'")
        }
    }
}

func run(_ bytes: [UInt8]) {
    guard let f = try? ModelFile(bytes: bytes) else { return }
    accessAll(f)
    roundTrip(f)
    _ = try? IntCodec(model: f, decodeOnly: true)
    _ = try? IntCodec(model: f)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = inputBytes(data, size)
    run(bytes)
    if bytes.count >= 44 {
        var fixed = bytes
        let h = fixed.withUnsafeBufferPointer { fnv1a64(UnsafeBufferPointer(rebasing: $0[0..<fixed.count - 8])) }
        for i in 0..<8 { fixed[fixed.count - 8 + i] = UInt8(truncatingIfNeeded: h >> UInt64(8 * i)) }
        if fixed != bytes { run(fixed) }
    }
    return 0
}
