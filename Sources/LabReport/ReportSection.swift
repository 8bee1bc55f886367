/// One experiment's part of the lab report: text, tables, figures and its timing.
public struct ReportSection: Sendable, Equatable, Codable {
    /// A piece of section content, rendered in order.
    public enum Block: Sendable, Equatable, Codable {
        case paragraph(String)
        case table(Table)
        /// A figure: the PNG and PDF paths relative to the report, and a caption.
        case figure(png: String, pdf: String, caption: String)
    }

    public let number: Int
    public let title: String
    public var blocks: [Block] = []
    /// Wall-clock seconds the experiment took (cached artifacts make reruns fast).
    public var seconds: Double = 0

    public init(number: Int, title: String) {
        self.number = number
        self.title = title
    }

    /// Appends a paragraph.
    public mutating func paragraph(_ text: String) { blocks.append(.paragraph(text)) }

    /// Appends a table.
    public mutating func table(_ table: Table) { blocks.append(.table(table)) }

    /// Appends a figure link.
    public mutating func figure(png: String, pdf: String, caption: String) {
        blocks.append(.figure(png: png, pdf: pdf, caption: caption))
    }

    /// The section as Markdown: a numbered heading, the blocks, then the timing.
    public var markdown: String {
        var out = "## \(String(format: "%02d", number)). \(title)\n\n"
        for block in blocks {
            switch block {
            case .paragraph(let text): out += text + "\n\n"
            case .table(let table): out += table.markdown + "\n"
            case .figure(let png, let pdf, let caption):
                out += "![\(caption)](\(png))\n\n*\(caption)* ([PDF](\(pdf)))\n\n"
            }
        }
        out += "Time: \(String(format: "%.1f", seconds)) s.\n"
        return out
    }
}

/// A Markdown table with a header row; cells are plain strings.
public struct Table: Sendable, Equatable, Codable {
    public var headers: [String]
    public var rows: [[String]]
    /// Column alignment: true for right-aligned (numbers).
    public var rightAligned: [Bool]

    public init(headers: [String], rows: [[String]], rightAligned: [Bool]? = nil) {
        precondition(rows.allSatisfy { $0.count == headers.count }, "every row needs \(headers.count) cells")
        self.headers = headers
        self.rows = rows
        self.rightAligned = rightAligned ?? headers.indices.map { $0 > 0 }
    }

    /// The table as GitHub-flavored Markdown.
    public var markdown: String {
        func line(_ cells: [String]) -> String {
            "| " + cells.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |\n"
        }
        return line(headers) + line(rightAligned.map { $0 ? "---:" : "---" }) + rows.map(line).joined()
    }
}
