// ModelSearch.swift: the tools' model lookup, a thin layer over the C search order that s2c-dec
// shares (Sources/ModelPaths/include/s2c_model_paths.h has the order and the rules).
import ModelPaths

/// A model that could not be found, as one line a user can act on.
public struct ModelSearchError: Error, CustomStringConvertible {
    public var description: String
}

/// Where installed models (.s2cq) and float weights (.safetensors) are looked up.
public enum ModelSearch {
    /// The encoders' model when given none (the best measured Kodak RD; docs/results.md).
    public static let defaultName = S2C_DEFAULT_MODEL

    /// The existing search folders, in order.
    public static func folders() -> [String] {
        var buf = [CChar](repeating: 0, count: 1 << 20)
        guard s2c_model_dirs(&buf, buf.count) >= 0 else { return [] }
        let text = String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return text.split(separator: "\n").map(String.init)
    }

    /// The folders as a user reads them in an error message.
    public static func foldersText() -> String {
        let f = folders()
        return f.isEmpty ? "(no search folder exists)" : f.joined(separator: ", ")
    }

    /// True when `text` is a file path (has a '/' or ends in .s2cq / .safetensors), not a name.
    public static func isPath(_ text: String) -> Bool { s2c_model_is_path(text) != 0 }

    /// A model name ("hybrid-lite") or path -> the file: a path as is, a name as <folder>/<name><ext>
    /// in the first search folder holding it. `ext` is ".s2cq" or ".safetensors".
    public static func find(_ nameOrPath: String, ext: String = ".s2cq") throws -> String {
        var out = [CChar](repeating: 0, count: Int(S2C_MODEL_PATH_MAX))
        switch s2c_model_find(nameOrPath, ext, &out, out.count) {
        case 0: return string(out)
        case 1:
            throw ModelSearchError(description: "model '\(nameOrPath)' not found: no \(nameOrPath)\(ext) in "
                                   + "\(foldersText()) (set S2C_MODEL_PATH, or give a path)")
        default: throw ModelSearchError(description: "model '\(nameOrPath)': path too long")
        }
    }

    /// The installed .s2cq whose fingerprint is `fingerprint` (the first in search order), or nil.
    public static func find(fingerprint: UInt64) -> String? {
        var out = [CChar](repeating: 0, count: Int(S2C_MODEL_PATH_MAX))
        return s2c_model_find_fingerprint(fingerprint, &out, out.count) == 0 ? string(out) : nil
    }

    /// The fingerprint stored in a .s2cq file's last 8 bytes (not verified), or nil.
    public static func fingerprint(ofFile path: String) -> UInt64? {
        var fp: UInt64 = 0
        return s2c_model_read_fingerprint(path, &fp) == 0 ? fp : nil
    }

    static func string(_ c: [CChar]) -> String {
        String(decoding: c.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
