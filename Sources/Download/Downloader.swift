import Common
import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// What a downloaded file must hash to (lowercase hex).
public enum Checksum: Sendable, Equatable {
    /// The whole MD5, as CIFAR-10 publishes it.
    case md5(String)
    /// The start of the SHA-256, as torchvision's file names carry it (`resnet18-f37072fd.pth`).
    case sha256Prefix(String)

    /// A fresh digest of the matching kind.
    func makeDigest() -> Digest {
        switch self {
        case .md5: Digest(.md5)
        case .sha256Prefix: Digest(.sha256)
        }
    }

    /// What is wrong with a file whose digest is `actual`, or nil when it matches.
    func problem(actual: String) -> String? {
        switch self {
        case .md5(let expected):
            actual == expected ? nil : "MD5 is \(actual), expected \(expected): damaged or not the official file"
        case .sha256Prefix(let prefix):
            actual.hasPrefix(prefix) ? nil : "downloaded file's SHA-256 \(actual) does not start with \(prefix)"
        }
    }
}

/// Why a download did not produce the expected file; the message starts with the URL.
public enum DownloadError: Error, CustomStringConvertible {
    /// The connection failed after `received` bytes (no network, a timeout); the system's error is kept.
    case connection(url: String, received: Int, underlying: any Error)
    /// The server refused the request or sent another size than expected (the problem in words).
    case server(url: String, problem: String)
    /// The bytes arrived but are not the expected file (size or checksum; the problem in words).
    case damaged(url: String, problem: String)
    /// The bytes could not be written to disk; the system's error is kept.
    case storage(url: String, underlying: any Error)

    /// Whether the download failed for want of a working connection (not a refusal or a damaged file).
    public var isConnectionFailure: Bool {
        if case .connection = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case .connection(let url, let received, let underlying):
            "\(url): download failed after \(received) bytes (\(underlying.localizedDescription))"
        case .server(let url, let problem), .damaged(let url, let problem): "\(url): \(problem)"
        case .storage(let url, let underlying): "\(url): cannot write the download (\(underlying.localizedDescription))"
        }
    }
}

/// Downloads files over HTTP(S) with a progress line and a checksum.
///
/// The body streams into a temporary file beside the target, hashed as it arrives; only a
/// complete download with the expected size and checksum is renamed into place, so an
/// interrupted or damaged transfer leaves nothing behind.
public enum Downloader {
    /// Fetches `url` into `path`, checking `checksum` and, when given, the size.
    public static func fetch(
        _ url: URL, to path: String, checksum: Checksum, bytes expected: Int? = nil, timeout: TimeInterval = 60
    ) throws {
        try AtomicFile.write(to: path) { temporary in
            guard FileManager.default.createFile(atPath: temporary, contents: nil),
                let handle = FileHandle(forWritingAtPath: temporary)
            else { throw FileError(path, "cannot write (\(String(cString: strerror(errno))))", kind: .unwritable) }
            defer { try? handle.close() }
            let transfer = Transfer(
                url: url.absoluteString, handle: handle, label: "Downloading \(url.lastPathComponent)", expected: expected,
                digest: checksum.makeDigest())
            let session = URLSession(configuration: .ephemeral, delegate: transfer, delegateQueue: nil)
            defer { session.finishTasksAndInvalidate() }
            var request = URLRequest(url: url)
            request.timeoutInterval = timeout
            session.dataTask(with: request).resume()
            transfer.done.wait()
            let outcome = transfer.outcome()
            outcome.progress?.finish()
            if let failure = outcome.failure { throw failure }
            if let expected, outcome.received != expected {
                throw DownloadError.damaged(
                    url: url.absoluteString, problem: "received \(outcome.received) bytes, expected \(expected)")
            }
            if let problem = checksum.problem(actual: outcome.digest) {
                throw DownloadError.damaged(url: url.absoluteString, problem: problem)
            }
        }
    }

    /// The MD5 of a file, as lowercase hex.
    public static func md5(ofFile path: String) throws -> String {
        try Digest.hexDigest(ofFile: path, .md5)
    }
}

/// The state of one download, fed by URLSession's delegate callbacks.
///
/// Callbacks arrive one at a time on the session's serial queue; the caller reads the
/// outcome only after `done` is signaled. The lock makes that hand-over explicit.
private final class Transfer: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    let done = DispatchSemaphore(value: 0)
    private let url: String
    private let handle: FileHandle
    private let label: String
    private let lock = NSLock()
    private var expected: Int?
    private let digest: Digest
    private var received = 0
    private var reportedMiB = 0
    private var progress: Common.Progress?
    private var failure: DownloadError?

    init(url: String, handle: FileHandle, label: String, expected: Int?, digest: Digest) {
        self.url = url
        self.handle = handle
        self.label = label
        self.expected = expected
        self.digest = digest
    }

    /// What happened: an error, or the bytes received and their digest (hex).
    func outcome() -> (failure: DownloadError?, received: Int, digest: String, progress: Common.Progress?) {
        lock.withLock { (failure, received, digest.hexDigest(), progress) }
    }

    func urlSession(
        _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
        completionHandler: @escaping (URLSession.ResponseDisposition) -> Void
    ) {
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        lock.withLock {
            if status != 200 { failure = .server(url: url, problem: "HTTP status \(status)") }
            let announced = Int(response.expectedContentLength)
            if announced > 0 {
                if let expected, expected != announced {
                    failure = .server(url: url, problem: "server announces \(announced) bytes, expected \(expected)")
                }
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
                failure = .storage(url: url, underlying: error)
                dataTask.cancel()
                return
            }
            digest.update(data)
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
            if failure == nil, let error { failure = .connection(url: url, received: received, underlying: error) }
            if failure == nil, let expected, received != expected {
                failure = .server(url: url, problem: "connection closed after \(received) of \(expected) bytes")
            }
        }
        done.signal()
    }
}
