import Common
import XCTest

@testable import TSNE

/// t-SNE inputs whose squared distances overflow float32 (values near 1e19) used to write
/// out of bounds (a neighbour id of -1 in the affinities); they are refused up front.
final class TSNEHostileInputTests: XCTestCase {
    func testRowsWhoseDistancesOverflowAreRefused() {
        var values = (0..<60 * 4).map { Float($0 % 13) }
        for j in 9 * 4..<10 * 4 { values[j] = 1e19 }
        let data = Matrix(rows: 60, columns: 4, values: values)
        XCTAssertThrowsError(try TSNE(perplexity: 5, iterations: 10, seed: 0, threads: 1).embed(data)) { error in
            XCTAssertTrue("\(error)".contains("row 9 is so large"), "\(error)")
        }
        XCTAssertThrowsError(try Affinities(data: data, perplexity: 5, threads: 1))
    }
}
