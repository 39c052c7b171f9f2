import Testing
@testable import QuantModel
@Test func placeholderQuantModel() { #expect(true) }
