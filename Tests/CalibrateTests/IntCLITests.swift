// IntCLITests: run the built s2c-int with the committed conformance model: round trip through
// files, and every kind of bad input ends with a clear message, a non-zero exit and no output.
import Foundation
import ImageIO
import QuantModel
import Testing

private let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
private let model = repo.appendingPathComponent("Tests/Conformance/nano.s2cq").path
private let png = repo.appendingPathComponent("Tests/CalibrateTests/Fixtures/kodim23-crop-70x50.png").path

/// Runs s2c-int (built next to the test bundle) with optional stdin, extra environment and folder.
private func s2cInt(_ args: [String], stdin: [UInt8]? = nil, env: [String: String] = [:],
                    cwd: String? = nil) throws -> (status: Int32, out: [UInt8], err: String) {
    let exe = Bundle.module.bundleURL.deletingLastPathComponent().appendingPathComponent("s2c-int")
    let p = Process()
    p.executableURL = exe
    p.arguments = args
    var environment = ProcessInfo.processInfo.environment
    environment["S2C_MODEL"] = nil
    environment["S2C_MODEL_PATH"] = nil
    for (k, v) in env { environment[k] = v }
    p.environment = environment
    if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
    let out = Pipe(), err = Pipe(), inp = Pipe()
    p.standardOutput = out
    p.standardError = err
    p.standardInput = inp
    try p.run()
    if let stdin { inp.fileHandleForWriting.write(Data(stdin)) }
    try inp.fileHandleForWriting.close()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, Array(o), String(decoding: e, as: UTF8.self))
}

private func tmp(_ name: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("s2cint-\(getpid())-\(name)").path
}

@Test func encodeDecodeThroughFilesAndPipes() throws {
    let s2c = tmp("a.s2c"), out = tmp("a.png"), out2 = tmp("b.png")
    defer { for f in [s2c, out, out2] { try? FileManager.default.removeItem(atPath: f) } }
    let e = try s2cInt(["encode", png, "-o", s2c, "--model", model, "--quality", "3.25"])
    #expect(e.status == 0, "\(e.err)")
    #expect(e.err.contains("bpp"))
    let d = try s2cInt(["decode", s2c, "-o", out, "--model", model, "--threads", "3", "--cpu", "0"])
    #expect(d.status == 0, "\(d.err)")
    let info = try s2cInt(["info", s2c])
    #expect(String(decoding: info.out, as: UTF8.self).contains("70 x 50"))
    // stdin -> stdout gives the same bytes as files.
    let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: s2c)))
    let piped = try s2cInt(["decode", "-", "-o", "-", "--model", model], stdin: bytes)
    let filePNG = Array(try Data(contentsOf: URL(fileURLWithPath: out)))
    #expect(piped.status == 0 && piped.out == filePNG)
}

@Test func tiledEncodeThroughTheCLI() throws {
    let s2c = tmp("t.s2c"), out = tmp("t.png")
    defer { for f in [s2c, out] { try? FileManager.default.removeItem(atPath: f) } }
    let e = try s2cInt(["encode", png, "-o", s2c, "--model", model, "--tile", "64"])
    #expect(e.status == 0 && e.err.contains("2x1 tiles of 64x64"), "\(e.err)")
    let info = String(decoding: try s2cInt(["info", "--json", s2c]).out, as: UTF8.self)
    #expect(info.contains("\"version\": 2") && info.contains("\"tiles\": 2"), "\(info)")
    #expect(try s2cInt(["decode", s2c, "-o", out, "--model", model]).status == 0)
    for t in ["100", "0", "4096", "-64"] {
        let r = try s2cInt(["encode", png, "-o", tmp("never.s2c"), "--model", model, "--tile", t])
        #expect(r.status != 0 && r.err.contains("--tile"), "--tile \(t): \(r.err)")
        #expect(!FileManager.default.fileExists(atPath: tmp("never.s2c")))
    }
}

@Test func badBitstreamsFailCleanlyWithoutOutput() throws {
    let good = tmp("good.s2c"), bad = tmp("bad.s2c"), out = tmp("never.png")
    defer { for f in [good, bad, out] { try? FileManager.default.removeItem(atPath: f) } }
    #expect(try s2cInt(["encode", png, "-o", good, "--model", model]).status == 0)
    let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: good)))
    var flipped = bytes
    flipped[bytes.count / 2] ^= 0x10
    let forged = try Bitstream(fingerprint: 0x1234, width: 70, height: 50, color: .rgb, quality256: 1024,
                               zStream: [1, 2, 3], yStream: [4, 5, 6]).serialize()
    let cases: [(String, [UInt8], String)] = [
        ("empty", [], "empty"),
        ("truncated", Array(bytes.prefix(bytes.count - 7)), "truncated"),
        ("bit flip", flipped, "corrupt"),
        ("not s2c", Array("hello, not a bitstream".utf8), "not an s2c"),
        ("wrong model", forged, "model"),
    ]
    for (what, data, words) in cases {
        try Data(data).write(to: URL(fileURLWithPath: bad))
        let r = try s2cInt(["decode", bad, "-o", out, "--model", model])
        #expect(r.status != 0, "\(what): exit \(r.status)")
        #expect(r.err.lowercased().contains(words), "\(what): '\(r.err)'")
        #expect(!FileManager.default.fileExists(atPath: out), "\(what): left an output file")
    }
}

