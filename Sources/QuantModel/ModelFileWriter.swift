// ModelFileWriter.swift: builds .s2cq files (used by the calibrator; deterministic output).

/// Accumulates metadata and tensors, then serializes a .s2cq file. Entries are written in
/// the order they were added, so the same inputs give byte-identical files.
public struct ModelFileWriter {
    public var alignment: Int = 64
    var meta: [(String, MetaValue)] = []
    var tensors: [(name: String, type: TensorType, shape: [Int], data: [UInt8])] = []

    public init() {}

    /// The value of a metadata entry added earlier (the last one with that key), or nil.
    public func metadata(_ key: String) -> MetaValue? {
        for (k, v) in meta.reversed() where k == key { return v }
        return nil
    }

    /// Adds a metadata entry.
    public mutating func set(_ key: String, _ value: MetaValue) {
        precondition(key.utf8.count <= 0xFFFF)
        meta.append((key, value))
    }

    /// Adds a tensor from raw little-endian bytes.
    public mutating func add(_ name: String, _ type: TensorType, shape: [Int], rawBytes: [UInt8]) {
        precondition(shape.count <= ModelFile.maxRank)
        precondition(shape.allSatisfy { $0 >= 0 && $0 <= Int(UInt32.max) }, "tensor \(name): a dimension outside 0...2^32-1")
        // The reader's count (a zero dimension anywhere: empty), not shape.reduce(1, *), which
        // overflowed on an empty [2^32-1, 2^32-1, 2^32-1, 0] that the reader accepts.
        let count = ModelFile.elementCount(shape, limit: Int.max / 8)
        precondition(count.map { $0 * type.size } == rawBytes.count, "tensor \(name): shape and byte count differ")
        tensors.append((name, type, shape, rawBytes))
    }

    /// Adds an Int8 tensor.
    public mutating func add(_ name: String, shape: [Int], int8 v: [Int8]) {
        add(name, .i8, shape: shape, rawBytes: v.map { UInt8(bitPattern: $0) })
    }

    /// Adds an Int16 tensor.
    public mutating func add(_ name: String, shape: [Int], int16 v: [Int16]) {
        var b = [UInt8]()
        b.reserveCapacity(2 * v.count)
        for x in v { appendLE(&b, UInt64(UInt16(bitPattern: x)), 2) }
        add(name, .i16, shape: shape, rawBytes: b)
    }

    /// Adds a UInt16 tensor.
    public mutating func add(_ name: String, shape: [Int], uint16 v: [UInt16]) {
        var b = [UInt8]()
        b.reserveCapacity(2 * v.count)
        for x in v { appendLE(&b, UInt64(x), 2) }
        add(name, .u16, shape: shape, rawBytes: b)
    }

    /// Adds an Int32 tensor.
    public mutating func add(_ name: String, shape: [Int], int32 v: [Int32]) {
        var b = [UInt8]()
        b.reserveCapacity(4 * v.count)
        for x in v { appendLE(&b, UInt64(UInt32(bitPattern: x)), 4) }
        add(name, .i32, shape: shape, rawBytes: b)
    }

    /// The complete file: header, metadata, tensor table, aligned data, FNV-1a-64 trailer.
    public func serialize() -> [UInt8] {
        var head = [UInt8]()
        for (k, v) in meta {
            appendLE(&head, UInt64(k.utf8.count), 2)
            head += Array(k.utf8)
            head.append(v.tag)
            switch v {
            case .u32(let x): appendLE(&head, UInt64(x), 4)
            case .i32(let x): appendLE(&head, UInt64(UInt32(bitPattern: x)), 4)
            case .u64(let x): appendLE(&head, x, 8)
            case .i64(let x): appendLE(&head, UInt64(bitPattern: x), 8)
            case .string(let s):
                appendLE(&head, UInt64(s.utf8.count), 4)
                head += Array(s.utf8)
            case .i32Array(let a):
                appendLE(&head, UInt64(a.count), 4)
                for x in a { appendLE(&head, UInt64(UInt32(bitPattern: x)), 4) }
            }
        }
        var offset = 0
        var offsets: [Int] = []
        for t in tensors {
            offsets.append(offset)
            offset = roundUp(offset + t.data.count)
        }
        for (i, t) in tensors.enumerated() {
            appendLE(&head, UInt64(t.name.utf8.count), 2)
            head += Array(t.name.utf8)
            head.append(t.type.rawValue)
            head.append(UInt8(t.shape.count))
            for d in t.shape { appendLE(&head, UInt64(d), 4) }
            appendLE(&head, UInt64(offsets[i]), 8)
            appendLE(&head, UInt64(t.data.count), 8)
        }
        let dataOffset = roundUp(ModelFile.headerSize + head.count)
        var out = ModelFile.magic
        appendLE(&out, UInt64(ModelFile.version), 4)
        appendLE(&out, UInt64(alignment), 4)
        appendLE(&out, UInt64(meta.count), 4)
        appendLE(&out, UInt64(tensors.count), 4)
        appendLE(&out, UInt64(dataOffset), 8)
        appendLE(&out, UInt64(offset), 8)
        out += head
        out += [UInt8](repeating: 0, count: dataOffset - out.count)
        for (i, t) in tensors.enumerated() {
            out += [UInt8](repeating: 0, count: dataOffset + offsets[i] - out.count)
            out += t.data
        }
        out += [UInt8](repeating: 0, count: dataOffset + offset - out.count)
        let h = out.withUnsafeBufferPointer { fnv1a64($0) }
        appendLE(&out, h, 8)
        return out
    }

    func roundUp(_ n: Int) -> Int { (n + alignment - 1) / alignment * alignment }
}

@inline(__always)
func appendLE(_ b: inout [UInt8], _ v: UInt64, _ n: Int) {
    for i in 0..<n { b.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) }
}
