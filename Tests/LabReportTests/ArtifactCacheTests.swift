import Foundation
import LabReport
import TestSupport
import XCTest

/// A cached artifact damaged after it was stored is rebuilt, never trusted.
final class ArtifactCacheDamageTests: XCTestCase {
    func testDamagedArtifactIsNotReused() throws {
        let cache = ArtifactCache(folder: try temporaryFolder())
        let inputs = ["data": "f00"]
        try cache.store("e.npy", inputs: inputs) { try Data([1, 2, 3, 4]).write(to: URL(fileURLWithPath: $0)) }
        XCTAssertEqual(cache.lookup("e.npy", inputs: inputs), cache.path("e.npy"))
        try Data([1, 2, 3, 5]).write(to: URL(fileURLWithPath: cache.path("e.npy")))
        XCTAssertNil(cache.lookup("e.npy", inputs: inputs), "a changed artifact must be rebuilt")
        try Data([1, 2]).write(to: URL(fileURLWithPath: cache.path("e.npy")))
        XCTAssertNil(cache.lookup("e.npy", inputs: inputs), "a truncated artifact must be rebuilt")
    }
}
