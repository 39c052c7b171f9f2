// Calibrate: float reference execution of S2C-Hybrid (FloatModel), observers, and later the quantizer.
import QuantModel

/// Module identification for tools and version strings.
public enum CalibrateInfo {
    /// Module name.
    public static let name = "calibrate"
}
