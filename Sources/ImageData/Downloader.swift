import Common
import Crypto
import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Downloads files over HTTP(S) with a progress line and an MD5 check.
///
/// The body streams into a temporary file beside the target, hashed as it arrives; only a
/// complete download with the expected size and checksum is renamed into place, so an
/// interrupted or damaged transfer leaves nothing behind.
public enum Downloader {
    /// Fetches `url` into `path`, checking the MD5 (lowercase hex) and, when given, the size.
    public static func fetch(_ url: URL, to path: String, md5: String, bytes expected: Int? = nil, timeout: TimeInterval = 60) throws {
        try AtomicFile.write(to: path) { temporary in
            guard FileManager.default.createFile(atPath: temporary, contents: nil),
                let handle = FileHandle(forWritingAtPath: temporary)
            else { throw FileError(path, "cannot write (\(String(cString: strerror(errno))))") }
            defer { try? handle.close() }
            let transfer = Transfer(handle: handle, label: "Downloading \(url.lastPathComponent)", expected: expected)
            let session = URLSession(configuration: .ephemeral, delegate: transfer, delegateQueue: nil)
            defer { session.finishTasksAndInvalidate() }
            var request = URLRequest(url: url)
            request.timeoutInterval = timeout
            session.dataTask(with: request).resume()
            transfer.done.wait()
            let outcome = transfer.outcome()
            outcome.progress?.finish()
            if let failure = outcome.failure { throw FileError(url.absoluteString, failure) }
            if let expected, outcome.received != expected {
                throw FileError(url.absoluteString, "received \(outcome.received) bytes, expected \(expected)")
            }
            guard outcome.md5 == md5 else {
                throw FileError(url.absoluteString, "MD5 is \(outcome.md5), expected \(md5): damaged or not the official file")
            }
        }
    }

    /// The MD5 of a file, as lowercase hex.
    public static func md5(ofFile path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw FileError(path, "cannot open file") }
        defer { try? handle.close() }
        var hasher = Insecure.MD5()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
        return hex(hasher.finalize())
    }

    static func hex<Digest: Sequence>(_ digest: Digest) -> String where Digest.Element == UInt8 {
        digest.map { String(format: "%02x", $0) }.joined()
    }
}

/// The state of one download, fed by URLSession's delegate callbacks.
///
/// Callbacks arrive one at a time on the session's serial queue; the caller reads the
/// outcome only after `done` is signaled. The lock makes that hand-over explicit.
private final class Transfer: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    let done = DispatchSemaphore(value: 0)
    private let handle: FileHandle
    private let label: String
    private let lock = NSLock()
    private var expected: Int?
    private var hasher = Insecure.MD5()
    private var received = 0
    private var reportedMiB = 0
    private var progress: Common.Progress?
    private var failure: String?

    init(handle: FileHandle, label: String, expected: Int?) {
        self.handle = handle
        self.label = label
        self.expected = expected
    }

    /// What happened: an error message, or the bytes received and their MD5.
    func outcome() -> (failure: String?, received: Int, md5: String, progress: Common.Progress?) {
        lock.withLock { (failure, received, Downloader.hex(hasher.finalize()), progress) }
    }

    func urlSession(
        _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
        completionHandler: @escaping (URLSession.ResponseDisposition) -> Void
    ) {
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        lock.withLock {
            if status != 200 { failure = "HTTP status \(status)" }
            let announced = Int(response.expectedContentLength)
            if announced > 0 {
                if let expected, expected != announced { failure = "server announces \(announced) bytes, expected \(expected)" }
                expected = announced
            }
            progress = Common.Progress(label, total: max(1, (expected ?? 0) >> 20), unit: "MiB")
        }
        completionHandler(status == 200 ? .allow : .cancel)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        lock.withLock {
            guard failure == nil else { return }
            do {
                try handle.write(contentsOf: data)
            } catch {
                failure = "cannot write the download (\(error.localizedDescription))"
                dataTask.cancel()
                return
            }
            hasher.update(data: data)
            received += data.count
            let mib = received >> 20
            if mib > reportedMiB {
                progress?.advance(by: mib - reportedMiB)
                reportedMiB = mib
            }
        }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        lock.withLock {
            if failure == nil, let error { failure = "download failed after \(received) bytes (\(error.localizedDescription))" }
            if failure == nil, let expected, received != expected {
                failure = "connection closed after \(received) of \(expected) bytes"
            }
        }
        done.signal()
    }
}
