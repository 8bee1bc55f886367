internal import CBLAS
public import Common

extension Neighbors {
    /// Whether these lists can be leave-one-out inner-product neighbor lists of `points`' rows:
    /// one list per row, ids of other rows without repeats, similarities finite, best first,
    /// and each equal (within `tolerance`) to the inner product it claims.
    ///
    /// Lists read back from a file are checked so before use: damage (NaN, negated or
    /// reordered similarities, ids shuffled within range) fails one of the tests. It cannot
    /// tell a list that skips a nearer row from the exact one; only a new search can.
    public func agrees(withRowsOf points: Matrix, tolerance: Float = 1e-4) -> Bool {
        guard queries == points.rows, k < points.rows || k == 0 else { return false }
        let columns = points.columns
        let verdicts = points.values.withUnsafeBufferPointer { values in
            parallelMap(queries) { q in
                let listed = ids(of: q), similarities = distances(of: q), ordered = listed.sorted()
                guard listed.allSatisfy({ $0 != q && (0..<queries).contains($0) }),
                    zip(ordered, ordered.dropFirst()).allSatisfy({ $0 != $1 }),
                    similarities.allSatisfy(\.isFinite), zip(similarities, similarities.dropFirst()).allSatisfy({ $0 >= $1 })
                else { return false }
                return zip(listed, similarities).allSatisfy { id, similarity in
                    let product = cblas_sdot(
                        Int32(columns), values.baseAddress! + q * columns, 1, values.baseAddress! + id * columns, 1)
                    return abs(product - similarity) <= tolerance * max(1, abs(similarity))
                }
            }
        }
        return verdicts.allSatisfy { $0 }
    }
}