@Test func badInputsAndArgumentsAreRefused() throws {
    let out = tmp("x.s2c")
    defer { try? FileManager.default.removeItem(atPath: out) }
    let notPNG = try s2cInt(["encode", model, "-o", out, "--model", model])
    #expect(notPNG.status != 0 && notPNG.err.lowercased().contains("png") && !FileManager.default.fileExists(atPath: out))
    let q = try s2cInt(["encode", png, "-o", out, "--model", model, "--quality", "9"])
    #expect(q.status == 64 && q.err.contains("--quality 9.0 is outside the model's range 1...7"), "\(q.err)")
    for mask in ["0x100000000", "4294967296", "0x", "12z"] {
        let c = try s2cInt(["encode", png, "-o", out, "--model", model, "--cpu", mask])
        #expect(c.status == 64 && c.err.contains("--cpu expects a 32-bit mask"), "--cpu \(mask): \(c.err)")
    }
    let same = try s2cInt(["encode", png, "-o", png, "--model", model])
    #expect(same.status != 0 && same.err.contains("is the input file"))
    let noModel = try s2cInt(["encode", png, "-o", out, "--model", "/nonexistent.s2cq"])
    #expect(noModel.status != 0 && noModel.err.contains("not a readable file"))
    let junkModel = tmp("junk.s2cq")
    defer { try? FileManager.default.removeItem(atPath: junkModel) }
    try Data(Array("junk".utf8)).write(to: URL(fileURLWithPath: junkModel))
    let jm = try s2cInt(["encode", png, "-o", out, "--model", junkModel])
    #expect(jm.status != 0 && jm.err.contains("s2c model"))
}

/// s2c-int hashes the model on another thread while the codec runs: a model damaged inside a
/// tensor must still be reported as damaged (not as a bad bitstream, whatever the damaged weights
/// made the codec do first), with a non-zero exit and no output, by every subcommand.
@Test func damagedModelIsReportedBeforeAnyOutput() throws {
    let good = tmp("good.s2c"), bad = tmp("damaged.s2cq"), out = tmp("d.png"), out2 = tmp("d.s2c")
    defer { for f in [good, bad, out, out2] { try? FileManager.default.removeItem(atPath: f) } }
    #expect(try s2cInt(["encode", png, "-o", good, "--model", model]).status == 0)
    var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: model)))
    for at in stride(from: bytes.count / 3, to: bytes.count - 8, by: bytes.count / 7) { bytes[at] ^= 0x40 }
    try Data(bytes).write(to: URL(fileURLWithPath: bad))
    for args in [["decode", good, "-o", out, "--model", bad], ["encode", png, "-o", out2, "--model", bad],
                 ["eval", "--images", png.components(separatedBy: "/").dropLast().joined(separator: "/"),
                  "--quality", "1", "--model", bad]] {
        let r = try s2cInt(args)
        #expect(r.status != 0 && r.err.contains("checksum mismatch"), "\(args[0]): \(r.err)")
    }
    #expect(!FileManager.default.fileExists(atPath: out) && !FileManager.default.fileExists(atPath: out2))
    // What a checked load refuses before the checksum is still reported first: a cut file is "truncated".
    try Data(Array(try Data(contentsOf: URL(fileURLWithPath: model)).prefix(1000))).write(to: URL(fileURLWithPath: bad))
    let cut = try s2cInt(["decode", good, "-o", out, "--model", bad])
    #expect(cut.status != 0 && cut.err.contains("truncated (header says"), "\(cut.err)")
}

@Test func versionNamesTheFormats() throws {
    let v = try s2cInt(["--version"])
    #expect(v.status == 0)
    #expect(String(decoding: v.out, as: UTF8.self) == S2CVersion.line + "\n")
    #expect(S2CVersion.line.contains("bitstream versions 1-2"))
}

