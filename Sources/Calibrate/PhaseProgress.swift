// PhaseProgress.swift: progress lines with elapsed time and ETA for the calibrator's phases.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Reports the progress of one phase on stderr: "  <phase> done/total <unit>, elapsed Xs, ETA Ys".
/// On a terminal the line is rewritten in place; otherwise a line is written at most every
/// `interval` seconds, plus the first and the last. Thread-safe.
public final class PhaseProgress: @unchecked Sendable {
    let phase: String
    let unit: String
    let interval: Double
    let tty: Bool
    let start = Date()
    let startCPU = PhaseProgress.cpuSeconds()
    var lastShown = -Double.infinity
    var finished = false
    let lock = NSLock()
    let sink: (String) -> Void

    /// `sink` receives each text as written (default: stderr).
    public init(_ phase: String, unit: String, interval: Double? = nil, sink: ((String) -> Void)? = nil) {
        self.phase = phase
        self.unit = unit
        let terminal = sink == nil && isatty(STDERR_FILENO) != 0
        tty = terminal
        self.interval = interval ?? (terminal ? 0.5 : 10)
        self.sink = sink ?? { FileHandle.standardError.write(Data($0.utf8)) }
    }

    /// Seconds since the phase started.
    public var elapsed: Double { Date().timeIntervalSince(start) }

    /// Records that `done` of `total` units are finished.
    public func update(_ done: Int, _ total: Int) {
        lock.lock()
        defer { lock.unlock() }
        guard !finished else { return }
        let el = elapsed
        let last = done >= total
        guard last || done == 1 || el - lastShown >= interval else { return }
        lastShown = el
        let eta = done > 0 ? el / Double(done) * Double(total - done) : 0
        let text = "  \(phase) \(done)/\(total) \(unit), elapsed \(Self.clock(el)), "
            + (last ? "done (CPU \(Self.clock(Self.cpuSeconds() - startCPU)))" : "ETA \(Self.clock(eta))")
        if tty {
            sink("\r\u{1b}[K" + text + (last ? "\n" : ""))
        } else {
            sink(text + "\n")
        }
        if last { finished = true }
    }

    /// User + system CPU time of this process so far, in seconds.
    public static func cpuSeconds() -> Double {
        var u = rusage()
        getrusage(RUSAGE_SELF.rawValue, &u)
        return Double(u.ru_utime.tv_sec) + Double(u.ru_utime.tv_usec) / 1e6
            + Double(u.ru_stime.tv_sec) + Double(u.ru_stime.tv_usec) / 1e6
    }

    /// "42s", "3m05s".
    static func clock(_ s: Double) -> String {
        let t = Int(s.rounded())
        return t < 60 ? "\(t)s" : String(format: "%dm%02ds", t / 60, t % 60)
    }
}
