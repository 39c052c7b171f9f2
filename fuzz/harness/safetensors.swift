// safetensors.swift: libFuzzer harness for the safetensors reader (Sources/Calibrate/SafeTensors.swift):
// SafeTensorsFile(data:file:) on the input, then every tensor through floats() (with and without
// a shape check) and tensor(). Every tensor's byte range must lie in the data section; a
// successful read returns the element count its shape says.
import Calibrate
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Data(inputBytes(data, size))
    guard let f = try? SafeTensorsFile(data: bytes, file: "fuzz.safetensors") else { return 0 }
    _ = f.metadata.count
    for (name, t) in f.tensors {
        guard t.range.lowerBound >= 0, t.range.upperBound <= bytes.count else { finding("tensor '\(name)' outside the file") }
        guard let v = try? f.floats(name) else { finding("floats('\(name)') failed on a parsed tensor") }
        guard v.count == t.shape.reduce(1, *) else { finding("'\(name)': \(v.count) values for shape \(t.shape)") }
        _ = try? f.floats(name, expect: t.shape)
        _ = try? f.floats(name, expect: [v.count])
        _ = try? f.shape(name)
        _ = try? f.tensor(name)
    }
    _ = try? f.floats("missing")
    return 0
}
