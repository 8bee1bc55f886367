/// Scratch memory that parallel workers share: `count` initialized elements owned by this
/// object and freed in `deinit`, the first at a 64-byte boundary (a cache line: AVX-512 loads
/// of rows that start on one never straddle two lines).
///
/// Workers of `forEachChunk` or `forEachInterleaved` write disjoint parts of it, so it needs no
/// lock; `base` is valid while the buffer is alive (capture the buffer, not only `base`).
public final class ScratchBuffer<Element>: @unchecked Sendable {
    /// The first element.
    public let base: UnsafeMutablePointer<Element>
    /// How many elements the buffer holds.
    public let count: Int

    /// Takes ownership of `count` initialized elements at `base` (from `allocate`).
    @usableFromInline init(owning base: UnsafeMutablePointer<Element>, count: Int) {
        self.base = base
        self.count = count
    }

    /// Allocates `count` elements set to `value` (inlinable: the caller's specialization fills
    /// them, not a generic loop).
    @inlinable public convenience init(repeating value: Element, count: Int) {
        precondition(count >= 0, "negative scratch size \(count)")
        let pointer = Self.allocate(max(count, 1))
        pointer.initialize(repeating: value, count: count)
        self.init(owning: pointer, count: count)
    }

    /// Allocates `count` elements of a trivial type left uninitialized, for scratch that a kernel
    /// writes before it reads (no pass over the memory up front).
    @inlinable public convenience init(uninitializedCount count: Int) where Element: BitwiseCopyable {
        precondition(count >= 0, "negative scratch size \(count)")
        self.init(owning: Self.allocate(max(count, 1)), count: count)
    }

    /// Allocates a copy of `elements`.
    @inlinable public convenience init(_ elements: [Element]) {
        let pointer = Self.allocate(max(elements.count, 1))
        for (i, element) in elements.enumerated() { (pointer + i).initialize(to: element) }
        self.init(owning: pointer, count: elements.count)
    }

    /// Uninitialized memory for `count` elements at a 64-byte boundary.
    @usableFromInline static func allocate(_ count: Int) -> UnsafeMutablePointer<Element> {
        let (bytes, overflow) = MemoryLayout<Element>.stride.multipliedReportingOverflow(by: count)
        precondition(!overflow, "scratch of \(count) elements overflows")
        return UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: max(64, MemoryLayout<Element>.alignment))
            .bindMemory(to: Element.self, capacity: count)
    }

    deinit {
        base.deinitialize(count: count)
        base.deallocate()
    }

    /// Element `index` (checked in debug builds).
    @inlinable public subscript(index: Int) -> Element {
        get {
            assert(index >= 0 && index < count, "index \(index) outside 0..<\(count)")
            return base[index]
        }
        set {
            assert(index >= 0 && index < count, "index \(index) outside 0..<\(count)")
            base[index] = newValue
        }
    }

    /// A copy of the elements as an array.
    @inlinable public var elements: [Element] { Array(UnsafeBufferPointer(start: base, count: count)) }
}
