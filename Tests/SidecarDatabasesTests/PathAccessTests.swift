import SidecarCore
import SidecarDatabases
import XCTest

/// The access rule CheckDb applies for its caller: modes, groups, POSIX
/// ACLs (with their mask) and the folders above the file.
final class PathAccessTests: XCTestCase {
    private let user = Caller(uid: 1000, groups: [1000, 4242], isAdmin: false)

    private func file(mode: UInt32, uid: UInt32 = 0, gid: UInt32 = 0, acl: PosixACL? = nil) -> PathAccess {
        PathAccess(
            folders: [PathAccess.Node(path: "/", uid: 0, gid: 0, mode: 0o755), PathAccess.Node(path: "/data", uid: 0, gid: 0, mode: 0o755)],
            file: PathAccess.Node(path: "/data/a.db", uid: uid, gid: gid, mode: mode, acl: acl))
    }

    /// The xattr bytes setfacl writes: version 2, then (tag, perm, id) each.
    private func acl(_ entries: [(tag: UInt16, bits: UInt16, id: UInt32)]) -> PosixACL? {
        var bytes: [UInt8] = [2, 0, 0, 0]
        for entry in entries {
            bytes += [UInt8(entry.tag & 0xFF), UInt8(entry.tag >> 8), UInt8(entry.bits), 0]
            bytes += withUnsafeBytes(of: entry.id.littleEndian, Array.init)
        }
        return PosixACL(xattr: bytes)
    }

    func testModeBitsByOwnerGroupAndOthers() {
        XCTAssertNotNil(file(mode: 0o600).refusal(for: user))
        XCTAssertNil(file(mode: 0o644).refusal(for: user))
        XCTAssertNil(file(mode: 0o600, uid: 1000).refusal(for: user))
        XCTAssertNotNil(file(mode: 0o060, uid: 1000).refusal(for: user), "the owner's bits decide for the owner")
        XCTAssertNil(file(mode: 0o640, gid: 4242).refusal(for: user), "a supplementary group counts")
        XCTAssertNil(file(mode: 0o600).refusal(for: Caller(uid: 0, groups: [0], isAdmin: false)), "root reads all")
    }

    func testEveryFolderAboveNeedsSearch() {
        var access = file(mode: 0o644)
        access.folders.append(PathAccess.Node(path: "/data/private", uid: 0, gid: 0, mode: 0o700))
        XCTAssertEqual(access.refusal(for: user), "uid 1000 may not search /data/private")
        access.file = nil
        XCTAssertNotNil(access.refusal(for: user), "not even whether the file exists")
    }

    func testACLEntriesAndTheirMask() throws {
        let named = try XCTUnwrap(acl([(0x01, 6, 0), (0x02, 4, 1000), (0x04, 0, 0), (0x10, 4, 0), (0x20, 0, 0)]))
        XCTAssertNil(file(mode: 0o640, acl: named).refusal(for: user), "a named user entry grants")
        let masked = try XCTUnwrap(acl([(0x01, 6, 0), (0x02, 4, 1000), (0x04, 0, 0), (0x10, 0, 0), (0x20, 0, 0)]))
        XCTAssertNotNil(file(mode: 0o600, acl: masked).refusal(for: user), "the mask takes it away")
        let group = try XCTUnwrap(acl([(0x01, 6, 0), (0x04, 0, 0), (0x08, 4, 4242), (0x10, 4, 0), (0x20, 0, 0)]))
        XCTAssertNil(file(mode: 0o640, acl: group).refusal(for: user), "a named group entry grants")
        let deniedGroup = try XCTUnwrap(acl([(0x01, 6, 0), (0x04, 0, 0), (0x08, 0, 4242), (0x10, 4, 0), (0x20, 4, 0)]))
        XCTAssertNotNil(file(mode: 0o604, acl: deniedGroup).refusal(for: user), "a matching group without read denies, whatever others get")
        XCTAssertNil(PosixACL(xattr: [1, 0, 0, 0]), "version 1 is not an ACL")
        XCTAssertNil(PosixACL(xattr: [2, 0, 0, 0, 1, 0]), "a torn entry is not an ACL")
    }
}
