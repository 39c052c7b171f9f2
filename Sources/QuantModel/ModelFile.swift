// ModelFile.swift: the .s2cq integer-model container (GGUF-like), reader and writer.
//
// Decode-path code: Embedded Swift subset (no Foundation, no existentials, typed throws).
// Byte layout: docs/model-format.md. Little-endian always; never renumber an enum, add.

/// Element type of a tensor in a .s2cq file.
public enum TensorType: UInt8, Sendable {
    case i8 = 0, i16 = 1, i32 = 2, u8 = 3, u16 = 4, u32 = 5, i64 = 6

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .i8, .u8: return 1
        case .i16, .u16: return 2
        case .i32, .u32: return 4
        case .i64: return 8
        }
    }
}

/// A typed metadata value.
public enum MetaValue: Equatable, Sendable {
    case u32(UInt32)
    case i32(Int32)
    case u64(UInt64)
    case i64(Int64)
    case string(String)
    case i32Array([Int32])

    var tag: UInt8 {
        switch self {
        case .u32: return 0
        case .i32: return 1
        case .u64: return 2
        case .i64: return 3
        case .string: return 4
        case .i32Array: return 5
        }
    }
}

/// Where one tensor lives in the file.
public struct TensorInfo: Equatable, Sendable {
    public var name: String
    public var type: TensorType
    public var shape: [Int]
    /// Absolute byte offset in the file.
    public var offset: Int
    public var byteCount: Int
    public var count: Int { byteCount / type.size }
}

/// Why a model file was refused.
public enum ModelFileError: Error, Equatable, Sendable {
    case tooShort(Int)
    case badMagic
    case unsupportedVersion(UInt32)
    case truncated(String)
    case checksumMismatch
    case malformed(String)
    case missingTensor(String)
    case wrongType(String, expected: TensorType, found: TensorType)
    case missingMeta(String)

    /// A sentence a user can act on.
    public var message: String {
        switch self {
        case .tooShort(let n): return "file is \(n) bytes, too short to be an s2c model (.s2cq)"
        case .badMagic: return "not an s2c model file (.s2cq): bad magic"
        case .unsupportedVersion(let v): return "model file version \(v) is not supported by this build (supports \(ModelFile.version))"
        case .truncated(let what): return "model file is truncated (\(what))"
        case .checksumMismatch: return "model file is corrupted: checksum mismatch"
        case .malformed(let what): return "model file is malformed: \(what)"
        case .missingTensor(let n): return "model file has no tensor '\(n)'"
        case .wrongType(let n, let e, let f): return "tensor '\(n)' has type \(f), expected \(e)"
        case .missingMeta(let k): return "model file has no metadata key '\(k)'"
        }
    }
}

/// 64-bit FNV-1a: the file checksum and the model fingerprint written into bitstreams.
public func fnv1a64(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in bytes {
        h ^= UInt64(b)
        h = h &* 0x0000_0100_0000_01b3
    }
    return h
}

/// Bounds-checked little-endian reader over a byte array.
struct ByteReader {
    let bytes: [UInt8]
    var pos: Int
    let end: Int

    mutating func take(_ n: Int, _ what: String) throws(ModelFileError) -> Int {
        guard n >= 0, n <= end - pos else { throw .truncated(what) }
        let p = pos
        pos += n
        return p
    }

    mutating func u8(_ what: String) throws(ModelFileError) -> UInt8 {
        bytes[try take(1, what)]
    }

    mutating func u16(_ what: String) throws(ModelFileError) -> UInt16 {
        let p = try take(2, what)
        return UInt16(bytes[p]) | UInt16(bytes[p + 1]) << 8
    }

    mutating func u32(_ what: String) throws(ModelFileError) -> UInt32 {
        let p = try take(4, what)
        return UInt32(bytes[p]) | UInt32(bytes[p + 1]) << 8 | UInt32(bytes[p + 2]) << 16 | UInt32(bytes[p + 3]) << 24
    }

