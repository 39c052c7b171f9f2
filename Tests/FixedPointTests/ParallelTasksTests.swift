// s2c_parallel_tasks: every task runs exactly once, on any thread count, with n = 0, 1 and many.
import FixedPoint
import Synchronization
import Testing

@Suite struct ParallelTasksTests {
    @Test(arguments: [1, 2, 3])
    func everyTaskRunsOnce(threads: Int) {
        s2c_set_threads(Int32(threads))
        defer { s2c_set_threads(0) }
        for n in [0, 1, 2, 7, 100] {
            let counts = UnsafeMutablePointer<Atomic<Int>>.allocate(capacity: max(n, 1))
            for i in 0..<max(n, 1) { (counts + i).initialize(to: Atomic(0)) }
            defer { counts.deallocate() }
            s2c_parallel_tasks(Int32(n), { ctx, i in
                ctx!.assumingMemoryBound(to: Atomic<Int>.self)[Int(i)].add(1, ordering: .relaxed)
            }, UnsafeMutableRawPointer(counts))
            for i in 0..<n { #expect(counts[i].load(ordering: .relaxed) == 1, "n \(n), task \(i)") }
            if n == 0 { #expect(counts[0].load(ordering: .relaxed) == 0) }
        }
    }
}
