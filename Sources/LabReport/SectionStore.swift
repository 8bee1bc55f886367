import Common
import Foundation

/// The report sections of earlier runs, kept beside the report (one JSON file per experiment),
/// so that running one experiment rewrites the report with the others still in it.
///
/// Each stored section carries the key of the run that made it (the data, model, weights, preset,
/// seed and limit); a section is reused only under the same key, so the report never mixes
/// results of different inputs.
public struct SectionStore: Sendable {
    /// The folder that holds `NN.json` files.
    public let folder: String

    public init(folder: String) {
        self.folder = folder
    }

    /// Stores `section`, made by a run with key `runKey`, replacing the experiment's earlier one.
    public func save(_ section: ReportSection, runKey: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(Stored(runKey: runKey, section: section)), to: path(section.number))
    }

    /// The stored sections of `numbers` whose run key is `runKey`; others (missing, unreadable,
    /// or made from other inputs) are left out.
    public func load(_ numbers: [Int], runKey: String) -> [ReportSection] {
        numbers.compactMap { number in
            guard let data = FileManager.default.contents(atPath: path(number)),
                let stored = try? JSONDecoder().decode(Stored.self, from: data),
                stored.runKey == runKey, stored.section.number == number
            else { return nil }
            return stored.section
        }
    }

    private func path(_ number: Int) -> String { folder + String(format: "/%02d.json", number) }

    private struct Stored: Codable {
        var runKey: String
        var section: ReportSection
    }
}
