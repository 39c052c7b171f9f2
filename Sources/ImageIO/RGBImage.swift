// RGBImage and ImageIOError: the value types every PNG and file helper in ImageIO returns or throws.

/// An 8-bit image as interleaved RGB, 3 bytes per pixel, rows top to bottom, no padding.
///
/// Grayscale sources keep `isGrayscale == true` and carry the gray value in all three
/// channels, so every consumer sees one layout; `PNGIO.encode` writes them back as 8-bit gray.
public struct RGBImage: Equatable, Sendable {
    /// Width in pixels.
    public var width: Int
    /// Height in pixels.
    public var height: Int
    /// True when the source was a grayscale PNG (R == G == B for every pixel).
    public var isGrayscale: Bool
    /// Interleaved R, G, B bytes; `pixels.count == width * height * 3`.
    public var pixels: [UInt8]

    /// Wraps existing pixels; `pixels.count` must be `width * height * 3`.
    public init(width: Int, height: Int, isGrayscale: Bool = false, pixels: [UInt8]) {
        precondition(width >= 0 && height >= 0 && pixels.count == width * height * 3,
                     "RGBImage: pixels.count must be width * height * 3")
        self.width = width
        self.height = height
        self.isGrayscale = isGrayscale
        self.pixels = pixels
    }

    /// A black image of the given size.
    public init(width: Int, height: Int, isGrayscale: Bool = false) {
        self.init(width: width, height: height, isGrayscale: isGrayscale,
                  pixels: [UInt8](repeating: 0, count: width * height * 3))
    }
}

/// Limits applied before any pixel buffer is allocated.
public enum ImageLimits {
    /// Largest accepted side, in pixels (the bitstream stores sides in 16 bits).
    public static let maxSide = 65_535
    /// Largest accepted pixel count: 2^28 pixels is 768 MiB of RGB, already absurd for a board.
    public static let maxPixels = 1 << 28
    /// Default cap on the size of a file read into memory (1 GiB).
    public static let maxFileBytes = 1 << 30
}

/// Errors from PNG and file I/O; every message names the file it is about.
public enum ImageIOError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A system call failed (`operation` is e.g. "open", "read", "rename"; `code` is errno).
    case system(path: String, operation: String, code: Int32)
    /// The file is larger than the caller's cap.
    case fileTooLarge(path: String, limit: Int)
    /// The file has no bytes.
    case empty(path: String)
    /// The bytes do not start with the PNG signature.
    case notPNG(path: String)
    /// The PNG is damaged or truncated; `detail` is libpng's or our own explanation.
    case corrupt(path: String, detail: String)
    /// A valid PNG that s2c refuses by policy (transparency, 16-bit samples).
    case unsupported(path: String, detail: String)
    /// Width or height out of range, refused before allocating anything.
    case badDimensions(path: String, width: Int, height: Int)
    /// The output path is the same file as the input.
    case sameFile(output: String, input: String)
    /// An image handed to the encoder is inconsistent (e.g. gray flag with unequal channels).
    case invalidImage(detail: String)
    /// A folder of images holds no PNG file.
    case noImages(path: String)

    /// A message a user can act on, starting with the file name.
    public var description: String {
        switch self {
        case let .system(path, operation, code):
            return "\(path): \(operation) failed: \(errnoString(code))"
        case let .fileTooLarge(path, limit):
            return "\(path): file is larger than the \(limit)-byte limit"
        case let .empty(path):
            return "\(path): file is empty"
        case let .notPNG(path):
            return "\(path): not a PNG file (bad signature)"
        case let .corrupt(path, detail):
            return "\(path): corrupt or truncated PNG: \(detail)"
        case let .unsupported(path, detail):
            return "\(path): \(detail)"
        case let .badDimensions(path, width, height):
            return "\(path): image size \(width)x\(height) refused "
                + "(each side must be 1...\(ImageLimits.maxSide), at most \(ImageLimits.maxPixels) pixels)"
        case let .sameFile(output, input):
            return "\(output): refusing to overwrite the input file \(input)"
        case let .invalidImage(detail):
            return "invalid image: \(detail)"
        case let .noImages(path):
            return "\(path): no PNG files in this folder"
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// strerror(3) as a Swift string.
func errnoString(_ code: Int32) -> String {
    guard let c = strerror(code) else { return "errno \(code)" }
    return String(cString: c)
}
