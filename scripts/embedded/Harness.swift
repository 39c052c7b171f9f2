// Harness.swift: entry points compiled into the Embedded Swift build of the decode path
// (QuantModel) so that scripts/check-embedded.sh can run it on aarch64 under qemu and on the
// host, and compare. Grows with the decoder: it will decode committed bitstreams.

/// Builds a model file, parses it back and returns its fingerprint (0 on any failure).
@_cdecl("s2c_embedded_model_file_selftest")
public func modelFileSelfTest(_ seed: UInt32) -> UInt64 {
    var w = ModelFileWriter()
    var x = seed
    func next() -> UInt32 {               // xorshift32: same sequence on every platform
        x ^= x << 13
        x ^= x >> 17
        x ^= x << 5
        return x
    }
    w.set("model", .string("embedded-selftest"))
    w.set("seed", .u32(seed))
    let w8 = (0..<1000).map { _ in Int8(truncatingIfNeeded: next()) }
    let w16 = (0..<500).map { _ in Int16(truncatingIfNeeded: next()) }
    let b32 = (0..<100).map { _ in Int32(bitPattern: next()) }
    w.add("w8", shape: [10, 100], int8: w8)
    w.add("w16", shape: [500], int16: w16)
    w.add("b32", shape: [100], int32: b32)
    let bytes = w.serialize()
    do {
        let f = try ModelFile(bytes: bytes)
        guard try f.int8("w8") == w8, try f.int16("w16") == w16, try f.int32("b32") == b32 else { return 0 }
        return f.fingerprint
    } catch {
        return 0
    }
}

/// Parses a model file from memory; returns its fingerprint, or 0 if it is refused.
@_cdecl("s2c_embedded_parse_model")
public func parseModel(_ data: UnsafePointer<UInt8>, _ count: Int) -> UInt64 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: count))
    guard let f = try? ModelFile(bytes: bytes) else { return 0 }
    return f.fingerprint
}

/// Runs the integer g_s of a model file on a pseudo-random fixed-point latent (h x w x latent,
/// values in +-2^(frac+2), xorshift32 from `seed`) at quality q with the best kernels, and
/// returns the FNV-1a-64 of the 8-bit output (0 if the model is refused).
@_cdecl("s2c_embedded_synthesis_hash")
public func synthesisHash(_ data: UnsafePointer<UInt8>, _ count: Int, _ h: Int, _ w: Int, _ q: Int, _ seed: UInt32) -> UInt64 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: count))
    guard let f = try? ModelFile(bytes: bytes), let syn = try? IntSynthesis(f) else { return 0 }
    var x = seed
    let m = syn.config.latent
    let span = UInt32(1) << UInt32(syn.config.yFracBits + 3)
    var lat = IntTensor(h: h, w: w, c: m)
    for i in 0..<lat.data.count {
        x ^= x << 13
        x ^= x >> 17
        x ^= x << 5
        lat.data[i] = Int16(truncatingIfNeeded: Int32(x % span) - Int32(span / 2))
    }
    let px = syn(lat, quality: syn.config.qualityIndex(level: q), Kernels.best())
    return px.withUnsafeBufferPointer { fnv1a64($0) }
}

/// Decodes a bitstream with a model (both in memory) using the best kernels; returns the
/// FNV-1a-64 of the decoded pixels, or 0 if the model or the bitstream is refused.
@_cdecl("s2c_embedded_decode_hash")
public func decodeHash(_ model: UnsafePointer<UInt8>, _ modelCount: Int,
                       _ stream: UnsafePointer<UInt8>, _ streamCount: Int) -> UInt64 {
    let mb = Array(UnsafeBufferPointer(start: model, count: modelCount))
    let sb = Array(UnsafeBufferPointer(start: stream, count: streamCount))
    guard let f = try? ModelFile(bytes: mb), let codec = try? IntCodec(model: f, decodeOnly: true),
          let bs = try? Bitstream(bytes: sb), let img = try? codec.decode(bs, Kernels.best()) else { return 0 }
    return img.pixels.withUnsafeBufferPointer { fnv1a64($0) }
}
