// ModelValidationTests: a model file that parses but describes a broken network is refused when
// it is loaded, with a ModelFileError, never a trap at run time. Each case edits one entry of the
// committed nano model (the kinds of edits fuzz/harness/modelgraph.swift makes; several trapped
// before the load-time graph checks of IntLayers.swift existed).
import Foundation
import Testing
@testable import QuantModel

private let nanoFile: ModelFile = {
    try! ModelFile(bytes: Array(try! Data(contentsOf: repoRoot.appendingPathComponent("Tests/Conformance/nano.s2cq"))))
}()

/// nano with metadata and tensor edits, written and parsed again (valid checksum).
private func edited(meta: [String: MetaValue] = [:], int32: [String: [Int32]] = [:],
                    shape: [String: [Int]] = [:], swap: (String, String)? = nil) throws -> ModelFile {
    // (nano's tensor names are unique prefixes of nothing else under these swaps)
    let f = nanoFile
    var w = ModelFileWriter()
    for (k, v) in f.metadata.sorted(by: { $0.key < $1.key }) { w.set(k, meta[k] ?? v) }
    for name in f.tensorNames {
        var src = name
        if let (a, b) = swap {     // every tensor under prefix a trades places with the one under b
            if name.hasPrefix(a) { src = b + name.dropFirst(a.count) } else if name.hasPrefix(b) { src = a + name.dropFirst(b.count) }
        }
        let t = f.tensors[src]!
        var raw = Array(f.bytes[t.offset..<t.offset + t.byteCount])
        var s = t.shape
        if let v = int32[name] {
            raw = []
            for x in v { for i in 0..<4 { raw.append(UInt8(truncatingIfNeeded: UInt32(bitPattern: x) >> UInt32(8 * i))) } }
            s = [v.count]
        }
        if let newShape = shape[name] {
            s = newShape
            let n = newShape.reduce(1, *) * t.type.size
            raw = Array((raw + [UInt8](repeating: 1, count: max(0, n - raw.count)))[0..<n])
        }
        w.add(name, t.type, shape: s, rawBytes: raw)
    }
    return try ModelFile(bytes: w.serialize())
}

/// Loading must throw .malformed mentioning `what`, for the full and the decode-only codec.
private func expectRefused(_ f: ModelFile, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
    for decodeOnly in [false, true] {
        do {
            _ = try IntCodec(model: f, decodeOnly: decodeOnly)
            Issue.record("loaded (decodeOnly \(decodeOnly)); expected a refusal naming \(what)", sourceLocation: sourceLocation)
        } catch {
            guard case .malformed(let m) = error else {
                Issue.record("\(error): not .malformed", sourceLocation: sourceLocation)
                continue
            }
            #expect(m.contains(what), "\(m)", sourceLocation: sourceLocation)
        }
    }
}

@Test func unmodifiedNanoLoads() throws {
    _ = try IntCodec(model: try edited())
}

@Test func configOutOfRange() throws {
    expectRefused(try edited(meta: ["depths": .i32Array([1, -2, 2])]), "sizes are out of range")
    expectRefused(try edited(meta: ["stage_kinds": .i32Array([0, 7, 1])]), "sizes are out of range")
    expectRefused(try edited(meta: ["groups": .i32Array([4, 0, 4, 8, 16])]), "sizes are out of range")
    expectRefused(try edited(meta: ["qualities": .u32(4_000_000_000)]), "sizes are out of range")
    expectRefused(try edited(meta: ["cc_blocks": .i32(-1)]), "cc_blocks")
}

@Test func channelMismatchBetweenLayers() throws {
    // The FFNs of a 16-channel and an 8-channel block trade places: each is valid alone.
    expectRefused(try edited(swap: ("g_s.1.0.ffn.", "g_s.5.0.ffn.")), "channels")
}

@Test func convolutionThatChangesTheSize() throws {
    // g_s.2.0 with stride 2 would halve the tensor: g_s would not reach the image's size.
    expectRefused(try edited(int32: ["g_s.2.0.conv": [2, 1, -32767, 32767]]), "size")
    // pad 0 on a 3x3: the output shrinks by 2.
    expectRefused(try edited(int32: ["h_s.4.conv": [1, 0, -32767, 32767]]), "size")
}

