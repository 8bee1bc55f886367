/// How alike two duplicate images are, from the strictest tier.
///
/// Identical: the same decoded pixels. Near-duplicate: edits of one photo (re-encoding, resizing, a small
/// crop, brightness, mirroring), linked by pixel evidence. Similar: the same scene or object in another
/// photo, linked by the network alone.
public enum DuplicateTier: String, Codable, Sendable, CaseIterable, Comparable {
    case identical
    case nearDuplicate = "near-duplicate"
    case similar

    public static func < (a: DuplicateTier, b: DuplicateTier) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// One kind of evidence of a duplicate search: the searched sets (the only one, or the reference and
/// the queries) and the pairs its search linked.
public struct DuplicateEvidence: Sendable {
    public let sets: [DuplicateSet]
    public let links: [DuplicateLink]

    public init(sets: [DuplicateSet], links: [DuplicateLink]) {
        precondition((1...2).contains(sets.count), "evidence covers one set or a reference and queries")
        self.sets = sets
        self.links = links
    }

    /// The squared L2 distance between the two images of `link` in this evidence.
    public func distance(_ link: DuplicateLink) -> Float {
        sets[link.a.set].distance(link.a.row, sets[link.b.set], link.b.row)
    }

    /// Whether the two images of `link` have the same decoded pixels (equal content keys).
    public func identical(_ link: DuplicateLink) -> Bool {
        sets[link.a.set].keys[link.a.row] == sets[link.b.set].keys[link.b.row]
    }
}

/// Two images reported as duplicates: their tier and each kind of evidence's distance.
public struct DuplicatePair: Sendable, Equatable {
    public let link: DuplicateLink
    public let tier: DuplicateTier
    /// Squared L2 distance of the pixel evidence (nil when there was none).
    public let pixelDistance: Float?
    /// Squared L2 distance of the network's embeddings (nil when there was none).
    public let networkDistance: Float?

    /// Every pair linked by `pixels` (near-duplicates) or `network` (similar, unless the pixels link it
    /// too), identical where the pixels are equal; each carries the distances of both kinds of evidence
    /// that were given. Sorted by tier, then by the distance that put it there, then by link.
    public static func tiers(pixels: DuplicateEvidence?, network: DuplicateEvidence?) -> [DuplicatePair] {
        precondition(pixels != nil || network != nil, "tiers need at least one kind of evidence")
        let near = Set(pixels?.links ?? [])
        let all = near.union(network?.links ?? [])
        let pairs = all.map { link in
            let evidence = (pixels ?? network)!
            let tier: DuplicateTier =
                evidence.identical(link) ? .identical : near.contains(link) ? .nearDuplicate : .similar
            return DuplicatePair(
                link: link, tier: tier, pixelDistance: pixels?.distance(link), networkDistance: network?.distance(link))
        }
        return pairs.sorted { x, y in
            (x.tier, x.rankingDistance, x.link) < (y.tier, y.rankingDistance, y.link)
        }
    }

    /// The distance of the evidence that set the tier: pixels for identical and near-duplicate pairs
    /// (when measured), else the network's.
    private var rankingDistance: Float {
        (tier == .similar ? networkDistance : pixelDistance ?? networkDistance) ?? 0
    }
}
