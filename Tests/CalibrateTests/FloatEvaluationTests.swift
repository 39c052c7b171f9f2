// FloatEvaluationTests: eval-float's numbers are the PyTorch reference's (train/golden_check.py
// on the fixture crop, as CLITests.roundtripMatchesPyTorch), and its CSV is evaluate.py's layout.
import Foundation
import Testing
@testable import Calibrate

@Test func floatEvaluationMatchesPyTorch() throws {
    let model = try Fixtures.model()
    let rows = try evaluateFloat(model, images: try Fixtures.path(""), qualities: [2.5, 7], workers: 2)
    #expect(rows.map(\.image) == ["kodim23-crop-70x50.png", "kodim23-crop-70x50.png"])
    // torch: bpp 1.100005, PSNR 7.1027 dB at quality 2.5 (roundtripMatchesPyTorch).
    #expect(abs(rows[0].bpp - 1.100005) < 1e-4 && abs(rows[0].psnr - 7.1027) < 1e-3, "\(rows[0])")
    #expect(rows[0].msssim == nil, "70x50 is below MS-SSIM's minimum side")
    #expect(rows[1].bpp > rows[0].bpp)
    let csv = floatRDCSV(rows).split(separator: "\n").map(String.init)
    #expect(csv[0] == "image,quality,bpp,psnr,ms_ssim")
    #expect(csv[1].hasPrefix("kodim23-crop-70x50.png,2.5,1.1000") && csv[1].hasSuffix(",nan"), "\(csv[1])")
    #expect(csv.filter { $0.hasPrefix("MEAN,") }.count == 2 && csv.count == 5)
}
