import Testing
@testable import Calibrate
@Test func placeholderCalibrate() { #expect(true) }
