// Whole-file reads with a size cap, and atomic writes (temp file + rename); "-" means stdin/stdout.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reading whole files (or stdin) into memory.
public enum FileIO {
    /// Reads all bytes of `path` ("-" reads stdin), refusing more than `maxBytes`.
    public static func readAll(path: String, maxBytes: Int = ImageLimits.maxFileBytes) throws -> [UInt8] {
        let isStdin = path == "-"
        let name = isStdin ? "<stdin>" : path
        let fd = isStdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw ImageIOError.system(path: name, operation: "open", code: errno) }
        defer { if !isStdin { close(fd) } }

        var st = stat()
        if fstat(fd, &st) != 0 { throw ImageIOError.system(path: name, operation: "stat", code: errno) }
        if (st.st_mode & S_IFMT) == S_IFDIR { throw ImageIOError.system(path: name, operation: "read", code: EISDIR) }
        var bytes: [UInt8] = []
        if (st.st_mode & S_IFMT) == S_IFREG {
            if Int(st.st_size) > maxBytes { throw ImageIOError.fileTooLarge(path: name, limit: maxBytes) }
            // A regular file: read straight into the array's storage (one copy, no staging buffer).
            // Reading stops at the size fstat gave; a file that grew meanwhile goes on through the
            // chunked loop below, under the same cap.
            let size = Int(st.st_size)
            var failure: Int32 = 0
            bytes = [UInt8](unsafeUninitializedCapacity: size) { buf, count in
                count = 0
                while count < size {
                    let n = read(fd, buf.baseAddress! + count, size - count)
                    if n < 0 {
                        if errno == EINTR { continue }
                        failure = errno
                        return
                    }
                    if n == 0 { return }            // the file shrank: what is there is the file
                    count += n
                }
            }
            if failure != 0 { throw ImageIOError.system(path: name, operation: "read", code: failure) }
            if bytes.count < size { return bytes }
        }
        // Read in chunks until EOF; pipes and growing files are capped as we go.
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ImageIOError.system(path: name, operation: "read", code: errno)
            }
            if n == 0 { break }
            if bytes.count + n > maxBytes { throw ImageIOError.fileTooLarge(path: name, limit: maxBytes) }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return bytes
    }

    /// Writes every byte to `fd`, retrying short writes and EINTR.
    static func writeAll(fd: Int32, _ bytes: [UInt8], name: String) throws {
        try bytes.withUnsafeBytes { buf in
            var done = 0
            while done < buf.count {
                let n = write(fd, buf.baseAddress! + done, buf.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw ImageIOError.system(path: name, operation: "write", code: errno)
                }
                done += n
            }
        }
    }
}

/// Writing files so that readers see either the old file or the complete new one, never a part.
public enum AtomicFile {
    /// Writes `bytes` to `path` ("-" writes stdout) through `path.tmp-XXXXXX` and rename(2).
    ///
    /// When `input` is given and `path` names the same file (same device and inode, so links
    /// and symlinks count), nothing is written and `ImageIOError.sameFile` is thrown.
    /// On any failure the temporary file is removed and `path` is left untouched.
    public static func write(_ bytes: [UInt8], to path: String, notOver input: String? = nil) throws {
        if path == "-" {
            try FileIO.writeAll(fd: STDOUT_FILENO, bytes, name: "<stdout>")
            return
        }
        if let input, input != "-", isSameFile(path, input) {
            throw ImageIOError.sameFile(output: path, input: input)
        }
        var outStat = stat()
        if stat(path, &outStat) == 0, (outStat.st_mode & S_IFMT) == S_IFDIR {
            throw ImageIOError.system(path: path, operation: "write", code: EISDIR)
        }

        // O_EXCL on a random name instead of mkstemp: the file gets 0666 & ~umask, like any
        // other new file, rather than mkstemp's 0600.
        var rng = SystemRandomNumberGenerator()
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789".utf8)
        var tmp = ""
        var fd: Int32 = -1
        for _ in 0..<100 {
            let suffix = String(decoding: (0..<6).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] },
                                as: UTF8.self)
            tmp = path + ".tmp-" + suffix
            fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
            if fd >= 0 || errno != EEXIST { break }
        }
        if fd < 0 { throw ImageIOError.system(path: path, operation: "create temporary file", code: errno) }

        do {
            try FileIO.writeAll(fd: fd, bytes, name: path)
            if fsync(fd) != 0 { throw ImageIOError.system(path: path, operation: "fsync", code: errno) }
            let fdToClose = fd
            fd = -1
            if close(fdToClose) != 0 { throw ImageIOError.system(path: path, operation: "close", code: errno) }
            if rename(tmp, path) != 0 { throw ImageIOError.system(path: path, operation: "rename", code: errno) }
        } catch {
            if fd >= 0 { close(fd) }
            unlink(tmp)
            throw error
        }
    }

    /// True when both paths exist and resolve to the same device and inode.
    public static func isSameFile(_ a: String, _ b: String) -> Bool {
        var sa = stat(), sb = stat()
        guard stat(a, &sa) == 0, stat(b, &sb) == 0 else { return false }
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino
    }
}