    mutating func u64(_ what: String) throws(ModelFileError) -> UInt64 {
        let lo = UInt64(try u32(what))
        let hi = UInt64(try u32(what))
        return lo | hi << 32
    }

    mutating func string(_ n: Int, _ what: String) throws(ModelFileError) -> String {
        let p = try take(n, what)
        var s = String(decoding: bytes[p..<p + n], as: UTF8.self)
        s.makeContiguousUTF8()
        return s
    }
}

/// A parsed .s2cq file: metadata, tensor table, and typed tensor access.
public struct ModelFile: Sendable {
    /// File magic "S2CQ".
    public static let magic: [UInt8] = [0x53, 0x32, 0x43, 0x51]
    /// Container version this build reads and writes.
    public static let version: UInt32 = 1
    static let headerSize = 36
    static let maxEntries = 1 << 20
    static let maxRank = 8

    public let bytes: [UInt8]
    public let metadata: [String: MetaValue]
    public let tensors: [String: TensorInfo]
    /// Tensor names in file order.
    public let tensorNames: [String]
    /// The checksum stored in (and verified against) the trailer; identifies the model.
    public let fingerprint: UInt64

    /// The fixed header's fields, each checked against the file's size.
    private struct Header {
        var alignment, nMeta, nTensors, dataOffset, dataSize, end: Int
    }

    /// Everything a model file is checked for before its checksum: size, magic, version and the
    /// header's fields. A caller that verifies the checksum later (`init(bytes:verifyChecksum:)`)
    /// runs this first to report these errors in the same order as a checked load.
    public static func validateHeader(_ bytes: [UInt8]) throws(ModelFileError) {
        _ = try header(bytes)
    }

    private static func header(_ bytes: [UInt8]) throws(ModelFileError) -> Header {
        guard bytes.count >= ModelFile.headerSize + 8 else { throw .tooShort(bytes.count) }
        guard Array(bytes[0..<4]) == ModelFile.magic else { throw .badMagic }
        var r = ByteReader(bytes: bytes, pos: 4, end: bytes.count - 8)
        let version = try r.u32("header")
        guard version == ModelFile.version else { throw .unsupportedVersion(version) }
        let alignment = Int(try r.u32("header"))
        let nMeta = Int(try r.u32("header"))
        let nTensors = Int(try r.u32("header"))
        let dataOffset64 = try r.u64("header")
        let dataSize64 = try r.u64("header")
        guard alignment >= 1, alignment <= 4096, alignment & (alignment - 1) == 0 else {
            throw .malformed("alignment \(alignment) is not a power of two <= 4096")
        }
        guard nMeta <= ModelFile.maxEntries, nTensors <= ModelFile.maxEntries else {
            throw .malformed("too many entries")
        }
        guard dataOffset64 <= UInt64(bytes.count), dataSize64 <= UInt64(bytes.count),
              dataOffset64 + dataSize64 + 8 == UInt64(bytes.count) else {
            throw .truncated("header says \(dataOffset64) + \(dataSize64) + 8 bytes, file has \(bytes.count)")
        }
        guard Int(dataOffset64) % alignment == 0 else { throw .malformed("data offset is not aligned") }
        return Header(alignment: alignment, nMeta: nMeta, nTensors: nTensors, dataOffset: Int(dataOffset64),
                      dataSize: Int(dataSize64), end: r.pos)
    }

    /// Whether the last 8 bytes hold the FNV-1a of the rest (false for a file too short to have them).
    public static func checksumMatches(_ bytes: [UInt8]) -> Bool {
        guard bytes.count >= 8 else { return false }
        return bytes.withUnsafeBufferPointer { b in
            var stored: UInt64 = 0
            for i in 0..<8 { stored |= UInt64(b[b.count - 8 + i]) << (8 * UInt64(i)) }
            return fnv1a64(UnsafeBufferPointer(rebasing: b[0..<b.count - 8])) == stored
        }
    }

