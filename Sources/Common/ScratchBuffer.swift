/// Scratch memory that parallel workers share: `count` initialized elements owned by this
/// object and freed in `deinit`.
///
/// Workers of `forEachChunk` or `forEachInterleaved` write disjoint parts of it, so it needs no
/// lock; `base` is valid while the buffer is alive (capture the buffer, not only `base`).
public final class ScratchBuffer<Element>: @unchecked Sendable {
    /// The first element.
    public let base: UnsafeMutablePointer<Element>
    /// How many elements the buffer holds.
    public let count: Int

    /// Allocates `count` elements set to `value`.
    public init(repeating value: Element, count: Int) {
        precondition(count >= 0, "negative scratch size \(count)")
        let pointer = UnsafeMutablePointer<Element>.allocate(capacity: max(count, 1))
        pointer.initialize(repeating: value, count: count)
        base = pointer
        self.count = count
    }

    /// Allocates a copy of `elements`.
    public init(_ elements: [Element]) {
        let pointer = UnsafeMutablePointer<Element>.allocate(capacity: max(elements.count, 1))
        for (i, element) in elements.enumerated() { (pointer + i).initialize(to: element) }
        base = pointer
        count = elements.count
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
