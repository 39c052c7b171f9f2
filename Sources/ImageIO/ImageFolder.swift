// ImageFolder.swift: the PNG files of a folder, in name order: which images eval, calibrate and
// compare read.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

public enum ImageFolder {
    /// Names (not paths) of the entries of `dir` ending in .png (any case), sorted; refused when
    /// the folder cannot be read or holds no PNG.
    public static func pngFiles(_ dir: String) throws -> [String] {
        guard let d = opendir(dir) else { throw ImageIOError.system(path: dir, operation: "open folder", code: errno) }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard name.lowercased().hasSuffix(".png") else { continue }
            names.append(name)
        }
        guard !names.isEmpty else { throw ImageIOError.noImages(path: dir) }
        return names.sorted()
    }
}