    /// Parses and fully validates a model file held in memory.
    public init(bytes: [UInt8]) throws(ModelFileError) {
        try self.init(bytes: bytes, verifyChecksum: true)
    }

    /// `verifyChecksum: false` trusts the trailer without hashing the file; every other check
    /// runs. The caller then checks `ModelFile.checksumMatches(bytes)` itself before it trusts
    /// anything computed with the model: s2c-int hashes on another thread while the codec runs
    /// (FNV-1a is serial: ~20 ms of a 16 MB model), and the structure-aware fuzz harness
    /// (fuzz/harness/modelgraph.swift), which edits a model in place, does not hash at all.
    public init(bytes: [UInt8], verifyChecksum: Bool) throws(ModelFileError) {
        let h = try ModelFile.header(bytes)
        let (nMeta, nTensors, alignment, dataOffset, dataSize) = (h.nMeta, h.nTensors, h.alignment, h.dataOffset, h.dataSize)

        // Checksum before anything else trusts the contents.
        var t = ByteReader(bytes: bytes, pos: bytes.count - 8, end: bytes.count)
        let stored = try t.u64("trailer")
        if verifyChecksum {
            guard ModelFile.checksumMatches(bytes) else { throw .checksumMismatch }
        }

        var r = ByteReader(bytes: bytes, pos: h.end, end: dataOffset)
        var meta: [String: MetaValue] = [:]
        for _ in 0..<nMeta {
            let key = try r.string(Int(try r.u16("metadata key")), "metadata key")
            let tag = try r.u8("metadata type")
            let value: MetaValue
            switch tag {
            case 0: value = .u32(try r.u32(key))
            case 1: value = .i32(Int32(bitPattern: try r.u32(key)))
            case 2: value = .u64(try r.u64(key))
            case 3: value = .i64(Int64(bitPattern: try r.u64(key)))
            case 4: value = .string(try r.string(Int(try r.u32(key)), key))
            case 5:
                let n = Int(try r.u32(key))
                guard n <= (dataOffset - r.pos) / 4 else { throw .truncated(key) }
                var a = [Int32]()
                a.reserveCapacity(n)
                for _ in 0..<n { a.append(Int32(bitPattern: try r.u32(key))) }
                value = .i32Array(a)
            default: throw .malformed("metadata '\(key)' has unknown type \(tag)")
            }
            guard meta[key] == nil else { throw .malformed("duplicate metadata key '\(key)'") }
            meta[key] = value
        }
        var table: [String: TensorInfo] = [:]
        var names: [String] = []
        for _ in 0..<nTensors {
            let name = try r.string(Int(try r.u16("tensor name")), "tensor name")
            guard let type = TensorType(rawValue: try r.u8(name)) else { throw .malformed("tensor '\(name)' has an unknown type") }
            let rank = Int(try r.u8(name))
            guard rank <= ModelFile.maxRank else { throw .malformed("tensor '\(name)' has rank \(rank)") }
            var shape: [Int] = []
            for _ in 0..<rank { shape.append(Int(try r.u32(name))) }
            guard let count = ModelFile.elementCount(shape, limit: dataSize) else {
                throw .malformed("tensor '\(name)' is larger than the data section")
            }
            let off = try r.u64(name)
            let nbytes = try r.u64(name)
            guard nbytes == UInt64(count * type.size) else { throw .malformed("tensor '\(name)' byte count does not match its shape") }
            guard off % UInt64(alignment) == 0, off <= UInt64(dataSize), nbytes <= UInt64(dataSize) - off else {
                throw .malformed("tensor '\(name)' lies outside the data section")
            }
            guard table[name] == nil else { throw .malformed("duplicate tensor '\(name)'") }
            table[name] = TensorInfo(name: name, type: type, shape: shape, offset: dataOffset + Int(off), byteCount: Int(nbytes))
            names.append(name)
        }
        self.bytes = bytes
        self.metadata = meta
        self.tensors = table
        self.tensorNames = names
        self.fingerprint = stored
    }

