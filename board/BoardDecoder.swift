// BoardDecoder.swift: the C interface of the board decoder (board/s2c_dec.c). Compiled together
// with the decode path (Sources/QuantModel) as Embedded Swift, so it stays within that subset:
// no Foundation, no existentials. The C side does file I/O and image files; this side parses,
// validates and decodes. One bitstream, one model and one decoded image are held at a time.
//
// Every function that can fail returns 0 on success, or 1 with a one-line message in `err`
// (UTF-8, NUL-terminated, truncated to `errCap` bytes).
import FixedPoint

nonisolated(unsafe) var boardStream: Bitstream? = nil
nonisolated(unsafe) var boardCodec: IntCodec? = nil
nonisolated(unsafe) var boardImage: DecodedImage? = nil

func putMessage(_ message: String, _ err: UnsafeMutablePointer<UInt8>?, _ errCap: Int) -> Int32 {
    guard let err, errCap > 0 else { return 1 }
    let bytes = Array(message.utf8)
    var n = min(bytes.count, errCap - 1)
    // A cut inside a UTF-8 sequence drops the whole character (continuation bytes are 10xxxxxx).
    if n < bytes.count { while n > 0 && bytes[n] & 0xC0 == 0x80 { n -= 1 } }
    for i in 0..<n { err[i] = bytes[i] }
    err[n] = 0
    return 1
}

/// Largest bitstream a valid header can describe (the reader's cap).
@_cdecl("s2c_board_max_stream_bytes")
public func boardMaxStreamBytes() -> Int { Bitstream.maxSize }

/// Parses and fully validates a bitstream (header, tile table, CRCs) and keeps it for
/// s2c_board_decode. Needs no model.
@_cdecl("s2c_board_parse_stream")
public func boardParseStream(_ data: UnsafePointer<UInt8>?, _ count: Int,
                             _ err: UnsafeMutablePointer<UInt8>?, _ errCap: Int) -> Int32 {
    boardStream = nil
    let bytes = count > 0 && data != nil ? Array(UnsafeBufferPointer(start: data, count: count)) : []
    do {
        boardStream = try Bitstream(bytes: bytes)
        return 0
    } catch {
        return putMessage(error.message, err, errCap)
    }
}

/// The kept bitstream's image: width, height, bytes per pixel (3 RGB, 1 gray), tile count,
/// model fingerprint, and its quality as text ("4.5") in `quality` (NUL-terminated).
/// Returns 1 when no bitstream is kept.
@_cdecl("s2c_board_stream_info")
public func boardStreamInfo(_ width: UnsafeMutablePointer<Int>, _ height: UnsafeMutablePointer<Int>,
                            _ channels: UnsafeMutablePointer<Int>, _ tiles: UnsafeMutablePointer<Int>,
                            _ fingerprint: UnsafeMutablePointer<UInt64>,
                            _ quality: UnsafeMutablePointer<UInt8>?, _ qualityCap: Int) -> Int32 {
    guard let h = boardStream?.header else { return 1 }
    width.pointee = h.width
    height.pointee = h.height
    channels.pointee = h.color == .gray ? 1 : 3
    tiles.pointee = h.tileCount
    fingerprint.pointee = h.fingerprint
    _ = putMessage(h.qualityText, quality, qualityCap)
    return 0
}

/// Loads a model file of `count` bytes: `fill(dst, count, ctx)` must write exactly `count`
/// bytes to `dst` and return 0 (non-zero: it failed and has said why). The raw bytes are dropped
/// once the integer layers are built, so the model is held once.
@_cdecl("s2c_board_load_model")
public func boardLoadModel(_ count: Int,
                           _ fill: @convention(c) (UnsafeMutablePointer<UInt8>?, Int, UnsafeMutableRawPointer?) -> Int32,
                           _ ctx: UnsafeMutableRawPointer?,
                           _ err: UnsafeMutablePointer<UInt8>?, _ errCap: Int) -> Int32 {
    boardCodec = nil
    s2c_keep_freed_memory()  // a whole-image decoder: reuse freed activations' pages (as s2c-int does)
    guard count >= 0 else { return putMessage("negative model size", err, errCap) }
    var filled: Int32 = 0
    let bytes = [UInt8](unsafeUninitializedCapacity: count) { buf, n in
        filled = fill(buf.baseAddress, count, ctx)
        n = filled == 0 ? count : 0
    }
    if filled != 0 { return 1 }
    do {
        boardCodec = try IntCodec(model: try ModelFile(bytes: bytes), decodeOnly: true)
        return 0
    } catch {
        return putMessage(error.message, err, errCap)
    }
}

/// The loaded model's fingerprint (0 when none is loaded).
@_cdecl("s2c_board_model_fingerprint")
public func boardModelFingerprint() -> UInt64 { boardCodec?.fingerprint ?? 0 }

/// Decodes the kept bitstream with the loaded model and the best kernels of this CPU (under
/// S2C_CPU_MASK / s2c_set_cpu_mask); drops the bitstream and keeps the image. `progress` (may be
/// NULL) is called after each tile with (tiles done, tile count, ctx).
@_cdecl("s2c_board_decode")
public func boardDecode(_ progress: (@convention(c) (Int, Int, UnsafeMutableRawPointer?) -> Void)?,
                        _ ctx: UnsafeMutableRawPointer?,
                        _ err: UnsafeMutablePointer<UInt8>?, _ errCap: Int) -> Int32 {
    boardImage = nil
    guard let bs = boardStream else { return putMessage("no bitstream parsed", err, errCap) }
    guard let codec = boardCodec else { return putMessage("no model loaded", err, errCap) }
    boardStream = nil
    do {
        boardImage = try codec.decode(bs, Kernels.best(), progress: { done, total in progress?(done, total, ctx) })
        return 0
    } catch {
        return putMessage(error.message, err, errCap)
    }
}

/// Calls `body(pixels, count, ctx)` with the decoded image's pixels (interleaved RGB, or one
/// byte per pixel when gray; rows top to bottom) and returns what it returns; 1 if none is kept.
@_cdecl("s2c_board_with_pixels")
public func boardWithPixels(_ body: @convention(c) (UnsafePointer<UInt8>?, Int, UnsafeMutableRawPointer?) -> Int32,
                            _ ctx: UnsafeMutableRawPointer?) -> Int32 {
    guard let img = boardImage else { return 1 }
    return img.pixels.withUnsafeBufferPointer { body($0.baseAddress, $0.count, ctx) }
}

/// Drops everything kept (bitstream, model, image).
@_cdecl("s2c_board_release")
public func boardRelease() {
    boardStream = nil
    boardCodec = nil
    boardImage = nil
}

/// The release and format versions (S2CVersion.line) into `buf`, NUL-terminated.
@_cdecl("s2c_board_version")
public func boardVersion(_ buf: UnsafeMutablePointer<UInt8>?, _ cap: Int) {
    _ = putMessage(S2CVersion.line, buf, cap)
}
