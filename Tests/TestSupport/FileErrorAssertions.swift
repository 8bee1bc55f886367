import Common
import XCTest

/// The kind of the `FileError` that `body` throws; nil when it throws none or another error.
public func fileErrorKind<T>(_ body: () throws -> T) -> FileError.Kind? {
    do {
        _ = try body()
        return nil
    } catch {
        return (error as? FileError)?.kind
    }
}

/// Asserts that `body` throws a `FileError` of `kind` whose description contains every one of `parts`.
public func assertThrows<T>(
    kind: FileError.Kind, _ parts: String..., file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> T
) {
    do {
        _ = try body()
        XCTFail("expected a \(kind) file error mentioning \(parts)", file: file, line: line)
    } catch let error as FileError {
        XCTAssertEqual(error.kind, kind, "\(error)", file: file, line: line)
        for part in parts {
            XCTAssertTrue("\(error)".contains(part), "\"\(error)\" does not mention \"\(part)\"", file: file, line: line)
        }
    } catch {
        XCTFail("expected a \(kind) file error, got \(error)", file: file, line: line)
    }
}
