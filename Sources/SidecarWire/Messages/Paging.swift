import SidecarCore

/// A list method's request: a page size and the token of the page before.
public protocol PagedListRequest {
    var pageSize: UInt32 { get }
    var pageToken: String { get }
}

extension ListImagesRequest: PagedListRequest {}
extension ListLeasesRequest: PagedListRequest {}
extension ListRetriesRequest: PagedListRequest {}

extension PageRequest {
    /// The page `request` asks of `rpc`; its token must be one `rpc` gave.
    package init<Request: PagedListRequest & WireMessage, Response: WireMessage>(
        _ request: Request, _ rpc: RPC<Request, Response>
    ) throws(SidecarError) {
        try self.init(pageSize: request.pageSize, pageToken: request.pageToken, method: rpc.name)
    }
}

/// Upper bounds of one list item's encoded size, so a page never grows past
/// the message limit: its strings, plus room for every tag, length and
/// number (at most 11 bytes each).
enum WireSizeBound {
    static func of(strings: [String], fields: Int) -> Int {
        strings.reduce(fields * 11 + 6) { $0 + $1.utf8.count }
    }
}

extension RetryRecord {
    public var wireSizeBound: Int {
        WireSizeBound.of(strings: [key, policy, state.rawValue, firstError, lastError, category, remedy], fields: 12)
    }
}

extension LeaseRecord {
    public var wireSizeBound: Int { WireSizeBound.of(strings: [id, target, holder], fields: 7) }
}

extension ImageStatus {
    public var wireSizeBound: Int {
        WireSizeBound.of(strings: [name, ref, baseImage, state.rawValue, lastJobOutcome, lastError], fields: 10)
    }
}

extension ListImagesResponse {
    public init(_ page: Page<ImageStatus>) { self.init(images: page.items, nextPageToken: page.nextPageToken) }
}

extension ListLeasesResponse {
    public init(_ page: Page<LeaseRecord>) { self.init(leases: page.items, nextPageToken: page.nextPageToken) }
}

extension ListRetriesResponse {
    public init(_ page: Page<RetryRecord>) { self.init(retries: page.items, nextPageToken: page.nextPageToken) }
}
