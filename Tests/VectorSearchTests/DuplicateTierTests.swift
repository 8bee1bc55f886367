import Common
import XCTest

@testable import VectorSearch

/// `DuplicatePair.tiers`: pixel links are near-duplicates, network-only links similar, equal pixels identical.
final class DuplicateTierTests: XCTestCase {
    private func unit(_ values: [Float]) -> [Float] {
        let length = values.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return values.map { $0 / length }
    }

    /// Five images: 0 and 1 identical pixels, 2 an edit of 0 (close pixels), 3 another photo of 0's
    /// scene (far pixels, close network), 4 unrelated.
    private func evidence() throws -> (pixels: DuplicateEvidence, network: DuplicateEvidence) {
        let keys = ["a", "a", "b", "c", "d"]
        let pixelRows = [[1, 0, 0], [1, 0, 0], [1, 0.1, 0], [0, 1, 0], [0, 0, 1]].map { unit($0) }
        let networkRows = [[1, 0, 0], [1, 0, 0], [1, 0.2, 0], [1, 0.3, 0], [0, 0, 1]].map { unit($0) }
        let pixels = DuplicateSet(points: Matrix(rows: 5, columns: 3, values: pixelRows.flatMap { $0 }), keys: keys)
        let network = DuplicateSet(points: Matrix(rows: 5, columns: 3, values: networkRows.flatMap { $0 }), keys: keys)
        let near = DuplicateSearch(threshold: 0.02, k: 4, threads: 1)
        let similar = DuplicateSearch(threshold: 0.1, k: 4, threads: 1)
        return (
            DuplicateEvidence(sets: [pixels], links: near.links(in: pixels, neighbors: try near.neighbors(within: pixels))),
            DuplicateEvidence(
                sets: [network], links: similar.links(in: network, neighbors: try similar.neighbors(within: network)))
        )
    }

    private func link(_ a: Int, _ b: Int) -> DuplicateLink {
        DuplicateLink(DuplicateItem(set: 0, row: a), DuplicateItem(set: 0, row: b))
    }

    func testEachPairGetsItsTierAndBothDistances() throws {
        let (pixels, network) = try evidence()
        let pairs = DuplicatePair.tiers(pixels: pixels, network: network)
        let tiers = Dictionary(uniqueKeysWithValues: pairs.map { ($0.link, $0.tier) })
        XCTAssertEqual(tiers[link(0, 1)], .identical)
        XCTAssertEqual(tiers[link(0, 2)], .nearDuplicate)
        XCTAssertEqual(tiers[link(1, 2)], .nearDuplicate)
        XCTAssertEqual(tiers[link(0, 3)], .similar, "close for the network only")
        XCTAssertNil(tiers[link(0, 4)], "linked by neither")
        XCTAssertEqual(pairs.map(\.tier), pairs.map(\.tier).sorted(), "identical, then near-duplicate, then similar")
        for pair in pairs {
            XCTAssertEqual(pair.pixelDistance ?? -1, pixels.distance(pair.link), accuracy: 1e-6)
            XCTAssertEqual(pair.networkDistance ?? -1, network.distance(pair.link), accuracy: 1e-6)
        }
        let similar = pairs.filter { $0.tier == .similar }.compactMap(\.networkDistance)
        XCTAssertEqual(similar, similar.sorted(), "similar pairs nearest first")
    }

    func testOneKindOfEvidenceAlone() throws {
        let (pixels, network) = try evidence()
        let pixelPairs = DuplicatePair.tiers(pixels: pixels, network: nil)
        XCTAssertEqual(Set(pixelPairs.map(\.tier)), [.identical, .nearDuplicate])
        XCTAssertTrue(pixelPairs.allSatisfy { $0.networkDistance == nil && $0.pixelDistance != nil })
        let networkPairs = DuplicatePair.tiers(pixels: nil, network: network)
        XCTAssertEqual(
            Set(networkPairs.map(\.tier)), [.identical, .similar], "without pixels nothing is called a near-duplicate")
        XCTAssertTrue(networkPairs.allSatisfy { $0.pixelDistance == nil && $0.networkDistance != nil })
    }

    func testGroupsAreTheComponentsOfTheLinks() throws {
        let (pixels, _) = try evidence()
        let groups = DuplicateSearch.groups(of: pixels.links, sets: pixels.sets)
        XCTAssertEqual(groups.map { $0.members.map(\.item.row) }, [[0, 1, 2]])
        let across = DuplicateSearch.groups(
            of: [DuplicateLink(DuplicateItem(set: 1, row: 0), DuplicateItem(set: 0, row: 2))],
            sets: [pixels.sets[0], pixels.sets[0]])
        XCTAssertEqual(across.map { $0.members.map(\.item) }, [[DuplicateItem(set: 0, row: 2), DuplicateItem(set: 1, row: 0)]])
    }
}
