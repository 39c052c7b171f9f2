// Common.swift: shared by the Swift libFuzzer harnesses (fuzz/build.sh compiles it into each).
import Foundation

/// The repository root (this file is fuzz/harness/Common.swift; build.sh compiles it by absolute path).
let fuzzRepo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// A committed file's bytes; a harness cannot run without them.
func repoFile(_ path: String) -> [UInt8] {
    guard let d = FileManager.default.contents(atPath: fuzzRepo.appendingPathComponent(path).path) else {
        fatalError("fuzz harness: cannot read \(path) under \(fuzzRepo.path)")
    }
    return Array(d)
}

/// A violated property of the code under test (not a refused input): stops the fuzzer, which
/// saves the input as crash-*.
func finding(_ what: String) -> Never {
    FileHandle.standardError.write(Data("fuzz finding: \(what)\n".utf8))
    abort()
}

/// FNV-1a-64 of a byte string (a cheap hash to pick kernel paths per input, deterministically).
func inputHash(_ b: UnsafeBufferPointer<UInt8>) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for x in b { h = (h ^ UInt64(x)) &* 0x0000_0100_0000_01b3 }
    return h
}

/// The fuzzer's input as an array.
func inputBytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
    size > 0 && data != nil ? Array(UnsafeBufferPointer(start: data, count: size)) : []
}
