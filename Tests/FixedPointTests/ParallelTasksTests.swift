// s2c_parallel_tasks: every task runs exactly once, on any thread count, with n = 0, 1 and many;
// s2c_side_thread shrinks the kernels' team while declared, never below one thread.
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

    @Test func sideThreadsShrinkTheTeam() {
        s2c_set_threads(2)
        defer { s2c_set_threads(0) }
        #expect(s2c_team() == 2)
        s2c_side_thread(1000)               // more than any machine's cores: one thread is left
        #expect(s2c_team() == 1)
        let counts = UnsafeMutablePointer<Atomic<Int>>.allocate(capacity: 5)
        for i in 0..<5 { (counts + i).initialize(to: Atomic(0)) }
        defer { counts.deallocate() }
        s2c_parallel_tasks(5, { ctx, i in
            ctx!.assumingMemoryBound(to: Atomic<Int>.self)[Int(i)].add(1, ordering: .relaxed)
        }, UnsafeMutableRawPointer(counts))
        for i in 0..<5 { #expect(counts[i].load(ordering: .relaxed) == 1, "task \(i)") }
        s2c_side_thread(-1000)
        #expect(s2c_team() == 2)
    }
}
