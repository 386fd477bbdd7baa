extension RetryRecord {
    /// The columns both ledgers store a record in, in this order, as text:
    /// the state database's `retry_keys` and the fleet's `sidecar_retry_keys`.
    public static let columnNames = [
        "key", "policy", "state", "attempts", "in_flight_since", "first_error", "last_error", "category", "remedy",
        "not_before", "created_at", "updated_at", "owner_uid",
    ]

    /// A record from a row of `columnNames`' values (nil: SQL NULL).
    public init(columns row: [String?]) {
        self.init(key: row[0] ?? "", policy: row[1] ?? RetryLedger.defaultPolicyName, now: Double(row[10] ?? "") ?? 0)
        state = State(rawValue: row[2] ?? "") ?? .active
        attempts = Int(row[3] ?? "") ?? 0
        inFlightSince = row[4].flatMap(Double.init)
        firstError = row[5] ?? ""
        lastError = row[6] ?? ""
        category = row[7] ?? ""
        remedy = row[8] ?? ""
        notBefore = Double(row[9] ?? "") ?? 0
        updatedAt = Double(row[11] ?? "") ?? 0
        ownerUID = row[12].flatMap { UInt32($0) }
    }
}
