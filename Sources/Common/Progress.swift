import Foundation

/// A one-line progress report on standard error: done/total, rate, and ETA.
///
/// On a terminal the line redraws in place a few times a second; elsewhere (a log file, CI) a
/// new line is printed every few seconds. `finish()` ends the report.
public final class Progress: @unchecked Sendable {
    private let label: String
    private let total: Int
    private let unit: String
    private let start = Date()
    private lazy var lastDraw = start
    private let lock = NSLock()
    private var done = 0
    private let interactive = isatty(STDERR_FILENO) != 0

    /// Starts a report for `total` items of `unit` (for example "images").
    public init(_ label: String, total: Int, unit: String) {
        self.label = label
        self.total = total
        self.unit = unit
    }

    /// Seconds since the report started.
    public var elapsed: Double { Date().timeIntervalSince(start) }

    /// Records `count` more items done and redraws if due.
    public func advance(by count: Int = 1, note: String = "") {
        lock.lock()
        defer { lock.unlock() }
        done += count
        let now = Date()
        if now.timeIntervalSince(lastDraw) >= (interactive ? 0.25 : 5) {
            lastDraw = now
            draw(note: note)
        }
    }

    /// Ends the line with the final rate.
    public func finish(note: String = "") {
        lock.lock()
        defer { lock.unlock() }
        draw(note: note)
        if interactive { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    private func draw(note: String) {
        let seconds = max(elapsed, 1e-9)
        let rate = Double(done) / seconds
        let eta = rate > 0 ? Double(total - done) / rate : 0
        var line = "\(label): \(done)/\(total) \(unit), \(Self.format(rate)) \(unit)/s, ETA \(Self.clock(eta))"
        if !note.isEmpty { line += ", \(note)" }
        FileHandle.standardError.write(Data((interactive ? "\r" + line + "\u{1B}[K" : line + "\n").utf8))
    }

    static func format(_ rate: Double) -> String {
        rate >= 100 ? String(Int(rate.rounded())) : String(format: "%.1f", rate)
    }

    /// Formats seconds as m:ss (or h:mm:ss).
    public static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600
            ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
