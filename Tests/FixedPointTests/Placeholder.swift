import Testing
@testable import FixedPoint
@Test func placeholderFixedPoint() { #expect(true) }
