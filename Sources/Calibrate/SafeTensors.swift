// SafeTensors: a bounds-checked reader for the safetensors files written by train/export.py.
import Foundation

/// Element types this reader converts to `Float`.
public enum SafeTensorDType: String, Sendable {
    case f32 = "F32"
    case f16 = "F16"
    case bf16 = "BF16"

    /// Bytes per element.
    public var size: Int { self == .f32 ? 4 : 2 }
}

/// Everything that can be wrong with a safetensors file; messages name the file and tensor.
public enum SafeTensorsError: Error, CustomStringConvertible, Equatable {
    case cannotRead(file: String, reason: String)
    case truncated(file: String, reason: String)
    case headerTooLarge(file: String, length: UInt64)
    case badHeader(file: String, reason: String)
    case badTensor(file: String, tensor: String, reason: String)
    case unknownDType(file: String, tensor: String, dtype: String)
    case missingTensor(file: String, tensor: String)
    case wrongShape(file: String, tensor: String, shape: [Int], expected: [Int])

    public var description: String {
        switch self {
        case let .cannotRead(f, r): return "\(f): cannot read: \(r)"
        case let .truncated(f, r): return "\(f): truncated safetensors file: \(r)"
        case let .headerTooLarge(f, n):
            return "\(f): header length \(n) exceeds the \(SafeTensorsFile.maxHeaderLength)-byte limit"
        case let .badHeader(f, r): return "\(f): bad safetensors header: \(r)"
        case let .badTensor(f, t, r): return "\(f): tensor '\(t)': \(r)"
        case let .unknownDType(f, t, d): return "\(f): tensor '\(t)' has unsupported dtype '\(d)' (F32, F16, BF16)"
        case let .missingTensor(f, t): return "\(f): no tensor named '\(t)'"
        case let .wrongShape(f, t, s, e): return "\(f): tensor '\(t)' has shape \(s), expected \(e)"
        }
    }
}

/// Where one tensor lives in the data section.
public struct SafeTensorInfo: Sendable {
    /// Tensor name (the PyTorch state_dict name for weights).
    public let name: String
    /// Stored element type.
    public let dtype: SafeTensorDType
    /// Shape, outermost first.
    public let shape: [Int]
    /// Byte range relative to the start of the data section.
    public let range: Range<Int>
}

/// A parsed safetensors file: 8-byte LE header length, JSON header, raw little-endian data.
public struct SafeTensorsFile: Sendable {
    /// Headers longer than this are rejected before any allocation (100 MB).
    public static let maxHeaderLength: UInt64 = 100_000_000

    /// Name used in error messages (the path for files on disk).
    public let file: String
    /// The `__metadata__` string map (empty when absent).
    public let metadata: [String: String]
    /// Tensor table by name.
    public let tensors: [String: SafeTensorInfo]
    private let bytes: Data
    private let dataStart: Int

