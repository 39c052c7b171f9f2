// PSNRTests: the one PSNR definition (8-bit peak, capped at the lossless value).
import ImageIO
import Testing

@Test func psnrDefinition() {
    // One sample off by 1 in 3: MSE 1/3, PSNR 10 log10(3 * 255^2) = 52.902 dB.
    #expect(abs(PSNR.compute([0, 10, 20], [0, 11, 20]) - 52.902016) < 1e-5)
    #expect(PSNR.compute([1, 2], [1, 2]) == PSNR.lossless)
    #expect(PSNR.fromMSE(1e-12) == PSNR.lossless, "capped")
    #expect(abs(PSNR.fromMSE(255 * 255) - 0) < 1e-12)
}
