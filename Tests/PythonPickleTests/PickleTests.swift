import Common
import PythonPickle
import XCTest

/// Pickles made by Python (see each constant), decoded with the restricted reader.
///
/// `mixed` is, pickled with the protocol named:
///
///     shared = [1]
///     {b'labels': [3, 7], b'data': np.arange(6, dtype=np.uint8).reshape(2, 3),
///      'name': 'caf\u00e9', 'f': 1.5, 'neg': -5, 'big': 2**40, 'nbig': -2**40, 't': (1, 2, 3),
///      'none': None, 'b': True, 'i8': np.array([-2, 300], dtype=np.int64), 's1': shared, 's2': shared}
final class PickleTests: XCTestCase {
    /// `pickle.dumps(mixed, protocol=2)` (Python 3.11, NumPy 2).
    static let protocol2 =
        "80027d710028635f636f646563730a656e636f64650a710158060000006c6162656c73710258060000006c6174696e31"
        + "71038671045271055d7106284b034b0765680158040000006461746171076803867108527109636e756d70792e5f636f"
        + "72652e6d756c746961727261790a5f7265636f6e7374727563740a710a636e756d70790a6e6461727261790a710b4b00"
        + "85710c6801580100000062710d680386710e52710f877110527111284b014b024b03867112636e756d70790a64747970"
        + "650a71135802000000753171148988877115527116284b0358010000007c71174e4e4e4affffffff4affffffff4b0074"
        + "71186289680158060000000001020304057119680386711a52711b74711c6258040000006e616d65711d580500000063"
        + "6166c3a9711e580100000066711f473ff800000000000058030000006e656771204afbffffff58030000006269677121"
        + "8a0600000000000158040000006e62696771228a060000000000ff58010000007471234b014b024b0387712458040000"
        + "006e6f6e6571254e580100000062712688580200000069387127680a680b4b00857128680f87712952712a284b014b02"
        + "85712b681358020000006938712c898887712d52712e284b0358010000003c712f4e4e4e4affffffff4affffffff4b00"
        + "747130628968015818000000c3bec3bfc3bfc3bfc3bfc3bfc3bfc3bf2c01000000000000713168038671325271337471"
        + "34625802000000733171355d71364b01615802000000733271376836752e"

    /// `pickle.dumps(mixed, protocol=5)`.
    static let protocol5 =
        "80059558010000000000007d942843066c6162656c73945d94284b034b0765430464617461948c136e756d70792e5f63"
        + "6f72652e6e756d65726963948c0b5f66726f6d62756666657294939428960600000000000000000102030405948c056e"
        + "756d7079948c0564747970659493948c02753194898887945294284b038c017c944e4e4e4affffffff4affffffff4b00"
        + "7494624b024b0386948c014394749452948c046e616d65948c05636166c3a9948c016694473ff80000000000008c036e"
        + "6567944afbffffff8c03626967948a060000000000018c046e626967948a060000000000ff8c0174944b014b024b0387"
        + "948c046e6f6e65944e8c016294888c02693894680628961000000000000000feffffffffffffff2c0100000000000094"
        + "680a8c02693894898887945294284b038c013c944e4e4e4affffffff4affffffff4b007494624b028594681174945294"
        + "8c027331945d944b01618c027332946829752e"

    /// A CIFAR-10-style Python 2 pickle (SHORT_BINSTRING keys, BINSTRING data), assembled by hand:
    /// `{b'labels': [3, 7], b'data': uint8 [[0, 1, 2], [3, 4, 5]]}`; `pickle.loads(..., encoding='bytes')` reads it.
    static let python2 =
        "80027d71012855066c6162656c735d7102284b034b0765550464617461636e756d70792e636f72652e6d756c74696172"
        + "7261790a5f7265636f6e7374727563740a7103636e756d70790a6e6461727261790a71044b008555016287527105284b"
        + "014b024b0386636e756d70790a64747970650a7106550275314b004b0187527107284b0355017c4e4e4e4affffffff4a"
        + "ffffffff4b0074628954060000000001020304057462752e"

    /// `pickle.dumps({'x': Evil()}, protocol=2)` where `Evil.__reduce__` returns `(os.system, ('echo owned',))`.
    static let evil =
        "80027d7100580100000078710163706f7369780a73797374656d0a7102580a0000006563686f206f776e656471038571"
        + "04527105732e"

