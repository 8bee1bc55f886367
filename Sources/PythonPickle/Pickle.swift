import Common
import Foundation

/// A problem an allowlist constructor reports; the reader adds the file and the global's name.
public struct PickleError: Error, CustomStringConvertible {
    public let problem: String

    public init(_ problem: String) { self.problem = problem }

    public var description: String { problem }
}

/// A value decoded from a Python pickle.
///
/// Lists, dicts and objects are reference boxes, as in Python, so that a memoized value
/// that is later filled (`APPENDS`, `SETITEMS`, `BUILD`) is the same value everywhere it
/// is referenced. Unchecked: the boxes are mutated only by the reader that builds the value,
/// on one thread, before the value is returned; afterwards they are only read.
public enum PickleValue: @unchecked Sendable {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    /// A Python 3 `str`.
    case string(String)
    /// Python `bytes`, or a Python 2 `str` (`BINSTRING`, `SHORT_BINSTRING`), kept as raw bytes.
    case bytes([UInt8])
    case tuple([PickleValue])
    case list(PickleList)
    case dict(PickleDict)
    /// A global (class or function) that the allowlist admitted, named "module.name".
    case global(String)
    /// An object created by `REDUCE` or `NEWOBJ` through an allowlisted global.
    case object(PickleObject)
    /// A value of the caller's own type, returned by an allowlist entry or `persistentLoad`.
    case native(Any)

    /// The integer, if this is one (booleans count as 0 and 1, as in Python).
    public var int: Int? {
        switch self {
        case .int(let value): value
        case .bool(let value): value ? 1 : 0
        default: nil
        }
    }

    /// The text of a `str`, or of `bytes` read as Latin-1 (how Python 2 strings decode).
    public var text: String? {
        switch self {
        case .string(let value): value
        case .bytes(let value): String(value.map { Character(UnicodeScalar($0)) })
        default: nil
        }
    }

    /// The elements of a tuple or list.
    public var elements: [PickleValue]? {
        switch self {
        case .tuple(let items): items
        case .list(let list): list.items
        default: nil
        }
    }

    /// A short description of the kind of value, for error messages.
    public var kind: String {
        switch self {
        case .none: "None"
        case .bool: "bool"
        case .int: "int"
        case .float: "float"
        case .string: "str"
        case .bytes: "bytes"
        case .tuple: "tuple"
        case .list: "list"
        case .dict: "dict"
        case .global(let name): "global \(name)"
        case .object(let object): "\(object.type) object"
        case .native(let value): "\(type(of: value))"
        }
    }
}

/// How deep a mutable container's contents nest, and whether it is inside another
/// container already (then changing it would leave its ancestors' depths stale).
public class PickleContainer {
    /// 1 + the deepest nesting of anything it holds.
    var depth = 1
    /// Whether another container holds it.
    var isNested = false

    public init() {}
}

extension PickleValue {
    /// The list, dict or object box, if this is one.
    var container: PickleContainer? {
        switch self {
        case .list(let list): list
        case .dict(let dict): dict
        case .object(let object): object
        default: nil
        }
    }
}

/// A Python list, filled in place by `APPEND`/`APPENDS`.
public final class PickleList: PickleContainer {
    public internal(set) var items: [PickleValue]

    init(_ items: [PickleValue] = []) { self.items = items }
}

/// A Python dict (or `collections.OrderedDict`) in insertion order, filled by `SETITEM(S)`.
public final class PickleDict: PickleContainer {
    /// The entries in insertion order; a repeated key replaces the earlier value in place.
    public internal(set) var entries: [(key: PickleValue, value: PickleValue)] = []
    /// The state a `BUILD` gave the dict (for example an `OrderedDict`'s `__dict__`), if any.
    public internal(set) var attributes: PickleValue?
    /// The entry of each text key (`str` and `bytes` keys alike), so lookups and
    /// replacements take constant time however many keys a pickle declares.
    private var positions: [String: Int] = [:]