    /// Reads and validates `path` (memory-mapped).
    public init(path: String) throws {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw SafeTensorsError.cannotRead(file: path, reason: error.localizedDescription)
        }
        try self.init(data: data, file: path)
    }

    /// Parses an in-memory file; `file` names it in errors.
    public init(data: Data, file: String) throws {
        self.file = file
        self.bytes = data
        guard data.count >= 8 else {
            throw SafeTensorsError.truncated(file: file, reason: "\(data.count) bytes, the length prefix alone needs 8")
        }
        var n: UInt64 = 0
        for i in 0..<8 { n |= UInt64(data[data.startIndex + i]) << (8 * UInt64(i)) }
        guard n <= Self.maxHeaderLength else { throw SafeTensorsError.headerTooLarge(file: file, length: n) }
        guard UInt64(data.count - 8) >= n else {
            throw SafeTensorsError.truncated(file: file, reason: "header says \(n) bytes, only \(data.count - 8) follow")
        }
        let headerLength = Int(n)
        dataStart = 8 + headerLength
        let dataSize = data.count - dataStart
        let header = data.subdata(in: (data.startIndex + 8)..<(data.startIndex + dataStart))
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: header)
        } catch {
            throw SafeTensorsError.badHeader(file: file, reason: "not valid JSON")
        }
        guard let dict = json as? [String: Any] else {
            throw SafeTensorsError.badHeader(file: file, reason: "the JSON header is not an object")
        }
        var meta: [String: String] = [:]
        var table: [String: SafeTensorInfo] = [:]
        for (name, value) in dict {
            if name == "__metadata__" {
                guard let m = value as? [String: Any] else {
                    throw SafeTensorsError.badHeader(file: file, reason: "__metadata__ is not an object")
                }
                for (k, v) in m {
                    guard let s = v as? String else {
                        throw SafeTensorsError.badHeader(file: file, reason: "__metadata__ value '\(k)' is not a string")
                    }
                    meta[k] = s
                }
                continue
            }
            table[name] = try Self.parseEntry(name: name, value: value, dataSize: dataSize, file: file)
        }
        // Reject overlapping byte ranges (empty tensors overlap nothing).
        let sorted = table.values.filter { !$0.range.isEmpty }.sorted { $0.range.lowerBound < $1.range.lowerBound }
        for (a, b) in zip(sorted, sorted.dropFirst()) where b.range.lowerBound < a.range.upperBound {
            throw SafeTensorsError.badTensor(file: file, tensor: b.name,
                                             reason: "data_offsets overlap those of '\(a.name)'")
        }
        metadata = meta
        tensors = table
    }

    private static func parseEntry(name: String, value: Any, dataSize: Int, file: String) throws -> SafeTensorInfo {
        func bad(_ reason: String) -> SafeTensorsError { .badTensor(file: file, tensor: name, reason: reason) }
        guard let entry = value as? [String: Any] else { throw bad("entry is not an object") }
        guard let dt = entry["dtype"] as? String else { throw bad("missing dtype") }
        guard let dtype = SafeTensorDType(rawValue: dt) else {
            throw SafeTensorsError.unknownDType(file: file, tensor: name, dtype: dt)
        }
        guard let shapeAny = entry["shape"] as? [Any] else { throw bad("missing shape") }
        var shape: [Int] = []
        var count = 1
        for s in shapeAny {
            guard let d = Self.integer(s), d >= 0 else { throw bad("shape \(shapeAny) is not a list of sizes") }
            let (p, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow else { throw bad("shape \(shapeAny) overflows") }
            shape.append(d)
            count = p
        }
        guard let offs = entry["data_offsets"] as? [Any], offs.count == 2,
              let begin = Self.integer(offs[0]), let end = Self.integer(offs[1]) else {
            throw bad("data_offsets must be two integers")
        }
        guard begin >= 0, begin <= end else { throw bad("data_offsets [\(begin), \(end)] are not an ordered range") }
        guard end <= dataSize else {
            throw bad("data_offsets [\(begin), \(end)] run past the \(dataSize)-byte data section")
        }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: dtype.size)
        guard !overflow, end - begin == bytes else {
            throw bad("\(end - begin) bytes stored, shape \(shape) of \(dt) needs \(count * dtype.size)")
        }
        return SafeTensorInfo(name: name, dtype: dtype, shape: shape, range: begin..<end)
    }

    /// JSON numbers arrive as NSNumber; accept only exact non-fractional integers.
    private static func integer(_ v: Any) -> Int? {
        if let i = v as? Int { return i }
        if let d = v as? Double, d == d.rounded(), abs(d) < 9e15 { return Int(d) }
        return nil
    }

    /// Shape of `name`, or a `missingTensor` error.
    public func shape(_ name: String) throws -> [Int] {
        guard let info = tensors[name] else { throw SafeTensorsError.missingTensor(file: file, tensor: name) }
        return info.shape
    }

    /// The elements of `name` converted to Float; checks the shape when `expect` is given.
    public func floats(_ name: String, expect: [Int]? = nil) throws -> [Float] {
        guard let info = tensors[name] else { throw SafeTensorsError.missingTensor(file: file, tensor: name) }
        if let e = expect, e != info.shape {
            throw SafeTensorsError.wrongShape(file: file, tensor: name, shape: info.shape, expected: e)
        }
        let count = info.range.count / info.dtype.size
        var out = [Float](repeating: 0, count: count)
        bytes.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let base = dataStart + info.range.lowerBound
            out.withUnsafeMutableBufferPointer { o in
                switch info.dtype {
                case .f32:
                    for i in 0..<count {
                        o[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: base + 4 * i, as: UInt32.self)))
                    }
                case .f16:
                    for i in 0..<count {
                        o[i] = halfToFloat(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: base + 2 * i, as: UInt16.self)))
                    }
                case .bf16:
                    for i in 0..<count {
                        let h = UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: base + 2 * i, as: UInt16.self))
                        o[i] = Float(bitPattern: UInt32(h) << 16)
                    }
                }
            }
        }
        return out
    }

    /// `name` as a FloatTensor; the shape must be (C, H, W) or (1, C, H, W).
    public func tensor(_ name: String) throws -> FloatTensor {
        let s = try shape(name)
        let chw: [Int]
        switch s.count {
        case 3: chw = s
        case 4 where s[0] == 1: chw = Array(s[1...])
        default: throw SafeTensorsError.badTensor(file: file, tensor: name, reason: "shape \(s) is not (1, C, H, W)")
        }
        return FloatTensor(channels: chw[0], height: chw[1], width: chw[2], data: try floats(name))
    }
}

/// IEEE binary16 -> binary32, exact (subnormals, infinities and NaN included).
@inline(__always)
func halfToFloat(_ h: UInt16) -> Float {
    let sign = UInt32(h & 0x8000) << 16
    let exp = UInt32(h >> 10) & 0x1F
    let man = UInt32(h & 0x3FF)
    if exp == 0 {
        // Zero or subnormal: man * 2^-24, exact in binary32.
        let v = Float(man) * Float(bitPattern: 0x3380_0000)
        return sign == 0 ? v : -v
    }
    if exp == 31 { return Float(bitPattern: sign | 0x7F80_0000 | (man << 13)) }
    return Float(bitPattern: sign | ((exp + 112) << 23) | (man << 13))
}
