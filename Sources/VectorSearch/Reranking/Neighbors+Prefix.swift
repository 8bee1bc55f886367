extension Neighbors {
    /// The first `k` neighbors of every query (all of them when `k >= self.k`).
    public func prefix(_ k: Int) -> Neighbors {
        guard k < self.k else { return self }
        return Neighbors(
            queries: queries, k: k,
            ids: (0..<queries).flatMap { ids(of: $0).prefix(k) },
            distances: (0..<queries).flatMap { distances(of: $0).prefix(k) })
    }
}
