import Foundation

/// Who may do what; staff roles come from `policies/staff_roles.yaml`.
public enum Role: String, Codable, Sendable, CaseIterable {
    case platformAdmin = "platform_admin"
    case tenantAdmin = "tenant_admin"
    case complianceOfficer = "compliance_officer"
    case teller
    case auditor
    case member

    public static let staffRoles: [Role] = [.tenantAdmin, .complianceOfficer, .teller, .auditor]

    public var isStaff: Bool { Role.staffRoles.contains(self) }
}

/// The authenticated caller of a request.
public struct Principal: Sendable, Equatable {
    public let id: UUID
    public let role: Role
    public let tenant: String?

    public init(id: UUID, role: Role, tenant: String?) {
        self.id = id
        self.role = role
        self.tenant = tenant
    }
}
