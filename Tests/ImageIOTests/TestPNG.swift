// Hand-built PNG files for the tests: any IHDR, raw scanlines in stored (uncompressed) deflate.
#if canImport(Glibc)
import Glibc
#endif
@testable import ImageIO

/// Builds PNG byte streams without libpng, so the reader is checked against an independent writer.
enum TestPNG {
    /// CRC-32 (ISO 3309, as PNG uses it), bitwise.
    static func crc32(_ bytes: some Sequence<UInt8>) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            c ^= UInt32(b)
            for _ in 0..<8 { c = (c >> 1) ^ (0xEDB8_8320 & (0 &- (c & 1))) }
        }
        return ~c
    }

    static func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 255), UInt8(v >> 8 & 255), UInt8(v & 255)] }

    /// One chunk: length, type, data, CRC over type + data.
    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let t = Array(type.utf8)
        return be32(UInt32(data.count)) + t + data + be32(crc32(t + data))
    }

    /// zlib stream of stored deflate blocks (no compression) with the Adler-32 trailer.
    static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]
        var i = 0
        repeat {
            let n = min(65_535, data.count - i)
            let final: UInt8 = i + n == data.count ? 1 : 0
            out += [final, UInt8(n & 255), UInt8(n >> 8), UInt8(~n & 255), UInt8((~n >> 8) & 255)]
            out += data[i..<i + n]
            i += n
        } while i < data.count
        var a: UInt32 = 1, b: UInt32 = 0
        for x in data { a = (a + UInt32(x)) % 65_521; b = (b + a) % 65_521 }
        return out + be32(b << 16 | a)
    }

    /// A PNG with the given IHDR fields; `rows` are packed scanlines without filter bytes.
    static func make(width: Int, height: Int, bitDepth: UInt8, colorType: UInt8, rows: [[UInt8]],
                     before: [[UInt8]] = []) -> [UInt8] {
        let ihdr = be32(UInt32(width)) + be32(UInt32(height)) + [bitDepth, colorType, 0, 0, 0]
        let raw: [UInt8] = rows.flatMap { row -> [UInt8] in [0] + row }
        return PNGHeader.signature + chunk("IHDR", ihdr) + before.flatMap { $0 } as [UInt8]
            + chunk("IDAT", zlibStored(raw)) + chunk("IEND", [])
    }

    /// Rows of an 8-bit image with `channels` samples per pixel from a per-pixel generator.
    static func rows(width: Int, height: Int, channels: Int, _ f: (Int, Int, Int) -> UInt8) -> [[UInt8]] {
        (0..<height).map { y in (0..<width).flatMap { x in (0..<channels).map { c in f(x, y, c) } } }
    }

    /// A fresh empty directory under /tmp.
    static func tempDir() -> String {
        var template = Array("/tmp/s2c-imageio-XXXXXX".utf8CString)
        let p = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        return String(cString: p!)
    }

    /// Names in a directory, without "." and "..".
    static func list(_ dir: String) -> [String] {
        guard let d = opendir(dir) else { return [] }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// Removes a flat directory made by `tempDir`.
    static func removeDir(_ dir: String) {
        for n in list(dir) { unlink(dir + "/" + n) }
        rmdir(dir)
    }
}
