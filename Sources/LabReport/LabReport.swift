import Common
import Foundation

/// The Markdown lab report: a header that says how the results were made, then one section per
/// experiment that ran, in experiment order.
public struct LabReport: Sendable {
    /// What a reader needs to reproduce the run.
    public struct Header: Sendable, Equatable {
        public var date: String
        public var commit: String
        public var machine: String
        public var dataset: String
        public var fingerprint: String
        public var weights: String
        /// The Swift packages the runner was built with ("name version, ...").
        public var packages: String
        public var commandLine: String

        public init(
            date: String, commit: String, machine: String, dataset: String, fingerprint: String, weights: String,
            packages: String, commandLine: String
        ) {
            self.date = date
            self.commit = commit
            self.machine = machine
            self.dataset = dataset
            self.fingerprint = fingerprint
            self.weights = weights
            self.packages = packages
            self.commandLine = commandLine
        }
    }

    public var header: Header
    public var sections: [ReportSection]

    public init(header: Header, sections: [ReportSection]) {
        self.header = header
        self.sections = sections.sorted { $0.number < $1.number }
    }

    /// The whole report as Markdown.
    public var markdown: String {
        var out = "# Pic2Vec lab report\n\n"
        out +=
            Table(
                headers: ["", ""],
                rows: [
                    ["Date", header.date], ["Commit", header.commit], ["Machine", header.machine],
                    ["Data", header.dataset], ["Data fingerprint", "`\(header.fingerprint.prefix(16))`"],
                    ["Weights", header.weights], ["Swift packages", header.packages], ["Command", "`\(header.commandLine)`"],
                ], rightAligned: [false, false]
            ).markdown
        out +=
            "\nSections: " + sections.map { "\(String(format: "%02d", $0.number)) \($0.title)" }.joined(separator: ", ") + ".\n\n"
        out += sections.map(\.markdown).joined(separator: "\n")
        return out
    }

    /// Writes the report atomically.
    public func write(to path: String) throws {
        try AtomicFile.write(Data(markdown.utf8), to: path)
    }
}
