// Version.swift: the release version the command-line tools print with --version.

/// s2c release version and the formats this build reads and writes.
public enum S2CVersion {
    /// Release version of the tools (s2c-int, s2c-calibrate, s2c-dec).
    public static let release = "1.0.0"

    /// One line for --version: release, bitstream versions, model-file version.
    public static var line: String {
        "\(release) (bitstream versions \(Bitstream.version)-\(Bitstream.tiledVersion), model file version \(ModelFile.version))"
    }
}
