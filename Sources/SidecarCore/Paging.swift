/// Pages of a list method (ListRetries, ListLeases, ListImages), in the
/// manner of Google's AIP-158: items in the order of a unique string key; a
/// page holds at most `size` items and never more bytes than fit in one
/// message; `next_page_token` is empty on the last page. The token is
/// opaque to clients: the method's name and the last key, in base64url, so
/// a page is found in one pass over the items without sorting all of them.
public struct PageRequest: Sendable, Equatable {
    public static let defaultSize = 1000
    public static let maxSize = 10_000

    public var size: Int
    /// Items with a key after this one; nil for the first page.
    public var after: String?
    /// The list method, named in its tokens.
    public var method: String

    /// `pageSize` 0 is the default; above the maximum it is the maximum.
    /// A token not given by `method` is INVALID_ARGUMENT.
    public init(pageSize: UInt32, pageToken: String, method: String) throws(SidecarError) {
        size = pageSize == 0 ? Self.defaultSize : min(Int(pageSize), Self.maxSize)
        self.method = method
        guard !pageToken.isEmpty else { return }
        let prefix = method + "\u{1}"
        guard let decoded = Base64URL.decode(pageToken), decoded.hasPrefix(prefix) else {
            throw SidecarError(.invalidArgument, "page_token \"\(pageToken)\" was not given by \(method)")
        }
        after = String(decoded.dropFirst(prefix.count))
    }

    public init(size: Int, after: String? = nil, method: String) {
        self.size = size
        self.after = after
        self.method = method
    }

    public static func token(after key: String, method: String) -> String {
        Base64URL.encode(method + "\u{1}" + key)
    }
}

public struct Page<Item> {
    public var items: [Item]
    /// Empty on the last page.
    public var nextPageToken: String
}

extension Sequence {
    /// The page `request` asks for, of the items in the order of `key`.
    /// `byteBudget` bounds the sum of `bytes` over the page (each at least
    /// one item, so a page always moves on).
    public func page(
        _ request: PageRequest, byteBudget: Int, key: (Element) -> String, bytes: (Element) -> Int
    ) -> Page<Element> {
        var smallest = SmallestKeys<Element>(capacity: request.size + 1)
        for item in self {
            let itemKey = key(item)
            if let after = request.after, itemKey <= after { continue }
            smallest.offer(itemKey, item)
        }
        let sorted = smallest.sorted()
        var items: [Element] = []
        var used = 0
        for (_, item) in sorted.prefix(request.size) {
            let size = bytes(item)
            if !items.isEmpty && used + size > byteBudget { break }
            used += size
            items.append(item)
        }
        let more = sorted.count > items.count
        return Page(items: items, nextPageToken: more ? PageRequest.token(after: key(items[items.count - 1]), method: request.method) : "")
    }
}

/// The `capacity` items of smallest key seen, by a max-heap: one pass,
/// O(n log capacity), instead of sorting every item.
struct SmallestKeys<Item> {
    private var heap: [(key: String, item: Item)] = []
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        heap.reserveCapacity(Swift.min(capacity, 1024))
    }

    mutating func offer(_ key: String, _ item: Item) {
        if heap.count < capacity {
            heap.append((key, item))
            siftUp(heap.count - 1)
        } else if let largest = heap.first, key < largest.key {
            heap[0] = (key, item)
            siftDown(0)
        }
    }

    func sorted() -> [(key: String, item: Item)] {
        heap.sorted { $0.key < $1.key }
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].key > heap[parent].key else { return }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            guard left < heap.count else { return }
            var largest = left
            if left + 1 < heap.count && heap[left + 1].key > heap[left].key { largest = left + 1 }
            guard heap[largest].key > heap[parent].key else { return }
            heap.swapAt(largest, parent)
            parent = largest
        }
    }
}

/// RFC 4648 base64url without padding, for tokens that travel as text.
enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    static func encode(_ text: String) -> String {
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count * 4 + 2) / 3)
        var index = 0
        while index < bytes.count {
            let chunk = bytes[index..<Swift.min(index + 3, bytes.count)]
            var value = 0
            for (offset, byte) in chunk.enumerated() { value |= Int(byte) << (16 - 8 * offset) }
            for position in 0...chunk.count { out.append(alphabet[(value >> (18 - 6 * position)) & 63]) }
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// nil for anything `encode` cannot have written: a character outside
    /// the alphabet, a length no byte count gives, set padding bits, a NUL
    /// (no key holds one) or bytes that are not UTF-8.
    static func decode(_ text: String) -> String? {
        guard text.utf8.count % 4 != 1 else { return nil }
        var value = 0
        var bits = 0
        var out: [UInt8] = []
        for character in text.utf8 {
            guard let digit = alphabet.firstIndex(of: character) else { return nil }
            value = ((value << 6) | digit) & 0xFFFF
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8((value >> bits) & 0xFF))
            }
        }
        // Leftover bits must be the zero padding of the last character.
        guard bits < 6, value & ((1 << bits) - 1) == 0, !out.contains(0) else { return nil }
        return String(validating: out, as: UTF8.self)
    }
}