    func bytes(_ hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            out.append(UInt8(hex[index..<next], radix: 16) ?? 0)
            index = next
        }
        return out
    }

    func load(_ hex: String) throws -> PickleDict {
        let value = try Pickle.load(bytes(hex), path: "test.pkl", allowlist: Pickle.numpyGlobals)
        guard case .dict(let dict) = value else { throw FileError("test.pkl", "not a dict: \(value.kind)") }
        return dict
    }

    func checkMixed(_ dict: PickleDict) throws {
        XCTAssertEqual(dict["labels"]?.elements?.compactMap(\.int), [3, 7])
        let data = try PickledArray(dict["data"], path: "test.pkl")
        XCTAssertEqual(data.shape, [2, 3])
        XCTAssertEqual(data.dtype, "u1")
        XCTAssertEqual(data.bytes, [0, 1, 2, 3, 4, 5])
        let wide = try PickledArray(dict["i8"], path: "test.pkl")
        XCTAssertEqual(wide.integers, [-2, 300])
        XCTAssertEqual(dict["name"]?.text, "caf\u{e9}")
        guard case .float(let f)? = dict["f"] else { return XCTFail("f is not a float") }
        XCTAssertEqual(f, 1.5)
        XCTAssertEqual(dict["neg"]?.int, -5)
        XCTAssertEqual(dict["big"]?.int, 1 << 40)
        XCTAssertEqual(dict["nbig"]?.int, -(1 << 40))
        XCTAssertEqual(dict["t"]?.elements?.compactMap(\.int), [1, 2, 3])
        guard case .none? = dict["none"] else { return XCTFail("none is not None") }
        XCTAssertEqual(dict["b"]?.int, 1)
        guard case .list(let s1)? = dict["s1"], case .list(let s2)? = dict["s2"] else { return XCTFail("s1/s2 are not lists") }
        XCTAssertTrue(s1 === s2, "a shared list must stay one object")
    }

    func testProtocol2FromPython3() throws { try checkMixed(try load(Self.protocol2)) }

    func testProtocol5() throws { try checkMixed(try load(Self.protocol5)) }

    func testPython2CIFARStyleBatch() throws {
        let dict = try load(Self.python2)
        XCTAssertEqual(dict.entries.map { $0.key.text }, ["labels", "data"])
        XCTAssertEqual(dict["labels"]?.elements?.compactMap(\.int), [3, 7])
        let data = try PickledArray(dict["data"], path: "test.pkl")
        XCTAssertEqual(data.shape, [2, 3])
        XCTAssertEqual(data.bytes, [0, 1, 2, 3, 4, 5])
    }

    func testForeignGlobalIsRejectedByName() {
        XCTAssertThrowsError(try load(Self.evil)) { error in
            XCTAssertTrue("\(error)".contains("test.pkl"), "\(error)")
            XCTAssertTrue("\(error)".contains("posix.system"), "\(error)")
        }
    }

    func testTruncatedPickleIsAnError() {
        XCTAssertThrowsError(try load(String(Self.protocol2.dropLast(40)))) { error in
            XCTAssertTrue("\(error)".contains("truncated"), "\(error)")
        }
    }

    func testPersistentIdsNeedALoader() {
        // (BINPERSID of the string 'x') STOP: `Pickler.persistent_id` returning 'x'.
        XCTAssertThrowsError(try Pickle.load(bytes("80028c017851942e"), path: "p.pkl", allowlist: [:])) { error in
            XCTAssertTrue("\(error)".contains("persistent"), "\(error)")
        }
        let value = try? Pickle.load(bytes("80028c0178512e"), path: "p.pkl", allowlist: [:]) { id in
            .string("loaded " + (id.text ?? ""))
        }
        XCTAssertEqual(value?.text, "loaded x")
    }

    /// A 100,000-deep nest (TUPLE1 over and over, or lists appended into lists) is refused
    /// as it is built: releasing it would recurse past the end of the stack.
    func testDeepNestingIsRefused() {
        let tuples: [UInt8] = [0x80, 0x02, 0x29] + [UInt8](repeating: 0x85, count: 100_000) + [0x2E]
        let lists: [UInt8] =
            [0x80, 0x02] + [UInt8](repeating: 0x5D, count: 100_000) + [UInt8](repeating: 0x61, count: 99_999) + [0x2E]
        for bytes in [tuples, lists] {
            XCTAssertThrowsError(try Pickle.load(bytes, path: "deep.pkl", allowlist: [:])) { error in
                XCTAssertTrue("\(error)".contains("deep.pkl"), "\(error)")
                XCTAssertTrue("\(error)".contains("nest more than 200 deep"), "\(error)")
            }
        }
        let shallow: [UInt8] = [0x80, 0x02, 0x29] + [UInt8](repeating: 0x85, count: 150) + [0x2E]
        XCTAssertNotNil(try? Pickle.load(shallow, path: "ok.pkl", allowlist: [:]))
    }

    /// Filling lists after nesting them would hide their depth: 0 = [], 1 = [], memoized;
    /// 0.append(1); then 1.append(...) is refused.
    func testChangingANestedContainerIsRefused() {
        // ] q0 ] q1 h0 h1 a (0.append(1)) h1 K5 a (1.append(5)) .
        let bytes: [UInt8] = [
            0x80, 0x02, 0x5D, 0x71, 0, 0x5D, 0x71, 1, 0x30, 0x30, 0x68, 0, 0x68, 1, 0x61, 0x68, 1, 0x4B, 5, 0x61, 0x2E,
        ]
        XCTAssertThrowsError(try Pickle.load(bytes, path: "late.pkl", allowlist: [:])) { error in
            XCTAssertTrue("\(error)".contains("changes after another value holds it"), "\(error)")
        }
    }

    /// 100,000 distinct keys load in well under a second per 10,000 (a linear key search
    /// took 19 s for 20,000 keys); a repeated key still replaces its value in place.
    func testLargeDictLoadsInLinearTime() throws {
        var bytes: [UInt8] = [0x80, 0x02, 0x7D, 0x28]
        for i in 0..<100_000 {
            let key = Array("k\(i)".utf8)
            bytes += [0x8C, UInt8(key.count)] + key + [0x4A] + withUnsafeBytes(of: Int32(i).littleEndian, Array.init)
        }
        bytes += [0x8C, 2, 0x6B, 0x37, 0x4B, 9, 0x75, 0x2E]  // "k7": 9 again, SETITEMS, STOP
        let started = Date()
        guard case .dict(let dict) = try Pickle.load(bytes, path: "keys.pkl", allowlist: [:]) else {
            return XCTFail("not a dict")
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 10)
        XCTAssertEqual(dict.entries.count, 100_000)
        XCTAssertEqual(dict["k99999"]?.int, 99_999)
        XCTAssertEqual(dict["k7"]?.int, 9)
        XCTAssertEqual(dict.entries[7].value.int, 9)
    }

    /// A CIFAR-style array pickle declaring shape (2^40, 2^40): the size overflows Int,
    /// which must be an error naming the file.
    func testPickledArrayWithOverflowingShapeIsAnError() throws {
        let long40: [UInt8] = [0x8A, 6, 0, 0, 0, 0, 0, 1]
        var bytes: [UInt8] = [0x80, 0x02] + Array("cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\n".utf8)
        bytes += [0x4B, 0, 0x85, 0x43, 1, 0x62, 0x87, 0x52]  // _reconstruct(ndarray, (0,), b'b')
        bytes += [0x28, 0x4B, 1] + long40 + long40 + [0x86]  // MARK 1 (2^40, 2^40)
        bytes += Array("cnumpy\ndtype\n".utf8) + [0x58, 2, 0, 0, 0] + Array("u1".utf8) + [0x89, 0x88, 0x87, 0x52]
        bytes += [0x89, 0x43, 0, 0x74, 0x62, 0x2E]  // False b'' TUPLE BUILD STOP
        let value = try Pickle.load(bytes, path: "bomb.pkl", allowlist: Pickle.numpyGlobals)
        XCTAssertThrowsError(try PickledArray(value, path: "bomb.pkl")) { error in
            XCTAssertTrue("\(error)".contains("bomb.pkl"), "\(error)")
            XCTAssertTrue("\(error)".contains("too large"), "\(error)")
        }
    }
}
