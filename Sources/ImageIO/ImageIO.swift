/// ImageIO: PNG reading and writing on libpng (placeholder).
import _CLibPNG
public enum ImageIOInfo { public static let pngVersion = PNG_LIBPNG_VER }
