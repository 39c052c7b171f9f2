// ModelFileTests.swift: .s2cq round trip, determinism and every corruption case.
import Testing
@testable import QuantModel

func sampleFile() -> [UInt8] {
    var w = ModelFileWriter()
    w.set("model", .string("hybrid-nano"))
    w.set("latent", .u32(32))
    w.set("bias", .i64(-5))
    w.set("groups", .i32Array([2, 2, 4, 8, 16]))
    w.add("w8", shape: [2, 3], int8: [-128, -1, 0, 1, 2, 127])
    w.add("w16", shape: [3], int16: [-32768, 7, 32767])
    w.add("b32", shape: [2], int32: [Int32.min, Int32.max])
    w.add("cdf", shape: [4], uint16: [0, 1, 65534, 65535])
    return w.serialize()
}

@Test func roundTrip() throws {
    let f = try ModelFile(bytes: sampleFile())
    #expect(try f.string("model") == "hybrid-nano")
    #expect(try f.int("latent") == 32)
    #expect(try f.int("bias") == -5)
    #expect(try f.ints("groups") == [2, 2, 4, 8, 16])
    #expect(try f.int8("w8") == [-128, -1, 0, 1, 2, 127])
    #expect(f.tensors["w8"]?.shape == [2, 3])
    #expect(try f.int16("w16") == [-32768, 7, 32767])
    #expect(try f.int32("b32") == [Int32.min, Int32.max])
    #expect(try f.uint16("cdf") == [0, 1, 65534, 65535])
    #expect(f.tensorNames == ["w8", "w16", "b32", "cdf"])
    for name in f.tensorNames { #expect(f.tensors[name]!.offset % 64 == 0) }
}

@Test func deterministicBytes() {
    #expect(sampleFile() == sampleFile())
}

@Test func typedAccessErrors() throws {
    let f = try ModelFile(bytes: sampleFile())
    #expect(throws: ModelFileError.missingTensor("nope")) { try f.int8("nope") }
    #expect(throws: ModelFileError.wrongType("w8", expected: .i16, found: .i8)) { try f.int16("w8") }
    #expect(throws: ModelFileError.missingMeta("absent")) { try f.string("absent") }
}

@Test func everyTruncationIsRefused() {
    let good = sampleFile()
    for n in stride(from: 0, to: good.count, by: 7) {
        #expect(throws: ModelFileError.self) { try ModelFile(bytes: Array(good[0..<n])) }
    }
    #expect(throws: ModelFileError.self) { try ModelFile(bytes: good + [0]) }
}

@Test func everyBitFlipIsDetected() {
    let good = sampleFile()
    // Each single-bit flip anywhere (header, table, data, trailer) must be refused.
    for i in stride(from: 0, to: good.count, by: 3) {
        var bad = good
        bad[i] ^= UInt8(1 << (i % 8))
        #expect(throws: ModelFileError.self) { try ModelFile(bytes: bad) }
    }
}

@Test func badMagicAndVersion() {
    var b = sampleFile()
    b[0] = 0x50
    #expect(throws: ModelFileError.badMagic) { try ModelFile(bytes: b) }
    #expect(throws: ModelFileError.tooShort(3)) { try ModelFile(bytes: [1, 2, 3]) }
    var v = sampleFile()
    v[4] = 9
    #expect(throws: ModelFileError.unsupportedVersion(9)) { try ModelFile(bytes: v) }
}

/// A header that lies about a tensor's size, with a valid checksum, is still refused.
@Test func lyingTableWithValidChecksum() {
    var w = ModelFileWriter()
    w.add("t", shape: [4], int8: [1, 2, 3, 4])
    var b = w.serialize()
    // Tensor entry: after the 36-byte header: u16 len(1) 't' u8 type u8 rank u32 dim ...
    let dimAt = 36 + 2 + 1 + 1 + 1
    b[dimAt] = 200          // shape now [200]: byte count no longer matches
    let body = Array(b[0..<b.count - 8])
    let h = body.withUnsafeBufferPointer { fnv1a64($0) }
    b = body
    appendLE(&b, h, 8)
    do {
        _ = try ModelFile(bytes: b)
        Issue.record("a table that lies about a tensor's shape was accepted")
    } catch {
        guard case .malformed = error else { Issue.record("expected .malformed, got \(error)"); return }
    }
}
