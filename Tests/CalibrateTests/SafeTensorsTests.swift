// SafeTensorsTests: the reader accepts well-formed files and rejects each kind of damage with a typed error.
import Foundation
import Testing
@testable import Calibrate

/// A safetensors file as bytes: 8-byte LE length (or `length` if given), header, data.
private func file(_ header: String, _ data: [UInt8] = [], length: UInt64? = nil) -> Data {
    let h = Array(header.utf8)
    let n = length ?? UInt64(h.count)
    var out: [UInt8] = (0..<8).map { UInt8(truncatingIfNeeded: n >> (8 * UInt64($0))) }
    out += h + data
    return Data(out)
}

private func rejects(_ d: Data, _ check: (SafeTensorsError) -> Bool) {
    do {
        _ = try SafeTensorsFile(data: d, file: "t.safetensors")
        Issue.record("accepted a bad file")
    } catch let e as SafeTensorsError {
        #expect(check(e), "unexpected error: \(e)")
        #expect(e.description.contains("t.safetensors"))
    } catch {
        Issue.record("untyped error \(error)")
    }
}

@Test func readsAllDTypesAndMetadata() throws {
    // F32 1.5, -2; F16 1.0 (0x3C00), -0.5 (0xB800), 2^-24 (0x0001); BF16 3.0 (0x4040).
    let f32: [UInt8] = [0, 0, 0xC0, 0x3F, 0, 0, 0, 0xC0]
    let f16: [UInt8] = [0x00, 0x3C, 0x00, 0xB8, 0x01, 0x00]
    let bf16: [UInt8] = [0x40, 0x40]
    let header = """
    {"__metadata__":{"config":"{}","format":"x"},
     "a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},
     "b":{"dtype":"F16","shape":[1,3],"data_offsets":[8,14]},
     "c":{"dtype":"BF16","shape":[],"data_offsets":[14,16]}}
    """
    let st = try SafeTensorsFile(data: file(header, f32 + f16 + bf16), file: "t.safetensors")
    #expect(st.metadata == ["config": "{}", "format": "x"])
    #expect(try st.floats("a") == [1.5, -2])
    #expect(try st.floats("b", expect: [1, 3]) == [1, -0.5, Float(1) / 16_777_216])
    #expect(try st.floats("c") == [3])
    #expect(throws: SafeTensorsError.self) { try st.floats("b", expect: [3]) }
    #expect(throws: SafeTensorsError.self) { try st.floats("nope") }
}

@Test func rejectsTruncatedFiles() {
    rejects(Data([1, 2, 3])) { if case .truncated = $0 { true } else { false } }
    rejects(file("{}", length: 50)) { if case .truncated = $0 { true } else { false } }
}

@Test func rejectsHugeHeaderBeforeAllocating() {
    rejects(file("{}", length: 1 << 40)) { if case .headerTooLarge = $0 { true } else { false } }
}

@Test func rejectsBadJSON() {
    rejects(file("{\"a\": [")) { if case .badHeader = $0 { true } else { false } }
    rejects(file("[1, 2]")) { if case .badHeader = $0 { true } else { false } }
    rejects(file("{\"__metadata__\": {\"k\": 1}}")) { if case .badHeader = $0 { true } else { false } }
}

@Test func rejectsOffsetsBeyondFile() {
    let h = "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}"
    rejects(file(h, [UInt8](repeating: 0, count: 8))) {
        if case let .badTensor(_, t, r) = $0 { t == "a" && r.contains("past") } else { false }
    }
    let neg = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}"
    rejects(file(neg, [UInt8](repeating: 0, count: 8))) { if case .badTensor = $0 { true } else { false } }
}

@Test func rejectsWrongByteCount() {
    let h = "{\"a\":{\"dtype\":\"F16\",\"shape\":[2,2],\"data_offsets\":[0,6]}}"
    rejects(file(h, [UInt8](repeating: 0, count: 8))) {
        if case let .badTensor(_, t, r) = $0 { t == "a" && r.contains("needs 8") } else { false }
    }
}

@Test func rejectsUnknownDType() {
    let h = "{\"a\":{\"dtype\":\"I8\",\"shape\":[2],\"data_offsets\":[0,2]}}"
    rejects(file(h, [0, 0])) { if case let .unknownDType(_, t, d) = $0 { t == "a" && d == "I8" } else { false } }
}

@Test func rejectsOverlappingTensors() {
    let h = """
    {"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}
    """
    rejects(file(h, [UInt8](repeating: 0, count: 8))) {
        if case let .badTensor(_, _, r) = $0 { r.contains("overlap") } else { false }
    }
}
