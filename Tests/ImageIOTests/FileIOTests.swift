// Atomic writes (no temp files left, never over the input) and capped whole-file reads.
#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import ImageIO

@Suite struct FileIOTests {
    @Test func atomicWriteLeavesOnlyTheTarget() throws {
        let dir = TestPNG.tempDir()
        defer { TestPNG.removeDir(dir) }
        try AtomicFile.write([1, 2, 3], to: dir + "/out.bin")
        try AtomicFile.write([4, 5], to: dir + "/out.bin")  // replace
        #expect(TestPNG.list(dir) == ["out.bin"])
        #expect(try FileIO.readAll(path: dir + "/out.bin") == [4, 5])
    }

    @Test func refusesToOverwriteTheInput() throws {
        let dir = TestPNG.tempDir()
        defer { TestPNG.removeDir(dir) }
        let input = dir + "/in.png"
        try AtomicFile.write([9, 9, 9], to: input)
        #expect(throws: ImageIOError.sameFile(output: input, input: input)) {
            try AtomicFile.write([0], to: input, notOver: input)
        }
        // The same file reached through another name is refused too.
        let alias = dir + "/alias.png"
        #expect(symlink(input, alias) == 0)
        #expect(throws: ImageIOError.sameFile(output: alias, input: input)) {
            try AtomicFile.write([0], to: alias, notOver: input)
        }
        #expect(try FileIO.readAll(path: input) == [9, 9, 9])
        #expect(TestPNG.list(dir) == ["alias.png", "in.png"])
    }

    @Test func failedWriteLeavesNothing() throws {
        let dir = TestPNG.tempDir()
        defer { TestPNG.removeDir(dir) }
        #expect(throws: ImageIOError.self) { try AtomicFile.write([1], to: dir + "/missing/out.bin") }
        #expect(mkdir(dir + "/sub", 0o755) == 0)
        #expect(throws: ImageIOError.self) { try AtomicFile.write([1], to: dir + "/sub") }
        rmdir(dir + "/sub")
        #expect(TestPNG.list(dir).isEmpty)
    }

    @Test func pngWriteAndReadBack() throws {
        let dir = TestPNG.tempDir()
        defer { TestPNG.removeDir(dir) }
        let img = RGBImage(width: 2, height: 1, pixels: [1, 2, 3, 4, 5, 6])
        try PNGIO.write(img, to: dir + "/x.png")
        #expect(try PNGIO.read(path: dir + "/x.png") == img)
    }

    @Test func readErrorsNameTheFile() throws {
        let dir = TestPNG.tempDir()
        defer { TestPNG.removeDir(dir) }
        let missing = dir + "/nope.png"
        let err = #expect(throws: ImageIOError.self) { try PNGIO.read(path: missing) }
        #expect(err.map { "\($0)" }?.hasPrefix(missing + ": open failed: ") == true)
        try AtomicFile.write([], to: dir + "/empty.png")
        #expect(throws: ImageIOError.empty(path: dir + "/empty.png")) { try PNGIO.read(path: dir + "/empty.png") }
    }

    @Test func readCapIsEnforced() throws {
        let dir = TestPNG.tempDir()
        defer { TestPNG.removeDir(dir) }
        try AtomicFile.write([UInt8](repeating: 7, count: 100), to: dir + "/f")
        #expect(throws: ImageIOError.fileTooLarge(path: dir + "/f", limit: 99)) { try FileIO.readAll(path: dir + "/f", maxBytes: 99) }
        #expect(try FileIO.readAll(path: dir + "/f", maxBytes: 100).count == 100)
    }

    /// Regular files are read into their array in one pass; sizes around the 64 KiB chunk of the
    /// fallback loop, and a /proc file (reported as 0 bytes, not empty), come back whole.
    @Test func readAllReturnsEveryByte() throws {
        let dir = TestPNG.tempDir()
        defer { TestPNG.removeDir(dir) }
        for n in [0, 1, 65535, 65536, 65537, 300_001] {
            let bytes = (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 2654435761 >> 13) }
            try AtomicFile.write(bytes, to: dir + "/f\(n)")
            #expect(try FileIO.readAll(path: dir + "/f\(n)") == bytes)
        }
        let status = try FileIO.readAll(path: "/proc/self/status")
        #expect(String(decoding: status, as: UTF8.self).hasPrefix("Name:"))
    }
}
