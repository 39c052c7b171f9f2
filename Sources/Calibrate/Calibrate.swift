/// Calibrate: float reference runtime and quantizer (placeholder).
import QuantModel
public enum CalibrateInfo { public static let name = "calibrate" }