    public override init() {}

    /// The value stored under a text key, matching `str` keys and `bytes` keys alike.
    public subscript(key: String) -> PickleValue? {
        positions[key].map { entries[$0].value }
    }

    func set(_ key: PickleValue, _ value: PickleValue) {
        guard let text = key.text else { return entries.append((key, value)) }
        if let index = positions[text] {
            entries[index].value = value
        } else {
            positions[text] = entries.count
            entries.append((key, value))
        }
    }
}

/// An object created from an allowlisted global: its type, constructor arguments, and
/// the state a later `BUILD` gave it.
public final class PickleObject: PickleContainer {
    /// "module.name" of the callable that made it.
    public let type: String
    public let arguments: [PickleValue]
    public internal(set) var state: PickleValue?

    public init(type: String, arguments: [PickleValue]) {
        self.type = type
        self.arguments = arguments
    }
}

/// A restricted reader of Python pickles (protocols 2 to 5) that never executes anything.
///
/// It interprets the opcodes that `torch.save` and NumPy pickles use and resolves each
/// global only through `allowlist`, which maps "module.name" to a closure that builds a
/// value from the call's arguments. A pickle naming any other global is rejected with an
/// error that names it. Persistent ids (`BINPERSID`, how `torch.save` refers to tensor
/// storages) go to `persistentLoad`; without one they are an error.
///
/// Typical use:
///
///     let root = try Pickle.load(bytes, path: path, allowlist: Pickle.numpyGlobals)
///     let array = try NumpyArray(root.dict?["data"], path: path)
public enum Pickle {
    /// Builds a value for a call of an allowlisted global with the given arguments.
    public typealias Constructor = @Sendable ([PickleValue]) throws -> PickleValue

    /// Decodes one pickle from `bytes`; `path` only names the source in errors.
    public static func load(
        _ bytes: [UInt8], path: String, allowlist: [String: Constructor],
        persistentLoad: ((PickleValue) throws -> PickleValue)? = nil
    ) throws -> PickleValue {
        var machine = PickleMachine(bytes: bytes, path: path, allowlist: allowlist, persistentLoad: persistentLoad)
        return try machine.run()
    }

    /// Decodes one pickle from `data`; `path` only names the source in errors.
    public static func load(
        _ data: Data, path: String, allowlist: [String: Constructor],
        persistentLoad: ((PickleValue) throws -> PickleValue)? = nil
    ) throws -> PickleValue {
        try load([UInt8](data), path: path, allowlist: allowlist, persistentLoad: persistentLoad)
    }

    /// Decodes the pickle that starts at byte `offset` of `bytes` (one of several written
    /// back to back); returns it and the offset just past its STOP.
    public static func load(
        _ bytes: [UInt8], at offset: Int, path: String, allowlist: [String: Constructor],
        persistentLoad: ((PickleValue) throws -> PickleValue)? = nil
    ) throws -> (value: PickleValue, end: Int) {
        var machine = PickleMachine(bytes: bytes, path: path, allowlist: allowlist, persistentLoad: persistentLoad)
        machine.position = offset
        let value = try machine.run()
        return (value, machine.position)
    }

    /// An allowlist entry that records the call as a `PickleObject` (to be read after loading).
    public static func record(_ type: String) -> Constructor {
        { arguments in .object(PickleObject(type: type, arguments: arguments)) }
    }
}

/// The pickle virtual machine: a stack, marks and a memo over the input bytes.
///
/// Values may nest at most `maximumDepth` containers deep: deeper values would overflow
/// the stack when they are released (which recurses), so they are refused as they are
/// built. A container may only change (`APPEND`, `SETITEM`, `BUILD`) before another
/// container holds it, so the depths checked on the way stay true.
private struct PickleMachine {
    /// The deepest nesting of tuples, lists, dicts and objects accepted.
    static let maximumDepth = 200

