// ProcessMemory.swift: process-wide malloc tuning for the command-line tools.
#if canImport(Glibc)
import Glibc
#endif

/// Process-wide tuning for tools that run whole-image networks.
public enum ProcessMemory {
    /// Makes glibc malloc serve large blocks from the heap and keep freed memory, so the many
    /// large activations of a whole-image network reuse pages instead of being mmap'ed, faulted
    /// in and zeroed again each time (a third of a 768x512 float forward, ~10% of an integer
    /// decode). The heap then never shrinks: call it in tools, not in long-lived libraries.
    public static func keepFreedMemory() {
        #if canImport(Glibc)
        // <malloc.h> is not part of the Glibc module: look mallopt up (RTLD_DEFAULT is NULL).
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let sym = dlsym(nil, "mallopt") else { return }
        let mallopt = unsafeBitCast(sym, to: Mallopt.self)
        _ = mallopt(-4, 0)              // M_MMAP_MAX: never mmap
        _ = mallopt(-1, Int32.max)      // M_TRIM_THRESHOLD: never give the heap top back
        #endif
    }
}