/// Conformance streams of every model that has them: nano's in Tests/Conformance, each shipped
/// model's in Tests/Conformance/<name>/.
private func conformanceStreams() throws -> [(model: String, stream: String)] {
    let conf = repo.appendingPathComponent("Tests/Conformance").path
    let fm = FileManager.default
    var out = try fm.contentsOfDirectory(atPath: conf).filter { $0.hasSuffix(".s2c") }.sorted()
        .map { (model, conf + "/" + $0) }
    for name in try fm.contentsOfDirectory(atPath: repo.appendingPathComponent("Weights").path).sorted()
    where name.hasSuffix(".s2cq") {
        let m = repo.appendingPathComponent("Weights/" + name).path
        let dir = conf + "/" + String(name.dropLast(5))
        for s in (try? fm.contentsOfDirectory(atPath: dir))?.filter({ $0.hasSuffix(".s2c") }).sorted() ?? [] {
            out.append((m, dir + "/" + s))
        }
    }
    return out
}

@Test func decodeFindsTheInstalledModelByFingerprint() throws {
    let fm = FileManager.default
    let models = tmp("models"), empty = tmp("empty"), out = tmp("fp.png"), ref = tmp("ref.png")
    defer { for f in [models, empty, out, ref] { try? fm.removeItem(atPath: f) } }
    for d in [models, empty] { try fm.createDirectory(atPath: d, withIntermediateDirectories: true) }
    let streams = try conformanceStreams()
    #expect(Set(streams.map(\.model)).count >= 2, "conformance streams of at least nano and one shipped model")
    for m in Set(streams.map(\.model)) {
        try fm.createSymbolicLink(atPath: models + "/" + URL(fileURLWithPath: m).lastPathComponent, withDestinationPath: m)
    }
    // No --model: each stream finds its own model among several, and decodes as with --model.
    for (m, s) in streams {
        let a = try s2cInt(["decode", s, "-o", out], env: ["S2C_MODEL_PATH": models], cwd: empty)
        #expect(a.status == 0, "\(s): \(a.err)")
        #expect(try s2cInt(["decode", s, "-o", ref, "--model", m]).status == 0)
        #expect(fm.contents(atPath: out) == fm.contents(atPath: ref), "\(s)")
        try? fm.removeItem(atPath: out)
    }
    // A model by name, found in S2C_MODEL_PATH.
    let nanoStream = streams.first { $0.model == model }!.stream
    #expect(try s2cInt(["decode", nanoStream, "-o", out, "--model", "nano"], env: ["S2C_MODEL_PATH": models], cwd: empty).status == 0)
    let unknown = try s2cInt(["decode", nanoStream, "-o", tmp("never.png"), "--model", "nope"], env: ["S2C_MODEL_PATH": models])
    #expect(unknown.status == 1 && unknown.err.contains("model 'nope' not found: no nope.s2cq in \(models)"), "\(unknown.err)")
    // A stream whose model is not installed: the error names its fingerprint; nothing is written.
    let fp = try Bitstream(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: nanoStream)))).header.fingerprint
    let missing = try s2cInt(["decode", nanoStream, "-o", tmp("never.png")], env: ["S2C_MODEL_PATH": empty], cwd: empty)
    #expect(missing.status == 1 && missing.err.contains("made with model \(hex64(fp)), which is not installed"), "\(missing.err)")
    #expect(!fm.fileExists(atPath: tmp("never.png")))
}

/// The shipped models: at least two (hybrid-lite and hybrid-t), each with its conformance streams;
/// the default model is one of them, and an encode that names no model uses it.
@Test func encodeWithoutAModelUsesTheShippedDefault() throws {
    let fm = FileManager.default
    let weights = repo.appendingPathComponent("Weights").path
    let names = try fm.contentsOfDirectory(atPath: weights).filter { $0.hasSuffix(".s2cq") }.map { String($0.dropLast(5)) }
    #expect(names.count >= 2, "shipped models: \(names)")
    #expect(names.contains(ModelSearch.defaultName), "the default model \(ModelSearch.defaultName) is not in Weights/")
    for n in names {
        let dir = repo.appendingPathComponent("Tests/Conformance/" + n).path
        let streams = (try? fm.contentsOfDirectory(atPath: dir))?.filter { $0.hasSuffix(".s2c") } ?? []
        #expect(streams.count >= 3, "\(n): conformance streams in \(dir)")
    }
    let empty = tmp("default-cwd"), out = tmp("default.s2c")
    defer { for f in [empty, out] { try? fm.removeItem(atPath: f) } }
    try fm.createDirectory(atPath: empty, withIntermediateDirectories: true)
    // From a folder without Weights/: the model is found in the first Weights/ above the executable.
    let r = try s2cInt(["encode", png, "-o", out], cwd: empty)
    #expect(r.status == 0, "\(r.err)")
    let header = try Bitstream(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: out)))).header
    let model = try ModelFile(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: weights + "/" + ModelSearch.defaultName + ".s2cq"))))
    #expect(header.fingerprint == model.fingerprint)
}
