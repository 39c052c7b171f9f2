// IntEntropyTests: the integer hyper-synthesis and SCCTX parameter networks of hybrid-nano:
// encoder and decoder reconstruct the same y_hat' from the same symbols, and the integer
// symbols, code lengths and decoded image track the float model.
import FixedPoint
import Foundation
import QuantModel
import Testing
@testable import Calibrate

@Test func integerEntropyModelIsSymmetricAndTracksFloat() throws {
    let (file, samples, model) = try nanoSynthesis()
    for r in try compareDecoder(file, samples, model, Kernels.best()) {
        print(String(format: "nano quality %d: y bits integer %.1f, float sigmas with integer tables %.1f "
                     + "(float likelihoods %.1f), symbols equal %.1f%%, decoded x vs float %.2f dB",
                     r.quality, r.integerBits, r.floatTableBits, r.floatLikelihoodBits, 100 * r.symbolAgreement, r.psnr))
        #expect(r.symmetric, "quality \(r.quality): decoder diverged from encoder")
        #expect(r.symbolAgreement >= 0.98, "only \(r.symbolAgreement) of the symbols match the float model's")
        #expect(abs(r.integerBits - r.floatTableBits) <= 0.03 * r.floatTableBits + 16)
        #expect(r.psnr >= 35, "decoded image \(r.psnr) dB from the float decoder's")
    }
}

@Test func codeLengthOfEscapes() {
    let set = CDFTableSet(cdf: [0, 16384, 49152, 65535, 65536], offsets: [0], tails: [1])
    #expect(codeLength(set, 0, 0) == 1)
    #expect(codeLength(set, 0, -1) == 2)
    #expect(codeLength(set, 0, 5) == 16 + 32)     // escape symbol (frequency 1) + raw bits
}
