internal import CBLAS
import Common

/// Group rankings: each row's `R` nearest others (R = other rows in its group), with a same-group flag.
///
/// Before the pass, a seeded sample of rows sets each row's key threshold at a
/// quantile a little (three standard deviations) beyond `R / (n - 1)`, so the pass stores
/// about `1.2 R` candidates per row instead of all `n - 1`. A row whose buffer fills keeps its
/// `R` smallest and lowers its threshold (`compact`); a row that ends with fewer than `R`
/// candidates (the sample overestimated its threshold's rank) is ranked exactly afterwards.
extension AllPairsState {
    /// Sets per-row thresholds and candidate buffers.
    func prepareRankings(groups: [Int], sampleSeed: UInt64, sampleSize: Int, capacityScale: Double, threads: Int) {
        let codes = Dictionary(uniqueKeysWithValues: Set(groups).sorted().enumerated().map { ($1, Int32($0)) })
        let groupPointer = ScratchBuffer(groups.map { codes[$0] ?? 0 })
        var sizes = [Int](repeating: 0, count: codes.count)
        for i in 0..<n { sizes[Int(groupPointer[i])] += 1 }
        group = groupPointer
        var generator = SeededGenerator(seed: sampleSeed)
        let sample = Array((0..<n).shuffled(using: &generator).prefix(min(sampleSize, max(256, n / 8))))
        let expected = ScratchBuffer<Int>(repeating: 0, count: n)
        let groupSizes = sizes
        var sampleRows = [Float](repeating: 0, count: sample.count * d)
        values.withUnsafeBufferPointer { x in
            for (i, j) in sample.enumerated() { for t in 0..<d { sampleRows[i * d + t] = x[j * d + t] } }
        }
        let rows = sampleRows
        let stripes = stride(from: 0, to: n, by: 256).map { $0..<min($0 + 256, n) }
        forEachInterleaved(stripes.count, workers: threads) { _, items in
            for s in items {
                sampleThresholds(
                    stripes[s], sample: sample, sampleRows: rows, groupSizes: groupSizes, capacityScale: capacityScale,
                    expected: expected)
            }
        }
        candidateStart = [Int](repeating: 0, count: n)
        candidateCapacity = [Int32](repeating: 0, count: n)
        rankedLength = (0..<n).map { Int32(sizes[Int(groupPointer[$0])] - 1) }
        var total = 0
        for q in 0..<n {
            candidateStart[q] = total
            candidateCapacity[q] = Int32(max(expected[q], Int(rankedLength[q]) + 1))
            total += expected[q]
        }
        candidates = ScratchBuffer(repeating: 0, count: total)
        for q in 0..<n { filter[q] = max(filter[q], rankingThreshold[q]) }
    }

    /// For each row of `stripe`: the key threshold and the candidate capacity.
    private func sampleThresholds(
        _ stripe: Range<Int>, sample: [Int], sampleRows: [Float], groupSizes: [Int], capacityScale: Double,
        expected: ScratchBuffer<Int>
    ) {
        let m = sample.count
        var tile = [Float](repeating: 0, count: stripe.count * m)
        values.withUnsafeBufferPointer { x in
            guard let base = x.baseAddress else { return }
            cblas_sgemm(
                CblasRowMajor, CblasNoTrans, CblasTrans, Int32(stripe.count), Int32(m), Int32(d), 1,
                base + stripe.lowerBound * d, Int32(d), sampleRows, Int32(d), 0, &tile, Int32(m))
        }
        var keys = [Float](repeating: 0, count: m)
        for (r, q) in stripe.enumerated() {
            let relevant = groupSizes[Int(group?[q] ?? 0)] - 1
            guard relevant > 0 else {
                expected[q] = 0
                continue
            }
            var count = 0
            for (i, j) in sample.enumerated() where j != q {
                keys[count] = bias[j] + scale * tile[r * m + i]
                count += 1
            }
            let p = Double(relevant) / Double(n - 1)
            let rank = Int((p * Double(count) + 3 * (p * (1 - p) * Double(count)).squareRoot()).rounded(.up)) + 1
            if rank >= count {
                rankingThreshold[q] = .infinity
                expected[q] = n - 1
            } else {
                rankingThreshold[q] = keys.withUnsafeMutableBufferPointer {
                    Self.select(UnsafeMutableBufferPointer(rebasing: $0[0..<count]), rank: rank)
                }
                expected[q] = min(n - 1, Int(capacityScale * Double(rank) / Double(count) * Double(n - 1)) + 64)
            }
        }
    }

