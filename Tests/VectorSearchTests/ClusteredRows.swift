import Common

/// `count` rows of `dimension` around `clusters` seeded Gaussian centres (row i around centre
/// `i * 7919 % clusters`, offset by `spread` times Gaussian noise): neighbours exist at every
/// scale, unlike i.i.d. noise.
func clusteredRows(count: Int, dimension: Int, clusters: Int, spread: Float, seed: UInt64) -> Matrix {
    var generator = SeededGenerator(seed: seed)
    let centres = (0..<clusters * dimension).map { _ in Float(generator.nextGaussian()) }
    var values = [Float]()
    for i in 0..<count {
        let c = (i * 7919) % clusters
        for j in 0..<dimension { values.append(centres[c * dimension + j] + spread * Float(generator.nextGaussian())) }
    }
    return Matrix(rows: count, columns: dimension, values: values)
}
