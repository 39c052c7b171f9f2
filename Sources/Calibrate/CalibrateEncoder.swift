// CalibrateEncoder.swift: calibration of the integer encoder front end (QuantModel/IntAnalysis):
// 8-bit pixels -> g_a -> y, per-quality gains into the fixed-point y', h_a -> z in the
// fixed point of the decoder's z_hat, so that encoding needs only the .s2cq file.
import Foundation
import QuantModel

/// Writes the integer encoder front end. quantizeDecoder must have run first (it fixes
/// `y_frac_bits`, `z_frac_bits` and `z.median`). Tensors: g_a's layers, `gain.mult`/`.shift`
/// [Q, M] and `gain.clamp` (y -> y' in Q`y_frac_bits`), `h_a.in` (y' -> h_a's input), h_a's
/// layers, `z.out` (h_a's output -> z in Q`z_frac_bits`).
public func quantizeEncoder(_ model: FloatModel, _ q: inout LayerQuantizer) throws {
    let cfg = model.config
    // The fixed-point formats exactly as quantizeDecoder wrote them.
    guard case .u32(let yF)? = q.writer.metadata(ModelKey.yFracBits), case .u32(let zF)? = q.writer.metadata(ModelKey.zFracBits) else {
        throw CalibrationError.unsupported("quantizeEncoder needs quantizeDecoder's y_frac_bits and z_frac_bits")
    }
    let yFrac = Int(yF), zFrac = Int(zF)
    // Pixels: int16 = byte value, real scale 1/255 exactly.
    let qPx = q.inputQmax(model.gA[0])
    guard qPx >= 255 else { throw CalibrationError.unsupported("g_a.0 cannot take 8-bit pixels (input bound \(qPx))") }
    let sY = try q.sequence(model.gA, sIn: 1.0 / 255)

    // y' = y * gain(level) in Q(yFrac), saturated to int16.
    let oneY = pow(2, Double(yFrac))
    var mult: [Int32] = [], shift: [Int32] = []
    for row in 0..<qualityRows(cfg) {
        for g in model.gains(quality: qualityOfRow(row)).gain {
            let m = FixedMultiplier(sY * Double(g) * oneY)
            mult.append(m.mult)
            shift.append(m.shift)
        }
    }
    q.writer.add(TensorName.gain + TensorName.mult, shape: [qualityRows(cfg), cfg.latent], int32: mult)
    q.writer.add(TensorName.gain + TensorName.shift, shape: [qualityRows(cfg), cfg.latent], int32: shift)
    q.writer.add(TensorName.gain + TensorName.clamp, shape: [1], int32: [Int32(LayerQuantizer.full)])

    // h_a reads y' in its own input scale; z leaves it in the decoder's z_hat format.
    let qHa = q.inputQmax(model.hA[0])
    let sHaIn = try q.scale("y_gained", qHa)
    q.rescale(TensorName.hyperAnalysisInput, sIn: Array(repeating: 1 / oneY, count: cfg.latent), sOut: sHaIn, qmax: qHa)
    let sH = try q.sequence(model.hA, sIn: sHaIn)
    q.rescale(TensorName.zOutput, sIn: Array(repeating: sH, count: cfg.hyper), sOut: pow(2, -Double(zFrac)),
              qmax: LayerQuantizer.full)
}

/// The whole integer codec: quantizeDecoder, then quantizeEncoder.
public func quantizeCodec(_ model: FloatModel, _ q: inout LayerQuantizer) throws {
    try quantizeDecoder(model, &q)
    try quantizeEncoder(model, &q)
}
