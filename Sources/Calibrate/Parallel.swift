// Parallel.swift: the few helpers the calibrator's parallel loops share (work claiming, shared
// results, BLAS and OpenMP thread settings). Every parallel loop here computes items that are
// independent of each other and of the thread that runs them.
import _COpenBLAS
import FixedPoint
import Foundation

/// A value shared by worker threads, each writing its own slots (guarded by a lock).
final class SendableBox<T>: @unchecked Sendable {
    fileprivate var stored: T
    fileprivate let lock = NSLock()

    init(_ v: T) { stored = v }

    var value: T {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }

    func set<E>(_ i: Int, _ e: E) where T == [E?] {
        lock.lock()
        stored[i] = e
        lock.unlock()
    }
}

extension SendableBox where T == [Int?] {
    /// The next unclaimed index below `limit`, or nil when all are taken.
    func claim(below limit: Int) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        let i = stored[0]!
        guard i < limit else { return nil }
        stored[0] = i + 1
        return i
    }
}

/// A value handed to worker threads that only read it, or write disjoint parts of it.
struct UnsafeSendable<T>: @unchecked Sendable {
    let value: T
    init(_ v: T) { value = v }
}

/// Runs body with OpenBLAS on one thread (see WorkerPool); the thread count is restored when
/// the last of any concurrent calls ends. (OpenBLAS's thread count is global: with a plain
/// save / set / restore, one caller's restore switched another's GEMMs back to 2 threads mid-
/// calibration, which CalibrateTests caught as statistics that changed between runs.)
public func withSingleThreadedBLAS<T>(_ body: () throws -> T) rethrows -> T {
    SingleThreadedBLAS.shared.enter()
    defer { SingleThreadedBLAS.shared.leave() }
    return try body()
}

/// The process-wide count of withSingleThreadedBLAS scopes.
final class SingleThreadedBLAS: @unchecked Sendable {
    static let shared = SingleThreadedBLAS()
    private let lock = NSLock()
    private var depth = 0
    private var saved: Int32 = 1

    func enter() {
        lock.lock()
        if depth == 0 {
            saved = openblas_get_num_threads()
            openblas_set_num_threads(1)
        }
        depth += 1
        lock.unlock()
    }

    func leave() {
        lock.lock()
        depth -= 1
        if depth == 0 { openblas_set_num_threads(saved) }
        lock.unlock()
    }
}

/// body(0) ... body(n - 1) on all cores (DispatchQueue.concurrentPerform); the iterations must
/// be independent.
func parallelFor(_ n: Int, _ body: (Int) -> Void) {
    withoutActuallyEscaping(body) { b in
        let box = UnsafeSendable(b)
        DispatchQueue.concurrentPerform(iterations: n) { box.value($0) }
    }
}

/// Counts finished work items across threads and reports them in increasing order (the report
/// runs under a lock, so it need not be thread-safe itself).
final class ProgressCounter: @unchecked Sendable {
    private var done = 0
    private let total: Int
    private let report: (Int, Int) -> Void
    private let lock = NSLock()

    init(total: Int, offset: Int = 0, report: @escaping (Int, Int) -> Void) {
        self.total = total
        done = offset
        self.report = report
    }

    func step() {
        lock.lock()
        done += 1
        report(done, total)
        lock.unlock()
    }
}

/// body(i) for i in 0..<n on `workers` threads (0: one per core), items claimed in order, results
/// in item order. The integer kernels run single-threaded inside each worker while more than one
/// runs (their output never depends on the thread count).
func parallelMap<T>(_ n: Int, workers: Int = 0, _ body: (Int) throws -> T) throws -> [T] {
    let w = max(1, min(n, workers > 0 ? workers : ProcessInfo.processInfo.activeProcessorCount))
    if w == 1 { return try (0..<n).map(body) }
    let next = SendableBox([Int?]([0]))
    let out = SendableBox([T?](repeating: nil, count: n))
    let failure = SendableBox([Error?]([nil]))
    try withoutActuallyEscaping(body) { b in
        let work = UnsafeSendable(b)
        DispatchQueue.concurrentPerform(iterations: w) { _ in
            let threads = s2c_get_threads()
            s2c_set_threads(1)
            defer { s2c_set_threads(threads) }
            while let i = next.claim(below: n) {
                do {
                    out.set(i, try work.value(i))
                } catch {
                    failure.set(0, error)
                    return
                }
            }
        }
        if let e = failure.value[0] { throw e }
    }
    return out.value.map { $0! }
}