    /// Sorts each row's candidates and keeps the same-group flags of its `R` nearest.
    func finishRankings(groups: [Int], threads: Int) -> GroupRankings {
        guard let group, let candidates else { return GroupRankings(starts: [], lengths: [], words: []) }
        var sizes = [Int: Int]()
        for g in groups { sizes[g, default: 0] += 1 }
        let lengths = groups.map { (sizes[$0] ?? 1) - 1 }
        var offsets = [Int](repeating: 0, count: n)
        var wordCount = 0
        for q in 0..<n {
            offsets[q] = wordCount
            wordCount += (lengths[q] + 63) / 64
        }
        let starts = offsets
        let words = ScratchBuffer<UInt64>(repeating: 0, count: wordCount)
        let chunks = stride(from: 0, to: n, by: 512).map { $0..<min($0 + 512, n) }
        forEachInterleaved(chunks.count, workers: threads) { _, items in
            var scratch: [UInt32] = []
            var spare: [UInt32] = []
            for c in items {
                for q in chunks[c] where lengths[q] > 0 {
                    let used = Int(candidateCount[q])
                    if used >= lengths[q] {
                        scratch = Array(UnsafeBufferPointer(start: candidates.base + candidateStart[q], count: used))
                    } else {
                        scratch = exactCandidates(q, group: group.base)
                    }
                    Self.radixSort(&scratch, spare: &spare)
                    for i in 0..<lengths[q] where scratch[i] & 1 == 1 {
                        words[starts[q] + i >> 6] |= 1 << UInt64(i & 63)
                    }
                }
            }
        }
        return GroupRankings(starts: starts, lengths: lengths, words: words.elements)
    }

    /// Sorts `values` ascending: least-significant-digit radix sort, three 11-bit passes
    /// (`spare` is reused scratch space).
    static func radixSort(_ values: inout [UInt32], spare: inout [UInt32]) {
        if spare.count < values.count { spare = [UInt32](repeating: 0, count: values.count) }
        var counts = [Int](repeating: 0, count: 2048)
        for shift in stride(from: UInt32(0), to: 33, by: 11) {
            for i in counts.indices { counts[i] = 0 }
            for v in values { counts[Int(v >> shift & 2047)] += 1 }
            var total = 0
            for i in counts.indices { (counts[i], total) = (total, total + counts[i]) }
            for v in values {
                let digit = Int(v >> shift & 2047)
                spare[counts[digit]] = v
                counts[digit] += 1
            }
            values.withUnsafeMutableBufferPointer { out in
                spare.withUnsafeBufferPointer { source in
                    for i in out.indices { out[i] = source[i] }
                }
            }
        }
    }

    /// Every other row of row q as a packed candidate (the fallback when sampling missed).
    private func exactCandidates(_ q: Int, group: UnsafeMutablePointer<Int32>) -> [UInt32] {
        var dots = [Float](repeating: 0, count: n)
        values.withUnsafeBufferPointer { x in
            guard let base = x.baseAddress else { return }
            cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(n), Int32(d), 1, base, Int32(d), base + q * d, 1, 0, &dots, 1)
        }
        return (0..<n).filter { $0 != q }.map { Self.pack(bias[$0] + scale * dots[$0], sameGroup: group[q] == group[$0]) }
    }
}
