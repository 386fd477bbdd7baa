import CCrypto
import Glibc

/// SHA-256 through OpenSSL's libcrypto (the speed of `sha256sum`), over
/// bytes or a whole file read in large chunks. Blocking: file digests run on
/// the thread pool.
public struct SHA256Digest: Sendable {
    public static let chunkBytes = 1 << 20

    /// Lower-case hex of the digest of `bytes`.
    public static func hex(of bytes: UnsafeRawBufferPointer) -> String {
        var hasher = Hasher()
        hasher.update(bytes)
        return hasher.finish()
    }

    public static func hex(of bytes: [UInt8]) -> String {
        bytes.withUnsafeBytes { hex(of: $0) }
    }

    /// The digest and length of a file, or nil when it cannot be read.
    /// `stopAfter` bounds the read: a file longer than expected is wrong
    /// anyway and need not be hashed to its end.
    public static func file(_ path: String, stopAfter limit: Int64 = .max) -> (hex: String, bytes: Int64)? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkBytes, alignment: 64)
        defer { buffer.deallocate() }
        var hasher = Hasher()
        var total: Int64 = 0
        while true {
            let count = read(fd, buffer.baseAddress, chunkBytes)
            if count < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if count == 0 { break }
            hasher.update(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
            total += Int64(count)
            if total > limit { break }
        }
        return (hasher.finish(), total)
    }

    /// An incremental SHA-256.
    public struct Hasher: ~Copyable {
        private let context: OpaquePointer

        public init() {
            context = EVP_MD_CTX_new()
            EVP_DigestInit_ex(context, EVP_sha256(), nil)
        }

        public mutating func update(_ bytes: UnsafeRawBufferPointer) {
            guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
            EVP_DigestUpdate(context, base, bytes.count)
        }

        public consuming func finish() -> String {
            var digest = [UInt8](repeating: 0, count: 32)
            var length: UInt32 = 0
            EVP_DigestFinal_ex(context, &digest, &length)
            let hexDigits = Array("0123456789abcdef".utf8)
            var text = [UInt8]()
            text.reserveCapacity(64)
            for byte in digest.prefix(Int(length)) {
                text.append(hexDigits[Int(byte >> 4)])
                text.append(hexDigits[Int(byte & 0x0f)])
            }
            return String(decoding: text, as: UTF8.self)
        }

        deinit {
            EVP_MD_CTX_free(context)
        }
    }
}
