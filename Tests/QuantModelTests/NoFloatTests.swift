// NoFloatTests.swift: the decode path (QuantModel's Swift, FixedPoint's C, the board decoder) must contain no
// floating point. A source scan: it fails on any float type, literal or libm call.
import Foundation
import Testing

let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

func sources(_ dir: String, _ exts: [String]) -> [URL] {
    let root = repoRoot.appendingPathComponent(dir)
    guard let e = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) else { return [] }
    return e.compactMap { $0 as? URL }.filter { exts.contains($0.pathExtension) }
}

/// Lines of code with comments removed (// and /* */ on one line), so prose may say "float".
func codeLines(_ url: URL) -> [(Int, String)] {
    guard let text = try? String(contentsOf: url, encoding: .utf8) else { return [] }
    var out: [(Int, String)] = []
    var inBlock = false
    for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
        var line = String(raw)
        if inBlock {
            guard let r = line.range(of: "*/") else { continue }
            line = String(line[r.upperBound...])
            inBlock = false
        }
        while let r = line.range(of: "/*") {
            if let e = line.range(of: "*/", range: r.upperBound..<line.endIndex) {
                line.removeSubrange(r.lowerBound..<e.upperBound)
            } else {
                line = String(line[..<r.lowerBound])
                inBlock = true
            }
        }
        if let r = line.range(of: "//") { line = String(line[..<r.lowerBound]) }
        out.append((i + 1, line))
    }
    return out
}

func findFloat(_ files: [URL], _ pattern: String) -> [String] {
    let re = try! NSRegularExpression(pattern: pattern)
    var hits: [String] = []
    for f in files {
        for (n, line) in codeLines(f) {
            // String literals may mention anything.
            let code = line.replacingOccurrences(of: #""[^"]*""#, with: "\"\"", options: .regularExpression)
            if re.firstMatch(in: code, range: NSRange(code.startIndex..., in: code)) != nil {
                hits.append("\(f.lastPathComponent):\(n): \(line.trimmingCharacters(in: .whitespaces))")
            }
        }
    }
    return hits
}

@Test func quantModelSwiftHasNoFloatingPoint() {
    let files = sources("Sources/QuantModel", ["swift"]) + sources("board", ["swift"])
    #expect(!files.isEmpty)
    let hits = findFloat(files, #"\b(Float|Double|Float16|Float32|Float64|Float80|CGFloat|import Foundation)\b|\b\d+\.\d+\b|\b\d+e-?\d+\b"#)
    #expect(hits.isEmpty, "floating point in the decode path:\n\(hits.joined(separator: "\n"))")
}

@Test func fixedPointCHasNoFloatingPoint() {
    let files = sources("Sources/FixedPoint", ["c", "h"]) + sources("board", ["c", "h"])
    #expect(!files.isEmpty)
    let hits = findFloat(files, #"\b(float|double|_Float16|__fp16|float32x4_t|float64x2_t|__m\d+[dh]?|__m512|__m256|__m128|math\.h|sqrtf?|expf?|logf?|powf?)\b|\b\d+\.\d*f?\b"#)
    #expect(hits.isEmpty, "floating point in the C kernels:\n\(hits.joined(separator: "\n"))")
}

/// The scanner itself must catch what it is meant to catch.
@Test func scannerCatchesFloat() throws {
    let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("nofloat-\(getpid()).swift")
    try "let a = 1 // Float in a comment is fine\nlet b: Double = 2\nlet s = \"Float in a string\"\nlet c = 0.5\n".write(to: tmp, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(at: tmp) }
    let hits = findFloat([tmp], #"\b(Float|Double)\b|\b\d+\.\d+\b"#)
    #expect(hits.count == 2 && hits[0].contains(":2:") && hits[1].contains(":4:"))
}