    let bytes: [UInt8]
    let path: String
    let allowlist: [String: Pickle.Constructor]
    let persistentLoad: ((PickleValue) throws -> PickleValue)?
    var position = 0
    var stack: [PickleValue] = []
    var marks: [Int] = []
    var memo: [Int: PickleValue] = [:]

    init(
        bytes: [UInt8], path: String, allowlist: [String: Pickle.Constructor],
        persistentLoad: ((PickleValue) throws -> PickleValue)?
    ) {
        self.bytes = bytes
        self.path = path
        self.allowlist = allowlist
        self.persistentLoad = persistentLoad
    }

    func fail(_ problem: String, kind: FileError.Kind = .malformed) -> FileError {
        FileError(path, "pickle: \(problem)", kind: kind)
    }

    mutating func take(_ count: Int) throws -> ArraySlice<UInt8> {
        guard count >= 0, count <= bytes.count - position else {
            throw fail("truncated: needs \(count) bytes at offset \(position), \(bytes.count - position) left", kind: .truncated)
        }
        defer { position += count }
        return bytes[position..<position + count]
    }

    mutating func byte() throws -> UInt8 { try take(1).first ?? 0 }

    /// A little-endian unsigned integer of `count` bytes.
    mutating func unsigned(_ count: Int) throws -> Int {
        let slice = try take(count)
        var value: UInt64 = 0
        for (shift, byte) in slice.enumerated() { value |= UInt64(byte) << (8 * UInt64(shift)) }
        guard value <= UInt64(Int.max) else { throw fail("length \(value) is too large") }
        return Int(value)
    }

    /// A text line up to (not including) the next newline, for `GLOBAL`.
    mutating func line() throws -> String {
        guard let end = bytes[position...].firstIndex(of: 0x0A) else {
            throw fail("truncated: unterminated line at offset \(position)", kind: .truncated)
        }
        defer { position = end + 1 }
        return String(decoding: bytes[position..<end], as: UTF8.self)
    }

    mutating func pop() throws -> PickleValue {
        guard let value = stack.popLast() else { throw fail("stack underflow at offset \(position)") }
        if let mark = marks.last, stack.count < mark { throw fail("stack underflow past a mark at offset \(position)") }
        return value
    }

    var top: PickleValue {
        get throws {
            guard let value = stack.last else { throw fail("stack underflow at offset \(position)") }
            return value
        }
    }

    /// Everything pushed since the last mark, removing the mark.
    mutating func popMark() throws -> [PickleValue] {
        guard let mark = marks.popLast() else { throw fail("no mark at offset \(position)") }
        let items = Array(stack[mark...])
        stack.removeSubrange(mark...)
        return items
    }

    mutating func text(_ count: Int) throws -> String {
        guard let value = String(validating: try take(count), as: UTF8.self) else {
            throw fail("invalid UTF-8 string at offset \(position - count)")
        }
        return value
    }

    func resolve(_ module: String, _ name: String) throws -> PickleValue {
        let full = "\(module).\(name)"
        guard allowlist[full] != nil else { throw fail("global \(full) is not allowed here (refusing to load it)") }
        return .global(full)
    }

    func call(_ callable: PickleValue, _ arguments: [PickleValue]) throws -> PickleValue {
        guard case .global(let name) = callable, let constructor = allowlist[name] else {
            throw fail("cannot call \(callable.kind)")
        }
        let depth = try nest(arguments)
        do {
            let value = try constructor(arguments)
            if case .object(let object) = value { object.depth = depth }
            return value
        } catch let error as PickleError {
            throw fail("\(name): \(error.problem)")
        }
    }

    /// How many containers deep `value` nests (0 for a scalar). Recursion only follows
    /// tuples, whose depth was checked when they were built.
    func depth(of value: PickleValue) -> Int {
        if case .tuple(let items) = value { return 1 + items.reduce(0) { max($0, depth(of: $1)) } }
        return value.container?.depth ?? 0
    }

