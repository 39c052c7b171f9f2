// CLITests: run the built s2c-calibrate; pin its subcommands, error messages and the roundtrip numbers.
import Foundation
import QuantModel
import Testing

/// Runs s2c-calibrate (built next to the test bundle) and returns exit status, stdout and stderr.
private func run(_ args: [String]) throws -> (status: Int32, out: String, err: String) {
    let exe = Bundle.module.bundleURL.deletingLastPathComponent().appendingPathComponent("s2c-calibrate")
    guard FileManager.default.isExecutableFile(atPath: exe.path) else {
        throw CLIMissing(path: exe.path)
    }
    let p = Process()
    p.executableURL = exe
    p.arguments = args
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}

private struct CLIMissing: Error, CustomStringConvertible {
    var path: String
    var description: String { "\(path) not built (run `swift build` before `swift test`)" }
}

@Test func helpListsSubcommands() throws {
    let r = try run(["--help"])
    #expect(r.status == 0)
    for s in ["calibrate", "compare", "roundtrip", "bench-float"] { #expect(r.out.contains(s), "help lacks \(s)") }
}

@Test func calibrateWritesAnIntegerModel() throws {
    let dir = try Fixtures.path("")
    let weights = try Fixtures.path("nano-weights.safetensors")
    let out = FileManager.default.temporaryDirectory.appendingPathComponent("cli-\(getpid()).s2cq").path
    defer { try? FileManager.default.removeItem(atPath: out) }
    let r = try run(["calibrate", "--weights", weights, "--images", dir, "--max-images", "1", "--crop", "64", "-o", out])
    #expect(r.status == 0, "\(r.err)")
    #expect(r.out.contains("integer codec vs float model on the calibration images") && !r.out.contains("DIVERGED"))
    for part in ["integer g_s (synthesis) per layer", "integer h_s and SCCTX", "integer g_a (analysis) per layer"] {
        #expect(r.out.contains(part), "report lacks \(part)")
    }
    for phase in ["float passes", "quantizing weights", "fidelity report", "per-layer reports"] {
        #expect(r.err.contains("  \(phase) ") && r.err.contains("done (CPU"), "no progress for \(phase): \(r.err)")
    }
    #expect(r.err.contains("ETA"))
    let file = try ModelFile(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: out))))
    #expect(try file.string("model") == "hybrid-nano")
    // Same inputs in another process with another worker count: byte-identical model file.
    let out2 = out + ".again"
    defer { try? FileManager.default.removeItem(atPath: out2) }
    let again = try run(["calibrate", "--weights", weights, "--images", dir, "--max-images", "1", "--crop", "64",
                         "--threads", "1", "-o", out2])
    #expect(again.status == 0)
    #expect(try Data(contentsOf: URL(fileURLWithPath: out2)) == Data(contentsOf: URL(fileURLWithPath: out)),
            "two calibrations of the same inputs differ")
    // Out-of-sample comparison of the model just written, on the same folder at another crop.
    let cmp = try run(["compare", "--weights", weights, "--int-model", out, "--images", dir, "--max-images", "1",
                       "--crop", "128"])
    #expect(cmp.status == 0, "\(cmp.err)")
    #expect(cmp.out.contains("integer codec vs float model on") && !cmp.out.contains("DIVERGED"))
    // One row per quality: quality, y' SQNR, g_s PSNR, decoder PSNR, symbols equal.
    let rows = cmp.out.split(separator: "\n").filter { $0.hasPrefix("        ") && $0.contains("dB") }
    #expect(rows.count == 7, "\(cmp.out)")
    for row in rows {
        let dbs = row.split(separator: "|").dropFirst().prefix(3).compactMap { Double($0.replacingOccurrences(of: "dB", with: "").trimmingCharacters(in: .whitespaces)) }
        #expect(dbs.count == 3 && dbs.allSatisfy { $0 > 25 }, "\(row)")
    }
    let noModel = try run(["compare", "--weights", weights, "--int-model", "/nonexistent/m.s2cq", "--images", dir])
    #expect(noModel.status != 0 && noModel.err.contains("not found; make one with s2c-calibrate calibrate"))
    let missing = try run(["calibrate", "--images", dir, "--weights", "/nonexistent/w.safetensors"])
    #expect(missing.status != 0 && missing.err.contains("not found"))
}

@Test func calibrateValidatesOptions() throws {
    let dir = try Fixtures.path("")
    let missing = try run(["calibrate", "--images", "/nonexistent-s2c-dir"])
    #expect(missing.status != 0 && missing.err.contains("is not a folder"))
    let crop = try run(["calibrate", "--images", dir, "--crop", "100"])
    #expect(crop.status != 0 && crop.err.contains("--crop must be 0 (whole images) or a positive multiple of 64"))
    let n = try run(["calibrate", "--images", dir, "--max-images", "0"])
    #expect(n.status != 0 && n.err.contains("--max-images must be >= 1"))
    let t = try run(["calibrate", "--images", dir, "--threads", "0"])
    #expect(t.status != 0 && t.err.contains("--threads must be in 1...256"))
    let q = try run(["eval-float", "--images", dir, "--quality", "0.5"])
    #expect(q.status != 0 && q.err.contains("is not a quality >= 1"))
}

@Test func roundtripMissingWeights() throws {
    let png = try Fixtures.path("kodim23-crop-70x50.png")
    let r = try run(["roundtrip", png, "--weights", "/nonexistent/hybrid-t.safetensors"])
    #expect(r.status != 0)
    #expect(r.err.contains("not found; train with train/train.py and export with train/export.py weights"))
    let same = try run(["roundtrip", png, "-o", png])
    #expect(same.status != 0 && same.err.contains("must differ from the input"))
}

/// 70x50 crop (padded to 128x64 inside), nano weights, quality 2.5. PyTorch reference from
/// `python train/golden_check.py Tests/CalibrateTests/Fixtures/kodim23-crop-70x50.png
///  --weights Tests/CalibrateTests/Fixtures/nano-weights.safetensors --quality 2.5`:
/// bpp 1.100005, PSNR 7.1027 dB.
@Test func roundtripMatchesPyTorch() throws {
    let png = try Fixtures.path("kodim23-crop-70x50.png")
    let weights = try Fixtures.path("nano-weights.safetensors")
    let outPath = FileManager.default.temporaryDirectory
        .appendingPathComponent("s2c-calibrate-test-\(getpid()).png").path
    defer { try? FileManager.default.removeItem(atPath: outPath) }
    let r = try run(["roundtrip", png, "--weights", weights, "--quality", "2.5", "-o", outPath])
    #expect(r.status == 0, "stderr: \(r.err)")
    func number(after key: String) -> Double? {
        guard let line = r.out.split(separator: "\n").first(where: { $0.hasPrefix(key + " ") }) else { return nil }
        return Double(line.split(separator: " ")[1])
    }
    let bpp = try #require(number(after: "bpp"))
    let psnr = try #require(number(after: "PSNR"))
    print("roundtrip nano q2.5: swift bpp \(bpp) PSNR \(psnr); torch bpp 1.100005 PSNR 7.1027")
    #expect(abs(bpp - 1.100005) < 1e-4)
    #expect(abs(psnr - 7.1027) < 1e-3)
    let head = try #require(FileManager.default.contents(atPath: outPath))
    #expect(head.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
}
