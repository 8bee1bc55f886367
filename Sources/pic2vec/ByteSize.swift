import ArgumentParser

/// A byte count given on the command line: "1GB", "512MB", "800kB", "2G", "1.5GiB" or plain bytes.
struct ByteSize: ExpressibleByArgument, Equatable {
    let bytes: Int

    private static let units: [(String, Double)] = [
        ("tib", 0x100_0000_0000), ("gib", 0x4000_0000), ("mib", 0x10_0000), ("kib", 0x400),
        ("tb", 1e12), ("gb", 1e9), ("mb", 1e6), ("kb", 1e3), ("t", 1e12), ("g", 1e9), ("m", 1e6), ("k", 1e3), ("b", 1),
    ]

    init?(argument: String) {
        let text = argument.lowercased().filter { $0 != " " }
        let (suffix, scale) = Self.units.first { text.hasSuffix($0.0) } ?? ("", 1)
        guard let number = Double(text.dropLast(suffix.count)), number.isFinite, number > 0, number * scale < 9e18 else {
            return nil
        }
        bytes = Int(number * scale)
    }
}