    /// The depth of a new container holding `children`; marks child containers as nested.
    /// Throws when it is deeper than `maximumDepth`.
    func nest(_ children: [PickleValue]) throws -> Int {
        let depth = 1 + children.reduce(0) { max($0, self.depth(of: $1)) }
        guard depth <= Self.maximumDepth else {
            throw fail("values nest more than \(Self.maximumDepth) deep at offset \(position)")
        }
        for child in children { child.container?.isNested = true }
        return depth
    }

    /// Checks that `container` may still change, then records `children` going into it.
    func grow(_ container: PickleContainer, with children: [PickleValue]) throws {
        guard !container.isNested else {
            throw fail("a list, dict or object changes after another value holds it (offset \(position))")
        }
        container.depth = max(container.depth, try nest(children))
    }

    mutating func setItems(_ items: [PickleValue]) throws {
        guard items.count % 2 == 0 else { throw fail("odd number of items for SETITEMS") }
        guard case .dict(let dict) = try top else { throw fail("SETITEM on \(try top.kind)") }
        try grow(dict, with: items)
        for i in stride(from: 0, to: items.count, by: 2) { dict.set(items[i], items[i + 1]) }
    }

    mutating func append(_ items: [PickleValue]) throws {
        guard case .list(let list) = try top else { throw fail("APPEND on \(try top.kind)") }
        try append(list, items)
    }

    func append(_ list: PickleList, _ items: [PickleValue]) throws {
        try grow(list, with: items)
        list.items += items
    }

    /// A tuple of `items`, refused when it nests too deep.
    func tuple(_ items: [PickleValue]) throws -> PickleValue {
        _ = try nest(items)
        return .tuple(items)
    }

    mutating func build(_ state: PickleValue) throws {
        switch try top {
        case .object(let object):
            try grow(object, with: [state])
            object.state = state
        case .dict(let dict):
            try grow(dict, with: [state])
            dict.attributes = state
        case let other: throw fail("BUILD on \(other.kind) is not supported")
        }
    }

    mutating func memoGet(_ index: Int) throws {
        guard let value = memo[index] else { throw fail("memo entry \(index) is missing") }
        stack.append(value)
    }