@Test func attentionOutsideItsDomain() throws {
    // Stage 3 of g_s runs at 1/8 of the tile: windows of 16 would not divide a 64-pixel tile.
    expectRefused(try edited(int32: ["g_s.1.0.spatial.attn": [2, 16, 1 << 30, 20, 1 << 30, 30]]), "windows of 16")
    expectRefused(try edited(int32: ["g_s.1.0.spatial.attn": [2, 8, 1 << 30, 0, 1 << 30, 30]]), "domain")
    expectRefused(try edited(int32: ["g_s.1.0.spatial.attn": [2, 64, 1 << 30, 20, 1 << 30, 30]]), "domain")
}

@Test func kernelParametersOutsideTheirDomain() throws {
    expectRefused(try edited(int32: ["g_s.5.0.norm1.ln": [20, -40000, 32767, 0, 1]]), "int16")
    expectRefused(try edited(int32: ["g_s.5.0.spatial.dw.conv": [1, 1, -32767, 32767]]), "depthwise")
    expectRefused(try edited(int32: ["g_s.5.0.add1": [1, 1, 63, -32767, 32767]]), "invalid")
    expectRefused(try edited(int32: ["pa.0.in_psi.mult": [Int32](repeating: -5, count: 32)]), "negative multiplier")
    expectRefused(try edited(int32: ["inv_gain.shift": [Int32](repeating: 0, count: 49 * 32)]), "shift")
}

@Test func pixelShuffleNeedsFourTimesTheChannels() throws {
    // g_s.6.0 with 13 output channels (was 12 = 4 x RGB).
    var s = nanoFile.tensors["g_s.6.0.w"]!.shape
    s[0] = 13
    let f = try edited(int32: ["g_s.6.0.bias": [Int32](repeating: 0, count: 13), "g_s.6.0.mult": [Int32](repeating: 1 << 30, count: 13),
                               "g_s.6.0.shift": [Int32](repeating: 30, count: 13)], shape: ["g_s.6.0.w": s])
    expectRefused(f, "multiple of 4")
}

/// An empty tensor of shape [2, 0] in a file without data: the writer writes it, so the reader
/// reads it (the partial product 2 used to be compared with the empty data section; found by
/// fuzz/harness/model.swift, regression input fuzz/regressions/model/).
@Test func emptyTensorWithALeadingNonZeroDimension() throws {
    for shape in [[2, 0], [0, 2], [3, 0, 5]] {
        var w = ModelFileWriter()
        w.add("e", .i8, shape: shape, rawBytes: [])
        let f = try ModelFile(bytes: w.serialize())
        #expect(f.tensors["e"]?.shape == shape && f.tensors["e"]?.byteCount == 0)
        #expect(try f.int8("e") == [])
    }
    var w = ModelFileWriter()
    w.add("big", .i8, shape: [1 << 20, 1 << 20, 0], rawBytes: [])
    _ = try ModelFile(bytes: w.serialize())
}

/// An empty tensor whose other dimensions multiply past Int.max: the reader accepts it (a zero
/// dimension anywhere makes it empty), so ModelFileWriter must write it again (its byte-count check
/// multiplied every dimension and trapped on overflow; found by fuzz/harness/model.swift, regression
/// input fuzz/regressions/model/roundtrip-empty-tensor-dims-overflow).
@Test func emptyTensorWhoseOtherDimensionsOverflow() throws {
    let big = Int(UInt32.max)
    for shape in [[big, big, big, 0], [0, big, big, big], [big, 0, big, big, big, big, big, big]] {
        var w = ModelFileWriter()
        w.add("e", .i32, shape: shape, rawBytes: [])
        let f = try ModelFile(bytes: w.serialize())
        #expect(f.tensors["e"]?.shape == shape && f.tensors["e"]?.byteCount == 0)
        var again = ModelFileWriter()
        again.add("e", .i32, shape: f.tensors["e"]!.shape, rawBytes: [])
        #expect(again.serialize() == w.serialize())
    }
}
