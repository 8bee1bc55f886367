import Common
import XCTest

final class SeededGeneratorTests: XCTestCase {
    func testSameSeedSameSequenceAndKnownFirstValue() {
        var a = SeededGenerator(seed: 0)
        var b = SeededGenerator(seed: 0)
        // SplitMix64's published first output for seed 0.
        XCTAssertEqual(a.next(), 0xE220_A839_7B1D_CDAF)
        _ = b.next()
        XCTAssertEqual((0..<5).map { _ in a.next() }, (0..<5).map { _ in b.next() })
        var c = SeededGenerator(seed: 1)
        XCTAssertNotEqual(c.next(), 0xE220_A839_7B1D_CDAF)
    }
}