    mutating func run() throws -> PickleValue {
        while true {
            let opcode = try byte()
            switch opcode {
            case 0x80: _ = try byte()  // PROTO
            case 0x95: _ = try take(8)  // FRAME: the frame length is only a hint
            case 0x2E:  // STOP
                guard stack.count == 1, marks.isEmpty else { throw fail("STOP with \(stack.count) values on the stack") }
                return stack[0]
            case 0x28: marks.append(stack.count)  // MARK
            case 0x30: _ = try pop()  // POP
            case 0x31: _ = try popMark()  // POP_MARK
            case 0x32: stack.append(try top)  // DUP
            case 0x7D, 0x8F: stack.append(.dict(PickleDict()))  // EMPTY_DICT (EMPTY_SET becomes a key-only dict)
            case 0x5D: stack.append(.list(PickleList()))  // EMPTY_LIST
            case 0x29: stack.append(.tuple([]))  // EMPTY_TUPLE
            case 0x74: stack.append(try tuple(try popMark()))  // TUPLE
            case 0x85, 0x86, 0x87:  // TUPLE1..3
                let count = Int(opcode - 0x84)
                guard stack.count - (marks.last ?? 0) >= count else { throw fail("stack underflow at offset \(position)") }
                let items = Array(stack.suffix(count))
                stack.removeLast(count)
                stack.append(try tuple(items))
            case 0x6C:  // LIST
                let list = PickleList()
                try append(list, try popMark())
                stack.append(.list(list))
            case 0x64:  // DICT
                let items = try popMark()
                stack.append(.dict(PickleDict()))
                try setItems(items)
            case 0x4A:  // BININT
                stack.append(.int(Int(Int32(truncatingIfNeeded: try unsigned(4)))))
            case 0x4B: stack.append(.int(Int(try byte())))  // BININT1
            case 0x4D: stack.append(.int(try unsigned(2)))  // BININT2
            case 0x8A, 0x8B:  // LONG1, LONG4
                let count = opcode == 0x8A ? Int(try byte()) : try unsigned(4)
                stack.append(.int(try long(Array(try take(count)))))
            case 0x47:  // BINFLOAT, big-endian
                let slice = try take(8)
                stack.append(.float(Double(bitPattern: slice.reduce(UInt64(0)) { $0 << 8 | UInt64($1) })))
            case 0x4E: stack.append(.none)  // NONE
            case 0x88: stack.append(.bool(true))  // NEWTRUE
            case 0x89: stack.append(.bool(false))  // NEWFALSE
            case 0x8C: stack.append(.string(try text(Int(try byte()))))  // SHORT_BINUNICODE
            case 0x58: stack.append(.string(try text(try unsigned(4))))  // BINUNICODE
            case 0x8D: stack.append(.string(try text(try unsigned(8))))  // BINUNICODE8
            case 0x43, 0x55: stack.append(.bytes(Array(try take(Int(try byte())))))  // SHORT_BINBYTES, SHORT_BINSTRING
            case 0x42, 0x54: stack.append(.bytes(Array(try take(try unsigned(4)))))  // BINBYTES, BINSTRING
            case 0x8E, 0x96: stack.append(.bytes(Array(try take(try unsigned(8)))))  // BINBYTES8, BYTEARRAY8
            case 0x63:  // GLOBAL
                let module = try line()
                stack.append(try resolve(module, try line()))
            case 0x93:  // STACK_GLOBAL
                let name = try pop()
                let module = try pop()
                guard case .string(let m) = module, case .string(let n) = name else {
                    throw fail("STACK_GLOBAL needs two strings")
                }
                stack.append(try resolve(m, n))
            case 0x52, 0x81:  // REDUCE, NEWOBJ
                let arguments = try pop()
                let callable = try pop()
                guard case .tuple(let items) = arguments else { throw fail("call arguments are \(arguments.kind), not a tuple") }
                stack.append(try call(callable, items))
            case 0x62: try build(try pop())  // BUILD
            case 0x51:  // BINPERSID
                let id = try pop()
                guard let persistentLoad else { throw fail("persistent id \(id.kind) but no persistent loader") }
                stack.append(try persistentLoad(id))
            case 0x71: memo[Int(try byte())] = try top  // BINPUT
            case 0x72: memo[try unsigned(4)] = try top  // LONG_BINPUT
            case 0x94: memo[memo.count] = try top  // MEMOIZE
            case 0x68: try memoGet(Int(try byte()))  // BINGET
            case 0x6A: try memoGet(try unsigned(4))  // LONG_BINGET
            case 0x73: try setItems([try pop(), try pop()].reversed())  // SETITEM
            case 0x75: try setItems(try popMark())  // SETITEMS
            case 0x61: try append([try pop()])  // APPEND
            case 0x65: try append(try popMark())  // APPENDS
            case 0x90:  // ADDITEMS
                let items = try popMark()
                guard case .dict(let set) = try top else { throw fail("ADDITEMS on \(try top.kind)") }
                try grow(set, with: items)
                for item in items { set.set(item, .none) }
            default:
                throw fail("unsupported opcode 0x\(String(opcode, radix: 16)) at offset \(position - 1)")
            }
        }
    }

    /// A little-endian two's-complement integer that must fit in 64 bits.
    func long(_ digits: [UInt8]) throws -> Int {
        guard digits.count <= 8 else { throw fail("integer of \(digits.count) bytes does not fit in 64 bits") }
        guard let last = digits.last else { return 0 }
        var value: UInt64 = last & 0x80 != 0 ? ~0 : 0
        for byte in digits.reversed() { value = value << 8 | UInt64(byte) }
        return Int(Int64(bitPattern: value))
    }
}
