import XCTest

/// Asserts that every element of `actual` is within `atol + rtol * |expected|` of `expected`.
public func assertClose(
    _ actual: [Float], _ expected: [Float], rtol: Float = 1e-5, atol: Float = 1e-6,
    _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertEqual(actual.count, expected.count, "count differs. \(message())", file: file, line: line)
    var worst: (index: Int, error: Float) = (-1, 0)
    for i in 0..<min(actual.count, expected.count) {
        let error = abs(actual[i] - expected[i])
        if !(error <= atol + rtol * abs(expected[i])) && (worst.index < 0 || error > worst.error || error.isNaN) {
            worst = (i, error)
        }
    }
    if worst.index >= 0 {
        XCTFail(
            "element \(worst.index): \(actual[worst.index]) vs \(expected[worst.index]) (error \(worst.error)). \(message())",
            file: file, line: line)
    }
}

/// Asserts that two scalars are within `atol + rtol * |expected|`.
public func assertClose(
    _ actual: Double, _ expected: Double, rtol: Double = 1e-6, atol: Double = 1e-9,
    _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssert(
        abs(actual - expected) <= atol + rtol * abs(expected),
        "\(actual) vs \(expected). \(message())", file: file, line: line)
}

/// Asserts that `body` throws an error whose description contains every one of `parts`.
public func assertThrows<T>(
    _ parts: String..., file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> T
) {
    do {
        _ = try body()
        XCTFail("expected an error mentioning \(parts)", file: file, line: line)
    } catch {
        let text = "\(error)"
        for part in parts {
            XCTAssertTrue(text.contains(part), "\"\(text)\" does not mention \"\(part)\"", file: file, line: line)
        }
    }
}

extension XCTestCase {
    /// A fresh empty temporary folder for the running test, removed with its contents when the test ends.
    public func temporaryFolder(_ name: String = #function) throws -> String {
        let path = NSTemporaryDirectory() + "pic2vec-tests-\(name.filter(\.isLetter))-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }
}
