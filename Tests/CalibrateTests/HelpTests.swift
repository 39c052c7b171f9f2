// HelpTests: the help of s2c-int and s2c-calibrate and of each of their subcommands, pinned word
// for word in Tests/CalibrateTests/Help/. A help change shows up here: read the diff, then
// regenerate with `S2C_UPDATE_HELP=1 swift test --filter HelpTests` and commit the new text.
import Foundation
import Testing

private let helpDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Help")

/// Every (tool, subcommand) pair; "" is the root command.
private let commands: [(tool: String, sub: String)] =
    ["", "encode", "decode", "info", "eval"].map { ("s2c-int", $0) }
    + ["", "calibrate", "compare", "eval-float", "roundtrip", "bench-float"].map { ("s2c-calibrate", $0) }

/// `tool [sub] --help` at 80 columns, stdout (exit status must be 0).
private func help(_ tool: String, _ sub: String) throws -> String {
    let exe = Bundle.module.bundleURL.deletingLastPathComponent().appendingPathComponent(tool)
    let p = Process()
    p.executableURL = exe
    p.arguments = (sub.isEmpty ? [] : [sub]) + ["--help"]
    var env = ProcessInfo.processInfo.environment
    env["COLUMNS"] = "80"
    p.environment = env
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    #expect(p.terminationStatus == 0, "\(tool) \(sub) --help exited \(p.terminationStatus)")
    return String(decoding: data, as: UTF8.self)
}

@Test(arguments: commands.map { "\($0.tool) \($0.sub)" })
func helpIsPinned(_ command: String) throws {
    let parts = command.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
    let (tool, sub) = (parts[0], parts[1])
    let text = try help(tool, sub)
    let file = helpDir.appendingPathComponent(tool + (sub.isEmpty ? "" : "-" + sub) + ".txt")
    if ProcessInfo.processInfo.environment["S2C_UPDATE_HELP"] == "1" {
        try FileManager.default.createDirectory(at: helpDir, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: file)
    }
    let want = try String(contentsOf: file, encoding: .utf8)
    #expect(text == want, "\(command) --help differs from \(file.lastPathComponent):\n\(text)")
}

/// The pinned files are exactly the commands above (a removed subcommand leaves no stale file),
/// and every subcommand a root help lists has a pinned help.
@Test func everySubcommandIsPinned() throws {
    let files = Set(try FileManager.default.contentsOfDirectory(atPath: helpDir.path).filter { $0.hasSuffix(".txt") })
    let want = Set(commands.map { $0.tool + ($0.sub.isEmpty ? "" : "-" + $0.sub) + ".txt" })
    #expect(files == want)
    for tool in ["s2c-int", "s2c-calibrate"] {
        let root = try help(tool, "")
        guard let r = root.range(of: "SUBCOMMANDS:\n") else {
            Issue.record("\(tool) --help lists no subcommands")
            continue
        }
        let listed = root[r.upperBound...].split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("  "), !line.hasPrefix("   ") else { return nil }
            return line.split(separator: " ").first.map(String.init)
        }.filter { $0 != "See" }
        #expect(Set(listed) == Set(commands.filter { $0.tool == tool && !$0.sub.isEmpty }.map(\.sub)),
                "\(tool) lists \(listed)")
    }
}
