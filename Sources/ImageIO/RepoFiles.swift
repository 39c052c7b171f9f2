// RepoFiles.swift: finds files shipped with s2c (models, weights) from wherever a tool runs.
import Foundation

/// Lookup of repository files such as Weights/hybrid-t.s2cq.
public enum RepoFiles {
    /// The current folder, then the first parent of the running executable that holds
    /// Package.swift (binaries live in <repo>/.build/<triple>/<config>/).
    public static func roots() -> [String] {
        var roots = [FileManager.default.currentDirectoryPath]
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var dir = URL(fileURLWithPath: exe).deletingLastPathComponent().standardizedFileURL
        while dir.path != "/" && !dir.path.isEmpty {
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) {
                roots.append(dir.path)
                break
            }
            dir.deleteLastPathComponent()
        }
        return roots
    }

    /// The first existing `relative` path under roots(), or nil.
    public static func find(_ relative: String) -> String? {
        for r in roots() {
            let p = (r as NSString).appendingPathComponent(relative)
            if FileManager.default.fileExists(atPath: p) { return p }
        }
        return nil
    }
}
