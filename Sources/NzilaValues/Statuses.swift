/// A member's standing with their credit union (`members.status`).
public enum MemberStatus: String, Codable, Sendable, CaseIterable {
    case active, suspended, closed
}

/// A tenant's standing on the platform (`tenants.status` in the registry): a suspended tenant
/// answers 403 on the data plane, an offboarded one 410, for good.
public enum TenantStatus: String, Codable, Sendable, CaseIterable {
    case active, suspended, offboarded
}

/// A FINTRAC report's life: drafted by the platform, filed by an officer.
public enum ReportStatus: String, Codable, Sendable, CaseIterable {
    case draft, filed
}