    /// The number of elements of a tensor of this shape, by the format's rule, which the reader
    /// and ModelFileWriter share: a zero dimension anywhere makes an empty tensor, whatever the
    /// others (ModelFileWriter writes [2, 0] in a file with no data, and the reader must read
    /// [2^32-1, 2^32-1, 2^32-1, 0] without multiplying the other dimensions; both found by
    /// fuzz/harness/model.swift). nil when the product exceeds `limit`.
    static func elementCount(_ shape: [Int], limit: Int = .max) -> Int? {
        if shape.contains(0) { return 0 }
        var count = 1
        for d in shape {
            let (c, o) = count.multipliedReportingOverflow(by: d)
            guard !o, c <= limit else { return nil }
            count = c
        }
        return count
    }

    /// The table entry of a tensor, checking its element type.
    public func info(_ name: String, _ type: TensorType) throws(ModelFileError) -> TensorInfo {
        guard let t = tensors[name] else { throw .missingTensor(name) }
        guard t.type == type else { throw .wrongType(name, expected: type, found: t.type) }
        return t
    }

    /// A tensor's elements as `T`, stored little-endian: one copy of the bytes (a byte swap per
    /// element only on a big-endian host). The reader has checked that the tensor lies inside the
    /// file and that its byte count is count * size.
    func elements<T: FixedWidthInteger>(_ t: TensorInfo, as _: T.Type) -> [T] {
        [T](unsafeUninitializedCapacity: t.count) { dst, count in
            bytes.withUnsafeBytes { src in
                UnsafeMutableRawBufferPointer(dst).copyMemory(
                    from: UnsafeRawBufferPointer(rebasing: src[t.offset..<t.offset + t.byteCount]))
            }
            count = t.count
            #if _endian(big)
            for i in 0..<count { dst[i] = T(littleEndian: dst[i]) }
            #endif
        }
    }

    /// Tensor contents as Int8.
    public func int8(_ name: String) throws(ModelFileError) -> [Int8] {
        elements(try info(name, .i8), as: Int8.self)
    }

    /// Tensor contents as UInt8.
    public func uint8(_ name: String) throws(ModelFileError) -> [UInt8] {
        let t = try info(name, .u8)
        return Array(bytes[t.offset..<t.offset + t.byteCount])
    }

    /// Tensor contents as Int16.
    public func int16(_ name: String) throws(ModelFileError) -> [Int16] {
        elements(try info(name, .i16), as: Int16.self)
    }

    /// Tensor contents as UInt16.
    public func uint16(_ name: String) throws(ModelFileError) -> [UInt16] {
        elements(try info(name, .u16), as: UInt16.self)
    }

    /// Tensor contents as Int32.
    public func int32(_ name: String) throws(ModelFileError) -> [Int32] {
        elements(try info(name, .i32), as: Int32.self)
    }

    /// An integer metadata value (u32/i32/u64/i64 all accepted when they fit Int).
    public func int(_ key: String) throws(ModelFileError) -> Int {
        switch metadata[key] {
        case .u32(let v): return Int(v)
        case .i32(let v): return Int(v)
        case .u64(let v):
            guard v <= UInt64(Int.max) else { throw .malformed("metadata '\(key)' is out of range") }
            return Int(v)
        case .i64(let v): return Int(v)
        case .none: throw .missingMeta(key)
        default: throw .malformed("metadata '\(key)' is not an integer")
        }
    }

    /// A string metadata value.
    public func string(_ key: String) throws(ModelFileError) -> String {
        guard case .string(let s)? = metadata[key] else { throw .missingMeta(key) }
        return s
    }

    /// An Int32 array metadata value.
    public func ints(_ key: String) throws(ModelFileError) -> [Int32] {
        guard case .i32Array(let a)? = metadata[key] else { throw .missingMeta(key) }
        return a
    }
}
